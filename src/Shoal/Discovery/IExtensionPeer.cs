using System.Net;

namespace Shoal.Discovery;

/// <summary>
/// What the extension protocols (BEP 9 metadata, BEP 11 PEX) need from one connected peer. The torrent's peer
/// connection implements it; the exchanges keep their per-peer state in the objects it holds.
/// </summary>
internal interface IExtensionPeer
{
    /// <summary>The torrent's key for this peer.</summary>
    int Key { get; }

    /// <summary>The peer's extension handshake (BEP 10), merged with any later one; null before the first.</summary>
    ExtensionHandshake? Extensions { get; }

    /// <summary>The peer's address (for the log).</summary>
    IPEndPoint EndPoint { get; }

    /// <summary>True when the peer dialled us.</summary>
    bool Incoming { get; }

    /// <summary>Where the peer accepts connections; null when not known.</summary>
    IPEndPoint? ListenEndPoint { get; }

    /// <summary>Bytes queued for the peer and not sent yet.</summary>
    long QueuedBytes { get; }

    /// <summary>What we asked this peer for over BEP 9.</summary>
    MetadataPeerState Metadata { get; }

    /// <summary>What we told this peer through PEX; created when first needed.</summary>
    PexTracker? Pex { get; set; }

    /// <summary>Queues an extended message (BEP 10) with the peer's id for the extension.</summary>
    void SendExtended(byte id, byte[] payload);
}
