using System.Net;
using System.Text;
using Shoal.PortMapping;

namespace Shoal.Tests.PortMapping;

/// <summary>The pure parts of port mapping: NAT-PMP and PCP packets, SSDP answers, device descriptions.</summary>
public sealed class PortMappingCodecTests
{
    [Fact]
    public void NatPmpRequestsHaveTheRfcLayout()
    {
        Assert.Equal("0000", Convert.ToHexString(NatPmpMessages.ExternalAddressRequest()));
        // version 0, opcode 2 (TCP), reserved, internal 6881, suggested 6881, lifetime 7200
        Assert.Equal("000200001AE11AE100001C20", Convert.ToHexString(NatPmpMessages.MapRequest(PortMappingProtocol.Tcp, 6881, 6881, 7200)));
        Assert.Equal("000100001AE1000000000000", Convert.ToHexString(NatPmpMessages.MapRequest(PortMappingProtocol.Udp, 6881, 0, 0)));
    }

    [Fact]
    public void NatPmpResponsesAreReadAndErrorsNamed()
    {
        byte[] address = Convert.FromHexString("0080000000000064CB007132");
        Assert.True(NatPmpMessages.TryReadResponse(address, 0, out NatPmpResponse a));
        Assert.Equal((100u, IPAddress.Parse("203.0.113.50")), (a.Epoch, a.ExternalAddress));

        byte[] map = Convert.FromHexString("0082000000000064" + "1AE14E2100000E10");
        Assert.True(NatPmpMessages.TryReadResponse(map, 2, out NatPmpResponse m));
        Assert.Equal((6881, 20001, 3600u), (m.InternalPort, m.ExternalPort, m.LifetimeSeconds));
        Assert.False(NatPmpMessages.TryReadResponse(map, 1, out _)); // an answer to the UDP request, not this TCP one
        Assert.False(NatPmpMessages.TryReadResponse(map.AsSpan(0, 10), 2, out _));

        byte[] refused = Convert.FromHexString("0082000200000064" + "1AE1000000000000");
        var error = Assert.Throws<PortMappingException>(() => NatPmpMessages.TryReadResponse(refused, 2, out _));
        Assert.Equal("NAT-PMP error 2 (not authorized or refused)", error.Message);
    }

    [Fact]
    public void PcpMapRequestCarriesNonceProtocolPortsAndTheClientAddress()
    {
        byte[] nonce = Convert.FromHexString("0102030405060708090A0B0C");
        byte[] request = PcpMessages.MapRequest(nonce, PortMappingProtocol.Udp, 6881, 6882, 120, IPAddress.Parse("10.231.7.2"));
        Assert.Equal(60, request.Length);
        Assert.Equal("02010000" + "00000078" + "00000000000000000000FFFF0AE70702", Convert.ToHexString(request, 0, 24));
        Assert.Equal("0102030405060708090A0B0C" + "11000000" + "1AE11AE2" + "00000000000000000000FFFF00000000", Convert.ToHexString(request, 24, 36));
    }

    [Fact]
    public void PcpResponsesAreMatchedByNonceAndAVersionRefusalIsRecognised()
    {
        byte[] nonce = Convert.FromHexString("0102030405060708090A0B0C");
        byte[] response = new byte[60];
        Convert.FromHexString("02810000" + "00000E10" + "000003E8").CopyTo(response, 0);
        Convert.FromHexString("0102030405060708090A0B0C" + "06000000" + "1AE14E21" + "00000000000000000000FFFFCB007132").CopyTo(response, 24);
        Assert.True(PcpMessages.TryReadMapResponse(response, nonce, out PcpMapResponse map, out bool unsupported));
        Assert.False(unsupported);
        Assert.Equal((3600u, 6881, 20001, IPAddress.Parse("203.0.113.50")), (map.LifetimeSeconds, map.InternalPort, map.ExternalPort, map.ExternalAddress));

        Assert.False(PcpMessages.TryReadMapResponse(response, new byte[12], out _, out _)); // another mapping's answer
        response[3] = 8;
        Assert.Equal("PCP error 8 (NO_RESOURCES)", Assert.Throws<PortMappingException>(() => PcpMessages.TryReadMapResponse(response, nonce, out _, out _)).Message);

        // What a NAT-PMP-only gateway says to a PCP request: version 0, "unsupported version".
        Assert.True(PcpMessages.TryReadMapResponse(Convert.FromHexString("0081000100000064"), nonce, out _, out bool natPmpOnly));
        Assert.True(natPmpOnly);
    }

    [Fact]
    public void SsdpAnswersYieldTheGatewaysDescriptionUrl()
    {
        string answer = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
                        "USN: uuid:abc::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\nSERVER: Debian/bookworm UPnP/1.1 MiniUPnPd/2.3.1\r\n" +
                        "LOCATION: http://10.231.7.1:43999/rootDesc.xml\r\n\r\n";
        Assert.True(SsdpDiscovery.TryReadLocation(Encoding.ASCII.GetBytes(answer), out Uri? location, out _));
        Assert.Equal("http://10.231.7.1:43999/rootDesc.xml", location!.ToString());

        // Not for us: a NOTIFY, another kind of device.
        Assert.False(SsdpDiscovery.TryReadLocation(Encoding.ASCII.GetBytes("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n"), out _, out string? none));
        Assert.Null(none);
        Assert.False(SsdpDiscovery.TryReadLocation(Encoding.ASCII.GetBytes(answer.Replace("InternetGatewayDevice", "MediaRenderer")), out _, out _));

        // A gateway that names a host, or another scheme, is not followed.
        Assert.False(SsdpDiscovery.TryReadLocation(Encoding.ASCII.GetBytes(answer.Replace("10.231.7.1", "router.example")), out _, out string? host));
        Assert.Contains("does not name an IP address", host);
        Assert.False(SsdpDiscovery.TryReadLocation(Encoding.ASCII.GetBytes(answer.Replace("http://", "file://")), out _, out string? scheme));
        Assert.Contains("is not an http URL", scheme);
    }

    private const string Description = """
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0">
          <URLBASE_PLACEHOLDER/>
          <device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
            <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
              <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
                <serviceList>
                  <service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType><controlURL>/ctl/PPP</controlURL></service>
                  <service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType><controlURL>/ctl/IPConn</controlURL></service>
                </serviceList>
              </device></deviceList>
            </device></deviceList>
          </device>
        </root>
        """;

    [Fact]
    public void TheDescriptionGivesTheIpConnectionServiceBeforeThePppOne()
    {
        var location = new Uri("http://10.231.7.1:43999/rootDesc.xml");
        IgdDescription device = IgdDescription.Parse(Description.Replace("<URLBASE_PLACEHOLDER/>", ""), location);
        Assert.Equal("urn:schemas-upnp-org:service:WANIPConnection:2", device.ServiceType);
        Assert.Equal("http://10.231.7.1:43999/ctl/IPConn", device.ControlUrl.ToString());

        IgdDescription withBase = IgdDescription.Parse(Description.Replace("<URLBASE_PLACEHOLDER/>", "<URLBase>http://10.0.0.1:5000/</URLBase>"), location);
        Assert.Equal("http://10.0.0.1:5000/ctl/IPConn", withBase.ControlUrl.ToString());

        IgdDescription pppOnly = IgdDescription.Parse(Description.Replace("<URLBASE_PLACEHOLDER/>", "").Replace("WANIPConnection:2", "Layer3Forwarding:1"), location);
        Assert.Equal("http://10.231.7.1:43999/ctl/PPP", pppOnly.ControlUrl.ToString());
    }

    [Fact]
    public void ADescriptionWithoutAConnectionServiceOrWithADtdIsRefused()
    {
        var location = new Uri("http://10.231.7.1/d.xml");
        Assert.Contains("offers no WANIPConnection or WANPPPConnection service",
            Assert.Throws<PortMappingException>(() => IgdDescription.Parse("<root><device/></root>", location)).Message);
        string entityBomb = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><root>&b;</root>";
        Assert.Contains("not valid XML", Assert.Throws<PortMappingException>(() => IgdDescription.Parse(entityBomb, location)).Message);
    }
}
