using System.Net;
using System.Net.Sockets;
using Shoal.Swarm;
using Shoal.Transport;

namespace Shoal.Tests.Swarm;

/// <summary>Dialling goes through the session's connectors, the one that last worked for a peer first.</summary>
public sealed class ConnectorTests
{
    private static readonly IPEndPoint Peer = new(IPAddress.Loopback, 6881);

    private sealed class FakeConnector(string name, bool works, List<string> attempts) : IPeerConnector
    {
        public string Name => name;
        public bool CanReach(IPEndPoint endPoint) => true;

        public ValueTask<PeerTransport> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
        {
            attempts.Add(name);
            if (!works) throw new SocketException((int)SocketError.ConnectionRefused);
            return ValueTask.FromResult<PeerTransport>(InMemoryTransport.CreatePair(Peer, Peer).First);
        }
    }

    private static SessionContext Session(params IPeerConnector[] connectors) =>
        new(new SessionOptions { EnableDht = false, EnableLocalDiscovery = false }) { Connectors = connectors };

    [Fact]
    public async Task The_connectors_are_tried_in_order_and_the_first_that_works_wins()
    {
        var attempts = new List<string>();
        SessionContext session = Session(new FakeConnector("utp", works: false, attempts), new FakeConnector("tcp", works: true, attempts));
        (PeerTransport transport, string used) = await session.ConnectAsync(Peer, preferred: null, CancellationToken.None);
        await transport.DisposeAsync();
        Assert.Equal("tcp", used);
        Assert.Equal(["utp", "tcp"], attempts);
    }

    [Fact]
    public async Task What_worked_for_a_peer_is_tried_first_next_time()
    {
        var attempts = new List<string>();
        SessionContext session = Session(new FakeConnector("utp", works: true, attempts), new FakeConnector("tcp", works: true, attempts));
        var peers = new PeerList(1000, new BanList(TimeProvider.System));
        peers.Add(Peer, PeerSource.Tracker);
        peers.OnConnected(Peer, 0, "tcp");
        peers.OnDisconnected(Peer, 1);

        (PeerTransport transport, string used) = await session.ConnectAsync(Peer, peers.Find(Peer)!.Connector, CancellationToken.None);
        await transport.DisposeAsync();
        Assert.Equal("tcp", used);
        Assert.Equal(["tcp"], attempts);
    }

    [Fact]
    public async Task When_nothing_works_the_last_failure_is_reported()
    {
        var attempts = new List<string>();
        SessionContext session = Session(new FakeConnector("tcp", works: false, attempts));
        await Assert.ThrowsAsync<SocketException>(async () => await session.ConnectAsync(Peer, "utp", CancellationToken.None));
        Assert.Equal(["tcp"], attempts);
    }
}
