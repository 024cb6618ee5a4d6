using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Text;
using Shoal.Bencoding;
using Shoal.Dht;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Trackers;
using Shoal.Transport.Utp;
using Shoal.Wire;

namespace Shoal.Bench.Fuzz;

/// <summary>Valid inputs per target, built with the project's own writers so they track the formats.</summary>
internal static class FuzzSeeds
{
    /// <summary>The torrents every target that needs one shares (created once over temp files).</summary>
    public sealed record Torrents(byte[] Single, byte[] Multi, byte[] Private, byte[] Info, byte[] Hybrid, byte[] V2, byte[] V2Info);

    /// <summary>Creates three real torrents with <see cref="TorrentCreator"/> over small temp files.</summary>
    public static async Task<Torrents> CreateTorrentsAsync(CancellationToken cancellationToken)
    {
        string dir = Path.Combine(Path.GetTempPath(), "shoal-fuzz-" + Guid.NewGuid().ToString("N"));
        try
        {
            var random = new Random(1);
            Directory.CreateDirectory(Path.Combine(dir, "multi", "sub"));
            string single = Path.Combine(dir, "single.bin");
            await File.WriteAllBytesAsync(single, Bytes(random, 70_000), cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(dir, "multi", "a.txt"), Bytes(random, 10), cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(dir, "multi", "sub", "b.dat"), Bytes(random, 40_000), cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(dir, "multi", "sub", "c"), [], cancellationToken).ConfigureAwait(false);
            Torrent one = await TorrentCreator.CreateAsync(single, new TorrentCreationOptions
            {
                PieceLength = 16384,
                AnnounceTiers = [["http://tracker.example/announce"], ["udp://tracker.example:6969", "http://b.example/a"]],
                Comment = "fuzz seed",
                CreationDate = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
            }, null, cancellationToken).ConfigureAwait(false);
            Torrent multi = await TorrentCreator.CreateAsync(Path.Combine(dir, "multi"), new TorrentCreationOptions { PieceLength = 16384 }, null, cancellationToken).ConfigureAwait(false);
            Torrent priv = await TorrentCreator.CreateAsync(single, new TorrentCreationOptions { IsPrivate = true, AnnounceTiers = [["http://p.example/announce"]] }, null, cancellationToken).ConfigureAwait(false);
            // BEP 52: a hybrid (v1 list with padding + file tree + piece layers) and a v2-only torrent.
            Torrent hybrid = await TorrentCreator.CreateAsync(Path.Combine(dir, "multi"), new TorrentCreationOptions { PieceLength = 16384, Version = TorrentVersion.Hybrid }, null, cancellationToken).ConfigureAwait(false);
            Torrent v2 = await TorrentCreator.CreateAsync(Path.Combine(dir, "multi"), new TorrentCreationOptions { PieceLength = 16384, Version = TorrentVersion.V2 }, null, cancellationToken).ConfigureAwait(false);
            return new Torrents(one.ToBytes(), multi.ToBytes(), priv.ToBytes(), multi.InfoDictionary.ToArray(), hybrid.ToBytes(), v2.ToBytes(), v2.InfoDictionary.ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The seed inputs of <paramref name="target"/>.</summary>
    public static List<byte[]> For(string target, Torrents torrents) => target switch
    {
        "bencode" => [.. BencodeSeeds(), torrents.Single, torrents.Info, torrents.V2, .. TrackerHttp(), .. Krpc()],
        "metainfo" => [torrents.Single, torrents.Multi, torrents.Private, torrents.Info, torrents.Hybrid, torrents.V2, torrents.V2Info, .. OddTorrents()],
        "magnet" => Magnets(torrents),
        "wire" => Wire(),
        "extension" => Extension(),
        "metadata" =>
        [
            MetadataMessage.Request(0).Encode(), MetadataMessage.Reject(3).Encode(),
            MetadataMessage.EncodeData(0, torrents.Info.Length, torrents.Info), MetadataMessage.EncodeData(1, 20_000, new byte[20_000 - 16384]),
        ],
        "pex" => Pex(),
        "lsd" =>
        [
            LsdMessage.Format("239.192.152.143:6771", 6881, [Hash(1)], null),
            LsdMessage.Format("[ff15::efc0:988f]:6771", 51413, [Hash(2), Hash(3), Hash(4)], "cookie-1"),
        ],
        "tracker-http" => TrackerHttp(),
        "tracker-udp" => TrackerUdp(),
        "tracker-udp-server" => TrackerUdpServer(),
        "krpc" => Krpc(),
        "utp" => Utp(),
        "holepunch" =>
        [
            new HolepunchMessage(HolepunchMessageType.Rendezvous, IPEndPoint.Parse("1.2.3.4:6881")).Encode(),
            new HolepunchMessage(HolepunchMessageType.Connect, IPEndPoint.Parse("[2001:db8::1]:51413")).Encode(),
            new HolepunchMessage(HolepunchMessageType.Error, IPEndPoint.Parse("10.0.0.1:1"), HolepunchError.NoSupport).Encode(),
        ],
        _ => throw new ArgumentException($"unknown fuzz target '{target}'", nameof(target)),
    };

    private static byte[] Bytes(Random random, int length)
    {
        byte[] data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    private static InfoHash Hash(byte fill) => new(Enumerable.Repeat(fill, 20).ToArray());

    private static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);

    private static List<byte[]> BencodeSeeds() =>
    [
        Latin1("i42e"), Latin1("i-7e"), Latin1("0:"), Latin1("4:spam"), Latin1("le"), Latin1("de"),
        Latin1("l4:spami42ee"), Latin1("d3:cow3:moo4:spam4:eggse"), Latin1("d4:listl1:a1:bd1:xi1eee1:zi9ee"),
        Latin1("llllllllllllleeeeeeeeeeeee"),
    ];

    /// <summary>Torrents libtorrent opens that a strict reader would not: unsorted and repeated keys, trailing bytes, odd names.</summary>
    private static List<byte[]> OddTorrents()
    {
        const string Info = "d6:lengthi40000e4:name7:odd.bin12:piece lengthi16384e6:pieces60:";
        string pieces = new('a', 60);
        return
        [
            Latin1("d4:info" + Info + pieces + "e8:announce10:http://a/xe"), // root keys out of order
            Latin1("d4:infod4:name1:a4:name1:b6:lengthi40000e12:piece lengthi16384e6:pieces60:" + pieces + "ee\r\ntrailing"),
            Latin1("d4:infod5:filesld6:lengthi10e4:pathl2:..1:\u00ff0:eed6:lengthi5e4:pathl2:..1:\u00ff0:eed4:attr1:p6:lengthi16369eee4:name2:..12:piece lengthi16384e6:pieces20:"
                + new string('b', 20) + "ee"),
        ];
    }

    private static List<byte[]> Magnets(Torrents torrents)
    {
        string hex = Torrent.Parse(torrents.Single).InfoHash.ToHex();
        string v2 = Torrent.Parse(torrents.V2).InfoHashV2!.Value.ToHex();
        string base32 = Torrent.Parse(torrents.Multi).InfoHash.ToBase32();
        return
        [
            Encoding.UTF8.GetBytes($"magnet:?xt=urn:btih:{hex}&dn=My+Film%20%C3%A9&tr=http%3A%2F%2Ft%2Fa&x.pe=1.2.3.4:5&so=0,2,4-6"),
            Encoding.UTF8.GetBytes($"magnet:?xt=urn:btih:{base32}&tr=udp://x:1&so=1-3&x.pe=[::1]:6881"),
            Encoding.UTF8.GetBytes("magnet:?xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e&xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d"),
            Encoding.UTF8.GetBytes($"magnet:?dn=%E2%9C%93&xt=urn:btih:{hex}&tr=http://a/b?c=d"),
            Encoding.UTF8.GetBytes($"magnet:?xt=urn:btmh:1220{v2}&dn=v2+only&tr=udp://x:1"),
        ];
    }

    private static List<byte[]> Wire()
    {
        var seeds = new List<byte[]>();
        var random = new Random(2);
        for (int s = 0; s < 6; s++)
        {
            var w = new ArrayBufferWriter<byte>();
            if (s < 4) new Handshake(Hash((byte)s), Bytes(random, 20), ReservedBits.Create(s % 2 == 0, true, true)).WriteTo(w);
            PeerMessageWriter.WriteBitfield(w, Bytes(random, 8));
            PeerMessageWriter.WriteHave(w, random.Next(64));
            PeerMessageWriter.WriteInterested(w);
            PeerMessageWriter.WriteUnchoke(w);
            PeerMessageWriter.WriteRequest(w, 3, 16384, 16384);
            PeerMessageWriter.WritePiece(w, 3, 0, Bytes(random, random.Next(1, 200)));
            PeerMessageWriter.WriteCancel(w, 3, 16384, 16384);
            PeerMessageWriter.WriteKeepAlive(w);
            if (s % 2 == 0)
            {
                PeerMessageWriter.WriteHaveAll(w);
                PeerMessageWriter.WriteSuggest(w, 5);
                PeerMessageWriter.WriteAllowedFast(w, 7);
                PeerMessageWriter.WriteReject(w, 3, 0, 16384);
            }
            else
            {
                PeerMessageWriter.WriteHaveNone(w);
                PeerMessageWriter.WriteChoke(w);
                PeerMessageWriter.WriteNotInterested(w);
            }
            PeerMessageWriter.WriteExtended(w, 0, ExtensionHandshake.CreateLocal(6881, "Shoal", 1234).Encode());
            PeerMessageWriter.WriteExtended(w, 2, MetadataMessage.Request(0).Encode());
            PeerMessageWriter.WritePort(w, 6881);
            seeds.Add(w.WrittenSpan.ToArray());
        }
        return seeds;
    }

    private static List<byte[]> Extension() =>
    [
        ExtensionHandshake.CreateLocal(6881, "Shoal 0.1", 31_337, IPAddress.Parse("1.2.3.4"), 250, false).Encode(),
        (ExtensionHandshake.CreateLocal(null, null, null, IPAddress.Parse("2001:db8::1"), null, true) with
        {
            Ipv4 = IPAddress.Parse("5.6.7.8"), Ipv6 = IPAddress.Parse("2001:db8::2"), PrefersEncryption = true,
        }).Encode(),
        Latin1("d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei100e4:reqqi500e1:v5:othere"),
    ];

    private static List<byte[]> Pex()
    {
        var random = new Random(3);
        var seeds = new List<byte[]>();
        for (int s = 0; s < 4; s++)
        {
            var added = new List<PexPeer>();
            var dropped = new List<IPEndPoint>();
            for (int i = 0; i < 2 + s; i++)
            {
                byte[] address = Bytes(random, i % 2 == 0 ? 4 : 16);
                address[0] = (byte)(address[0] % 200 + 1);
                added.Add(new PexPeer(new IPEndPoint(new IPAddress(address), random.Next(1, 65536)), (PexFlags)random.Next(32)));
                if (i < s) dropped.Add(new IPEndPoint(new IPAddress(address), 1 + i));
            }
            seeds.Add(new PexMessage(added, dropped).Encode());
        }
        return seeds;
    }

    private static List<byte[]> TrackerHttp() =>
    [
        [.. "d8:completei3e10:incompletei4e8:intervali900e12:min intervali60e5:peers12:"u8, 127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 0x50,
            .. "6:peers618:"u8, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1a, 0xe2, (byte)'e'],
        Latin1("d8:intervali1800e5:peersld2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881eed2:ip11:2001:db8::14:porti1eeee"),
        Latin1("d14:failure reason12:unregisterede"),
        Latin1("d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei5e10:downloadedi50e10:incompletei10eeee"),
        Latin1("d11:external ip4:\u0001\u0002\u0003\u00048:intervali60e5:peers0:10:tracker id3:xyz15:warning message4:slowe"),
    ];

    private static List<byte[]> TrackerUdp()
    {
        byte[] connect = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(connect.AsSpan(4), 0x1234);
        BinaryPrimitives.WriteInt64BigEndian(connect.AsSpan(8), 0x0102030405060708);

        byte[] announce4 = new byte[20 + 3 * 6];
        Header(announce4, 1);
        BinaryPrimitives.WriteInt32BigEndian(announce4.AsSpan(8), 1800);
        BinaryPrimitives.WriteInt32BigEndian(announce4.AsSpan(12), 5);
        BinaryPrimitives.WriteInt32BigEndian(announce4.AsSpan(16), 7);
        for (int i = 0; i < 3; i++) { announce4[20 + i * 6] = 10; announce4[23 + i * 6] = (byte)(i + 1); announce4[25 + i * 6] = 0x50; }

        byte[] announce6 = new byte[20 + 2 * 18];
        Header(announce6, 1);
        BinaryPrimitives.WriteInt32BigEndian(announce6.AsSpan(8), 900);
        for (int i = 0; i < 2; i++) { announce6[20 + i * 18] = 0x20; announce6[21 + i * 18] = 0x01; announce6[35 + i * 18] = (byte)(i + 1); announce6[37 + i * 18] = 0x51; }

        byte[] scrape = new byte[8 + 3 * 12];
        Header(scrape, 2);
        for (int i = 0; i < 9; i++) BinaryPrimitives.WriteInt32BigEndian(scrape.AsSpan(8 + i * 4), i * 3);

        byte[] error = [0, 0, 0, 3, 0, 0, 0x12, 0x34, .. "unknown torrent"u8];
        return [connect, announce4, announce6, scrape, error];

        static void Header(byte[] packet, int action)
        {
            BinaryPrimitives.WriteInt32BigEndian(packet, action);
            BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), 0x1234);
        }
    }

    private static List<byte[]> TrackerUdpServer()
    {
        // Requests; a first byte of 0xC0 makes the harness write the live connection id over the first 8 bytes.
        byte[] connect = new byte[16];
        UdpTrackerProtocol.WriteConnectRequest(connect, 5);
        byte[] announce = new byte[98];
        UdpTrackerProtocol.WriteAnnounceRequest(announce, unchecked((long)0xC000000000000000), 6,
            new AnnounceRequest(Hash(1), Enumerable.Repeat((byte)'a', 20).ToArray(), 6881, 0, 0, 10, AnnounceEvent.Started, 50, 7));
        byte[] scrape = new byte[16 + 2 * 20];
        UdpTrackerProtocol.WriteScrapeRequest(scrape, unchecked((long)0xC000000000000000), 7, [Hash(1), Hash(2)]);
        return [connect, announce, scrape];
    }

    private static List<byte[]> Krpc()
    {
        var id = new NodeId(Enumerable.Repeat((byte)'a', 20).ToArray());
        var target = new NodeId(Enumerable.Repeat((byte)'m', 20).ToArray());
        byte[] t = "aa"u8.ToArray();
        return
        [
            Latin1("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"),
            Latin1("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"),
            Latin1("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"),
            KrpcCodec.Encode(new KrpcQuery { TransactionId = t, Method = KrpcMethod.Ping, SenderId = id }),
            KrpcCodec.Encode(new KrpcQuery { TransactionId = t, Method = KrpcMethod.FindNode, SenderId = id, Target = target, Want = KrpcWant.N4 | KrpcWant.N6 }),
            KrpcCodec.Encode(new KrpcQuery { TransactionId = t, Method = KrpcMethod.GetPeers, SenderId = id, Target = target }),
            KrpcCodec.Encode(new KrpcQuery { TransactionId = t, Method = KrpcMethod.AnnouncePeer, SenderId = id, Target = target, Token = "tok"u8.ToArray(), Port = 6881, ImpliedPort = true }),
            KrpcCodec.Encode(new KrpcResponse
            {
                TransactionId = t, SenderId = id, Token = "tok"u8.ToArray(),
                Nodes = [new NodeContact(target, IPEndPoint.Parse("9.9.9.9:99"))],
                Nodes6 = [new NodeContact(target, IPEndPoint.Parse("[2001:db8::9]:99"))],
                Values = [IPEndPoint.Parse("1.2.3.4:5"), IPEndPoint.Parse("[2001:db8::4]:5")],
            }, IPEndPoint.Parse("8.8.8.8:53")),
            KrpcCodec.Encode(new KrpcError { TransactionId = t, Code = 203, Message = "Protocol Error" }),
        ];
    }

    /// <summary>Runs of datagrams for the uTP target (each after its length byte): data, selective acks, a FIN, a RESET.</summary>
    private static List<byte[]> Utp()
    {
        const ushort Id = Shoal.Tests.Fuzz.FuzzParsers.FuzzUtpSynId + 1;
        const ushort Peer = Shoal.Tests.Fuzz.FuzzParsers.FuzzUtpPeerSequence;
        const ushort Ours = Shoal.Tests.Fuzz.FuzzParsers.FuzzUtpOurSequence;
        static byte[] Packet(UtpPacketType type, ushort seq, ushort ack, byte[] extension, int payload)
        {
            byte[] packet = new byte[UtpPacket.HeaderLength + extension.Length + payload];
            UtpPacket.WriteHeader(packet, type, extension.Length > 0 ? (byte)1 : (byte)0, Id, 2000, 100, 65536, seq, ack);
            extension.CopyTo(packet, UtpPacket.HeaderLength);
            return packet;
        }
        static byte[] Run(params byte[][] datagrams) => [.. datagrams.SelectMany(d => (byte[])[(byte)d.Length, .. d])];
        return
        [
            Run(Packet(UtpPacketType.Data, Peer + 1, Ours - 1, [], 100), Packet(UtpPacketType.Data, Peer + 2, Ours, [], 50)),
            Run(Packet(UtpPacketType.State, Peer + 1, Ours + 2, [], 0), Packet(UtpPacketType.State, Peer + 1, Ours + 2, [0, 4, 0b1101, 0, 0, 0], 0)),
            Run(Packet(UtpPacketType.Data, Peer + 3, Ours, [], 30), Packet(UtpPacketType.Fin, Peer + 4, Ours, [], 0),
                Packet(UtpPacketType.Data, Peer + 1, Ours, [], 30), Packet(UtpPacketType.Data, Peer + 2, Ours, [], 30)),
            Run(Packet(UtpPacketType.State, Peer + 1, Ours + 1, [], 0), [], Packet(UtpPacketType.Reset, Peer + 1, Ours, [], 0)),
        ];
    }
}
