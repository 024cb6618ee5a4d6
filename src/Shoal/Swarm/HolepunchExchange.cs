using System.Net;
using Shoal.Discovery;

namespace Shoal.Swarm;

/// <summary>
/// One torrent's side of BEP 55 hole punching, over the rules in <see cref="HolepunchRelay"/>:
/// <list type="bullet">
/// <item>as a relay, a rendezvous from a connected peer for another connected peer that supports the extension sends
/// each of them a connect message naming the other (anything else gets the BEP's error back);</item>
/// <item>as the initiator, a dial that failed to an address a connected peer introduced through PEX with the
/// holepunch flag sends that peer a rendezvous (once per address per <see cref="RetryInterval"/>);</item>
/// <item>a connect message from a peer we are connected to dials the endpoint it names over uTP only, at once (the
/// other side dials us at the same moment: the two SYNs open both NATs).</item>
/// </list>
/// Only when uTP runs (the BEP punches over uTP) and never for a private torrent (its peers come from its tracker
/// alone). Single-threaded (the torrent actor drives it).
/// </summary>
internal sealed class HolepunchExchange(TorrentContext torrent, PeerAdmission admission)
{
    /// <summary>Introductions remembered (address → the peer that named it in PEX); at the bound new ones are not recorded.</summary>
    public const int MaxIntroductions = 2000;

    /// <summary>How long before a failing address gets a second rendezvous.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromMinutes(5);

    private Dictionary<IPEndPoint, Introduction>? _introductions; // made on the first introduction
    private Dictionary<IPEndPoint, Introduction> Introductions => _introductions ??= [];

    /// <summary>Whether the torrent takes part at all (advertises the extension, relays, punches).</summary>
    public bool Enabled => torrent.Session.UtpRuns && !torrent.IsPrivate;

    /// <summary>Rendezvous messages sent (as initiator), for tests and the log.</summary>
    public int RendezvousSent { get; private set; }

    /// <summary>Pairs introduced to each other (as relay).</summary>
    public int Relayed { get; private set; }

    /// <summary>Addresses a peer told us through PEX: those flagged as holepunch-capable can be reached through it.</summary>
    public void OnPexAdded(PeerConnection from, IReadOnlyList<PexPeer> added)
    {
        if (!Enabled) return;
        foreach (PexPeer peer in added)
        {
            if (!peer.Flags.HasFlag(PexFlags.Holepunch)) continue;
            IPEndPoint endPoint = PexTracker.Normalize(peer.EndPoint);
            if (Introductions.TryGetValue(endPoint, out Introduction known))
                Introductions[endPoint] = known with { IntroducerKey = from.Key };
            else if (Introductions.Count < MaxIntroductions)
                Introductions[endPoint] = new Introduction(from.Key, long.MinValue);
        }
    }

    /// <summary>A dial failed: ask the peer that introduced the address to put us in touch (BEP 55 rendezvous).</summary>
    public void OnDialFailed(IPEndPoint endPoint)
    {
        if (!Enabled) return;
        endPoint = PexTracker.Normalize(endPoint);
        if (!Introductions.TryGetValue(endPoint, out Introduction introduction)) return;
        long now = torrent.Now();
        if (introduction.LastRendezvous != long.MinValue && torrent.Time.GetElapsedTime(introduction.LastRendezvous, now) < RetryInterval) return;
        if (!torrent.Peers.TryGet(introduction.IntroducerKey, out PeerConnection relay) || !Supports(relay)) return;
        if (IsConnected(endPoint)) return;
        Introductions[endPoint] = introduction with { LastRendezvous = now };
        Send(relay, new HolepunchMessage(HolepunchMessageType.Rendezvous, endPoint));
        RendezvousSent++;
        torrent.Log($"holepunch: asked {relay.EndPoint} to introduce us to {endPoint}");
    }

    /// <summary>A ut_holepunch message from <paramref name="peer"/>.</summary>
    /// <exception cref="ShoalFormatException">The payload is malformed (the caller closes the peer).</exception>
    public void OnMessage(PeerConnection peer, byte[] payload)
    {
        if (!Enabled) return; // we never advertised it: ignored, as BEP 10 asks for ids we did not hand out
        HolepunchMessage message = HolepunchMessage.Parse(payload);
        switch (message.Type)
        {
            case HolepunchMessageType.Rendezvous:
                Relay(peer, message);
                break;
            case HolepunchMessageType.Connect:
                // Only from a peer that announced the extension (BEP 55: others are ignored silently).
                if (!Supports(peer)) return;
                IPEndPoint target = PexTracker.Normalize(message.EndPoint);
                if (target.Port == 0 || IsConnected(target)) return;
                torrent.Log($"holepunch: {peer.EndPoint} introduces {target}; dialling it over uTP");
                admission.DialOverUtp(target);
                break;
            case HolepunchMessageType.Error:
                if (Supports(peer)) torrent.Log($"holepunch: {peer.EndPoint} cannot introduce {message.EndPoint}: {message.Error}");
                break;
        }
    }

    private void Relay(PeerConnection initiator, HolepunchMessage message)
    {
        PeerConnection? target = null;
        HolepunchRelayDecision decision = HolepunchRelay.Decide(message, PexTracker.Normalize(initiator.EndPoint), Supports(initiator), IsSelf, endPoint =>
        {
            target = FindConnected(PexTracker.Normalize(endPoint));
            return target is null ? HolepunchTarget.NotConnected
                : Supports(target) ? HolepunchTarget.ConnectedWithSupport : HolepunchTarget.ConnectedWithoutSupport;
        });
        if (decision.Ignore) return;
        if (!decision.Forward)
        {
            Send(initiator, new HolepunchMessage(HolepunchMessageType.Error, message.EndPoint, decision.Error));
            return;
        }
        // Each learns where the other accepts connections: over uTP that is the UDP port the peer's connection to us
        // comes from when it came over uTP (one port for everything), else its advertised listen port.
        Send(initiator, new HolepunchMessage(HolepunchMessageType.Connect, Reachable(target!)));
        Send(target!, new HolepunchMessage(HolepunchMessageType.Connect, Reachable(initiator)));
        Relayed++;
        torrent.Log($"holepunch: introduced {initiator.EndPoint} and {target!.EndPoint}");
    }

    private static IPEndPoint Reachable(PeerConnection peer) =>
        PexTracker.Normalize(peer.Protocol == Transport.TransportProtocol.Utp ? peer.EndPoint : peer.ListenEndPoint ?? peer.EndPoint);

    private static bool Supports(PeerConnection peer) => peer.Extensions?.Supports(HolepunchMessage.ExtensionName) == true;

    private static void Send(PeerConnection peer, HolepunchMessage message) =>
        peer.SendExtended(peer.Extensions!.GetId(HolepunchMessage.ExtensionName), message.Encode());

    private PeerConnection? FindConnected(IPEndPoint endPoint)
    {
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            if (PexTracker.Normalize(peer.EndPoint).Equals(endPoint)) return peer;
            if (peer.ListenEndPoint is { } listen && PexTracker.Normalize(listen).Equals(endPoint)) return peer;
        }
        return null;
    }

    private bool IsConnected(IPEndPoint endPoint) => FindConnected(endPoint) is not null;

    /// <summary>Our own listen endpoint, by any address we are known at.</summary>
    private bool IsSelf(IPEndPoint endPoint)
    {
        SessionContext session = torrent.Session;
        if (endPoint.Port != session.ListenPort && endPoint.Port != session.AnnouncePort) return false;
        IPAddress address = PexTracker.Normalize(endPoint).Address;
        return IPAddress.IsLoopback(address) || address.Equals(session.ExternalAddress) || address.Equals(session.Options.BindAddress);
    }

    private readonly record struct Introduction(int IntroducerKey, long LastRendezvous);
}
