using Shoal.PortMapping;

namespace Shoal.Cli.Reporting;

/// <summary>
/// Tells the user what the gateway did with the listen port: one line when a mapping first works (where the world
/// reaches us) and one when it fails with a new reason, never a line per renewal or retry.
/// </summary>
internal static class PortMappingReporter
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    /// <summary>Watches <paramref name="mappings"/> until <paramref name="stop"/> is cancelled.</summary>
    public static async Task RunAsync(Func<IReadOnlyList<PortMappingStatus>> mappings, TextWriter output, CancellationToken stop)
    {
        var last = new Dictionary<(string, PortMappingProtocol, int), string?>();
        using var timer = new PeriodicTimer(Poll);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                foreach (PortMappingStatus mapping in mappings())
                {
                    var key = (mapping.Method, mapping.Protocol, mapping.InternalPort);
                    string state = mapping.Error ?? $"{mapping.ExternalAddress}:{mapping.ExternalPort}";
                    if (last.TryGetValue(key, out string? previous) && previous == state) continue;
                    last[key] = state;
                    string what = $"{(mapping.Protocol == PortMappingProtocol.Tcp ? "TCP" : "UDP")} {mapping.InternalPort}";
                    string line = mapping.Error is { } error
                        ? $"shoal: port mapping ({mapping.Method}): cannot forward {what}: {ErrorReporter.OneLine(error)}"
                        : $"shoal: port mapping ({mapping.Method}): {what} reachable at {mapping.ExternalAddress?.ToString() ?? "the gateway"}:{mapping.ExternalPort}";
                    await output.WriteLineAsync(line).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
