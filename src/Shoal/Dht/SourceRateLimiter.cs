using System.Net;

namespace Shoal.Dht;

/// <summary>
/// A token bucket per source IP address for incoming queries: <see cref="Burst"/> at once, then
/// <see cref="PerSecond"/> per second. Tracks at most <see cref="MaxSources"/> addresses; when full it forgets the
/// buckets that have refilled (they carry no information), and if none have, it refuses new sources until some do
/// (a spoofed-source flood then costs us nothing but dropped packets). Single owner.
/// </summary>
public sealed class SourceRateLimiter
{
    private readonly TimeProvider _time;
    private readonly Dictionary<IPAddress, Bucket> _buckets = [];

    /// <summary>Creates the limiter.</summary>
    public SourceRateLimiter(TimeProvider time, double perSecond = 20, double burst = 50, int maxSources = 10_000)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        PerSecond = perSecond;
        Burst = burst;
        MaxSources = maxSources;
    }

    /// <summary>Sustained queries per second per address.</summary>
    public double PerSecond { get; }

    /// <summary>Queries an address may send at once.</summary>
    public double Burst { get; }

    /// <summary>Addresses tracked at most.</summary>
    public int MaxSources { get; }

    /// <summary>Takes one token for <paramref name="source"/>; false when it is over its rate.</summary>
    public bool TryAcquire(IPAddress source)
    {
        ArgumentNullException.ThrowIfNull(source);
        DateTimeOffset now = _time.GetUtcNow();
        if (!_buckets.TryGetValue(source, out Bucket? bucket))
        {
            if (_buckets.Count >= MaxSources)
            {
                Sweep(now);
                if (_buckets.Count >= MaxSources) return false;
            }
            bucket = new Bucket { Tokens = Burst, Updated = now };
            _buckets[source] = bucket;
        }
        bucket.Tokens = Math.Min(Burst, bucket.Tokens + ((now - bucket.Updated).TotalSeconds * PerSecond));
        bucket.Updated = now;
        if (bucket.Tokens < 1) return false;
        bucket.Tokens -= 1;
        return true;
    }

    private void Sweep(DateTimeOffset now)
    {
        var full = new List<IPAddress>();
        foreach (KeyValuePair<IPAddress, Bucket> pair in _buckets)
        {
            if (pair.Value.Tokens + ((now - pair.Value.Updated).TotalSeconds * PerSecond) >= Burst) full.Add(pair.Key);
        }
        foreach (IPAddress a in full) _buckets.Remove(a);
    }

    private sealed class Bucket
    {
        public double Tokens;
        public DateTimeOffset Updated;
    }
}
