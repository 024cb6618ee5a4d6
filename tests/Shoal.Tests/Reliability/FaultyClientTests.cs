using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Shoal.Swarm;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// Faulty peers that attack a Shoal session (mostly a seeder) while an honest Shoal leecher downloads from it:
/// request floods, absurd length prefixes, reconnect loops and connection floods.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class FaultyClientTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private const int MiB = 1024 * KiB;
    private const int BlockLength = 16 * KiB;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(20);
    private static readonly IPAddress FaultyAddress = IPAddress.Parse("127.0.0.2");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RequestFloodIsCutOffWhileTheSeederKeepsServingAnHonestLeecher(bool flooderReads)
    {
        // A reader is sent fewer than the 16,384-message send queue holds, so what it meets is the per-peer upload
        // queue (4,000 blocks) and then the flood limit (4,000 more); a non-reader is sent enough to overflow everything.
        int floodRequests = flooderReads ? 10_000 : 40_000;
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 4 * MiB, 64 * KiB, seed: 11);
        // Capped so the honest transfer is still running while the flood arrives.
        (ShoalSession seeder, _) = await h.StartSeederAsync(maxUpload: 2 * MiB);
        Leecher honest = await h.StartLeecherAsync(seeder.ListenEndPoint);
        await FaultHarness.WaitUntilAsync(() => honest.Handle.GetStatus().VerifiedPieces > 0, Bounded, "honest transfer did not start");

        long before = MeasureMemory();
        await using FaultyConnection flooder = await FaultyConnection.ConnectAsync(FaultyAddress, seeder.ListenEndPoint,
            h.Torrent.InfoHash, h.Torrent.PieceCount, CancellationToken.None);
        await flooder.InitiateHandshakeAsync(CancellationToken.None);
        int pieces = 0, rejects = 0;
        Task reading = flooderReads
            ? Task.Run(async () =>
            {
                try
                {
                    while (await flooder.ReceiveAsync(CancellationToken.None) is { } m)
                    {
                        if (m.Id == MessageId.Piece) Interlocked.Increment(ref pieces);
                        else if (m.Id == MessageId.Reject) Interlocked.Increment(ref rejects);
                    }
                }
                catch (Exception ex) when (FaultyConnection.IsDisconnect(ex)) { }
            })
            : Task.CompletedTask;

        int sent = 0;
        long peak = 0;
        try
        {
            await flooder.SendAsync(PeerMessageWriter.WriteInterested, CancellationToken.None);
            int blocksPerPiece = h.Torrent.PieceLength / BlockLength;
            for (int batch = 0; batch < floodRequests / 500; batch++)
            {
                await flooder.SendAsync(w =>
                {
                    for (int i = 0; i < 500; i++)
                    {
                        int n = batch * 500 + i;
                        PeerMessageWriter.WriteRequest(w, n / blocksPerPiece % h.Torrent.PieceCount, n % blocksPerPiece * BlockLength, BlockLength);
                    }
                }, CancellationToken.None);
                sent += 500;
            }
        }
        catch (Exception ex) when (FaultyConnection.IsDisconnect(ex))
        {
            output.WriteLine("flooder's sends failed: " + ex.Message);
        }
        await Task.Delay(1000); // let the seeder chew on what arrived
        peak = MeasureMemory();
        output.WriteLine($"flooder sent {sent} requests; memory {before / 1024} KiB before, {peak / 1024} KiB during the flood");

        await h.AssertCompletesAsync(honest, Bounded);
        // The flooder is cut off: dropped when it stops reading, or refused beyond the per-peer queue when it reads.
        if (!flooderReads)
        {
            await h.WaitForLogAsync(Bounded, "seeder", $"peer {flooder.LocalEndPoint} left");
        }
        else
        {
            // At most 4,000 blocks queued for one peer; requests beyond that are rejected, and a peer that keeps
            // asking past 4,000 rejections is dropped as a flooder (with that reason, not "stopped reading").
            await h.WaitForLogAsync(Bounded, "seeder", $"peer {flooder.LocalEndPoint} left: flooded us with requests");
            output.WriteLine($"reading flooder got {Volatile.Read(ref pieces)} pieces and {Volatile.Read(ref rejects)} rejects for {sent} requests");
            Assert.True(Volatile.Read(ref pieces) <= 4_100, $"reading flooder got {Volatile.Read(ref pieces)} pieces, more than its queue allows");
        }
        // Bounded: a per-peer queue of 4,000 requests and 16,384 messages, not thousands of 16 KiB blocks.
        Assert.True(peak - before < 64 * MiB, $"managed memory grew by {(peak - before) / MiB} MiB during the flood");
    }

    [Theory]
    [InlineData(0x7FFFFFFFu, (byte)MessageId.Piece)]
    [InlineData(0xFFFFFFFFu, (byte)MessageId.Bitfield)]
    [InlineData((uint)PeerMessageReader.MaxMessageLength + 1, (byte)99)]
    public async Task HugeLengthPrefixDropsThePeerAtOnceWithoutAllocatingIt(uint prefix, byte id)
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * MiB, 64 * KiB, seed: 12);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        bool dropped = false;
        long allocated = -1;
        await using var liar = new FaultyPeer(FaultyAddress, h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            if (ordinal > 0) return;
            await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
            long start = GC.GetTotalAllocatedBytes(precise: true);
            await c.SendAsync(w =>
            {
                Span<byte> head = w.GetSpan(64);
                BinaryPrimitives.WriteUInt32BigEndian(head, prefix);
                head[4] = id;
                head[5..64].Fill(0xAB); // the start of a body that will never end
                w.Advance(64);
            }, ct);
            dropped = await c.WaitForRemoteCloseAsync(TimeSpan.FromSeconds(10));
            allocated = GC.GetTotalAllocatedBytes(precise: true) - start;
        });

        Leecher leecher = await h.StartLeecherAsync(liar.EndPoint, seeder.ListenEndPoint);
        await h.WaitForLogAsync(Bounded, "leecher1", $"peer {liar.EndPoint} left: protocol error");
        await FaultHarness.WaitUntilAsync(() => allocated >= 0, Bounded, "the faulty peer never saw its connection end");
        Assert.True(dropped, "the leecher kept the connection open");
        output.WriteLine($"process allocated {allocated / KiB} KiB between the prefix and the disconnect");
        Assert.True(allocated < 256 * MiB, $"{allocated / MiB} MiB allocated after a {prefix}-byte length prefix");

        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.Null(liar.Failure);
    }

    [Fact]
    public async Task ReconnectLoopLeavesTheSeederWorkingAndReturnsEveryConnectionSlot()
    {
        const int maxConnections = 16;
        const int workers = 4, rounds = 75; // 300 connections
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * MiB, 32 * KiB, seed: 13);
        (ShoalSession seeder, TorrentHandle seed) = await h.StartSeederAsync(maxUpload: 1 * MiB, maxConnections: maxConnections);
        Leecher first = await h.StartLeecherAsync(seeder.ListenEndPoint);
        await FaultHarness.WaitUntilAsync(() => first.Handle.GetStatus().VerifiedPieces > 0, Bounded, "honest transfer did not start");

        // One peer id for every connection, as a restarting client would have.
        byte[] peerId = FaultyConnection.NewPeerId();
        int completedHandshakes = 0;
        async Task FlapAsync(int worker)
        {
            for (int i = 0; i < rounds; i++)
            {
                FaultyConnection? c = null;
                try
                {
                    // The connect itself may see the reset of a refusal (the seeder closes a refused socket at once).
                    c = await FaultyConnection.ConnectAsync(FaultyAddress, seeder.ListenEndPoint, h.Torrent.InfoHash,
                        h.Torrent.PieceCount, CancellationToken.None);
                    switch ((worker + i) % 3)
                    {
                        case 0: // connect and go
                            break;
                        case 1: // handshake and go before the answer
                            await c.WriteHandshakeAsync(CancellationToken.None);
                            break;
                        default: // full handshake, a HAVE_NONE and an INTERESTED, then go
                            await c.InitiateHandshakeAsync(CancellationToken.None);
                            await c.SendAsync(w => { PeerMessageWriter.WriteHaveNone(w); PeerMessageWriter.WriteInterested(w); }, CancellationToken.None);
                            Interlocked.Increment(ref completedHandshakes);
                            break;
                    }
                }
                catch (Exception ex) when (FaultyConnection.IsDisconnect(ex))
                {
                    // Refused (connection limit, duplicate peer id): part of the game.
                }
                if (c is null) continue;
                if (i % 2 == 0) c.Abort();
                await c.DisposeAsync();
            }
        }
        await Task.WhenAll(Enumerable.Range(0, workers).Select(FlapAsync));
        output.WriteLine($"{workers * rounds} connections, {completedHandshakes} full handshakes");
        Assert.True(completedHandshakes > 0, "no flapping connection got through the handshake");

        await h.AssertCompletesAsync(first, Bounded);
        await FaultHarness.WaitUntilAsync(() => !seed.GetPeers().Any(p => p.EndPoint.Address.Equals(FaultyAddress)), TimeSpan.FromSeconds(10),
            "flapping connections are still listed by the seeder: " + string.Join(", ", seed.GetPeers().Select(p => p.EndPoint)));

        // Every slot came back: with a limit of 16, 300 leaked slots would shut out these new leechers.
        Leecher[] late = [await h.StartLeecherAsync(seeder.ListenEndPoint), await h.StartLeecherAsync(seeder.ListenEndPoint)];
        foreach (Leecher leecher in late) await h.AssertCompletesAsync(leecher, Bounded);
        Assert.False(h.LogContains("seeder", "127.0.0.1", "connection limit reached"), "an honest leecher was refused for the limit");
    }

    [Fact]
    public async Task ConnectionFloodIsRefusedBeyondTheLimitWhileTheTransferCompletesInBoundedMemory()
    {
        const int flood = 1000; // the issue asks for 1,000
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 4 * MiB, 64 * KiB, seed: 14);
        (ShoalSession seeder, _) = await h.StartSeederAsync(maxUpload: 1 * MiB); // default MaxConnections 200
        Leecher honest = await h.StartLeecherAsync(seeder.ListenEndPoint);
        await FaultHarness.WaitUntilAsync(() => honest.Handle.GetStatus().VerifiedPieces > 0, Bounded, "honest transfer did not start");
        long before = MeasureMemory();

        var sockets = new Socket[flood];
        var closed = new Task[flood];
        try
        {
            await Parallel.ForAsync(0, flood, async (i, ct) =>
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets[i] = s;
                s.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 0));
                try
                {
                    await s.ConnectAsync(seeder.ListenEndPoint, ct);
                    closed[i] = WaitClosedAsync(s);
                }
                catch (SocketException)
                {
                    // Reset while connecting: the seeder took it off the backlog and refused it straight away.
                    closed[i] = Task.CompletedTask;
                }
            });
            // A connection that says nothing holds a slot until the 10 s handshake timeout; the rest are refused at once.
            await Task.Delay(2000);
            long during = MeasureMemory();
            int refusedAtOnce = closed.Count(t => t.IsCompleted);
            output.WriteLine($"{refusedAtOnce} of {flood} refused at once; memory {before / KiB} KiB before, {during / KiB} KiB with {flood} connections open");
            Assert.True(refusedAtOnce >= flood - 200 + 1, $"only {refusedAtOnce} connections refused over a limit of 200");
            Assert.True(refusedAtOnce < flood, "every connection was refused, the limit is not 200");
            Assert.True(during - before < 48 * MiB, $"managed memory grew by {(during - before) / MiB} MiB with {flood} idle connections");

            await h.AssertCompletesAsync(honest, Bounded);
            Task all = Task.WhenAll(closed);
            Assert.True(await Task.WhenAny(all, Task.Delay(Bounded)) == all,
                $"{closed.Count(t => !t.IsCompleted)} silent connections still open after the handshake timeout");
        }
        finally
        {
            foreach (Socket? s in sockets) s?.Dispose();
        }

        // The slots are back: a new leecher gets in and finishes.
        Leecher late = await h.StartLeecherAsync(seeder.ListenEndPoint);
        await h.AssertCompletesAsync(late, Bounded);
    }

    private static async Task WaitClosedAsync(Socket socket)
    {
        byte[] one = new byte[1];
        try
        {
            while (await socket.ReceiveAsync(one, SocketFlags.None) > 0) { }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
    }

    private static long MeasureMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
