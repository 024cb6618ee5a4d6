using System.Collections.Concurrent;
using System.Net;
using Shoal.Swarm;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// Whole-set availability messages in mid-connection (a BITFIELD again instead of a run of HAVEs, a late HAVE ALL
/// or HAVE NONE), as widely used clients send them: Shoal keeps the connection and takes the new set.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class LateAvailabilityTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private const int BlockLength = 16 * KiB;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.3");

    [Fact]
    public async Task AClientSendingWholeBitfieldsMidConnectionDownloadsEverythingFromAShoalSeeder()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 1024 * KiB, 64 * KiB, seed: 21);
        (ShoalSession seeder, TorrentHandle seed) = await h.StartSeederAsync();
        int pieces = h.Torrent.PieceCount;
        using var timeout = new CancellationTokenSource(Bounded);
        CancellationToken ct = timeout.Token;
        await using FaultyConnection c = await FaultyConnection.ConnectAsync(ClientAddress, seeder.ListenEndPoint, h.Torrent.InfoHash, pieces, ct);
        await c.InitiateHandshakeAsync(ct);
        await c.SendAsync(PeerMessageWriter.WriteHaveNone, ct);
        await c.SendAsync(PeerMessageWriter.WriteInterested, ct);
        while (await c.ReceiveAsync(ct) is { } m && m.Id != MessageId.Unchoke) { }

        var have = new BitField(pieces);
        int lateBitfields = 0;
        for (int piece = 0; piece < pieces; piece++)
        {
            int size = h.Torrent.GetPieceSize(piece);
            for (int begin = 0; begin < size; begin += BlockLength)
            {
                int b = begin;
                await c.SendAsync(w => PeerMessageWriter.WriteRequest(w, piece, b, Math.Min(BlockLength, size - b)), ct);
            }
            for (int received = 0; received < size;)
            {
                WireMessage m = await c.ReceiveAsync(ct, keepPayload: true)
                    ?? throw new Xunit.Sdk.XunitException($"the seeder closed the connection at piece {piece}, after {lateBitfields} late bitfields: " +
                        h.FindLog("seeder", "left"));
                if (m.Id != MessageId.Piece) continue;
                long offset = (long)m.Index * h.Torrent.PieceLength + m.Begin;
                Assert.True(h.Content.AsSpan((int)offset, m.Length).SequenceEqual(c.LastPayload), $"wrong data for piece {m.Index} at {m.Begin}");
                received += m.Length;
            }
            have[piece] = true;
            // Instead of a HAVE per piece, the whole set every third piece (never the full set: both seeds would part).
            if (piece % 3 == 2 && piece < pieces - 1)
            {
                byte[] field = have.Bytes.ToArray();
                await c.SendAsync(w => PeerMessageWriter.WriteBitfield(w, field), ct);
                lateBitfields++;
            }
        }
        Assert.True(lateBitfields >= 4);
        await FaultHarness.WaitUntilAsync(() => seed.GetPeers().Any(p => p.EndPoint.Address.Equals(ClientAddress)), Bounded, "the client is not among the seeder's peers");
        Assert.Null(h.FindLog("seeder", "after its first message"));
    }

    [Fact]
    public async Task ALateBitfieldThenALateHaveAllFromThePeerAreWhatTheShoalLeecherRequestsFrom()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 1024 * KiB, 64 * KiB, seed: 22);
        int pieces = h.Torrent.PieceCount;
        int half = pieces / 2;
        int firstHalfBlocks = half * (h.Torrent.PieceLength / BlockLength);
        var served = new ConcurrentDictionary<(int, int), bool>();
        int requestsOutsideTheSet = 0;
        await using var source = new FaultyPeer(IPAddress.Parse("127.0.0.4"), h.Torrent.InfoHash, pieces, async (c, ordinal, ct) =>
        {
            if (ordinal > 0) return;
            await c.SendAsync(PeerMessageWriter.WriteHaveNone, ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            var firstHalf = new BitField(pieces);
            for (int p = 0; p < half; p++) firstHalf[p] = true;
            byte[] field = firstHalf.Bytes.ToArray();
            await c.SendAsync(w => PeerMessageWriter.WriteBitfield(w, field), ct);
            bool everything = false;
            while (await c.ReceiveAsync(ct) is { } m)
            {
                if (m.Id != MessageId.Request) continue;
                if (!everything && m.Index >= half) Interlocked.Increment(ref requestsOutsideTheSet);
                long offset = (long)m.Index * h.Torrent.PieceLength + m.Begin;
                await c.SendAsync(w => PeerMessageWriter.WritePiece(w, m.Index, m.Begin, h.Content.AsSpan((int)offset, m.Length)), ct);
                served[(m.Index, m.Begin)] = true;
                if (!everything && served.Count == firstHalfBlocks)
                {
                    everything = true;
                    await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
                }
            }
        });

        Leecher leecher = await h.StartLeecherAsync(source.EndPoint);
        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.Equal(0, Volatile.Read(ref requestsOutsideTheSet));
        Assert.Equal(pieces * (h.Torrent.PieceLength / BlockLength), served.Count);
        Assert.Null(h.FindLog("leecher1", "after its first message"));
        Assert.Null(source.Failure);
    }

    [Fact]
    public async Task ALateHaveNoneTakesThePeersPiecesAwayItsRequestsAreCancelledAndTheSeederFinishes()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 1024 * KiB, 64 * KiB, seed: 23);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        int pieces = h.Torrent.PieceCount;
        var requested = new ConcurrentDictionary<(int, int), bool>();
        var cancelled = new ConcurrentDictionary<(int, int), bool>();
        int notInterested = 0;
        var saidHaveNone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var fickle = new FaultyPeer(IPAddress.Parse("127.0.0.5"), h.Torrent.InfoHash, pieces, async (c, ordinal, ct) =>
        {
            if (ordinal > 0) return;
            await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            while (await c.ReceiveAsync(ct) is { } m)
            {
                if (m.Id == MessageId.Request && requested.TryAdd((m.Index, m.Begin), true) && requested.Count == 8)
                {
                    // Sits on the requests, then says it has nothing after all.
                    await c.SendAsync(PeerMessageWriter.WriteHaveNone, ct);
                    saidHaveNone.TrySetResult();
                }
                else if (m.Id == MessageId.Cancel) cancelled[(m.Index, m.Begin)] = true;
                else if (m.Id == MessageId.NotInterested) Interlocked.Increment(ref notInterested);
            }
        });

        Leecher leecher = await h.StartLeecherAsync(fickle.EndPoint);
        await saidHaveNone.Task.WaitAsync(Bounded);
        await FaultHarness.WaitUntilAsync(() => Volatile.Read(ref notInterested) > 0, Bounded, "no NOT_INTERESTED after HAVE NONE");
        await FaultHarness.WaitUntilAsync(() => requested.Keys.All(cancelled.ContainsKey), Bounded,
            $"{requested.Keys.Count(r => !cancelled.ContainsKey(r))} of {requested.Count} requests to the peer were not cancelled");
        await FaultHarness.WaitUntilAsync(() => leecher.Handle.GetPeers().Any(p => p.EndPoint.Equals(fickle.EndPoint)), Bounded, "the peer was dropped");

        Assert.True(leecher.Handle.AddPeers([seeder.ListenEndPoint]));
        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.Null(fickle.Failure);
    }
}

/// <summary>Blocks a peer had already sent when its requests were voided (a choke without BEP 6) are late, not unasked for.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class LateBlockTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task BlocksArrivingAfterAChokeWithoutTheFastExtensionDoNotGetThePeerDropped()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2048 * KiB, 64 * KiB, seed: 24);
        int cycles = 0;
        await using var choosy = new FaultyPeer(IPAddress.Parse("127.0.0.7"), h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            if (ordinal > 0) return;
            var all = new BitField(h.Torrent.PieceCount);
            all.SetAll();
            byte[] field = all.Bytes.ToArray();
            await c.SendAsync(w => PeerMessageWriter.WriteBitfield(w, field), ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            var pending = new List<WireMessage>();
            while (await c.ReceiveAsync(ct) is { } m)
            {
                if (m.Id != MessageId.Request) continue;
                pending.Add(m);
                if (cycles < 6 && pending.Count < 16) continue;
                // Six times: choke (voiding the requests, BEP 3), but the blocks were already on their way.
                if (cycles < 6) await c.SendAsync(PeerMessageWriter.WriteChoke, ct);
                foreach (WireMessage r in pending)
                {
                    long offset = (long)r.Index * h.Torrent.PieceLength + r.Begin;
                    await c.SendAsync(w => PeerMessageWriter.WritePiece(w, r.Index, r.Begin, h.Content.AsSpan((int)offset, r.Length)), ct);
                }
                pending.Clear();
                if (cycles++ < 6) await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            }
        }, ReservedBits.Create(extension: false, fast: false, dht: false));

        Leecher leecher = await h.StartLeecherAsync(choosy.EndPoint);
        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.Null(h.FindLog("leecher1", "nobody asked for"));
        Assert.True(cycles >= 6);
        Assert.Null(choosy.Failure);
    }
}
