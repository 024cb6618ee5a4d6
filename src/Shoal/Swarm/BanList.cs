using System.Net;

namespace Shoal.Swarm;

/// <summary>
/// Addresses a torrent refuses to talk to, each for <see cref="Duration"/>: bounded (at <see cref="Capacity"/> the
/// oldest ban makes room) and expiring, so neither a long run nor an attacker with many addresses grows it without
/// limit. Pure: time comes in as <see cref="TimeProvider"/> timestamps.
/// </summary>
internal sealed class BanList
{
    private readonly Dictionary<IPAddress, long> _until = [];
    private readonly Queue<(IPAddress Address, long Until)> _byAge = new(); // bans in the order they expire
    private readonly long _durationTicks;

    public BanList(int capacity, TimeSpan duration, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        Capacity = capacity;
        Duration = duration;
        _durationTicks = (long)(duration.TotalSeconds * timestampFrequency);
    }

    /// <summary>Most addresses banned at once.</summary>
    public int Capacity { get; }

    /// <summary>How long a ban lasts.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Bans in force (expired ones are dropped as time is seen to pass).</summary>
    public int Count => _until.Count;

    /// <summary>Bans <paramref name="address"/> from <paramref name="now"/>; false when it was banned already.</summary>
    public bool Ban(IPAddress address, long now)
    {
        address = Normalize(address);
        Expire(now);
        if (_until.ContainsKey(address)) return false;
        if (_until.Count >= Capacity && _byAge.TryDequeue(out var oldest)) _until.Remove(oldest.Address);
        long until = now + _durationTicks;
        _until.Add(address, until);
        _byAge.Enqueue((address, until));
        return true;
    }

    /// <summary>True while <paramref name="address"/> is banned.</summary>
    public bool IsBanned(IPAddress address, long now)
    {
        if (_until.Count == 0) return false;
        Expire(now);
        return _until.ContainsKey(Normalize(address));
    }

    private void Expire(long now)
    {
        while (_byAge.TryPeek(out var first) && first.Until <= now)
        {
            _byAge.Dequeue();
            _until.Remove(first.Address);
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
