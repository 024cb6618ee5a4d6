using System.Net;

namespace Shoal.Dht;

/// <summary>
/// Who waits for the outcome of one query sent by <see cref="KrpcClient"/>: exactly one of <see cref="OnResponse"/>
/// and <see cref="OnFailure"/> is called (inside the node's gate), possibly after <see cref="OnSlow"/>.
/// </summary>
internal interface IQueryObserver
{
    /// <summary>Whether to be told when the query passes its soft timeout (lookups stop waiting for it then).</summary>
    bool WantsSlowNotice { get; }

    /// <summary>The node at <paramref name="from"/> answered.</summary>
    void OnResponse(IPEndPoint from, KrpcResponse response);

    /// <summary>The query to <paramref name="to"/> passed its soft timeout; an answer may still come.</summary>
    void OnSlow(IPEndPoint to);

    /// <summary>The query to <paramref name="to"/> timed out for good, was answered with an error, or was never sent.</summary>
    void OnFailure(IPEndPoint to);
}

/// <summary>What to ask: the method and its arguments (our id and the transaction id are added by the client).</summary>
/// <param name="Method">The KRPC method.</param>
/// <param name="Target">find_node target or info-hash.</param>
/// <param name="Token">announce_peer token.</param>
/// <param name="Port">announce_peer port.</param>
/// <param name="ImpliedPort">announce_peer implied_port.</param>
/// <param name="Want">BEP 32 "want".</param>
internal readonly record struct QuerySpec(KrpcMethod Method, NodeId Target = default, ReadOnlyMemory<byte> Token = default, int Port = 0,
    bool ImpliedPort = false, KrpcWant Want = KrpcWant.None)
{
    /// <summary>A ping.</summary>
    public static QuerySpec Ping => new(KrpcMethod.Ping);
}
