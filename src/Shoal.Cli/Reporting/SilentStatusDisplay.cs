using Shoal.Swarm;

namespace Shoal.Cli.Reporting;

/// <summary>--quiet: shows nothing.</summary>
internal sealed class SilentStatusDisplay : StatusDisplay
{
    /// <inheritdoc />
    public override Task RunAsync(Func<TorrentStatus> poll, CancellationToken stop) => PauseAsync(Timeout.InfiniteTimeSpan, stop);
}
