using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Dht;

/// <summary>
/// Encodes a reply within a byte budget, the node's defence against amplification: a spoofed query must not buy a
/// much larger answer aimed at its victim. What goes first is what matters least to the asker: the peers ("values"),
/// then the other family's nodes (BEP 32 extras), then our own family's nodes; a reply that does not fit even bare is
/// not sent at all. Pure: no state, no I/O.
/// </summary>
public static class ReplyTrimmer
{
    /// <summary>
    /// Encodes <paramref name="reply"/> to <paramref name="destination"/> (BEP 42 "ip" included) into
    /// <paramref name="output"/> (cleared first), trimmed to at most <paramref name="budget"/> bytes.
    /// </summary>
    /// <param name="reply">A response or an error (errors are never trimmed, only checked).</param>
    /// <param name="destination">Whom the reply goes to.</param>
    /// <param name="budget">Most bytes allowed.</param>
    /// <param name="ownFamily">The family of the answering node's socket: its "nodes" list is trimmed last.</param>
    /// <param name="output">Receives the encoded reply when it fits.</param>
    /// <returns>False when even the bare reply is over budget: then stay silent.</returns>
    public static bool TryEncode(KrpcMessage reply, IPEndPoint destination, int budget, AddressFamily ownFamily, ArrayBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(reply);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(output);
        bool ownIsV6 = ownFamily == AddressFamily.InterNetworkV6;
        while (true)
        {
            output.ResetWrittenCount();
            KrpcCodec.Encode(reply, output, destination);
            int excess = output.WrittenCount - budget;
            if (excess <= 0) return true;
            if (reply is not KrpcResponse r) return false;
            IReadOnlyList<NodeContact> other = ownIsV6 ? r.Nodes : r.Nodes6;
            IReadOnlyList<NodeContact> own = ownIsV6 ? r.Nodes6 : r.Nodes;
            int otherLength = ownIsV6 ? CompactAddress.NodeV4Length : CompactAddress.NodeV6Length;
            int ownLength = ownIsV6 ? CompactAddress.NodeV6Length : CompactAddress.NodeV4Length;
            if (r.Values.Count > 0)
            {
                int peerLength = CompactAddress.PeerLength(r.Values[0]);
                int per = peerLength + (peerLength >= 10 ? 3 : 2); // "6:" or "18:" before each entry
                reply = With(r, Fewer(r.Values, excess, per), r.Nodes, r.Nodes6);
            }
            else if (other.Count > 0)
            {
                IReadOnlyList<NodeContact> fewer = Fewer(other, excess, otherLength);
                reply = ownIsV6 ? With(r, [], fewer, r.Nodes6) : With(r, [], r.Nodes, fewer);
            }
            else if (own.Count > 0)
            {
                IReadOnlyList<NodeContact> fewer = Fewer(own, excess, ownLength);
                reply = ownIsV6 ? With(r, [], [], fewer) : With(r, [], fewer, []);
            }
            else
            {
                return false;
            }
        }
    }

    /// <summary>The list without enough trailing entries to cover <paramref name="excess"/> bytes (at least one fewer).</summary>
    private static List<T> Fewer<T>(IReadOnlyList<T> list, int excess, int per)
    {
        int drop = Math.Max(1, (excess + per - 1) / per); // whole entries; a list's own framing may need one more round
        int keep = list.Count - Math.Min(list.Count, drop);
        var fewer = new List<T>(keep);
        for (int i = 0; i < keep; i++) fewer.Add(list[i]);
        return fewer;
    }

    private static KrpcResponse With(KrpcResponse r, IReadOnlyList<IPEndPoint> values, IReadOnlyList<NodeContact> nodes, IReadOnlyList<NodeContact> nodes6) => new()
    {
        TransactionId = r.TransactionId,
        Version = r.Version,
        SenderId = r.SenderId,
        Token = r.Token,
        Values = values,
        Nodes = nodes,
        Nodes6 = nodes6,
    };
}
