using System.Reflection;

namespace Shoal.Daemon;

/// <summary>Shoal's version as the daemon reports it.</summary>
public static class DaemonVersion
{
    /// <summary>The informational version of the daemon assembly (without a source-revision suffix).</summary>
    public static string Text { get; } =
        (typeof(DaemonVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];
}
