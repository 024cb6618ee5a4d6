using System.Diagnostics;
using System.Net;
using Shoal.Discovery;
using Shoal.Swarm;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// Peers that make a seeder queue data for them and never read it (issue 13, item 1). The bound under test is the
/// per-peer one: a connection that stops reading is cut off before it holds about 4 MiB of the seeder's memory, so
/// six of them cost at most a few tens of MiB, and the memory comes back once they are gone.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class MemoryFloodTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private const int MiB = 1024 * KiB;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);

    /// <summary>The stated bound per peer that does not read (docs/reliability.md).</summary>
    private const long PerPeerBound = 4 * MiB;

    [Fact]
    public async Task MetadataRequestFloodFromPeersThatNeverReadIsCutOffInBoundedMemoryThatComesBack()
    {
        const int attackers = 6;
        // Loopback sockets buffer several MiB in the kernel before the seeder's own queue even starts to fill, so each
        // flooder keeps asking until it is cut off (at most this many requests: 300,000 are 9 MB on the wire).
        const int maxRequestsEach = 300_000;
        // 1,024 pieces of 16 KiB: a 20 KiB info dictionary, so metadata piece 0 is a full 16 KiB answer.
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 16 * MiB, 16 * KiB, seed: 101);
        Assert.True(h.Torrent.InfoDictionary.Length > MetadataMessage.BlockSize);
        (ShoalSession seeder, _) = await h.StartSeederAsync();

        Memory before = Memory.Measure();
        Memory.ResetPeakResident();
        var connections = new List<FaultyConnection>();
        // Full collections every 250 ms while the flood lasts: the largest live heap seen is what the flooders held.
        using var sampling = new CancellationTokenSource();
        long peakHeap = before.Heap;
        Task sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakHeap = Math.Max(peakHeap, Memory.Measure().Heap);
                try { await Task.Delay(250, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        try
        {
            byte[] request = MetadataMessage.Request(0).Encode();
            byte[] handshake = new ExtensionHandshake
            {
                Extensions = new Dictionary<string, byte> { [ExtensionIds.MetadataName] = 3 },
            }.Encode();
            await Task.WhenAll(Enumerable.Range(0, attackers).Select(async i =>
            {
                FaultyConnection c = await FaultyConnection.ConnectAsync(IPAddress.Parse($"127.0.0.{10 + i}"), seeder.ListenEndPoint,
                    h.Torrent.InfoHash, h.Torrent.PieceCount, CancellationToken.None, reserved: ReservedBits.Create(extension: true, fast: true, dht: false));
                lock (connections) connections.Add(c);
                await c.InitiateHandshakeAsync(CancellationToken.None);
                await c.SendAsync(w => PeerMessageWriter.WriteExtended(w, ExtensionIds.Handshake, handshake), CancellationToken.None);
                // Never read: every answer stays with the seeder once the socket buffers are full.
                try
                {
                    for (int batch = 0; batch < maxRequestsEach / 500; batch++)
                    {
                        await c.SendAsync(w =>
                        {
                            for (int n = 0; n < 500; n++) PeerMessageWriter.WriteExtended(w, ExtensionIds.Metadata, request);
                        }, CancellationToken.None);
                    }
                }
                catch (Exception ex) when (FaultyConnection.IsDisconnect(ex))
                {
                    // Cut off mid-flood: the point of the test.
                }
            }));

            // The seeder has parsed what arrived; an honest leecher still gets the whole file meanwhile.
            Leecher honest = await h.StartLeecherAsync(seeder.ListenEndPoint);
            await h.AssertCompletesAsync(honest, Bounded);
            // Its session (and the buffers its pools keep) is not the seeder's memory: out of the way before measuring.
            await honest.Session.DisposeAsync();
            // Each flooder is cut off as a peer that stopped reading, or was never let in: while the flood fills the
            // torrent's mailbox, an incoming connection is refused as "torrent is busy" (a bound doing its job too).
            foreach (FaultyConnection c in connections)
            {
                await FaultHarness.WaitUntilAsync(
                    () => h.LogContains("seeder", $"peer {c.LocalEndPoint} left: stopped reading") || h.LogContains("seeder", $"incoming {c.LocalEndPoint} refused"),
                    Bounded, $"flooder {c.LocalEndPoint} was neither cut off as not reading nor refused");
            }
            await sampling.CancelAsync();
            await sampler;
            long peakResident = Memory.PeakResident();
            output.WriteLine($"before: {before}; with {attackers} flooders: peak heap {peakHeap / MiB} MiB, peak resident {peakResident / MiB} MiB");

            long heapBound = attackers * PerPeerBound + 16 * MiB;
            Assert.True(peakHeap - before.Heap < heapBound,
                $"managed heap grew by {(peakHeap - before.Heap) / MiB} MiB with {attackers} flooders (bound {heapBound / MiB} MiB)");
            if (peakResident > 0)
            {
                // Resident memory also holds the GC's allocation budget and the honest transfer's buffers: a generous margin.
                long residentBound = attackers * PerPeerBound + 128 * MiB;
                Assert.True(peakResident - before.Resident < residentBound,
                    $"resident memory peaked {(peakResident - before.Resident) / MiB} MiB above the start (bound {residentBound / MiB} MiB)");
            }
        }
        finally
        {
            await sampling.CancelAsync();
            await sampler;
            foreach (FaultyConnection c in connections) await c.DisposeAsync();
        }

        // Gone: the memory is back (pooled buffers returned, nothing retained by the closed connections).
        await FaultHarness.WaitUntilAsync(() => seeder.Torrents[0].GetPeers().Count == 0, Bounded, "flooders still listed");
        // Idle pooled buffers are let go within two trim intervals (10 s each) of their last use.
        Memory after = before;
        await Eventually.TrueAsync(() => (after = Memory.Measure()).Heap - before.Heap < 4 * MiB, TimeSpan.FromSeconds(30),
            () => $"managed heap still {(after.Heap - before.Heap) / MiB} MiB above the start 30 s after the flooders left", pollMilliseconds: 500);
        output.WriteLine($"after the flooders left: {after}");
        Assert.True(after.Resident - before.Resident < 96 * MiB, $"resident memory still {(after.Resident - before.Resident) / MiB} MiB above the start");
    }

    /// <summary>Managed heap after a full collection, and the process's resident set.</summary>
    private readonly record struct Memory(long Heap, long Resident)
    {
        public static Memory Measure()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            using var process = Process.GetCurrentProcess();
            return new Memory(heap, process.WorkingSet64);
        }

        /// <summary>Resets the kernel's resident high-water mark (Linux: "5" into clear_refs); silently nothing elsewhere.</summary>
        public static void ResetPeakResident()
        {
            try { File.WriteAllText("/proc/self/clear_refs", "5"); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }

        /// <summary>The resident high-water mark since the last reset (VmHWM); 0 when unknown.</summary>
        public static long PeakResident()
        {
            try
            {
                foreach (string line in File.ReadLines("/proc/self/status"))
                {
                    if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * KiB;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
            return 0;
        }

        public override string ToString() => $"heap {Heap / MiB} MiB, resident {Resident / MiB} MiB";
    }
}
