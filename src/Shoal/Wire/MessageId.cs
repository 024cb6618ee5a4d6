namespace Shoal.Wire;

/// <summary>Peer wire message ids (BEP 3, BEP 5 port, BEP 6 fast extension, BEP 10 extended, BEP 52 hashes).</summary>
public enum MessageId : byte
{
    /// <summary>The sender will not serve requests.</summary>
    Choke = 0,
    /// <summary>The sender will serve requests.</summary>
    Unchoke = 1,
    /// <summary>The sender wants pieces from the receiver.</summary>
    Interested = 2,
    /// <summary>The sender no longer wants pieces from the receiver.</summary>
    NotInterested = 3,
    /// <summary>The sender completed and verified a piece.</summary>
    Have = 4,
    /// <summary>The pieces the sender has; only as the first message after the handshake.</summary>
    Bitfield = 5,
    /// <summary>Ask for a block.</summary>
    Request = 6,
    /// <summary>A block of data.</summary>
    Piece = 7,
    /// <summary>Withdraw a request.</summary>
    Cancel = 8,
    /// <summary>The sender's DHT port (BEP 5).</summary>
    Port = 9,
    /// <summary>The sender suggests downloading a piece (BEP 6).</summary>
    Suggest = 0x0D,
    /// <summary>The sender has every piece (BEP 6).</summary>
    HaveAll = 0x0E,
    /// <summary>The sender has no piece (BEP 6).</summary>
    HaveNone = 0x0F,
    /// <summary>The sender will not serve a request (BEP 6).</summary>
    Reject = 0x10,
    /// <summary>The receiver may request this piece even while choked (BEP 6).</summary>
    AllowedFast = 0x11,
    /// <summary>An extension-protocol message (BEP 10).</summary>
    Extended = 20,

    /// <summary>Asks for part of a file's merkle tree (BEP 52).</summary>
    HashRequest = 21,

    /// <summary>The hashes a hash request asked for, with their proof (BEP 52).</summary>
    Hashes = 22,

    /// <summary>The sender will not answer a hash request (BEP 52).</summary>
    HashReject = 23,
    /// <summary>Not an id on the wire: a zero-length keep-alive frame.</summary>
    KeepAlive = 0xFF,
}
