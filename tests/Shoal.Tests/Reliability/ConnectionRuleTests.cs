using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using Shoal.Discovery;
using Shoal.Swarm;
using Shoal.Tests.Trackers;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// Every rule that makes Shoal close a peer connection, each shown by a client on a real socket breaking it against
/// a Shoal seeder, next to the messages libtorrent tolerates and so does Shoal now: the connection stays and still
/// serves. docs/reliability.md lists the rules, why each is kept, and these test cases by name.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class ConnectionRuleTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private const int BlockLength = 16 * KiB;
    private const int Pieces = 13; // not a multiple of 8: the bitfield has spare bits
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(20);
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.6");

    /// <summary>The rules kept: what the client sends, and the reason the seeder's log gives when it closes.</summary>
    public static TheoryData<string> KeptRules => [.. Violations.Keys];

    private static readonly Dictionary<string, (bool Extensions, bool Fast, Action<IBufferWriter<byte>> Send, string Reason)> Violations = new()
    {
        ["fast extension message without the fast bit"] = (false, false, PeerMessageWriter.WriteHaveAll, "without the fast extension"),
        ["reject without the fast bit"] = (false, false, w => PeerMessageWriter.WriteReject(w, 0, 0, BlockLength), "without the fast extension"),
        ["extended message without the extension bit"] = (false, true, w => PeerMessageWriter.WriteExtended(w, ExtensionIds.Metadata, "d8:msg_typei0e5:piecei0ee"u8), "without the extension protocol bit"),
        ["malformed ut_metadata message"] = (true, true, w => PeerMessageWriter.WriteExtended(w, ExtensionIds.Metadata, "not bencode"u8), "bad extension message"),
        ["have for a piece the torrent does not have"] = (false, true, w => PeerMessageWriter.WriteHave(w, Pieces), "protocol error: Have piece index"),
        ["bitfield of the wrong length"] = (false, true, w => PeerMessageWriter.WriteBitfield(w, new byte[5]), "protocol error: Bitfield message"),
        ["piece for a piece the torrent does not have"] = (false, true, w => PeerMessageWriter.WritePiece(w, Pieces, 0, new byte[BlockLength]), "protocol error: Piece piece index"),
        ["block over 128 KiB"] = (false, true, w => Raw(w, 9 + PeerMessageReader.MaxBlockLength + 1, MessageId.Piece, 8), "protocol error: Piece message length"),
        ["fixed-size message with the wrong length"] = (false, true, w => Raw(w, 2, MessageId.Unchoke, 1), "protocol error: Unchoke message must have length 1"),
        ["length prefix over 1 MiB"] = (false, true, w => Raw(w, PeerMessageReader.MaxMessageLength + 1, MessageId.Extended, 0), "protocol error: message length"),
        ["a seed connecting to a seed"] = (false, true, PeerMessageWriter.WriteHaveAll, "both sides are seeds"),
    };

    [Theory]
    [MemberData(nameof(KeptRules))]
    public async Task KeptRuleClosesTheConnection(string rule)
    {
        (bool extensions, bool fast, Action<IBufferWriter<byte>> send, string reason) = Violations[rule];
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Pieces * 64 * KiB, 64 * KiB, seed: 31);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        await using FaultyConnection c = await FaultyConnection.ConnectAsync(ClientAddress, seeder.ListenEndPoint, h.Torrent.InfoHash, Pieces,
            CancellationToken.None, reserved: ReservedBits.Create(extensions, fast, dht: false));
        await c.InitiateHandshakeAsync(CancellationToken.None);
        await c.SendAsync(send, CancellationToken.None);
        Assert.True(await c.WaitForRemoteCloseAsync(Bounded), $"'{rule}' did not close the connection");
        await h.WaitForLogAsync(Bounded, "seeder", $"peer {c.LocalEndPoint} left", reason);
    }

    [Fact]
    public async Task KeptRuleClosesTheConnectionOfAPeerSilentFor150Seconds()
    {
        // The seeder runs on a clock the test moves: 150 s of silence pass in an instant.
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Pieces * 64 * KiB, 64 * KiB, seed: 32);
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using ShoalSession seeder = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback, ListenPort = 0, EnableDht = false, EnableLocalDiscovery = false, Time = time,
            Log = line => h.Write("seeder: " + line),
        });
        await seeder.AddTorrentAsync(h.Torrent, new TorrentOptions { DownloadDirectory = h.SeedDirectory });
        await h.WaitForLogAsync(Bounded, "seeder", $"checked: {Pieces}/{Pieces}");
        await using FaultyConnection c = await FaultyConnection.ConnectAsync(ClientAddress, seeder.ListenEndPoint, h.Torrent.InfoHash, Pieces, CancellationToken.None);
        await c.InitiateHandshakeAsync(CancellationToken.None);
        await h.WaitForLogAsync(Bounded, "seeder", $"peer {c.LocalEndPoint} joined");

        for (int i = 0; i < 290; i++) time.Advance(TimeSpan.FromMilliseconds(500)); // 145 s
        await Task.Delay(200);
        Assert.Null(h.FindLog("seeder", $"peer {c.LocalEndPoint} left"));
        for (int i = 0; i < 20; i++) time.Advance(TimeSpan.FromMilliseconds(500)); // 155 s
        Assert.True(await c.WaitForRemoteCloseAsync(Bounded), "a silent peer was kept past the inactivity timeout");
        await h.WaitForLogAsync(Bounded, "seeder", $"peer {c.LocalEndPoint} left", "inactive for too long");
    }

    [Fact]
    public async Task KeptRuleRefusesASecondConnectionWithTheSamePeerId()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Pieces * 64 * KiB, 64 * KiB, seed: 34);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        await using FaultyConnection first = await FaultyConnection.ConnectAsync(ClientAddress, seeder.ListenEndPoint, h.Torrent.InfoHash, Pieces, CancellationToken.None);
        await first.InitiateHandshakeAsync(CancellationToken.None);
        await h.WaitForLogAsync(Bounded, "seeder", $"peer {first.LocalEndPoint} joined");
        await using FaultyConnection second = await FaultyConnection.ConnectAsync(ClientAddress, seeder.ListenEndPoint, h.Torrent.InfoHash, Pieces,
            CancellationToken.None, first.PeerId);
        await second.InitiateHandshakeAsync(CancellationToken.None);
        Assert.True(await second.WaitForRemoteCloseAsync(Bounded), "a second connection with the same peer id was kept");
        await h.WaitForLogAsync(Bounded, "seeder", $"refused {second.LocalEndPoint}", "duplicate connection");
        Assert.Null(h.FindLog("seeder", $"peer {first.LocalEndPoint} left"));
    }

    /// <summary>What libtorrent tolerates and Shoal closed over before: each must leave a working connection.</summary>
    public static TheoryData<string> ToleratedMessages => [.. Tolerated.Keys];

    private static readonly Dictionary<string, (bool Extensions, Action<IBufferWriter<byte>> Send, MessageId? Answer)> Tolerated = new()
    {
        ["bitfield again after the first message"] = (false, w => PeerMessageWriter.WriteBitfield(w, new byte[2]), null),
        ["have none after a bitfield"] = (false, PeerMessageWriter.WriteHaveNone, null),
        ["bitfield with spare bits set"] = (false, w => Raw(w, 3, MessageId.Bitfield, 2, 0x00, 0x01), null),
        ["request for a piece the torrent does not have"] = (false, w => PeerMessageWriter.WriteRequest(w, Pieces + 5, 0, BlockLength), MessageId.Reject),
        ["request past the end of a piece"] = (false, w => PeerMessageWriter.WriteRequest(w, 1, 64 * KiB - 100, 200), MessageId.Reject),
        ["request for 0 bytes"] = (false, w => RawTriple(w, MessageId.Request, 0, 0, 0), null),
        ["request for 1 MiB"] = (false, w => RawTriple(w, MessageId.Request, 0, 0, 1024 * 1024), null),
        ["request with offsets no torrent has"] = (false, w => RawTriple(w, MessageId.Request, 0xFFFF_FFFF, 0x8000_0000, 0xFFFF_FFFF), null),
        ["cancel and reject for pieces the torrent does not have"] = (false, w => { RawTriple(w, MessageId.Cancel, 999, 0, 16384); RawTriple(w, MessageId.Reject, 999, 0, 16384); }, null),
        ["suggest and allowed fast for pieces the torrent does not have"] = (false, w => { PeerMessageWriter.WriteSuggest(w, 999); PeerMessageWriter.WriteAllowedFast(w, 999); }, null),
        ["extension handshake that is not bencode"] = (true, w => PeerMessageWriter.WriteExtended(w, ExtensionIds.Handshake, "garbage"u8), null),
        ["extended message with an id we never advertised"] = (true, w => PeerMessageWriter.WriteExtended(w, 77, "d1:xi1ee"u8), null),
        ["unknown message id"] = (false, w => Raw(w, 3, (MessageId)42, 2, 1, 2), null),
    };

    [Theory]
    [MemberData(nameof(ToleratedMessages))]
    public async Task ToleratedMessageKeepsTheConnectionServing(string message)
    {
        (bool extensions, Action<IBufferWriter<byte>> send, MessageId? answer) = Tolerated[message];
        await using FaultHarness h = await FaultHarness.CreateAsync(output, Pieces * 64 * KiB, 64 * KiB, seed: 33);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        using var timeout = new CancellationTokenSource(Bounded);
        CancellationToken ct = timeout.Token;
        await using FaultyConnection c = await FaultyConnection.ConnectAsync(ClientAddress, seeder.ListenEndPoint, h.Torrent.InfoHash, Pieces,
            ct, reserved: ReservedBits.Create(extensions, fast: true, dht: false));
        await c.InitiateHandshakeAsync(ct);
        var some = new BitField(Pieces);
        some[3] = true;
        byte[] first = some.Bytes.ToArray();
        await c.SendAsync(w => PeerMessageWriter.WriteBitfield(w, first), ct);
        await c.SendAsync(PeerMessageWriter.WriteInterested, ct);
        while (await c.ReceiveAsync(ct) is { } m && m.Id != MessageId.Unchoke) { }

        await c.SendAsync(send, ct);
        await c.SendAsync(w => PeerMessageWriter.WriteRequest(w, 0, 0, BlockLength), ct);
        bool answered = answer is null, served = false;
        while (!served)
        {
            WireMessage m = await c.ReceiveAsync(ct, keepPayload: true)
                ?? throw new Xunit.Sdk.XunitException($"closed after '{message}': {h.FindLog("seeder", "left")}");
            if (m.Id == answer) answered = true;
            if (m.Id == MessageId.Piece && m.Index == 0 && m.Begin == 0)
            {
                Assert.True(h.Content.AsSpan(0, BlockLength).SequenceEqual(c.LastPayload));
                served = true;
            }
        }
        Assert.True(answered, $"no {answer} for '{message}'");
        Assert.Null(h.FindLog("seeder", $"peer {c.LocalEndPoint} left"));
    }

    /// <summary>A frame with a given length prefix and id, and <paramref name="body"/> bytes (possibly fewer than the prefix says).</summary>
    private static void Raw(IBufferWriter<byte> w, int length, MessageId id, int bodyBytes, params byte[] body)
    {
        Span<byte> span = w.GetSpan(5 + bodyBytes);
        BinaryPrimitives.WriteInt32BigEndian(span, length);
        span[4] = (byte)id;
        span.Slice(5, bodyBytes).Clear();
        body.CopyTo(span[5..]);
        w.Advance(5 + bodyBytes);
    }

    private static void RawTriple(IBufferWriter<byte> w, MessageId id, uint index, uint begin, uint length)
    {
        Span<byte> span = w.GetSpan(17);
        BinaryPrimitives.WriteInt32BigEndian(span, 13);
        span[4] = (byte)id;
        BinaryPrimitives.WriteUInt32BigEndian(span[5..], index);
        BinaryPrimitives.WriteUInt32BigEndian(span[9..], begin);
        BinaryPrimitives.WriteUInt32BigEndian(span[13..], length);
        w.Advance(17);
    }
}
