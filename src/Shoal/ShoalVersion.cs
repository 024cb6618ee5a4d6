using System.Reflection;

namespace Shoal;

/// <summary>
/// The one version string of Shoal (the assembly version, set once in Directory.Build.props) and every name derived
/// from it: what <c>shoal --version</c> prints, the client name in the BEP 10 handshake ('v'), the Azureus-style peer id
/// prefix other clients decode, the HTTP user agent sent to trackers, and 'created by' in new torrents.
/// </summary>
public static class ShoalVersion
{
    private static readonly Version Assembly = typeof(ShoalVersion).Assembly.GetName().Version ?? new Version(0, 0, 0);

    /// <summary>"0.1.0": major.minor.patch.</summary>
    public static string Number { get; } = $"{Assembly.Major}.{Assembly.Minor}.{Math.Max(0, Assembly.Build)}";

    /// <summary>"Shoal 0.1.0": the client name peers see (BEP 10 'v').</summary>
    public static string ClientName { get; } = "Shoal " + Number;

    /// <summary>"Shoal/0.1.0": the HTTP user agent.</summary>
    public static string UserAgent { get; } = "Shoal/" + Number;

    /// <summary>"-SH0100-": the Azureus-style peer id prefix, one character per version part (0-9, then A-Z).</summary>
    public static string PeerIdPrefix { get; } = $"-SH{Digit(Assembly.Major)}{Digit(Assembly.Minor)}{Digit(Math.Max(0, Assembly.Build))}0-";

    private static char Digit(int part) => part switch
    {
        < 10 => (char)('0' + Math.Max(0, part)),
        < 36 => (char)('A' + part - 10),
        _ => 'Z',
    };
}
