using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>The connection-level clocks of a peer: a keep-alive when we have been silent, a close when it has.</summary>
internal static class PeerTimeouts
{
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InactivityTimeout = TimeSpan.FromSeconds(150);

    /// <summary>Checks <paramref name="peer"/> at <paramref name="now"/>; false when it was closed for silence.</summary>
    public static bool Check(PeerConnection peer, TimeProvider time, long now)
    {
        if (time.GetElapsedTime(peer.LastReceivedTimestamp, now) > InactivityTimeout)
        {
            peer.Close("inactive for too long");
            return false;
        }
        if (time.GetElapsedTime(peer.LastSentTimestamp, now) > KeepAliveInterval)
            peer.Send(new OutboundMessage(MessageId.KeepAlive));
        return true;
    }
}
