using System.Net;

namespace Shoal.Dht;

/// <summary>The KRPC query methods of BEP 5.</summary>
public enum KrpcMethod
{
    /// <summary>A method this node does not implement (answered with error 204).</summary>
    Unknown,

    /// <summary>"ping".</summary>
    Ping,

    /// <summary>"find_node".</summary>
    FindNode,

    /// <summary>"get_peers".</summary>
    GetPeers,

    /// <summary>"announce_peer".</summary>
    AnnouncePeer,
}

/// <summary>One KRPC message (BEP 5): a query, a response or an error, with its transaction id.</summary>
public abstract class KrpcMessage
{
    /// <summary>The transaction id ("t") the response echoes; at most <see cref="KrpcCodec.MaxTransactionIdLength"/> bytes.</summary>
    public required ReadOnlyMemory<byte> TransactionId { get; init; }

    /// <summary>The client version ("v"), if any; informational.</summary>
    public ReadOnlyMemory<byte> Version { get; init; }
}

/// <summary>A KRPC query ("y":"q").</summary>
public sealed class KrpcQuery : KrpcMessage
{
    /// <summary>Which method.</summary>
    public required KrpcMethod Method { get; init; }

    /// <summary>The querying node's id ("a"."id").</summary>
    public required NodeId SenderId { get; init; }

    /// <summary>find_node "target" or get_peers / announce_peer "info_hash".</summary>
    public NodeId Target { get; init; }

    /// <summary>announce_peer "token".</summary>
    public ReadOnlyMemory<byte> Token { get; init; }

    /// <summary>announce_peer "port".</summary>
    public int Port { get; init; }

    /// <summary>announce_peer "implied_port": use the UDP source port instead of <see cref="Port"/>.</summary>
    public bool ImpliedPort { get; init; }

    /// <summary>BEP 32 "want" of find_node and get_peers: the node lists asked for; <see cref="KrpcWant.None"/> when absent.</summary>
    public KrpcWant Want { get; init; }

    /// <summary>BEP 43 "ro": the sender is read-only and must not be added to routing tables.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>The raw method name, for error messages about unknown methods.</summary>
    public string MethodName => Method switch
    {
        KrpcMethod.Ping => "ping",
        KrpcMethod.FindNode => "find_node",
        KrpcMethod.GetPeers => "get_peers",
        KrpcMethod.AnnouncePeer => "announce_peer",
        _ => "unknown",
    };
}

/// <summary>A KRPC response ("y":"r").</summary>
public sealed class KrpcResponse : KrpcMessage
{
    /// <summary>The responding node's id ("r"."id").</summary>
    public required NodeId SenderId { get; init; }

    /// <summary>IPv4 nodes ("nodes", 26 bytes each).</summary>
    public IReadOnlyList<NodeContact> Nodes { get; init; } = [];

    /// <summary>IPv6 nodes ("nodes6", 38 bytes each, BEP 32).</summary>
    public IReadOnlyList<NodeContact> Nodes6 { get; init; } = [];

    /// <summary>Peers ("values").</summary>
    public IReadOnlyList<IPEndPoint> Values { get; init; } = [];

    /// <summary>The write token from get_peers, empty when absent.</summary>
    public ReadOnlyMemory<byte> Token { get; init; }

    /// <summary>BEP 42 top-level "ip": how the responder saw our address; null when absent.</summary>
    public IPEndPoint? RequesterAddress { get; init; }
}

/// <summary>A KRPC error ("y":"e").</summary>
public sealed class KrpcError : KrpcMessage
{
    /// <summary>201 generic, 202 server, 203 protocol, 204 method unknown.</summary>
    public required int Code { get; init; }

    /// <summary>The human-readable text.</summary>
    public required string Message { get; init; }

    /// <summary>BEP 42 top-level "ip", if the error carries it.</summary>
    public IPEndPoint? RequesterAddress { get; init; }
}
