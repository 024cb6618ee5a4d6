namespace Shoal.Dht;

/// <summary>How a node uses its <see cref="DhtNodeOptions.DataDirectory"/> (see <see cref="DhtStateFolder"/>).</summary>
public enum DhtStateAccess
{
    /// <summary>
    /// Claim the folder: keep the saved node id, save the table. When another running node holds the folder, run with
    /// a fresh id, use the saved nodes only as the first nodes to ask, save nothing, and say so in the log.
    /// </summary>
    Claim,

    /// <summary>
    /// Claim the folder, or fail with <see cref="DhtStateInUseException"/> when another running node holds it: for a
    /// long-running node whose identity matters (<c>shoal dht</c>).
    /// </summary>
    ClaimOrFail,

    /// <summary>
    /// Never claim: a fresh id, the saved nodes as the first nodes to ask, nothing saved. For one-shot commands
    /// (<c>shoal dht get-peers</c>), which then never stand in the way of a node that starts meanwhile.
    /// </summary>
    SeedsOnly,
}
