using System.Collections.Concurrent;
using System.Net;
using Shoal.Swarm;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// A Shoal leecher facing one faulty peer that claims to have the data, plus an honest Shoal seeder: the fault
/// is triggered first (the leecher knows only the faulty peer), then the seeder is added. The download must
/// complete byte-identical, and the faulty peer must be dropped, banned or left without requests.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class FaultyServerTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private const int BlockLength = 16 * KiB;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(20);
    private static readonly IPAddress FaultyAddress = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task PeerVanishingMidPieceIsDroppedAndItsHalfPiecesAreFinishedByTheSeeder()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * 1024 * KiB, 64 * KiB, seed: 1);
        (ShoalSession seeder, TorrentHandle seed) = await h.StartSeederAsync();
        int servedBlocks = 0;
        await using var vanisher = new FaultyPeer(FaultyAddress, h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            if (ordinal > 0) return; // a redial finds the peer gone for good
            await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            var requests = new List<WireMessage>();
            while (requests.Count < 16)
            {
                WireMessage m = await c.ReceiveAsync(ct) ?? throw new EndOfStreamException();
                if (m.Id == MessageId.Request) requests.Add(m);
            }
            // Half of each requested piece: the blocks in its first half, then gone without a word.
            foreach (WireMessage r in requests)
            {
                if (r.Begin >= h.Torrent.GetPieceSize(r.Index) / 2) continue;
                long offset = (long)r.Index * h.Torrent.PieceLength + r.Begin;
                await c.SendAsync(w => PeerMessageWriter.WritePiece(w, r.Index, r.Begin, h.Content.AsSpan((int)offset, r.Length)), ct);
                servedBlocks++;
            }
            // Gone: a FIN, not a reset, which could overtake the blocks above before the leecher reads them.
            await c.CloseAndDrainAsync(Bounded);
        });

        Leecher leecher = await h.StartLeecherAsync(vanisher.EndPoint);
        await h.WaitForLogAsync(Bounded, "leecher1", $"peer {vanisher.EndPoint} left");
        Assert.True(servedBlocks > 0);
        Assert.True(leecher.Handle.AddPeers([seeder.ListenEndPoint]));

        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.Equal(0, leecher.Handle.GetStatus().FailedPieces);
        Assert.DoesNotContain(leecher.Handle.GetPeers(), p => p.EndPoint.Address.Equals(FaultyAddress));
        // The vanisher's half pieces were kept and finished: the seeder sent exactly the rest.
        long expected = h.Content.Length - (long)servedBlocks * BlockLength;
        await Eventually.TrueAsync(() => seed.GetStatus().Uploaded == expected, TimeSpan.FromSeconds(5),
            () => $"seeder uploaded {seed.GetStatus().Uploaded} bytes, expected {expected} (total minus the vanisher's {servedBlocks} blocks)");
        Assert.Null(vanisher.Failure);
    }

    [Fact]
    public async Task StalledRequestsAreReissuedToTheSeederAndTheStallerIsLeftWithoutRequests()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * 1024 * KiB, 64 * KiB, seed: 2);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        var requests = new ConcurrentDictionary<WireMessage, int>();
        var cancels = new ConcurrentDictionary<WireMessage, int>();
        int notInterested = 0;
        await using var staller = new FaultyPeer(FaultyAddress, h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            // All pieces but the last: not a seed, so completing the download does not end the connection.
            var bits = new BitField(h.Torrent.PieceCount);
            bits.SetAll();
            bits[h.Torrent.PieceCount - 1] = false;
            byte[] field = bits.Bytes.ToArray();
            await c.SendAsync(w => PeerMessageWriter.WriteBitfield(w, field), ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            while (await c.ReceiveAsync(ct) is { } m)
            {
                var key = new WireMessage(MessageId.Request, m.Index, m.Begin, m.Length);
                if (m.Id == MessageId.Request) requests.AddOrUpdate(key, 1, (_, n) => n + 1);
                else if (m.Id == MessageId.Cancel) cancels.AddOrUpdate(key, 1, (_, n) => n + 1);
                else if (m.Id == MessageId.NotInterested) Interlocked.Increment(ref notInterested);
            }
        });

        Leecher leecher = await h.StartLeecherAsync(staller.EndPoint);
        await FaultHarness.WaitUntilAsync(() => requests.Count >= 16, Bounded, "the staller got no requests");
        WireMessage[] satOn = [.. requests.Keys];
        Assert.True(leecher.Handle.AddPeers([seeder.ListenEndPoint]));

        await h.AssertCompletesAsync(leecher, Bounded);
        // Every block the staller sat on arrived from the seeder instead (endgame), and the staller heard CANCEL for it.
        await FaultHarness.WaitUntilAsync(() => satOn.All(cancels.ContainsKey), TimeSpan.FromSeconds(5),
            $"{satOn.Count(r => !cancels.ContainsKey(r))} of {satOn.Length} stalled requests were never cancelled");
        await FaultHarness.WaitUntilAsync(() => Volatile.Read(ref notInterested) > 0, TimeSpan.FromSeconds(5), "staller never heard NOT_INTERESTED");
        Assert.All(requests, r => Assert.Equal(1, r.Value)); // never asked twice for the same block
        Assert.Equal(0, leecher.Handle.GetStatus().FailedPieces);
        Assert.Null(staller.Failure);
    }

    [Fact]
    public async Task PeerSendingUnrequestedBlocksIsDroppedAndNothingOfItIsWritten()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * 1024 * KiB, 64 * KiB, seed: 3);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        int sent = 0;
        await using var spammer = new FaultyPeer(FaultyAddress, h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            if (ordinal > 0) return;
            await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
            // Stays choking: the leecher asks for nothing, so every block below is unrequested.
            while (await c.ReceiveAsync(ct) is { Id: not MessageId.Interested }) { }
            byte[] garbage = new byte[BlockLength];
            var random = new Random(33);
            for (int i = 0; i < 2000; i++)
            {
                random.NextBytes(garbage);
                int piece = random.Next(h.Torrent.PieceCount);
                int begin = random.Next(h.Torrent.GetPieceSize(piece) / BlockLength) * BlockLength;
                await c.SendAsync(w => PeerMessageWriter.WritePiece(w, piece, begin, garbage), ct);
                sent++;
            }
            await c.WaitForRemoteCloseAsync(Bounded);
        });

        Leecher leecher = await h.StartLeecherAsync(spammer.EndPoint);
        await h.WaitForLogAsync(Bounded, "leecher1", $"peer {spammer.EndPoint} left: sent blocks nobody asked for");
        output.WriteLine($"spammer wrote {sent} blocks before it was dropped");
        Assert.True(leecher.Handle.AddPeers([seeder.ListenEndPoint]));

        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.Equal(0, leecher.Handle.GetStatus().FailedPieces); // no garbage block reached a piece
        Assert.Null(spammer.Failure);
    }

    [Fact]
    public async Task LiarServingGarbageFailsTheHashIsBannedAndThePieceIsFetchedAgain()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * 1024 * KiB, 64 * KiB, seed: 4);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        int garbageBlocks = 0;
        byte[]? liarId = null;
        await using var liar = new FaultyPeer(FaultyAddress, h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            liarId ??= c.PeerId;
            await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            var random = new Random(44 + ordinal);
            byte[] garbage = new byte[BlockLength];
            while (await c.ReceiveAsync(ct) is { } m)
            {
                if (m.Id != MessageId.Request) continue;
                random.NextBytes(garbage);
                await c.SendAsync(w => PeerMessageWriter.WritePiece(w, m.Index, m.Begin, garbage.AsSpan(0, m.Length)), ct);
                Interlocked.Increment(ref garbageBlocks);
            }
        });

        Leecher leecher = await h.StartLeecherAsync(liar.EndPoint);
        await h.WaitForLogAsync(Bounded, "leecher1", $"banned {liar.EndPoint}", "sent data that failed the hash check");
        await h.WaitForLogAsync(Bounded, "leecher1", $"peer {liar.EndPoint} left");
        Assert.True(leecher.Handle.AddPeers([seeder.ListenEndPoint]));

        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.True(leecher.Handle.GetStatus().FailedPieces >= 1);
        Assert.DoesNotContain(leecher.Handle.GetPeers(), p => p.EndPoint.Address.Equals(FaultyAddress));

        // The ban holds: the liar dialling in again (new port, same peer id) is turned away after the handshake.
        await using FaultyConnection again = await FaultyConnection.ConnectAsync(FaultyAddress, leecher.Session.ListenEndPoint,
            h.Torrent.InfoHash, h.Torrent.PieceCount, CancellationToken.None, liarId);
        await again.InitiateHandshakeAsync(CancellationToken.None);
        Assert.True(await again.WaitForRemoteCloseAsync(TimeSpan.FromSeconds(10)), "the banned liar was not disconnected");
        await h.WaitForLogAsync(TimeSpan.FromSeconds(5), "leecher1", $"refused {again.LocalEndPoint}", "banned");
        Assert.Null(liar.Failure);
    }

    [Fact]
    public async Task LiarRejectingEveryRequestDoesNotBlockTheDownload()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * 1024 * KiB, 64 * KiB, seed: 5);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        int rejected = 0;
        await using var liar = new FaultyPeer(FaultyAddress, h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            var bits = new BitField(h.Torrent.PieceCount);
            bits.SetAll();
            bits[h.Torrent.PieceCount - 1] = false;
            byte[] field = bits.Bytes.ToArray();
            await c.SendAsync(w => PeerMessageWriter.WriteBitfield(w, field), ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            while (await c.ReceiveAsync(ct) is { } m)
            {
                if (m.Id != MessageId.Request) continue;
                await c.SendAsync(w => PeerMessageWriter.WriteReject(w, m.Index, m.Begin, m.Length), ct);
                Interlocked.Increment(ref rejected);
            }
        });

        Leecher leecher = await h.StartLeecherAsync(liar.EndPoint);
        await FaultHarness.WaitUntilAsync(() => Volatile.Read(ref rejected) >= 16, Bounded, "the liar got no requests to reject");
        Assert.True(leecher.Handle.AddPeers([seeder.ListenEndPoint]));

        await h.AssertCompletesAsync(leecher, Bounded);
        int atCompletion = Volatile.Read(ref rejected);
        output.WriteLine($"liar rejected {atCompletion} requests until the download completed");
        // Once complete the leecher wants nothing more from it: no further requests.
        await Task.Delay(1500);
        Assert.Equal(atCompletion, Volatile.Read(ref rejected));
        PeerStatus? status = leecher.Handle.GetPeers().FirstOrDefault(p => p.EndPoint.Address.Equals(FaultyAddress));
        Assert.True(status is null || !status.AmInterested);
        Assert.Equal(0, leecher.Handle.GetStatus().FailedPieces);
        Assert.Null(liar.Failure);
    }
}
