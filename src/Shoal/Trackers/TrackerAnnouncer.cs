using System.Net;
using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>
/// The announce loops of one torrent over its trackers. Every tier is announced to, each on its own schedule (as
/// libtorrent's <c>announce_to_all_tiers</c> and qBittorrent's default do): a tracker added to a torrent in a tier of
/// its own is used, not skipped because the first tier answered. Within a tier BEP 12 holds: the tier is shuffled
/// once; an announce tries its trackers in order, stops at the first that answers and moves that one to the front.
/// Regular announces follow the tracker's <c>interval</c>; the completed announce waits for its <c>min interval</c>.
/// A failed tracker is skipped until its backoff (<see cref="TrackerAnnouncerOptions.RetryBase"/> doubled per
/// failure) ends.
/// </summary>
/// <remarks>
/// Events: <c>started</c> to each tracker before anything else, <c>completed</c> once per tier after
/// <see cref="NotifyCompleted"/>, <c>stopped</c> from <see cref="StopAsync"/> to every tracker that got
/// <c>started</c>. Each tier's loop is the only writer of that tier's state; <see cref="GetStatus"/> reads immutable
/// snapshots the loops publish, so no lock is needed.
/// </remarks>
public sealed class TrackerAnnouncer : IDisposable
{
    private readonly List<Tier> _tiers = [];
    private readonly InfoHash _infoHash;
    private readonly ReadOnlyMemory<byte> _peerId;
    private readonly uint _key;
    private readonly Func<Uri, ITrackerClient> _clientFactory;
    private readonly Func<AnnounceStats> _getStats;
    private readonly Action<IReadOnlyList<IPEndPoint>> _onPeers;
    private readonly TimeProvider _time;
    private readonly Action<string>? _log;
    private readonly TrackerAnnouncerOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private int _completedNotified;
    private int _stopRequested;
    private Task? _run;

    /// <summary>Creates the announcer; nothing is sent before <see cref="RunAsync"/>.</summary>
    /// <param name="tiers">The torrent's announce tiers (BEP 12); duplicates are kept once.</param>
    /// <param name="infoHash">The torrent.</param>
    /// <param name="peerId">Our 20-byte peer id.</param>
    /// <param name="key">A random number kept for the session (the <c>key</c> parameter).</param>
    /// <param name="clientFactory">Makes a client per tracker, for example <see cref="TrackerClientFactory.Create"/>.</param>
    /// <param name="getStats">Reads uploaded, downloaded, left and our port just before each announce (from any tier's loop).</param>
    /// <param name="onPeers">Receives the peers of each answer (on the answering tier's loop; tiers may call it concurrently).</param>
    /// <param name="time">The clock (a manual one in tests).</param>
    /// <param name="log">Optional one-line messages: announces, failures.</param>
    /// <param name="options">Tuning; null for the defaults.</param>
    public TrackerAnnouncer(
        IReadOnlyList<IReadOnlyList<Uri>> tiers,
        InfoHash infoHash,
        ReadOnlyMemory<byte> peerId,
        uint key,
        Func<Uri, ITrackerClient> clientFactory,
        Func<AnnounceStats> getStats,
        Action<IReadOnlyList<IPEndPoint>> onPeers,
        TimeProvider time,
        Action<string>? log = null,
        TrackerAnnouncerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        ArgumentNullException.ThrowIfNull(clientFactory);
        ArgumentNullException.ThrowIfNull(getStats);
        ArgumentNullException.ThrowIfNull(onPeers);
        ArgumentNullException.ThrowIfNull(time);
        if (peerId.Length != 20) throw new ArgumentException("a peer id is 20 bytes", nameof(peerId));
        _infoHash = infoHash;
        _peerId = peerId;
        _key = key;
        _clientFactory = clientFactory;
        _getStats = getStats;
        _onPeers = onPeers;
        _time = time;
        _log = log;
        _options = options ?? new TrackerAnnouncerOptions();

        Random random = _options.Random ?? new Random();
        var seen = new HashSet<Uri>();
        foreach (IReadOnlyList<Uri> tier in tiers)
        {
            var entries = new List<Entry>();
            foreach (Uri url in tier)
            {
                if (url is not null && seen.Add(url)) entries.Add(new Entry(url, _tiers.Count));
            }
            if (entries.Count == 0) continue;
            Entry[] shuffled = [.. entries];
            random.Shuffle(shuffled);
            _tiers.Add(new Tier(this, [.. shuffled]));
        }
        foreach (Tier tier in _tiers) tier.PublishStatus();
    }

    /// <summary>
    /// Announces until cancelled or stopped; every tier starts with <c>started</c> right away. Returns (without
    /// throwing) when <paramref name="cancellationToken"/> is cancelled or <see cref="StopAsync"/> is called.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        if (_run is not null) throw new InvalidOperationException("the announcer is already running");
        _run = RunCoreAsync(cancellationToken);
        return _run;
    }

    /// <summary>The download finished: send <c>completed</c> once (per tier), as soon as the tracker's min interval allows.</summary>
    public void NotifyCompleted()
    {
        if (Interlocked.Exchange(ref _completedNotified, 1) == 1) return; // completed is said once per session
        foreach (Tier tier in _tiers) tier.RequestCompleted();
    }

    /// <summary>Announces to every tracker now (a user's "reannounce"), ignoring the interval and any back-off.</summary>
    public void Reannounce()
    {
        foreach (Tier tier in _tiers) tier.RequestReannounce();
    }

    /// <summary>
    /// Ends the loops and sends <c>stopped</c> to every tracker that got <c>started</c>, waiting at most
    /// <paramref name="timeout"/> (best effort: failures are logged, not thrown). Releases the clients.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 1) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null) await _run.ConfigureAwait(false);

        using var deadline = new CancellationTokenSource(timeout, _time);
        var sends = new List<Task>();
        foreach (Tier tier in _tiers)
        {
            foreach (Entry entry in tier.Entries)
            {
                if (entry.Started && entry.Client is not null) sends.Add(SendStoppedAsync(entry, deadline.Token));
            }
        }
        await Task.WhenAll(sends).ConfigureAwait(false);
        foreach (Tier tier in _tiers) tier.PublishStatus();
        DisposeClients();
    }

    /// <summary>One snapshot per tracker, in tier order.</summary>
    public IReadOnlyList<TrackerStatus> GetStatus()
    {
        if (_tiers.Count == 1) return _tiers[0].Status;
        var all = new List<TrackerStatus>();
        foreach (Tier tier in _tiers) all.AddRange(tier.Status);
        return all;
    }

    /// <summary>Releases the clients without sending <c>stopped</c>; prefer <see cref="StopAsync"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0) _stop.Cancel();
        if (_run is null || _run.IsCompleted) DisposeClients();
    }

    private async Task RunCoreAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        if (_tiers.Count == 0) return;
        // One loop per tier: a tier whose trackers time out never holds the others back.
        await Task.WhenAll(_tiers.Select(tier => tier.RunAsync(linked.Token))).ConfigureAwait(false);
    }

    private async Task<AnnounceResponse?> TryAnnounceAsync(Entry entry, AnnounceEvent evt, AnnounceStats stats, int numWant, CancellationToken token)
    {
        using var attempt = new CancellationTokenSource(_options.AttemptTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, attempt.Token);
        try
        {
            entry.Client ??= _clientFactory(entry.Url);
            var request = new AnnounceRequest(_infoHash, _peerId, stats.Port, stats.Uploaded, stats.Downloaded, stats.Left,
                evt, numWant, _key, entry.TrackerId);
            AnnounceResponse response = await entry.Client.AnnounceAsync(request, linked.Token).ConfigureAwait(false);
            entry.Failures = 0;
            entry.Refused = false;
            entry.RetryAt = DateTimeOffset.MinValue;
            entry.IsWorking = true;
            entry.LastError = null;
            entry.LastAnnounce = entry.LastAttempt = _time.GetUtcNow();
            entry.Warning = response.WarningMessage;
            entry.PeersReceived = response.Peers.Count;
            entry.Seeders = response.Complete;
            entry.Leechers = response.Incomplete;
            if (response.TrackerId is { Length: > 0 } id) entry.TrackerId = id;
            if (response.WarningMessage is { } warning) _log?.Invoke($"tracker {entry.Url} warns: {warning}");
            return response;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is OperationCanceledException or TrackerException or ShoalFormatException or ArgumentException or IOException
            or System.Net.Sockets.SocketException or HttpRequestException)
        {
            entry.IsWorking = false;
            entry.LastAttempt = _time.GetUtcNow();
            string error = e switch
            {
                OperationCanceledException => $"no answer within {_options.AttemptTimeout.TotalSeconds:0} s",
                TrackerException { IsRefused: true } => e.InnerException?.Message ?? e.Message,
                TrackerException { FailureReason: { } reason } => reason,
                _ => e.Message,
            };
            bool refusedAgain = e is TrackerException { IsRefused: true } && entry.Refused && entry.LastError == error;
            entry.Refused = e is TrackerException { IsRefused: true };
            entry.LastError = error;
            // A refused URL is said once: it stays refused at every retry until the URL or the setting changes.
            if (refusedAgain) return null;
            _log?.Invoke(entry.Refused ? $"tracker {entry.Url} not contacted: {error}" : $"tracker {entry.Url}: {evt.ToString().ToLowerInvariant()} announce failed: {error}");
            _options.AnnounceFailed?.Invoke(entry.Url, error);
            return null;
        }
    }

    private async Task SendStoppedAsync(Entry entry, CancellationToken token)
    {
        try
        {
            AnnounceStats stats = _getStats();
            var request = new AnnounceRequest(_infoHash, _peerId, stats.Port, stats.Uploaded, stats.Downloaded, stats.Left,
                AnnounceEvent.Stopped, 0, _key, entry.TrackerId);
            await entry.Client!.AnnounceAsync(request, token).ConfigureAwait(false);
            entry.Started = false;
            _log?.Invoke($"tracker {entry.Url}: stopped");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Best effort: the tracker forgets us after its timeout anyway.
            _log?.Invoke($"tracker {entry.Url}: stopped announce failed: {e.Message}");
        }
    }

    private TimeSpan Clamp(TimeSpan interval) =>
        interval < _options.MinimumInterval ? _options.MinimumInterval : interval > _options.MaximumInterval ? _options.MaximumInterval : interval;

    private static string Describe(AnnounceEvent evt) => evt == AnnounceEvent.None ? "" : $"{evt.ToString().ToLowerInvariant()}, ";

    private void DisposeClients()
    {
        foreach (Tier tier in _tiers)
        {
            foreach (Entry entry in tier.Entries)
            {
                entry.Client?.Dispose();
                entry.Client = null;
            }
        }
    }

    /// <summary>One BEP 12 tier and its own announce schedule.</summary>
    private sealed class Tier(TrackerAnnouncer owner, List<Entry> entries)
    {
        private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _completedRequested;
        private int _reannounceRequested;
        private bool _completedPending;
        private bool _running;
        private DateTimeOffset _nextAnnounce;
        private DateTimeOffset? _lastSuccess;
        private TimeSpan? _minInterval;
        private TrackerStatus[] _status = [];

        public List<Entry> Entries { get; } = entries;

        public TrackerStatus[] Status => Volatile.Read(ref _status);

        public void RequestCompleted()
        {
            Interlocked.Exchange(ref _completedRequested, 1);
            Volatile.Read(ref _wake).TrySetResult();
        }

        public void RequestReannounce()
        {
            Interlocked.Exchange(ref _reannounceRequested, 1);
            Volatile.Read(ref _wake).TrySetResult();
        }

        public async Task RunAsync(CancellationToken token)
        {
            TimeProvider time = owner._time;
            _running = true;
            _nextAnnounce = time.GetUtcNow();
            try
            {
                while (!token.IsCancellationRequested)
                {
                    // Replace the wake signal before reading the flag: a RequestCompleted racing with us either sets the
                    // flag we are about to read or completes the new signal we are about to wait on.
                    Volatile.Write(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                    if (Interlocked.Exchange(ref _completedRequested, 0) == 1) OnCompleted();
                    if (Interlocked.Exchange(ref _reannounceRequested, 0) == 1) OnReannounce();

                    DateTimeOffset now = time.GetUtcNow();
                    if (now < _nextAnnounce)
                    {
                        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(token))
                        {
                            Task delay = Task.Delay(_nextAnnounce - now, time, wait.Token);
                            await Task.WhenAny(delay, _wake.Task).ConfigureAwait(false);
                            await wait.CancelAsync().ConfigureAwait(false); // drop the timer when the wake signal won
                        }
                        token.ThrowIfCancellationRequested();
                        continue;
                    }
                    await AnnounceOnceAsync(token).ConfigureAwait(false);
                    PublishStatus();
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
            _running = false;
            PublishStatus();
        }

        private void OnReannounce()
        {
            _nextAnnounce = owner._time.GetUtcNow();
            foreach (Entry entry in Entries) entry.RetryAt = DateTimeOffset.MinValue;
        }

        private void OnCompleted()
        {
            _completedPending = true;
            if (_lastSuccess is { } last)
            {
                DateTimeOffset earliest = last + (_minInterval ?? TimeSpan.Zero);
                DateTimeOffset now = owner._time.GetUtcNow();
                DateTimeOffset at = earliest > now ? earliest : now;
                if (at < _nextAnnounce) _nextAnnounce = at;
            }
        }

        private async Task AnnounceOnceAsync(CancellationToken token)
        {
            TrackerAnnouncerOptions options = owner._options;
            DateTimeOffset now = owner._time.GetUtcNow();
            for (int i = 0; i < Entries.Count; i++)
            {
                Entry entry = Entries[i];
                if (now < entry.RetryAt) continue;
                AnnounceEvent evt = !entry.Started ? AnnounceEvent.Started : _completedPending ? AnnounceEvent.Completed : AnnounceEvent.None;
                AnnounceStats stats = owner._getStats();
                AnnounceResponse? response = await owner.TryAnnounceAsync(entry, evt, stats, options.NumWant, token).ConfigureAwait(false);
                now = owner._time.GetUtcNow();
                if (response is null)
                {
                    entry.Failures++;
                    double factor = Math.Pow(2, Math.Min(entry.Failures - 1, 20));
                    // Refused by the SSRF mitigation: asked again only after the longest back-off (the setting may change).
                    TimeSpan backoff = entry.Refused ? options.RetryMax : TimeSpan.FromTicks((long)Math.Min(options.RetryMax.Ticks, options.RetryBase.Ticks * factor));
                    entry.RetryAt = now + backoff;
                    continue;
                }

                // BEP 12: the tracker that answered moves to the front of its tier.
                Entries.RemoveAt(i);
                Entries.Insert(0, entry);
                if (evt == AnnounceEvent.Started)
                {
                    entry.Started = true;
                    if (stats.Left == 0) _completedPending = false; // started with left=0 already says we are a seeder
                }
                if (evt == AnnounceEvent.Completed) _completedPending = false;

                TimeSpan interval = owner.Clamp(response.Interval);
                _minInterval = response.MinInterval is { } min ? owner.Clamp(min) : null;
                _lastSuccess = now;
                _nextAnnounce = now + interval;
                if (_completedPending) _nextAnnounce = now + (_minInterval ?? options.MinimumInterval);
                owner._log?.Invoke($"tracker {entry.Url}: {Describe(evt)}{response.Peers.Count} peers, next announce in {interval.TotalSeconds:0} s");
                if (response.Peers.Count > 0)
                {
                    try
                    {
                        owner._onPeers(response.Peers);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // The consumer's failure must not end announcing for the rest of the session.
                        owner._log?.Invoke($"peer callback failed: {e.Message}");
                    }
                }
                return;
            }

            // Nobody in this tier answered (or everybody is backing off): come back when the first backoff ends.
            DateTimeOffset retry = DateTimeOffset.MaxValue;
            foreach (Entry entry in Entries)
            {
                if (entry.RetryAt < retry) retry = entry.RetryAt;
            }
            _nextAnnounce = retry > now ? retry : now + options.RetryBase;
        }

        public void PublishStatus()
        {
            var status = new TrackerStatus[Entries.Count];
            bool stopped = owner._stopRequested == 1;
            for (int i = 0; i < status.Length; i++)
            {
                Entry e = Entries[i];
                DateTimeOffset? next = stopped ? null : e.RetryAt > _nextAnnounce ? e.RetryAt : _nextAnnounce;
                status[i] = new TrackerStatus(e.Url, e.Tier, e.IsWorking, e.LastError, e.Warning, e.LastAnnounce,
                    _running ? next : null, e.PeersReceived, e.Seeders, e.Leechers) { LastAttempt = e.LastAttempt };
            }
            Volatile.Write(ref _status, status);
        }
    }

    private sealed class Entry(Uri url, int tier)
    {
        public Uri Url { get; } = url;
        public int Tier { get; } = tier;
        public ITrackerClient? Client { get; set; }
        public bool Started { get; set; }
        public int Failures { get; set; }
        public DateTimeOffset RetryAt { get; set; } = DateTimeOffset.MinValue;
        public bool IsWorking { get; set; }
        public string? LastError { get; set; }
        public string? Warning { get; set; }
        public DateTimeOffset? LastAnnounce { get; set; }
        public DateTimeOffset? LastAttempt { get; set; }
        public int PeersReceived { get; set; }
        public int? Seeders { get; set; }
        public int? Leechers { get; set; }
        public string? TrackerId { get; set; }
        public bool Refused { get; set; }
    }
}
