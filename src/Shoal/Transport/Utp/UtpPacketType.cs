namespace Shoal.Transport.Utp;

/// <summary>The packet types of BEP 29 (the high nibble of a packet's first byte).</summary>
public enum UtpPacketType : byte
{
    /// <summary>Payload; consumes a sequence number.</summary>
    Data = 0,

    /// <summary>The sender's last packet: it will never send a higher sequence number.</summary>
    Fin = 1,

    /// <summary>An acknowledgement without payload; does not consume a sequence number.</summary>
    State = 2,

    /// <summary>The sender has no state for this connection: drop it.</summary>
    Reset = 3,

    /// <summary>Opens a connection; consumes a sequence number.</summary>
    Syn = 4,
}
