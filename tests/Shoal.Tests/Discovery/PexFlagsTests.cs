using System.Collections.Frozen;
using System.Net;
using Shoal.Discovery;

namespace Shoal.Tests.Discovery;

/// <summary>What PEX says of each connected peer: seed, reachable, and what the torrent adds (uTP, ut_holepunch).</summary>
public sealed class PexFlagsTests
{
    private sealed class Peer(int key, IPEndPoint endPoint, bool incoming) : IExtensionPeer
    {
        public List<byte[]> Sent { get; } = [];
        public int Key => key;
        public ExtensionHandshake? Extensions { get; } = new() { Extensions = new Dictionary<string, byte> { [ExtensionIds.PexName] = 7 }.ToFrozenDictionary() };
        public IPEndPoint EndPoint => endPoint;
        public bool Incoming => incoming;
        public IPEndPoint? ListenEndPoint => endPoint;
        public MetadataPeerState Metadata { get; } = new();
        public PexTracker? Pex { get; set; }
        public long QueuedBytes => 0;
        public void SendExtended(byte id, byte[] payload) => Sent.Add(payload);
    }

    [Fact]
    public void UtpAndHolepunchFlagsFromTheTorrentGoOutBesideSeedAndReachable()
    {
        var listener = new Peer(0, new IPEndPoint(IPAddress.Parse("10.0.0.1"), 6881), incoming: true);
        var utpSeed = new Peer(1, new IPEndPoint(IPAddress.Parse("10.0.0.2"), 6881), incoming: false);
        var tcpPeer = new Peer(2, new IPEndPoint(IPAddress.Parse("10.0.0.3"), 6881), incoming: true);
        Peer[] peers = [listener, utpSeed, tcpPeer];
        var exchange = new PexExchange(TimeProvider.System, TimeProvider.System.GetTimestamp());

        exchange.SendUpdates(peers, p => p == utpSeed, p => p == utpSeed ? PexFlags.SupportsUtp | PexFlags.Holepunch : PexFlags.None);

        PexMessage message = PexMessage.Parse(Assert.Single(listener.Sent));
        Dictionary<IPEndPoint, PexFlags> flags = message.Added.ToDictionary(p => p.EndPoint, p => p.Flags);
        Assert.Equal(PexFlags.Seed | PexFlags.Reachable | PexFlags.SupportsUtp | PexFlags.Holepunch, flags[utpSeed.EndPoint]);
        Assert.Equal(PexFlags.None, flags[tcpPeer.EndPoint]);
    }
}
