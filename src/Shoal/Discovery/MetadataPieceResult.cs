namespace Shoal.Discovery;

/// <summary>What <see cref="MetadataAssembler.OnData"/> did with a received piece.</summary>
public enum MetadataPieceResult
{
    /// <summary>Stored; more pieces are still missing.</summary>
    Accepted,

    /// <summary>Already had it, or the transfer is already complete: nothing changed.</summary>
    Duplicate,

    /// <summary>Out of range or of the wrong length: dropped (the sender is misbehaving).</summary>
    Invalid,

    /// <summary>This was the last piece and the whole matches the info-hash: <see cref="MetadataAssembler.InfoDictionary"/> is ready.</summary>
    Completed,

    /// <summary>
    /// This was the last piece but the whole does not match the info-hash: every piece is needed again and
    /// <see cref="MetadataAssembler.LastFailureContributors"/> names the peers that sent the bad attempt.
    /// </summary>
    HashMismatch,
}
