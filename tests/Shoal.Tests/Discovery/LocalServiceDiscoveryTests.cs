using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Shoal.Discovery;
using Shoal.Metainfo;

namespace Shoal.Tests.Discovery;

/// <summary>
/// Two LSD instances on one host, on a private port and the loopback interface with TTL 0, so no datagram
/// leaves the machine and parallel runs do not hear each other.
/// </summary>
public sealed class LocalServiceDiscoveryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static InfoHash Hash(byte b) => new(Enumerable.Repeat(b, 20).ToArray());

    private static LsdOptions Options(int port, TimeProvider? time = null, int perSource = 30) =>
        MulticastLoopback.Lsd(port, time) with { MaxAnnouncesPerSourcePerMinute = perSource };

    private static async Task<(InfoHash Hash, IPEndPoint Peer)> Next(Channel<(InfoHash, IPEndPoint)> channel)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await channel.Reader.ReadAsync(timeout.Token);
    }

    private static Channel<(InfoHash, IPEndPoint)> NewChannel() => Channel.CreateUnbounded<(InfoHash, IPEndPoint)>();

    [MulticastLoopbackFact]
    public async Task TwoInstancesOnOneHostSeeEachOtherButNotThemselves()
    {
        int port = MulticastLoopback.FreeUdpPort();
        Channel<(InfoHash, IPEndPoint)> seenByA = NewChannel(), seenByB = NewChannel();
        await using var a = new LocalServiceDiscovery(Options(port), (h, p) => seenByA.Writer.TryWrite((h, p)));
        await using var b = new LocalServiceDiscovery(Options(port), (h, p) => seenByB.Writer.TryWrite((h, p)));
        Assert.True(a.Ipv4Enabled);
        Assert.False(a.Ipv6Enabled);
        Assert.NotEqual(a.Cookie, b.Cookie);

        Assert.Equal(2, await a.AnnounceAsync([Hash(1), Hash(2)], 50001));
        Assert.Equal((Hash(1), new IPEndPoint(IPAddress.Loopback, 50001)), await Next(seenByB));
        Assert.Equal((Hash(2), new IPEndPoint(IPAddress.Loopback, 50001)), await Next(seenByB));

        // A's own announce reached A's socket before B's does; it must have been dropped by cookie.
        Assert.Equal(1, await b.AnnounceAsync([Hash(3)], 50002));
        Assert.Equal((Hash(3), new IPEndPoint(IPAddress.Loopback, 50002)), await Next(seenByA));
        Assert.False(seenByA.Reader.TryRead(out _));
        Assert.Null(a.LastSendError);
    }

    [MulticastLoopbackFact]
    public async Task AnnouncesEachInfoHashAtMostOncePerInterval()
    {
        int port = MulticastLoopback.FreeUdpPort();
        var time = new ManualTimeProvider();
        Channel<(InfoHash, IPEndPoint)> seen = NewChannel();
        await using var a = new LocalServiceDiscovery(Options(port, time), (_, _) => { });
        await using var b = new LocalServiceDiscovery(Options(port), (h, p) => seen.Writer.TryWrite((h, p)));

        Assert.Equal(1, await a.AnnounceAsync([Hash(1), Hash(1)], 6881));
        Assert.Equal(1, await a.AnnounceAsync([Hash(1), Hash(2)], 6881));
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, await a.AnnounceAsync([Hash(1), Hash(2)], 6881));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await a.AnnounceAsync([Hash(1)], 6881));

        Assert.Equal(Hash(1), (await Next(seen)).Hash);
        Assert.Equal(Hash(2), (await Next(seen)).Hash);
        Assert.Equal(Hash(1), (await Next(seen)).Hash);
    }

    [MulticastLoopbackFact]
    public async Task ManyHashesAreSplitIntoSeveralDatagrams()
    {
        int port = MulticastLoopback.FreeUdpPort();
        Channel<(InfoHash, IPEndPoint)> seen = NewChannel();
        await using var a = new LocalServiceDiscovery(Options(port), (_, _) => { });
        await using var b = new LocalServiceDiscovery(Options(port), (h, p) => seen.Writer.TryWrite((h, p)));
        InfoHash[] hashes = Enumerable.Range(1, 45).Select(i => Hash((byte)i)).ToArray();
        Assert.Equal(45, await a.AnnounceAsync(hashes, 7000));
        var received = new List<InfoHash>();
        for (int i = 0; i < hashes.Length; i++) received.Add((await Next(seen)).Hash);
        Assert.Equal(hashes, received);
    }

    [MulticastLoopbackFact]
    public async Task AnIpv6GroupThatCannotBeJoinedLeavesIpv4Working()
    {
        int port = MulticastLoopback.FreeUdpPort();
        Channel<(InfoHash, IPEndPoint)> seen = NewChannel();
        LsdOptions broken = Options(port) with { Ipv6Group = new IPEndPoint(LsdOptions.DefaultIpv6Group.Address, port), Ipv6InterfaceIndex = 999_999 };
        await using var a = new LocalServiceDiscovery(broken, (_, _) => { });
        await using var b = new LocalServiceDiscovery(Options(port), (h, p) => seen.Writer.TryWrite((h, p)));
        Assert.True(a.Ipv4Enabled);
        Assert.False(a.Ipv6Enabled);
        Assert.Equal(1, await a.AnnounceAsync([Hash(9)], 7001));
        Assert.Equal(Hash(9), (await Next(seen)).Hash);
    }

    [MulticastLoopbackFact]
    public async Task IgnoresGarbageOwnCookieFloodsAndSurvivesAThrowingCallback()
    {
        int port = MulticastLoopback.FreeUdpPort();
        Channel<(InfoHash, IPEndPoint)> seen = NewChannel();
        await using var b = new LocalServiceDiscovery(Options(port, perSource: 3), (h, p) =>
        {
            if (h == Hash(66)) throw new InvalidOperationException("a broken handler");
            seen.Writer.TryWrite((h, p));
        });
        var group = new IPEndPoint(MulticastLoopback.Group, port);
        using Socket first = RawSender(IPAddress.Loopback);
        using Socket second = RawSender(IPAddress.Parse("127.0.0.2"));
        void Send(Socket socket, byte[] datagram) => socket.SendTo(datagram, group);
        byte[] Announce(byte hash, string? cookie = null) => LsdMessage.Format(group.ToString(), 6000 + hash, [Hash(hash)], cookie);

        Send(first, "GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        Send(first, new byte[3000]);
        Send(first, Announce(10, b.Cookie));
        Send(first, Announce(66));
        Send(first, Announce(11));
        Send(first, Announce(12)); // the third from 127.0.0.1 this minute: the last one allowed
        Send(first, Announce(13));
        Send(first, Announce(14));
        Send(second, Announce(20));

        Assert.Equal((Hash(11), new IPEndPoint(IPAddress.Loopback, 6011)), await Next(seen));
        Assert.Equal((Hash(12), new IPEndPoint(IPAddress.Loopback, 6012)), await Next(seen));
        Assert.Equal((Hash(20), new IPEndPoint(IPAddress.Parse("127.0.0.2"), 6020)), await Next(seen));
    }

    private static Socket RawSender(IPAddress source)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(source, 0));
        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.Loopback.GetAddressBytes());
        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 0);
        return socket;
    }
}
