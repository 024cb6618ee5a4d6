using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// The connection-level clocks of a peer: a keep-alive when we have been silent, a close when the peer is too slow to
/// be worth its slot (<see cref="PeerInactivity"/>: silence, a message trickled in, a socket that takes nothing, no
/// useful exchange for long).
/// </summary>
internal static class PeerTimeouts
{
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(60);

    /// <summary>Checks <paramref name="peer"/> at <paramref name="now"/>; false when it was closed as inactive.</summary>
    public static bool Check(PeerConnection peer, TimeProvider time, long now)
    {
        if (PeerInactivity.Verdict(peer.Activity(now)) is { } idle)
        {
            peer.Close(idle);
            return false;
        }
        if (time.GetElapsedTime(peer.LastSentTimestamp, now) > KeepAliveInterval)
            peer.Send(new OutboundMessage(MessageId.KeepAlive));
        return true;
    }
}
