using System.Net;
using Shoal.Picking;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// The torrent actor's reactions to its peers: each message a peer sent, routed to the part that owns it, and a
/// peer's arrival, block and departure, which involve several parts at once. Runs on the actor's loop only.
/// </summary>
internal sealed partial class TorrentActor
{
    private void OnMessage(PeerConnection peer, in TorrentEvent item)
    {
        switch (item.MessageId)
        {
            case MessageId.Piece: OnBlock(peer, new BlockRequest(item.Index, item.Begin, item.Length), item.Buffer!); break;
            case MessageId.Request: _uploads.OnRequest(peer, item.Index, item.Begin, item.Length); break;
            case MessageId.Have: _availability.OnHave(peer, item.Index); break;
            case MessageId.Bitfield:
            case MessageId.HaveAll:
            case MessageId.HaveNone: _availability.OnAnnouncement(peer, item.MessageId, item.Payload as byte[]); break;
            case MessageId.Choke: _requester.OnChoke(peer); break;
            case MessageId.Unchoke: _requester.OnUnchoke(peer); break;
            case MessageId.Interested: _unchoker.OnInterested(peer); break;
            case MessageId.NotInterested: _unchoker.OnNotInterested(peer); break;
            case MessageId.Reject:
                if (RequireFast(peer, "reject")) _requester.OnReject(peer, new BlockRequest(item.Index, item.Begin, item.Length));
                break;
            case MessageId.AllowedFast:
                if (RequireFast(peer, "allowed fast")) _requester.OnAllowedFast(peer, item.Index);
                break;
            case MessageId.Suggest: RequireFast(peer, "suggest"); break;
            case MessageId.Cancel:
                // Serving a cancelled block anyway is allowed (BEP 3, and BEP 6 accepts the piece as the answer);
                // the send loop does not search its queue, which keeps it lock-free.
                break;
            case MessageId.Extended:
                if (_extensions.OnMessage(peer, (byte)item.Index, (byte[])item.Payload!) is { } torrent) OnMetadataComplete(torrent);
                break;
            case MessageId.HashRequest: _hashes.OnRequest(peer, (HashMessage)item.Payload!); break;
            case MessageId.Hashes:
                if (_hashes.OnHashes(peer, (HashMessage)item.Payload!) && _awaitingLayers)
                {
                    _resume.SaveNow(); // the layers are kept before a check that may take long
                    StartCheck();
                }
                break;
            case MessageId.HashReject: _hashes.OnReject(peer, (HashMessage)item.Payload!); break;
            case MessageId.Port:
                // BEP 5: a peer's DHT node is a node worth knowing; the DHT pings it before trusting it.
                if (item.Index > 0 && !_t.IsPrivate) _t.Session.Dht?.AddNode(new IPEndPoint(peer.EndPoint.Address, item.Index));
                break;
        }
    }

    private static bool RequireFast(PeerConnection peer, string what)
    {
        if (peer.SupportsFast) return true;
        peer.Close($"sent {what} without the fast extension");
        return false;
    }

    /// <summary>A peer was admitted: it learns what we have, our extensions and our DHT port.</summary>
    private void Greet(PeerConnection peer)
    {
        _availability.Greet(peer);
        _extensions.Greet(peer);
        if (peer.SupportsDht && _t.Session.Dht?.LocalEndPoint is { } dht) peer.Send(new OutboundMessage(MessageId.Port, dht.Port));
    }

    private void OnPeerClosed(PeerConnection peer, Exception? error)
    {
        if (!_admission.OnClosed(peer, error)) return;
        _requester.OnPeerGone(peer);
        _metadataExchange.OnPeerGone(peer.Key);
        _hashes.OnPeerGone(peer);
        _unchoker.OnPeerGone(peer);
        _admission.DialMore();
        if (_t.UserPaused) _snapshots.Publish(); // no tick refreshes a paused torrent's peer list
    }

    private void OnBlock(PeerConnection peer, BlockRequest block, byte[] buffer)
    {
        if (_requester.OnBlock(peer, block))
        {
            _smartBan.RecordSender(block, peer);
            _t.Storage!.EnqueueWrite(block.Piece, block.Offset, buffer, block.Length);
        }
        else
        {
            _t.Session.Blocks.Return(buffer);
        }
        _requester.RequestMore(peer);
    }
}
