using System.Net;
using Shoal.Swarm;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>Bans fall on the offender (endpoint and peer id), not on honest peers that share its IP address.</summary>
[Collection(ReliabilityCollection.Name)]
public sealed class BanTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private const int BlockLength = 16 * KiB;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ALiarAndAnHonestSeederOnOneAddressTheLiarIsBannedAndTheDownloadCompletes()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * 1024 * KiB, 64 * KiB, seed: 12);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        Assert.Equal(IPAddress.Loopback, seeder.ListenEndPoint.Address);
        await using var liar = new FaultyPeer(IPAddress.Loopback, h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            var random = new Random(120 + ordinal);
            byte[] garbage = new byte[BlockLength];
            while (await c.ReceiveAsync(ct) is { } m)
            {
                if (m.Id != MessageId.Request) continue;
                random.NextBytes(garbage);
                await c.SendAsync(w => PeerMessageWriter.WritePiece(w, m.Index, m.Begin, garbage.AsSpan(0, m.Length)), ct);
            }
        });

        // Both on 127.0.0.1, known from the start.
        Leecher leecher = await h.StartLeecherAsync(liar.EndPoint, seeder.ListenEndPoint);

        await h.WaitForLogAsync(Bounded, "leecher1", $"banned {liar.EndPoint}");
        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.Null(h.FindLog("leecher1", $"banned {seeder.ListenEndPoint}"));
        Assert.Null(h.FindLog("leecher1", "the whole address"));
        Assert.DoesNotContain(leecher.Handle.GetPeers(), p => p.EndPoint.Equals(liar.EndPoint));
        Assert.Null(liar.Failure);
    }
}
