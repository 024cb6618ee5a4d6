using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Dht;

/// <summary>
/// The compact forms of BEP 5 and BEP 32: a peer is 6 bytes (IPv4 + port) or 18 bytes (IPv6 + port), big-endian;
/// a node is its 20-byte id followed by that.
/// </summary>
public static class CompactAddress
{
    /// <summary>Bytes of a compact IPv4 peer.</summary>
    public const int PeerV4Length = CompactEndPoint.V4Length;

    /// <summary>Bytes of a compact IPv6 peer.</summary>
    public const int PeerV6Length = CompactEndPoint.V6Length;

    /// <summary>Bytes of a compact IPv4 node (id + peer).</summary>
    public const int NodeV4Length = NodeId.Length + PeerV4Length;

    /// <summary>Bytes of a compact IPv6 node (id + peer).</summary>
    public const int NodeV6Length = NodeId.Length + PeerV6Length;

    /// <summary>The compact length of an endpoint of this family (6 or 18).</summary>
    public static int PeerLength(IPEndPoint endPoint) => CompactEndPoint.LengthOf(endPoint);

    /// <summary>Writes the compact form of <paramref name="endPoint"/>; returns the bytes written (6 or 18).</summary>
    public static int WritePeer(IPEndPoint endPoint, Span<byte> destination) => CompactEndPoint.Write(endPoint, destination);

    /// <summary>Reads a 6- or 18-byte compact peer.</summary>
    /// <exception cref="KrpcFormatException">Another length.</exception>
    public static IPEndPoint ReadPeer(ReadOnlySpan<byte> compact)
    {
        if (compact.Length is not (PeerV4Length or PeerV6Length))
        {
            throw new KrpcFormatException($"a compact peer is 6 or 18 bytes, not {compact.Length}");
        }
        return CompactEndPoint.Read(compact);
    }

    /// <summary>Writes a compact node (26 or 38 bytes); returns the bytes written.</summary>
    public static int WriteNode(NodeContact node, Span<byte> destination)
    {
        node.Id.CopyTo(destination);
        return NodeId.Length + WritePeer(node.EndPoint, destination[NodeId.Length..]);
    }

    /// <summary>Reads a concatenation of compact nodes of <paramref name="nodeLength"/> bytes each (26 or 38).</summary>
    /// <exception cref="KrpcFormatException">The length is not a multiple of the node size.</exception>
    public static List<NodeContact> ReadNodes(ReadOnlySpan<byte> compact, int nodeLength)
    {
        if (compact.Length % nodeLength != 0)
        {
            throw new KrpcFormatException($"compact node info is a multiple of {nodeLength} bytes, not {compact.Length}");
        }
        var nodes = new List<NodeContact>(compact.Length / nodeLength);
        for (int i = 0; i < compact.Length; i += nodeLength)
        {
            ReadOnlySpan<byte> one = compact.Slice(i, nodeLength);
            IPEndPoint endPoint = ReadPeer(one[NodeId.Length..]);
            if (endPoint.Port == 0) continue; // unusable; hostile or broken
            nodes.Add(new NodeContact(new NodeId(one[..NodeId.Length]), endPoint));
        }
        return nodes;
    }
}
