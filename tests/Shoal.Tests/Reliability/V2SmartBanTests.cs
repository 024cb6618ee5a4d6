using System.Buffers;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// Smart ban in a v2 swarm (BEP 52): when a piece made of several peers' blocks fails, the right block hashes are asked
/// of a peer (hash request, proved up to the piece's hash), the bad block is named at once and its sender banned,
/// without waiting for the piece to be downloaded again.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class V2SmartBanTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private const int BlockLength = 16 * KiB;
    private const int PieceLength = 64 * KiB;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task A_peer_that_sends_one_corrupt_block_of_a_shared_piece_is_named_by_block_hashes_and_banned()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 1024 * KiB, PieceLength, seed: 18, TorrentVersion.V2);
        Assert.Equal(TorrentVersion.V2, h.Torrent.Version);
        // The honest seeder is slow, so a failed piece's retry cannot finish before the block hashes arrive: the ban
        // must come from the hashes (the v1-style comparison with the retried copy would name the same block later).
        (ShoalSession seeder, _) = await h.StartSeederAsync(maxUpload: 128 * KiB);
        await using var liar = new FaultyPeer(System.Net.IPAddress.Loopback, h.Torrent.InfoHash, h.Torrent.PieceCount, async (c, ordinal, ct) =>
        {
            await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
            await c.SendAsync(PeerMessageWriter.WriteUnchoke, ct);
            byte[] garbage = new byte[BlockLength];
            new Random(180 + ordinal).NextBytes(garbage);
            while (await c.ReceiveAsync(ct, keepPayload: true) is { } m)
            {
                if (m.Id == MessageId.HashRequest)
                {
                    // It has no hashes to give (it has no data either): it says so, as a v2 peer must.
                    byte[] body = c.LastPayload!;
                    await c.SendAsync(w => PeerMessageWriter.WriteHashMessage(w, MessageId.HashReject, body), ct);
                    continue;
                }
                if (m.Id != MessageId.Request) continue;
                // Only the second block of each piece, and that one corrupt; the rest it refuses (fast extension), so
                // every piece it touches is shared with the honest seeder.
                if (m.Begin == BlockLength) await c.SendAsync(w => PeerMessageWriter.WritePiece(w, m.Index, m.Begin, garbage.AsSpan(0, m.Length)), ct);
                else await c.SendAsync(w => PeerMessageWriter.WriteReject(w, m.Index, m.Begin, m.Length), ct);
            }
        });

        Leecher leecher = await h.StartLeecherAsync(liar.EndPoint, seeder.ListenEndPoint);

        await h.WaitForLogAsync(Bounded, "leecher1", $"banned {liar.EndPoint}", "BEP 52 block hash");
        await h.AssertCompletesAsync(leecher, Bounded);
        Assert.Null(h.FindLog("leecher1", $"banned {seeder.ListenEndPoint}"));
        Assert.Null(liar.Failure);
    }
}
