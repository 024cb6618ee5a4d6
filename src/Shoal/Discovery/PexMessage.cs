using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Shoal.Bencoding;

namespace Shoal.Discovery;

/// <summary>
/// A BEP 11 ut_pex message: peers the sender connected to (with flags) and peers it disconnected from,
/// IPv4 and IPv6 together here; <see cref="Encode"/> splits them into added/added6 and dropped/dropped6.
/// </summary>
public sealed class PexMessage
{
    /// <summary>Largest payload accepted, in bytes.</summary>
    public const int MaxPayloadLength = 64 * 1024;

    /// <summary>Most entries read from each of added, added6, dropped, dropped6; the rest are ignored.</summary>
    public const int MaxEntriesPerList = 200;

    private const int V4Length = 6;
    private const int V6Length = 18;

    private static readonly BencodeLimits Limits = new() { MaxDepth = 8, MaxItems = 1024, MaxInputLength = MaxPayloadLength };

    /// <summary>Creates a message.</summary>
    public PexMessage(IReadOnlyList<PexPeer> added, IReadOnlyList<IPEndPoint> dropped)
    {
        ArgumentNullException.ThrowIfNull(added);
        ArgumentNullException.ThrowIfNull(dropped);
        Added = added;
        Dropped = dropped;
    }

    /// <summary>Peers the sender is now connected to.</summary>
    public IReadOnlyList<PexPeer> Added { get; }

    /// <summary>Peers the sender is no longer connected to.</summary>
    public IReadOnlyList<IPEndPoint> Dropped { get; }

    /// <summary>
    /// Parses a ut_pex payload, strictly: a list whose length is not a whole number of entries (6 bytes for IPv4, 18 for
    /// IPv6), flags whose count differs from their list's entries, or one of the six keys with a value that is not a
    /// byte string makes the whole message invalid, since an entry read from a misaligned list is made of whatever bytes
    /// follow. Within a well-formed list, entries with port 0 or an unspecified address are skipped, and entries past
    /// <see cref="MaxEntriesPerList"/> ignored; missing flags read as <see cref="PexFlags.None"/>. Unknown keys are ignored.
    /// </summary>
    /// <exception cref="ExtensionMessageException">Malformed bencode, not a dictionary, or over <see cref="MaxPayloadLength"/>.</exception>
    /// <exception cref="PexListException">A malformed list as above.</exception>
    public static PexMessage Parse(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length > MaxPayloadLength)
            throw new ExtensionMessageException($"ut_pex message is {payload.Length} bytes, more than the limit of {MaxPayloadLength}");
        BValue root;
        try
        {
            root = Bencode.Decode(payload, Limits);
        }
        catch (BencodeException e)
        {
            throw new ExtensionMessageException("malformed ut_pex message: " + e.Message, e);
        }
        if (root is not BDictionary dict)
            throw new ExtensionMessageException($"ut_pex message must be a dictionary, not {BDictionary.KindOf(root)}");

        var added = new List<PexPeer>();
        ReadAdded(dict, "added", "added.f", V4Length, added);
        ReadAdded(dict, "added6", "added6.f", V6Length, added);
        var dropped = new List<IPEndPoint>();
        ReadDropped(dict, "dropped", V4Length, dropped);
        ReadDropped(dict, "dropped6", V6Length, dropped);
        return new PexMessage(added, dropped);
    }

    /// <summary>Encodes the payload; always carries at least the "added" key, as BEP 11 requires one.</summary>
    public byte[] Encode()
    {
        int v4Added = 0, v6Added = 0, v4Dropped = 0, v6Dropped = 0;
        foreach (PexPeer peer in Added)
        {
            if (CompactEndPoint.IsV4(peer.EndPoint.Address)) v4Added++;
            else v6Added++;
        }
        foreach (IPEndPoint endPoint in Dropped)
        {
            if (CompactEndPoint.IsV4(endPoint.Address)) v4Dropped++;
            else v6Dropped++;
        }

        var output = new ArrayBufferWriter<byte>(64 + ((v4Added + v4Dropped) * V4Length) + ((v6Added + v6Dropped) * V6Length) + v4Added + v6Added);
        var writer = new BencodeWriter(output);
        writer.WriteDictionaryStart();
        // Keys in raw byte order: "added" < "added.f" < "added6" < "added6.f" < "dropped" < "dropped6".
        if (v4Added > 0 || (v6Added == 0 && v4Dropped == 0 && v6Dropped == 0))
        {
            writer.WriteString("added"u8);
            WriteAddresses(output, writer, Added, v4: true, v4Added * V4Length);
            writer.WriteString("added.f"u8);
            WriteFlags(output, writer, v4: true, v4Added);
        }
        if (v6Added > 0)
        {
            writer.WriteString("added6"u8);
            WriteAddresses(output, writer, Added, v4: false, v6Added * V6Length);
            writer.WriteString("added6.f"u8);
            WriteFlags(output, writer, v4: false, v6Added);
        }
        if (v4Dropped > 0)
        {
            writer.WriteString("dropped"u8);
            WriteDropped(output, writer, v4: true, v4Dropped * V4Length);
        }
        if (v6Dropped > 0)
        {
            writer.WriteString("dropped6"u8);
            WriteDropped(output, writer, v4: false, v6Dropped * V6Length);
        }
        writer.WriteEnd();
        return output.WrittenSpan.ToArray();
    }


    private static void WriteAddresses(ArrayBufferWriter<byte> output, BencodeWriter writer, IReadOnlyList<PexPeer> peers, bool v4, int length)
    {
        WriteLengthPrefix(writer, length);
        foreach (PexPeer peer in peers)
        {
            if (CompactEndPoint.IsV4(peer.EndPoint.Address) == v4) WriteCompact(output, peer.EndPoint, v4);
        }
    }

    private void WriteFlags(ArrayBufferWriter<byte> output, BencodeWriter writer, bool v4, int count)
    {
        WriteLengthPrefix(writer, count);
        Span<byte> span = output.GetSpan(Math.Max(count, 1));
        int n = 0;
        foreach (PexPeer peer in Added)
        {
            if (CompactEndPoint.IsV4(peer.EndPoint.Address) == v4) span[n++] = (byte)peer.Flags;
        }
        output.Advance(n);
    }

    private void WriteDropped(ArrayBufferWriter<byte> output, BencodeWriter writer, bool v4, int length)
    {
        WriteLengthPrefix(writer, length);
        foreach (IPEndPoint endPoint in Dropped)
        {
            if (CompactEndPoint.IsV4(endPoint.Address) == v4) WriteCompact(output, endPoint, v4);
        }
    }

    /// <summary>Writes "length:" alone; the raw bytes follow straight into the buffer.</summary>
    private static void WriteLengthPrefix(BencodeWriter writer, int length)
    {
        Span<byte> digits = stackalloc byte[12];
        length.TryFormat(digits, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        digits[written++] = (byte)':';
        writer.WriteRaw(digits[..written]);
    }

    private static void WriteCompact(ArrayBufferWriter<byte> output, IPEndPoint endPoint, bool v4)
    {
        int length = v4 ? V4Length : V6Length;
        if (CompactEndPoint.LengthOf(endPoint) != length)
            throw new InvalidOperationException($"cannot write {endPoint} as a compact {(v4 ? "IPv4" : "IPv6")} contact");
        output.Advance(CompactEndPoint.Write(endPoint, output.GetSpan(length)));
    }

    private static void ReadAdded(BDictionary dict, string key, string flagsKey, int entryLength, List<PexPeer> into)
    {
        BString? compact = CompactList(dict, key, entryLength);
        BString? flagBytes = OptionalString(dict, flagsKey);
        if (compact is null)
        {
            if (flagBytes is { Length: > 0 }) throw new PexListException($"ut_pex '{flagsKey}' has {flagBytes.Length} flags for no '{key}'");
            return;
        }
        ReadOnlySpan<byte> bytes = compact.Bytes.Span;
        ReadOnlySpan<byte> flags = flagBytes is null ? default : flagBytes.Bytes.Span;
        if (flagBytes is not null && flags.Length != bytes.Length / entryLength)
            throw new PexListException($"ut_pex '{flagsKey}' has {flags.Length} flags for {bytes.Length / entryLength} entries in '{key}'");
        int count = Math.Min(bytes.Length / entryLength, MaxEntriesPerList);
        for (int i = 0; i < count; i++)
        {
            if (TryReadEndPoint(bytes.Slice(i * entryLength, entryLength), out IPEndPoint? endPoint))
                into.Add(new PexPeer(endPoint, i < flags.Length ? (PexFlags)flags[i] : PexFlags.None));
        }
    }

    private static void ReadDropped(BDictionary dict, string key, int entryLength, List<IPEndPoint> into)
    {
        if (CompactList(dict, key, entryLength) is not { } compact) return;
        ReadOnlySpan<byte> bytes = compact.Bytes.Span;
        int count = Math.Min(bytes.Length / entryLength, MaxEntriesPerList);
        for (int i = 0; i < count; i++)
        {
            if (TryReadEndPoint(bytes.Slice(i * entryLength, entryLength), out IPEndPoint? endPoint)) into.Add(endPoint);
        }
    }

    /// <summary>The list under <paramref name="key"/>, checked to hold whole entries; null when absent.</summary>
    private static BString? CompactList(BDictionary dict, string key, int entryLength)
    {
        if (OptionalString(dict, key) is not { } compact) return null;
        if (compact.Length % entryLength != 0)
            throw new PexListException($"ut_pex '{key}' is {compact.Length} bytes, not a whole number of {entryLength}-byte entries");
        return compact;
    }

    private static BString? OptionalString(BDictionary dict, string key)
    {
        if (!dict.TryGetValue(key, out BValue? value)) return null;
        return value as BString ?? throw new PexListException($"ut_pex '{key}' must be a byte string, not {BDictionary.KindOf(value)}");
    }

    private static bool TryReadEndPoint(ReadOnlySpan<byte> entry, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint)
    {
        IPEndPoint read = CompactEndPoint.Read(entry);
        endPoint = null;
        if (read.Port == 0 || read.Address.Equals(IPAddress.Any) || read.Address.Equals(IPAddress.IPv6Any)) return false;
        endPoint = read;
        return true;
    }
}
