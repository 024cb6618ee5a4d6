using System.Net;

namespace Shoal.Trackers.Server;

/// <summary>
/// Requests per source address: a token bucket each, kept in a bounded least-recently-used table. IPv6
/// addresses count per /64, since one host usually holds a whole /64. When the table is full the least
/// recently seen address is forgotten (it comes back with a full bucket, which is the cheap side to err on).
/// </summary>
public sealed class AddressRateLimiter
{
    private readonly object _gate = new(); // requests arrive on many threads; the critical section is O(1)
    private readonly Dictionary<UInt128, LinkedListNode<Bucket>> _buckets = [];
    private readonly LinkedList<Bucket> _recent = new();
    private readonly double _perSecond;
    private readonly double _burst;
    private readonly int _maxAddresses;
    private readonly TimeProvider _time;

    /// <summary>Creates the limiter: <paramref name="perSecond"/> sustained, up to <paramref name="burst"/> at once.</summary>
    public AddressRateLimiter(double perSecond, double burst, int maxAddresses = 65_536, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxAddresses);
        _perSecond = perSecond;
        _burst = burst;
        _maxAddresses = maxAddresses;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Addresses currently remembered.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _buckets.Count;
        }
    }

    /// <summary>Takes one token for <paramref name="address"/>; false when it has none left.</summary>
    public bool TryAcquire(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        UInt128 key = KeyOf(address);
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_buckets.TryGetValue(key, out LinkedListNode<Bucket>? node))
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
            }
            else
            {
                if (_buckets.Count >= _maxAddresses)
                {
                    LinkedListNode<Bucket> oldest = _recent.Last!;
                    _recent.RemoveLast();
                    _buckets.Remove(oldest.Value.Key);
                    node = oldest; // reuse the node: no allocation once the table is full
                    node.Value = new Bucket(key, _burst, now);
                }
                else
                {
                    node = new LinkedListNode<Bucket>(new Bucket(key, _burst, now));
                }
                _recent.AddFirst(node);
                _buckets[key] = node;
            }

            Bucket bucket = node.Value;
            double elapsed = _time.GetElapsedTime(bucket.Updated, now).TotalSeconds;
            double tokens = Math.Min(_burst, bucket.Tokens + (elapsed * _perSecond));
            bool allowed = tokens >= 1;
            node.Value = bucket with { Tokens = allowed ? tokens - 1 : tokens, Updated = now };
            return allowed;
        }
    }

    private static UInt128 KeyOf(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        UInt128 value = 0;
        // IPv4: the whole address; IPv6: the /64 prefix. The top bit tells the two apart.
        int take = written == 4 ? 4 : 8;
        for (int i = 0; i < take; i++) value = (value << 8) | bytes[i];
        return written == 4 ? value : value | ((UInt128)1 << 127);
    }

    private readonly record struct Bucket(UInt128 Key, double Tokens, long Updated);
}
