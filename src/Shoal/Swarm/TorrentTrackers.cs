using Shoal.Trackers;

namespace Shoal.Swarm;

/// <summary>
/// Connects one torrent to its trackers: runs the BEP 12 announcer, feeds it the torrent's counters, hands
/// the peers it gets to the torrent's actor, says "completed" when the download finishes and "stopped"
/// when the torrent leaves the session.
/// </summary>
internal sealed class TorrentTrackers : IAsyncDisposable
{
    /// <summary>How long the "stopped" announce may take when a torrent or the session stops.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(3);

    /// <summary>'left' while a magnet link's size is unknown: not zero, or trackers would count us as a seed.</summary>
    private const long UnknownLeft = 1L << 30;

    private readonly TrackerAnnouncer _announcer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    private TorrentTrackers(SessionContext session, TrackerClientFactory clients, TorrentActor actor, IReadOnlyList<IReadOnlyList<Uri>> tiers)
    {
        Random random = session.NewRandom();
        _announcer = new TrackerAnnouncer(tiers, actor.InfoHash, session.PeerId, (uint)random.Next(int.MaxValue),
            clients.Create,
            () => Stats(session, actor),
            peers => actor.AddPeers([.. peers], PeerSource.Tracker),
            session.Time,
            message => session.Log($"[tracker] {message}"),
            new TrackerAnnouncerOptions
            {
                Random = random,
                AnnounceFailed = (url, error) => session.Events.Publish(new SessionEvent(SessionEventKind.TrackerError, actor.InfoHash, actor.Name,
                    actor.Status.State, $"{url}: {error}")),
            });
        _run = Task.Run(() => RunAsync(actor));
        // A download that finished before (this announcer replaces one stopped by a pause) was reported already.
        if (!actor.DownloadFinished.IsCompleted) actor.DownloadFinished.ContinueWith(_ => _announcer.NotifyCompleted(), CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    /// <summary>
    /// Starts announcing to <paramref name="tiers"/> (URLs as written in the torrent, magnet link or command
    /// line; ones that are not absolute URLs are skipped with a log line). Null when no usable URL is left.
    /// </summary>
    public static TorrentTrackers? Start(SessionContext session, TrackerClientFactory clients, TorrentActor actor, IEnumerable<IReadOnlyList<string>> tiers)
    {
        var usable = new List<IReadOnlyList<Uri>>();
        var seen = new HashSet<Uri>();
        foreach (IReadOnlyList<string> tier in tiers)
        {
            var urls = new List<Uri>();
            foreach (string url in tier)
            {
                // The same URL from the torrent and the command line is one tracker, announced to once.
                if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https" or "udp"))
                    session.Log($"[tracker] skipped '{url}': not an http, https or udp URL");
                else if (seen.Add(uri)) urls.Add(uri);
            }
            if (urls.Count > 0) usable.Add(urls);
        }
        return usable.Count == 0 ? null : new TorrentTrackers(session, clients, actor, usable);
    }

    /// <summary>Announces to every tracker now.</summary>
    public void Reannounce() => _announcer.Reannounce();

    /// <summary>
    /// Announces once the torrent's data is checked, so the first announce says how much is really left (a seeder is
    /// announced as a seeder, with left=0). A magnet link's trackers are asked at once: the size is unknown until the
    /// metadata comes, and they are how the peers that have it are found.
    /// </summary>
    private async Task RunAsync(TorrentActor actor)
    {
        if (actor.Torrent is not null)
        {
            try
            {
                await actor.Checked.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // stopped (or failed) before the check ended: nothing worth announcing
            }
        }
        await _announcer.RunAsync(_stop.Token).ConfigureAwait(false);
    }

    /// <summary>Every tracker's state, for display (failure reasons included).</summary>
    public IReadOnlyList<TrackerStatus> GetStatus() => _announcer.GetStatus();

    private static AnnounceStats Stats(SessionContext session, TorrentActor actor)
    {
        TorrentStatus status = actor.Status;
        long left = status.TotalSize == 0 ? UnknownLeft : status.TotalSize - status.VerifiedBytes;
        return new AnnounceStats(status.Uploaded, status.Downloaded, left, session.AnnouncePort);
    }

    /// <summary>Says "stopped" to the trackers (bounded by a short timeout) and ends the announce loop.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _announcer.StopAsync(StopTimeout).ConfigureAwait(false);
        }
        finally
        {
            _stop.Cancel();
            await _run.ConfigureAwait(false);
            _announcer.Dispose();
            _stop.Dispose();
        }
    }
}
