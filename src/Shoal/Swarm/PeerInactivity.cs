namespace Shoal.Swarm;

/// <summary>
/// When a connected peer has been idle, slow or stuck for too long to keep: pure rules over what the connection
/// measured (<see cref="PeerActivity"/>), applied by the torrent actor on every tick.
/// </summary>
/// <remarks>
/// A peer is judged by whole messages and by payload, not by bytes: a slowloris that sends one byte every few seconds
/// is never silent, but it never finishes a message in time either, and it never moves payload.
/// <list type="bullet">
/// <item>A message must arrive in full within <see cref="MessageDeadline"/> of its first byte: a minute, plus a second
/// per KiB it announced (a 16 KiB block at 250 bytes a second still makes it).</item>
/// <item>No complete message (a keep-alive counts: clients send one every two minutes) for <see cref="SilenceTimeout"/>.</item>
/// <item>Our socket has not drained the send pipe for <see cref="SendStallTimeout"/> while we have data for the peer:
/// it stopped reading, and it holds its send buffers until it is dropped.</item>
/// <item>No payload either way for <see cref="UselessTimeout"/>, unless one side is waiting for the other to unchoke it
/// (that is the choker's business, and a newcomer may still replace such a peer when the torrent is full).</item>
/// </list>
/// </remarks>
internal static class PeerInactivity
{
    /// <summary>No complete message for this long: gone.</summary>
    public static readonly TimeSpan SilenceTimeout = TimeSpan.FromSeconds(150);

    /// <summary>Every message gets at least this long to arrive once its first byte is in.</summary>
    public static readonly TimeSpan MessageDeadlineBase = TimeSpan.FromSeconds(60);

    /// <summary>The slowest rate a long message may arrive at, on top of <see cref="MessageDeadlineBase"/>.</summary>
    public const int MinMessageBytesPerSecond = 1024;

    /// <summary>
    /// A flush waited this long for the socket while data waited: the peer does not read. A flush waits once the send
    /// pipe holds 1 MiB, until the peer has taken half of it, so a peer reading less than about 4 KiB/s while we hold
    /// a full pipe for it counts as not reading (two minutes, libtorrent's peer_timeout).
    /// </summary>
    public static readonly TimeSpan SendStallTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// A peer we unchoke that asks for nothing within this long ignores unchokes: the choker passes it over (its
    /// interest is not believed) until it sends a request, and it no longer counts as waiting for an unchoke. Otherwise
    /// a few peers that say INTERESTED and never request would hold a seed's upload slots for good (a seed favours the
    /// peers with the fewest pieces, and theirs stays at none).
    /// </summary>
    public static readonly TimeSpan UnchokeGrace = TimeSpan.FromSeconds(10);

    /// <summary>No payload either way, and nobody waiting for an unchoke, for this long: the connection is useless.</summary>
    public static readonly TimeSpan UselessTimeout = TimeSpan.FromMinutes(10);

    /// <summary>How long a message of <paramref name="length"/> bytes (its length prefix; 0 when not read yet) may take to arrive.</summary>
    public static TimeSpan MessageDeadline(long length) =>
        MessageDeadlineBase + TimeSpan.FromSeconds((double)Math.Max(0, length) / MinMessageBytesPerSecond);

    /// <summary>Why the peer should be dropped now, or null to keep it.</summary>
    public static string? Verdict(in PeerActivity activity)
    {
        if (activity.PartialMessageAge is TimeSpan age && age > MessageDeadline(activity.PartialMessageLength))
            return $"sent a message too slowly ({activity.PartialMessageLength} bytes announced, still arriving after {age.TotalSeconds:0} s)";
        if (activity.SinceMessage > SilenceTimeout)
            return $"inactive for too long (no message in {activity.SinceMessage.TotalSeconds:0} s)";
        if (activity.SendStalledFor is TimeSpan stalled && stalled > SendStallTimeout)
            return $"stopped reading (our data for it waited {stalled.TotalSeconds:0} s for the socket)";
        if (activity.SinceUseful > UselessTimeout && !activity.WaitingForUnchoke)
            return $"no useful exchange for {activity.SinceUseful.TotalMinutes:0} minutes";
        return null;
    }
}
