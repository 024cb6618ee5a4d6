using System.Buffers;
using System.Net;
using Shoal.Bencoding;

namespace Shoal.Dht;

/// <summary>
/// What persists between runs: our node id, our last known external address and the routing table's nodes, as a
/// bencoded dictionary in <c>dht.dat</c>, written to a temporary file and renamed into place so a crash never leaves
/// a torn file.
/// </summary>
/// <param name="Id">Our node id.</param>
/// <param name="ExternalAddress">Our external address when it was known.</param>
/// <param name="Nodes">Nodes of the table, both families.</param>
public sealed record DhtState(NodeId Id, IPAddress? ExternalAddress, IReadOnlyList<NodeContact> Nodes)
{
    /// <summary>File name inside the data directory.</summary>
    public const string FileName = "dht.dat";

    /// <summary>Most nodes saved or loaded.</summary>
    public const int MaxNodes = 2000;

    /// <summary>Encodes the state.</summary>
    public byte[] Encode()
    {
        var root = new BDictionary();
        root.Set("id", new BString(Id.ToArray()));
        if (ExternalAddress is not null) root.Set("ip", new BString(ExternalAddress.GetAddressBytes()));
        var v4 = new ArrayBufferWriter<byte>();
        var v6 = new ArrayBufferWriter<byte>();
        int count = 0;
        foreach (NodeContact node in Nodes)
        {
            if (count++ >= MaxNodes) break;
            bool isV6 = CompactAddress.PeerLength(node.EndPoint) == CompactAddress.PeerV6Length;
            ArrayBufferWriter<byte> target = isV6 ? v6 : v4;
            Span<byte> span = target.GetSpan(CompactAddress.NodeV6Length);
            target.Advance(CompactAddress.WriteNode(node, span));
        }
        root.Set("nodes", new BString(v4.WrittenMemory.ToArray()));
        root.Set("nodes6", new BString(v6.WrittenMemory.ToArray()));
        return Bencode.Encode(root);
    }

    /// <summary>Decodes a state file's bytes.</summary>
    /// <exception cref="ShoalFormatException">The file is not a DHT state.</exception>
    public static DhtState Decode(ReadOnlyMemory<byte> data)
    {
        BValue value = Bencode.Decode(data, new BencodeLimits { MaxDepth = 4, MaxItems = 64, MaxInputLength = 1024 * 1024 });
        if (value is not BDictionary root) throw new KrpcFormatException("a DHT state file is a dictionary");
        if (!root.TryGetString("id", out BString? id) || id.Length != NodeId.Length) throw new KrpcFormatException("DHT state without a 20-byte \"id\"");
        IPAddress? ip = root.TryGetString("ip", out BString? ipBytes) && ipBytes.Length is 4 or 16 ? new IPAddress(ipBytes.Bytes.Span) : null;
        var nodes = new List<NodeContact>();
        if (root.TryGetString("nodes", out BString? n4)) nodes.AddRange(CompactAddress.ReadNodes(n4.Bytes.Span, CompactAddress.NodeV4Length));
        if (root.TryGetString("nodes6", out BString? n6)) nodes.AddRange(CompactAddress.ReadNodes(n6.Bytes.Span, CompactAddress.NodeV6Length));
        if (nodes.Count > MaxNodes) nodes.RemoveRange(MaxNodes, nodes.Count - MaxNodes);
        return new DhtState(new NodeId(id.Bytes.Span), ip, nodes);
    }

    /// <summary>File name of the IPv6 node's state when a <see cref="DualStackDht"/> runs both families.</summary>
    public const string Ipv6FileName = "dht6.dat";

    /// <summary>Loads <c>dht.dat</c> from <paramref name="directory"/>; null when there is none.</summary>
    /// <exception cref="ShoalFormatException">The file is corrupt.</exception>
    public static DhtState? Load(string directory) => Load(directory, FileName);

    /// <summary>Loads <paramref name="fileName"/> from <paramref name="directory"/>; null when there is none.</summary>
    /// <exception cref="ShoalFormatException">The file is corrupt.</exception>
    public static DhtState? Load(string directory, string fileName)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        string path = Path.Combine(directory, fileName);
        if (!File.Exists(path)) return null;
        var info = new FileInfo(path);
        if (info.Length > 1024 * 1024) throw new KrpcFormatException($"{path} is too large to be a DHT state file");
        return Decode(File.ReadAllBytes(path));
    }

    /// <summary>Saves <c>dht.dat</c> atomically into <paramref name="directory"/> (created if missing): temp file, flush, rename.</summary>
    public void Save(string directory) => Save(directory, FileName);

    /// <summary>Saves as <paramref name="fileName"/> atomically into <paramref name="directory"/> (created if missing).</summary>
    public void Save(string directory, string fileName)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, fileName);
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encode());
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
