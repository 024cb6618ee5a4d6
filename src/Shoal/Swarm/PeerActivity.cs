namespace Shoal.Swarm;

/// <summary>What a connection measured, for <see cref="PeerInactivity.Verdict"/>.</summary>
/// <param name="SinceMessage">Since the last complete message (keep-alives included).</param>
/// <param name="PartialMessageAge">How long the message now arriving has been arriving; null when none has begun.</param>
/// <param name="PartialMessageLength">That message's length prefix, when its four bytes are in (0 before).</param>
/// <param name="SendStalledFor">How long our socket has not taken the data we have for the peer; null when not stalled.</param>
/// <param name="SinceUseful">Since payload last moved between us, either way (or since it connected).</param>
/// <param name="WaitingForUnchoke">One side is interested in the other, which chokes it.</param>
internal readonly record struct PeerActivity(
    TimeSpan SinceMessage,
    TimeSpan? PartialMessageAge,
    long PartialMessageLength,
    TimeSpan? SendStalledFor,
    TimeSpan SinceUseful,
    bool WaitingForUnchoke);
