using System.Net;
using System.Net.Sockets;

namespace Shoal.Swarm;

/// <summary>
/// Whether a torrent takes a newly handshaken peer, and whom it lets go to make room. Pure: the torrent actor passes
/// what it knows of its peers and acts on the decision.
/// </summary>
/// <remarks>
/// Three rules keep slow or useless peers from holding every slot. One address (an IPv6 /64) holds at most
/// <see cref="AdmissionRules.MaxPerAddress"/> of a torrent's connections: several, because many users share one NAT
/// address. Below <see cref="AdmissionRules.MaxConnections"/> a peer is admitted. At the limit, a newcomer replaces the
/// least useful peer, as libtorrent does, but only one that has had its chance (connected and without a byte of payload
/// either way for <see cref="AdmissionRules.ReplaceableAfter"/>), preferring the address that holds the most slots; with
/// no such peer the newcomer is refused, so busy swarms do not churn. Peers already closing are not counted.
/// </remarks>
internal static class ConnectionAdmission
{
    /// <summary>Decides on a newcomer from <paramref name="address"/> given the torrent's current <paramref name="peers"/>.</summary>
    public static AdmissionDecision Decide(IPAddress address, ReadOnlySpan<AdmissionPeer> peers, AdmissionRules rules)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(rules);
        AddressKey key = AddressKey.From(address);
        int open = 0, fromAddress = 0;
        foreach (AdmissionPeer peer in peers)
        {
            if (peer.Closing) continue;
            open++;
            if (peer.Address == key) fromAddress++;
        }
        if (fromAddress >= rules.MaxPerAddress)
            return AdmissionDecision.Refuse($"too many connections from {Describe(address)} ({fromAddress})");
        if (open < rules.MaxConnections) return AdmissionDecision.Admit;

        int victim = -1;
        int victimShare = 0;
        for (int i = 0; i < peers.Length; i++)
        {
            AdmissionPeer peer = peers[i];
            if (peer.Closing || peer.Connected < rules.ReplaceableAfter || peer.SinceUseful < rules.ReplaceableAfter) continue;
            int share = CountFrom(peers, peer.Address);
            if (victim < 0 || IsLessUseful(peer, share, peers[victim], victimShare))
            {
                victim = i;
                victimShare = share;
            }
        }
        return victim < 0
            ? AdmissionDecision.Refuse($"too many connections ({open}) and none idle long enough to replace")
            : AdmissionDecision.ReplacePeer(peers[victim].Key);
    }

    /// <summary>The limit on connections this torrent dials itself: a few slots stay free for peers that come to us.</summary>
    public static int OutgoingLimit(AdmissionRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return Math.Max(1, rules.MaxConnections - rules.ReservedForIncoming);
    }

    /// <summary>An address the way it appears in a log line.</summary>
    public static string Describe(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString()
        : address.AddressFamily == AddressFamily.InterNetworkV6 ? address + " (its /64)"
        : address.ToString();

    /// <summary>The address holding more slots goes first, then the one idle longer, then the one that gave less.</summary>
    private static bool IsLessUseful(in AdmissionPeer candidate, int candidateShare, in AdmissionPeer current, int currentShare)
    {
        if (candidateShare != currentShare) return candidateShare > currentShare;
        if (candidate.SinceUseful != current.SinceUseful) return candidate.SinceUseful > current.SinceUseful;
        return candidate.UsefulBytes < current.UsefulBytes;
    }

    private static int CountFrom(ReadOnlySpan<AdmissionPeer> peers, AddressKey address)
    {
        int count = 0;
        foreach (AdmissionPeer peer in peers)
            if (!peer.Closing && peer.Address == address) count++;
        return count;
    }
}
