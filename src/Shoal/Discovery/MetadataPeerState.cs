namespace Shoal.Discovery;

/// <summary>One peer's side of the BEP 9 exchange: the piece we asked it for, and whether it refused us lately.</summary>
internal sealed class MetadataPeerState
{
    /// <summary>The metadata piece we asked this peer for and are waiting on.</summary>
    public int? RequestedPiece { get; set; }

    /// <summary>When <see cref="RequestedPiece"/> was asked, or when the peer last refused metadata (TimeProvider ticks).</summary>
    public long RequestedAt { get; set; }

    /// <summary>The peer rejected a metadata request: do not ask it again for a while.</summary>
    public bool Refused { get; set; }
}
