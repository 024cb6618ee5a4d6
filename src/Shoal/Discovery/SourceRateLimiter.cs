using System.Net;

namespace Shoal.Discovery;

/// <summary>
/// Counts datagrams per source address in fixed one-minute windows and refuses those over the limit.
/// Bounded: at most <see cref="MaxSources"/> addresses are tracked; when full, expired entries are pruned
/// and, failing that, unknown sources are refused until a window ends. Single-threaded.
/// </summary>
internal sealed class SourceRateLimiter(int maxPerWindow, TimeSpan window)
{
    /// <summary>Most source addresses tracked at once.</summary>
    public const int MaxSources = 1024;

    private readonly Dictionary<IPAddress, (TimeSpan Start, int Count)> _sources = [];

    /// <summary>Addresses currently tracked.</summary>
    public int Count => _sources.Count;

    /// <summary>True when one more datagram from <paramref name="source"/> at <paramref name="now"/> is within the limit.</summary>
    public bool Allow(IPAddress source, TimeSpan now)
    {
        if (_sources.TryGetValue(source, out (TimeSpan Start, int Count) entry) && now - entry.Start < window)
        {
            if (entry.Count >= maxPerWindow) return false;
            _sources[source] = (entry.Start, entry.Count + 1);
            return true;
        }
        if (!_sources.ContainsKey(source) && _sources.Count >= MaxSources)
        {
            Prune(now);
            if (_sources.Count >= MaxSources) return false;
        }
        _sources[source] = (now, 1);
        return maxPerWindow > 0;
    }

    private void Prune(TimeSpan now)
    {
        List<IPAddress>? expired = null;
        foreach (KeyValuePair<IPAddress, (TimeSpan Start, int Count)> entry in _sources)
        {
            if (now - entry.Value.Start >= window) (expired ??= []).Add(entry.Key);
        }
        if (expired is null) return;
        foreach (IPAddress address in expired) _sources.Remove(address);
    }
}
