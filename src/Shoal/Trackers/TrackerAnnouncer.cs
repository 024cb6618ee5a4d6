using System.Net;
using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>
/// The announce loop of one torrent over its trackers, following BEP 12: each tier is shuffled once; every
/// announce walks the tiers in order and the trackers of a tier in order, stops at the first that answers and
/// moves that tracker to the front of its tier. Regular announces follow the tracker's <c>interval</c>; the
/// completed announce waits for its <c>min interval</c>. A failed tracker is skipped until its backoff
/// (<see cref="TrackerAnnouncerOptions.RetryBase"/> doubled per failure) ends.
/// </summary>
/// <remarks>
/// Events: <c>started</c> to each tracker before anything else, <c>completed</c> once after
/// <see cref="NotifyCompleted"/>, <c>stopped</c> from <see cref="StopAsync"/> to every tracker that got
/// <c>started</c>. The loop is the only writer of the tracker state; <see cref="GetStatus"/> reads an immutable
/// snapshot it publishes, so no lock is needed.
/// </remarks>
public sealed class TrackerAnnouncer : IDisposable
{
    private readonly List<List<Entry>> _tiers = [];
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
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _completedRequested;
    private int _completedNotified;
    private int _stopRequested;
    private bool _completedPending;
    private Task? _run;
    private bool _running;
    private DateTimeOffset _nextAnnounce;
    private DateTimeOffset? _lastSuccess;
    private TimeSpan? _minInterval;
    private TrackerStatus[] _status = [];

    /// <summary>Creates the announcer; nothing is sent before <see cref="RunAsync"/>.</summary>
    /// <param name="tiers">The torrent's announce tiers (BEP 12); duplicates are kept once.</param>
    /// <param name="infoHash">The torrent.</param>
    /// <param name="peerId">Our 20-byte peer id.</param>
    /// <param name="key">A random number kept for the session (the <c>key</c> parameter).</param>
    /// <param name="clientFactory">Makes a client per tracker, for example <see cref="TrackerClientFactory.Create"/>.</param>
    /// <param name="getStats">Reads uploaded, downloaded, left and our port just before each announce.</param>
    /// <param name="onPeers">Receives the peers of each answer (on the announcer's loop).</param>
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
            _tiers.Add([.. shuffled]);
        }
        PublishStatus();
    }

    /// <summary>
    /// Announces until cancelled or stopped; starts with <c>started</c> right away. Returns (without throwing)
    /// when <paramref name="cancellationToken"/> is cancelled or <see cref="StopAsync"/> is called.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        if (_run is not null) throw new InvalidOperationException("the announcer is already running");
        _run = RunCoreAsync(cancellationToken);
        return _run;
    }

    /// <summary>The download finished: send <c>completed</c> once, as soon as the tracker's min interval allows.</summary>
    public void NotifyCompleted()
    {
        if (Interlocked.Exchange(ref _completedNotified, 1) == 1) return; // completed is said once per session
        Interlocked.Exchange(ref _completedRequested, 1);
        Volatile.Read(ref _wake).TrySetResult();
    }

    /// <summary>
    /// Ends the loop and sends <c>stopped</c> to every tracker that got <c>started</c>, waiting at most
    /// <paramref name="timeout"/> (best effort: failures are logged, not thrown). Releases the clients.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 1) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null) await _run.ConfigureAwait(false);

        using var deadline = new CancellationTokenSource(timeout, _time);
        var sends = new List<Task>();
        foreach (List<Entry> tier in _tiers)
        {
            foreach (Entry entry in tier)
            {
                if (entry.Started && entry.Client is not null) sends.Add(SendStoppedAsync(entry, deadline.Token));
            }
        }
        await Task.WhenAll(sends).ConfigureAwait(false);
        PublishStatus();
        DisposeClients();
    }

    /// <summary>One snapshot per tracker, in tier order.</summary>
    public IReadOnlyList<TrackerStatus> GetStatus() => Volatile.Read(ref _status);

    /// <summary>Releases the clients without sending <c>stopped</c>; prefer <see cref="StopAsync"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0) _stop.Cancel();
        if (_run is null || _run.IsCompleted) DisposeClients();
    }

    private async Task RunCoreAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        CancellationToken token = linked.Token;
        if (_tiers.Count == 0) return;
        _running = true;
        _nextAnnounce = _time.GetUtcNow();
        try
        {
            while (!token.IsCancellationRequested)
            {
                // Replace the wake signal before reading the flag: a NotifyCompleted racing with us either sets the
                // flag we are about to read or completes the new signal we are about to wait on.
                Volatile.Write(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                if (Interlocked.Exchange(ref _completedRequested, 0) == 1) OnCompleted();

                DateTimeOffset now = _time.GetUtcNow();
                if (now < _nextAnnounce)
                {
                    using (var wait = CancellationTokenSource.CreateLinkedTokenSource(token))
                    {
                        Task delay = Task.Delay(_nextAnnounce - now, _time, wait.Token);
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
        PublishStatus();
    }

    private void OnCompleted()
    {
        _completedPending = true;
        if (_lastSuccess is { } last)
        {
            DateTimeOffset earliest = last + (_minInterval ?? TimeSpan.Zero);
            DateTimeOffset now = _time.GetUtcNow();
            DateTimeOffset at = earliest > now ? earliest : now;
            if (at < _nextAnnounce) _nextAnnounce = at;
        }
    }

    private async Task AnnounceOnceAsync(CancellationToken token)
    {
        DateTimeOffset now = _time.GetUtcNow();
        foreach (List<Entry> tier in _tiers)
        {
            for (int i = 0; i < tier.Count; i++)
            {
                Entry entry = tier[i];
                if (now < entry.RetryAt) continue;
                AnnounceEvent evt = !entry.Started ? AnnounceEvent.Started : _completedPending ? AnnounceEvent.Completed : AnnounceEvent.None;
                AnnounceStats stats = _getStats();
                AnnounceResponse? response = await TryAnnounceAsync(entry, evt, stats, _options.NumWant, token).ConfigureAwait(false);
                now = _time.GetUtcNow();
                if (response is null)
                {
                    entry.Failures++;
                    double factor = Math.Pow(2, Math.Min(entry.Failures - 1, 20));
                    TimeSpan backoff = TimeSpan.FromTicks((long)Math.Min(_options.RetryMax.Ticks, _options.RetryBase.Ticks * factor));
                    entry.RetryAt = now + backoff;
                    continue;
                }

                // BEP 12: the tracker that answered moves to the front of its tier.
                tier.RemoveAt(i);
                tier.Insert(0, entry);
                if (evt == AnnounceEvent.Started)
                {
                    entry.Started = true;
                    if (stats.Left == 0) _completedPending = false; // started with left=0 already says we are a seeder
                }
                if (evt == AnnounceEvent.Completed) _completedPending = false;

                TimeSpan interval = Clamp(response.Interval);
                _minInterval = response.MinInterval is { } min ? Clamp(min) : null;
                _lastSuccess = now;
                _nextAnnounce = now + interval;
                if (_completedPending) _nextAnnounce = now + (_minInterval ?? _options.MinimumInterval);
                _log?.Invoke($"tracker {entry.Url}: {Describe(evt)}{response.Peers.Count} peers, next announce in {interval.TotalSeconds:0} s");
                if (response.Peers.Count > 0)
                {
                    try
                    {
                        _onPeers(response.Peers);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // The consumer's failure must not end announcing for the rest of the session.
                        _log?.Invoke($"peer callback failed: {e.Message}");
                    }
                }
                return;
            }
        }

        // Nobody answered (or everybody is backing off): come back when the first backoff ends.
        DateTimeOffset retry = DateTimeOffset.MaxValue;
        foreach (List<Entry> tier in _tiers)
        {
            foreach (Entry entry in tier)
            {
                if (entry.RetryAt < retry) retry = entry.RetryAt;
            }
        }
        _nextAnnounce = retry > now ? retry : now + _options.RetryBase;
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
            entry.RetryAt = DateTimeOffset.MinValue;
            entry.IsWorking = true;
            entry.LastError = null;
            entry.LastAnnounce = _time.GetUtcNow();
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
            entry.LastError = e switch
            {
                OperationCanceledException => $"no answer within {_options.AttemptTimeout.TotalSeconds:0} s",
                TrackerException { FailureReason: { } reason } => reason,
                _ => e.Message,
            };
            _log?.Invoke($"tracker {entry.Url}: {evt.ToString().ToLowerInvariant()} announce failed: {entry.LastError}");
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

    private void PublishStatus()
    {
        var status = new List<TrackerStatus>();
        foreach (List<Entry> tier in _tiers)
        {
            foreach (Entry e in tier)
            {
                DateTimeOffset? next = _stopRequested == 1 ? null : e.RetryAt > _nextAnnounce ? e.RetryAt : _nextAnnounce;
                status.Add(new TrackerStatus(e.Url, e.Tier, e.IsWorking, e.LastError, e.Warning, e.LastAnnounce,
                    _running ? next : null, e.PeersReceived, e.Seeders, e.Leechers));
            }
        }
        Volatile.Write(ref _status, [.. status]);
    }

    private void DisposeClients()
    {
        foreach (List<Entry> tier in _tiers)
        {
            foreach (Entry entry in tier)
            {
                entry.Client?.Dispose();
                entry.Client = null;
            }
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
        public int PeersReceived { get; set; }
        public int? Seeders { get; set; }
        public int? Leechers { get; set; }
        public string? TrackerId { get; set; }
    }
}
