using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Shoal.Trackers.Server;

/// <summary>
/// Stateless BEP 15 connection ids: the first 8 bytes of an HMAC of the client's address and port under a key
/// that changes every minute (derived from a random master key and the minute number). An id is accepted
/// during its minute and the next, so it lives one to two minutes, as BEP 15 asks, and nothing is stored per
/// client: a flood of connect requests costs no memory.
/// </summary>
public sealed class UdpConnectionIds
{
    private static readonly TimeSpan Epoch = TimeSpan.FromMinutes(1);
    private readonly byte[] _master;
    private readonly TimeProvider _time;
    private EpochKey? _current; // replaced, never mutated: readers on several threads see a whole key or the old one
    private EpochKey? _previous;

    /// <summary>Creates the generator with a fresh random master key.</summary>
    public UdpConnectionIds(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _master = RandomNumberGenerator.GetBytes(32);
    }

    /// <summary>A connection id for <paramref name="client"/>, valid now and in the next minute.</summary>
    public long Create(IPEndPoint client)
    {
        ArgumentNullException.ThrowIfNull(client);
        long epoch = CurrentEpoch();
        return Compute(KeyFor(epoch), client);
    }

    /// <summary>True when <paramref name="connectionId"/> was made for <paramref name="client"/> this minute or the last.</summary>
    public bool IsValid(long connectionId, IPEndPoint client)
    {
        ArgumentNullException.ThrowIfNull(client);
        long epoch = CurrentEpoch();
        return Compute(KeyFor(epoch), client) == connectionId || Compute(KeyFor(epoch - 1), client) == connectionId;
    }

    private long CurrentEpoch() => _time.GetUtcNow().UtcTicks / Epoch.Ticks;

    private byte[] KeyFor(long epoch)
    {
        EpochKey? current = Volatile.Read(ref _current);
        if (current?.Epoch == epoch) return current.Key;
        EpochKey? previous = Volatile.Read(ref _previous);
        if (previous?.Epoch == epoch) return previous.Key;

        Span<byte> label = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(label, epoch);
        var made = new EpochKey(epoch, HMACSHA256.HashData(_master, label));
        if (current is null || epoch > current.Epoch)
        {
            Volatile.Write(ref _previous, current);
            Volatile.Write(ref _current, made);
        }
        else
        {
            Volatile.Write(ref _previous, made);
        }
        return made.Key;
    }

    private static long Compute(byte[] key, IPEndPoint client)
    {
        Span<byte> data = stackalloc byte[18];
        IPAddress address = client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address;
        address.TryWriteBytes(data, out int written);
        BinaryPrimitives.WriteUInt16BigEndian(data[written..], (ushort)client.Port);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, data[..(written + 2)], mac);
        return BinaryPrimitives.ReadInt64BigEndian(mac);
    }

    private sealed record EpochKey(long Epoch, byte[] Key);
}
