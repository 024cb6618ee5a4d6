using Shoal.Swarm;

namespace Shoal.WebSeeds;

/// <summary>
/// One web seed URL of a torrent and what the torrent knows of it: its connection slots (each with its own picker key
/// and the piece its next run would continue from), its failures and back-off, its hash failures, its traffic.
/// Owned by the torrent's actor; the retry rules are here, written down once:
/// <list type="bullet">
/// <item>A failed request (connection error, timeout, 4xx/5xx, short or long body, wrong Content-Range or length,
/// redirect loop) counts one failure and the server backs off for <see cref="WebSeedOptions.RetryDelay"/>, doubled by
/// each further consecutive failure up to <see cref="WebSeedOptions.MaxRetryDelay"/>. Requests that were already in
/// flight when a failure was counted fail with the same outage and do not count again.</item>
/// <item>After a failure only one connection probes the server; a success resets the count and opens every slot.</item>
/// <item><see cref="WebSeedOptions.MaxFailures"/> consecutive failures drop the server for the rest of the run.</item>
/// <item>A server that ignores byte ranges or holds a file of another length is dropped at once: retrying cannot help.</item>
/// <item>A busy reply (503, 429) is not a failure: the server is asked again after its Retry-After (bounded by one
/// second and <see cref="WebSeedOptions.MaxRetryDelay"/>), or the back-off delay when it gives none (BEP 19: a busy
/// server need not be discarded).</item>
/// </list>
/// </summary>
internal sealed class WebSeedServer
{
    private static readonly TimeSpan MinBusyDelay = TimeSpan.FromSeconds(1);

    private RateMeter _meter;
    private long _lastFailureAt = long.MinValue;

    public WebSeedServer(string url, WebSeedKind kind, WebSeedPlanner planner, int senderKey, int[] slotKeys)
    {
        Url = url;
        Kind = kind;
        Planner = planner;
        SenderKey = senderKey;
        SlotKeys = slotKeys;
        Jobs = new WebSeedJob?[slotKeys.Length];
        NextPiece = new int[slotKeys.Length];
        Array.Fill(NextPiece, -1);
    }

    public string Url { get; }

    public WebSeedKind Kind { get; }

    /// <summary>Turns runs of the torrent into this server's requests.</summary>
    public WebSeedPlanner Planner { get; }

    /// <summary>Who sent a block, for smart ban (one key for all the server's connections).</summary>
    public int SenderKey { get; }

    /// <summary>Each connection slot's picker key (negative: never a peer's).</summary>
    public int[] SlotKeys { get; }

    /// <summary>The run each slot is fetching, or null.</summary>
    public WebSeedJob?[] Jobs { get; }

    /// <summary>Per slot: the piece right after its last run (the next run continues there when it can), or -1.</summary>
    public int[] NextPiece { get; }

    public WebSeedState State { get; private set; } = WebSeedState.Waiting;

    public bool IsDropped => State == WebSeedState.Dropped;

    public int ConsecutiveFailures { get; private set; }

    /// <summary>No request before this time (TimeProvider ticks); 0 when not backing off.</summary>
    public long RetryAt { get; private set; }

    public string? LastError { get; private set; }

    /// <summary>Hash failures held against it (see <see cref="SmartBan.MaxHashFailures"/>).</summary>
    public int HashFailures { get; set; }

    public long Downloaded { get; set; }

    public long DownloadRate => _meter.BytesPerSecond;

    public int RunningJobs
    {
        get
        {
            int n = 0;
            foreach (WebSeedJob? job in Jobs) if (job is not null) n++;
            return n;
        }
    }

    /// <summary>How many requests may be in flight now: none while backing off or dropped, one while probing after a failure, else every slot.</summary>
    public int UsableSlots(long now)
    {
        if (IsDropped || (RetryAt != 0 && now < RetryAt)) return 0;
        return ConsecutiveFailures > 0 || State == WebSeedState.Failing ? 1 : SlotKeys.Length;
    }

    public void SampleRate(TimeSpan elapsed) => _meter.Sample(Downloaded, elapsed);

    /// <summary>Data arrived: the server serves.</summary>
    public void OnData()
    {
        if (State == WebSeedState.Waiting) State = WebSeedState.Connected;
    }

    /// <summary>A run was fetched whole: the failures are forgiven.</summary>
    public void OnSuccess()
    {
        if (IsDropped) return;
        ConsecutiveFailures = 0;
        RetryAt = 0;
        LastError = null;
        State = WebSeedState.Connected;
    }

    /// <summary>
    /// A run failed (the rules are in the class summary). Returns true when the server is to be dropped;
    /// <paramref name="retryIn"/> is the back-off otherwise.
    /// </summary>
    public bool OnFailure(WebSeedException failure, long jobStartedAt, long now, TimeProvider time, WebSeedOptions options, out TimeSpan retryIn)
    {
        retryIn = TimeSpan.Zero;
        if (IsDropped) return false;
        LastError = failure.Message;
        if (failure.IsPermanent) return true;
        if (jobStartedAt < _lastFailureAt)
        {
            // In flight when the outage was already counted: the same failure, seen again.
            retryIn = RetryAt > now ? time.GetElapsedTime(now, RetryAt) : TimeSpan.Zero;
            return false;
        }
        _lastFailureAt = now;
        State = WebSeedState.Failing;
        if (failure.Kind == WebSeedFailureKind.Busy)
        {
            TimeSpan asked = failure.RetryAfter ?? options.RetryDelay;
            retryIn = asked < MinBusyDelay ? MinBusyDelay : asked > options.MaxRetryDelay ? options.MaxRetryDelay : asked;
        }
        else
        {
            ConsecutiveFailures++;
            if (ConsecutiveFailures >= options.MaxFailures) return true;
            retryIn = BackOff(ConsecutiveFailures, options);
        }
        RetryAt = now + (long)(retryIn.TotalSeconds * time.TimestampFrequency);
        return false;
    }

    /// <summary>The delay after <paramref name="failures"/> consecutive failures: the retry delay doubled per failure after the first, capped.</summary>
    public static TimeSpan BackOff(int failures, WebSeedOptions options)
    {
        double seconds = options.RetryDelay.TotalSeconds * Math.Pow(2, Math.Max(0, failures - 1));
        return seconds >= options.MaxRetryDelay.TotalSeconds ? options.MaxRetryDelay : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Gives the server up for the rest of the run.</summary>
    public void Drop(string reason)
    {
        State = WebSeedState.Dropped;
        LastError = reason;
    }

    public WebSeedStatus ToStatus() => new(Url, Kind, State, RunningJobs, Downloaded, DownloadRate, ConsecutiveFailures, LastError);
}
