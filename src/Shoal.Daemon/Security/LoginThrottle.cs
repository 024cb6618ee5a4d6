using System.Net;

namespace Shoal.Daemon.Security;

/// <summary>
/// Slows password guessing: after <see cref="FreeFailures"/> failed logins from one address, that address is refused
/// for a minute, twice as long after each further failure (at most <see cref="MaxBlock"/>); a success clears it.
/// The table is bounded: beyond <see cref="MaxAddresses"/> the address that failed longest ago is forgotten.
/// </summary>
public sealed class LoginThrottle(TimeProvider time)
{
    /// <summary>Failures allowed before an address is blocked.</summary>
    public const int FreeFailures = 5;

    /// <summary>Addresses remembered at most.</summary>
    public const int MaxAddresses = 10_000;

    /// <summary>Longest block.</summary>
    public static readonly TimeSpan MaxBlock = TimeSpan.FromMinutes(15);

    /// <summary>A quiet address is forgotten after this long.</summary>
    private static readonly TimeSpan Forget = TimeSpan.FromHours(1);

    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, Entry> _entries = [];

    /// <summary>How long <paramref name="address"/> must still wait; zero when it may try.</summary>
    public TimeSpan RetryAfter(IPAddress address)
    {
        DateTimeOffset now = time.GetUtcNow();
        lock (_gate)
        {
            return _entries.TryGetValue(address, out Entry? e) && e.BlockedUntil > now ? e.BlockedUntil - now : TimeSpan.Zero;
        }
    }

    /// <summary>Counts a failed login from <paramref name="address"/>.</summary>
    public void Failed(IPAddress address)
    {
        DateTimeOffset now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_entries.TryGetValue(address, out Entry? e) || now - e.LastFailure > Forget)
            {
                if (_entries.Count >= MaxAddresses) Evict(now);
                e = new Entry();
                _entries[address] = e;
            }
            e.Failures++;
            e.LastFailure = now;
            if (e.Failures >= FreeFailures)
            {
                int doublings = Math.Min(e.Failures - FreeFailures, 10);
                TimeSpan block = TimeSpan.FromMinutes(1) * (1 << doublings);
                e.BlockedUntil = now + (block > MaxBlock ? MaxBlock : block);
            }
        }
    }

    /// <summary>A login from <paramref name="address"/> succeeded: its failures are forgotten.</summary>
    public void Succeeded(IPAddress address)
    {
        lock (_gate) _entries.Remove(address);
    }

    private void Evict(DateTimeOffset now)
    {
        foreach (IPAddress stale in _entries.Where(p => now - p.Value.LastFailure > Forget).Select(p => p.Key).ToList()) _entries.Remove(stale);
        if (_entries.Count < MaxAddresses) return;
        IPAddress oldest = _entries.MinBy(p => p.Value.LastFailure).Key;
        _entries.Remove(oldest);
    }

    private sealed class Entry
    {
        public int Failures;
        public DateTimeOffset LastFailure;
        public DateTimeOffset BlockedUntil;
    }
}
