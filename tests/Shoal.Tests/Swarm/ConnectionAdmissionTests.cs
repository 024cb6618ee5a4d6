using System.Net;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

public sealed class ConnectionAdmissionTests
{
    private static readonly AdmissionRules Rules = new() { MaxConnections = 10, MaxPerAddress = 3, ReservedForIncoming = 2, ReplaceableAfter = TimeSpan.FromSeconds(60) };
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);

    private static AdmissionPeer Peer(int key, string address, TimeSpan? connected = null, TimeSpan? sinceUseful = null, long useful = 0, bool closing = false) =>
        new(key, AddressKey.From(IPAddress.Parse(address)), connected ?? Long, sinceUseful ?? Long, useful, closing);

    [Fact]
    public void AdmitsBelowTheLimit()
    {
        AdmissionPeer[] peers = [Peer(1, "10.0.0.1"), Peer(2, "10.0.0.2")];
        Assert.Equal(AdmissionDecision.Admit, ConnectionAdmission.Decide(IPAddress.Parse("10.0.0.3"), peers, Rules));
    }

    [Fact]
    public void OneAddressHoldsSeveralSlotsButNoMore()
    {
        AdmissionPeer[] two = [Peer(1, "10.0.0.1"), Peer(2, "10.0.0.1")];
        Assert.Equal(AdmissionDecision.Admit, ConnectionAdmission.Decide(IPAddress.Parse("10.0.0.1"), two, Rules));
        AdmissionPeer[] three = [.. two, Peer(3, "10.0.0.1")];
        AdmissionDecision refused = ConnectionAdmission.Decide(IPAddress.Parse("10.0.0.1"), three, Rules);
        Assert.StartsWith("too many connections from 10.0.0.1", refused.Refusal);
        Assert.Null(refused.Replace);
        // IPv4-mapped IPv6 is the same address.
        Assert.NotNull(ConnectionAdmission.Decide(IPAddress.Parse("::ffff:10.0.0.1"), three, Rules).Refusal);
        // A closing connection no longer counts.
        AdmissionPeer[] oneClosing = [.. two, Peer(3, "10.0.0.1", closing: true)];
        Assert.Equal(AdmissionDecision.Admit, ConnectionAdmission.Decide(IPAddress.Parse("10.0.0.1"), oneClosing, Rules));
    }

    [Fact]
    public void IPv6CountsByItsSlash64()
    {
        AdmissionPeer[] peers = [Peer(1, "2001:db8:1:2::1"), Peer(2, "2001:db8:1:2::99"), Peer(3, "2001:db8:1:2:ffff::7")];
        Assert.NotNull(ConnectionAdmission.Decide(IPAddress.Parse("2001:db8:1:2::5"), peers, Rules).Refusal);
        Assert.Equal(AdmissionDecision.Admit, ConnectionAdmission.Decide(IPAddress.Parse("2001:db8:1:3::5"), peers, Rules));
        Assert.NotEqual(AddressKey.From(IPAddress.Parse("0.0.0.1")), AddressKey.From(IPAddress.Parse("::1")));
    }

    [Fact]
    public void AFullTorrentReplacesItsLeastUsefulPeerPreferringTheAddressWithMostSlots()
    {
        var peers = new List<AdmissionPeer>();
        for (int i = 0; i < 7; i++) peers.Add(Peer(i, $"10.0.0.{i}", useful: 1_000_000, sinceUseful: Short)); // busy
        peers.Add(Peer(7, "10.0.1.1", sinceUseful: TimeSpan.FromMinutes(9))); // idle longest, alone on its address
        peers.Add(Peer(8, "10.0.2.2", sinceUseful: TimeSpan.FromMinutes(2)));
        peers.Add(Peer(9, "10.0.2.2", sinceUseful: TimeSpan.FromMinutes(3), useful: 5)); // its address holds two slots
        AdmissionDecision decision = ConnectionAdmission.Decide(IPAddress.Parse("192.0.2.1"), peers.ToArray(), Rules);
        Assert.Null(decision.Refusal);
        Assert.Equal(9, decision.Replace);

        // Without the crowded address, the one idle longest goes.
        peers[8] = Peer(8, "10.0.3.3", sinceUseful: TimeSpan.FromMinutes(2));
        Assert.Equal(7, ConnectionAdmission.Decide(IPAddress.Parse("192.0.2.1"), peers.ToArray(), Rules).Replace);
    }

    [Fact]
    public void AFullTorrentOfPeersThatAreBusyOrNewRefusesTheNewcomer()
    {
        var peers = new List<AdmissionPeer>();
        for (int i = 0; i < 5; i++) peers.Add(Peer(i, $"10.0.0.{i}", sinceUseful: Short, useful: 10)); // moving payload
        for (int i = 5; i < 10; i++) peers.Add(Peer(i, $"10.0.0.{i}", connected: Short, sinceUseful: Short)); // still on probation
        AdmissionDecision decision = ConnectionAdmission.Decide(IPAddress.Parse("192.0.2.1"), peers.ToArray(), Rules);
        Assert.StartsWith("too many connections (10)", decision.Refusal);
        Assert.Null(decision.Replace);
    }

    [Fact]
    public void ClosingPeersAreNeitherCountedNorReplacedTwice()
    {
        var peers = new List<AdmissionPeer>();
        for (int i = 0; i < 9; i++) peers.Add(Peer(i, $"10.0.0.{i}", sinceUseful: Short, useful: 10));
        peers.Add(Peer(9, "10.0.0.9", closing: true)); // idle, but already on its way out: its slot is free
        Assert.Equal(AdmissionDecision.Admit, ConnectionAdmission.Decide(IPAddress.Parse("192.0.2.1"), peers.ToArray(), Rules));
    }

    [Fact]
    public void OwnDiallingLeavesSlotsForPeersThatComeToUs()
    {
        Assert.Equal(8, ConnectionAdmission.OutgoingLimit(Rules));
        Assert.Equal(54, ConnectionAdmission.OutgoingLimit(AdmissionRules.From(new SessionOptions())));
        Assert.Equal(1, ConnectionAdmission.OutgoingLimit(Rules with { MaxConnections = 1, ReservedForIncoming = 0 }));
    }
}
