using System.Net;
using Shoal.Discovery;

namespace Shoal.Tests.Discovery;

public sealed class HolepunchTests
{
    [Fact]
    public void AnIpv4RendezvousHasTheLayoutOfBep55()
    {
        var message = new HolepunchMessage(HolepunchMessageType.Rendezvous, IPEndPoint.Parse("1.2.3.4:6881"));
        byte[] payload = message.Encode();
        // msg_type, addr_type, address, port, err_code: big-endian, 12 bytes.
        Assert.Equal([0, 0, 1, 2, 3, 4, 0x1A, 0xE1, 0, 0, 0, 0], payload);
        Assert.Equal(message, HolepunchMessage.Parse(payload));
    }

    [Fact]
    public void AnIpv6ErrorRoundTrips()
    {
        var message = new HolepunchMessage(HolepunchMessageType.Error, IPEndPoint.Parse("[2001:db8::7]:51413"), HolepunchError.NotConnected);
        byte[] payload = message.Encode();
        Assert.Equal(HolepunchMessage.Ipv6Length, payload.Length);
        Assert.Equal(2, payload[0]);
        Assert.Equal(1, payload[1]);
        Assert.Equal([0, 0, 0, 2], payload[^4..]);
        Assert.Equal(message, HolepunchMessage.Parse(payload));
    }

    [Fact]
    public void AnIpv4MappedAddressIsSentAsIpv4()
    {
        var message = new HolepunchMessage(HolepunchMessageType.Connect, new IPEndPoint(IPAddress.Parse("10.0.0.9").MapToIPv6(), 80));
        HolepunchMessage parsed = HolepunchMessage.Parse(message.Encode());
        Assert.Equal(IPEndPoint.Parse("10.0.0.9:80"), parsed.EndPoint);
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "empty", [] },
        { "one byte", [0] },
        { "unknown message type", [3, 0, 1, 2, 3, 4, 0, 80, 0, 0, 0, 0] },
        { "unknown address type", [0, 2, 1, 2, 3, 4, 0, 80, 0, 0, 0, 0] },
        { "IPv4 one byte short", [0, 0, 1, 2, 3, 4, 0, 80, 0, 0, 0] },
        { "IPv4 with a trailing byte", [0, 0, 1, 2, 3, 4, 0, 80, 0, 0, 0, 0, 9] },
        { "IPv6 type with an IPv4 address", [0, 1, 1, 2, 3, 4, 0, 80, 0, 0, 0, 0] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedMessagesAreRefused(string what, byte[] payload)
    {
        Assert.Throws<ExtensionMessageException>(() => HolepunchMessage.Parse(payload));
        _ = what;
    }

    private static readonly IPEndPoint Initiator = IPEndPoint.Parse("10.0.0.1:6881");
    private static readonly IPEndPoint Target = IPEndPoint.Parse("10.0.0.2:6881");
    private static readonly IPEndPoint Us = IPEndPoint.Parse("10.0.0.3:6881");

    private static HolepunchRelayDecision Decide(HolepunchMessage message, bool initiatorSupports = true,
        HolepunchTarget target = HolepunchTarget.ConnectedWithSupport) =>
        HolepunchRelay.Decide(message, Initiator, initiatorSupports, e => e.Equals(Us), _ => target);

    [Fact]
    public void ARendezvousForAConnectedSupportingTargetIsForwarded()
    {
        HolepunchRelayDecision decision = Decide(new HolepunchMessage(HolepunchMessageType.Rendezvous, Target));
        Assert.True(decision.Forward);
    }

    [Theory]
    [InlineData(HolepunchTarget.NotConnected, HolepunchError.NotConnected)]
    [InlineData(HolepunchTarget.ConnectedWithoutSupport, HolepunchError.NoSupport)]
    public void ATargetThatCannotBeReachedGetsTheMatchingError(HolepunchTarget target, HolepunchError error)
    {
        HolepunchRelayDecision decision = Decide(new HolepunchMessage(HolepunchMessageType.Rendezvous, Target), target: target);
        Assert.False(decision.Ignore);
        Assert.Equal(error, decision.Error);
    }

    [Fact]
    public void ARendezvousForUsOrForNothingIsAnError()
    {
        Assert.Equal(HolepunchError.NoSelf, Decide(new HolepunchMessage(HolepunchMessageType.Rendezvous, Us)).Error);
        Assert.Equal(HolepunchError.NoSuchPeer, Decide(new HolepunchMessage(HolepunchMessageType.Rendezvous, Initiator)).Error);
        Assert.Equal(HolepunchError.NoSuchPeer, Decide(new HolepunchMessage(HolepunchMessageType.Rendezvous, IPEndPoint.Parse("10.0.0.2:0"))).Error);
        Assert.Equal(HolepunchError.NoSuchPeer, Decide(new HolepunchMessage(HolepunchMessageType.Rendezvous, IPEndPoint.Parse("0.0.0.0:6881"))).Error);
    }

    [Fact]
    public void APeerWithoutTheExtensionAndMessagesOtherThanRendezvousAreIgnored()
    {
        Assert.True(Decide(new HolepunchMessage(HolepunchMessageType.Rendezvous, Target), initiatorSupports: false).Ignore);
        Assert.True(Decide(new HolepunchMessage(HolepunchMessageType.Connect, Target)).Ignore);
        Assert.True(Decide(new HolepunchMessage(HolepunchMessageType.Error, Target, HolepunchError.NoSelf)).Ignore);
    }
}
