using Shoal.Picking;
using static Shoal.Tests.Picking.PickerTestUtil;

namespace Shoal.Tests.Picking;

/// <summary>
/// One downloader, one seed and several partial peers, delivering in random order with dropped requests and
/// one failed hash check, until complete. Checks the picker's bookkeeping end to end.
/// </summary>
public sealed class PickerSimulationTests
{
    private const int B = PiecePicker.BlockLength;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void SwarmDownload_CompletesWithEveryBlockReceivedOnce(int seed)
    {
        var random = new Random(seed);
        const int pieceCount = 37;
        const int pieceLength = 4 * B;
        long total = 36L * pieceLength + 40000; // last piece: 3 blocks, the last one 7232 bytes
        var picker = new PiecePicker(pieceCount, pieceLength, total, new BitField(pieceCount), new Random(seed * 31));

        const int peerCount = 7;
        var peers = new BitField[peerCount];
        peers[0] = Full(pieceCount);
        for (int i = 1; i < peerCount; i++) peers[i] = RandomField(pieceCount, random, 0.3 + 0.1 * i);
        foreach (BitField f in peers) picker.AddPeer(f);

        var outstanding = new List<BlockRequest>[peerCount];
        for (int i = 0; i < peerCount; i++) outstanding[i] = new List<BlockRequest>();
        var requestedEver = new HashSet<BlockRequest>();
        var received = new HashSet<BlockRequest>();
        var duplicated = new HashSet<BlockRequest>();
        var receivedPerPiece = new int[pieceCount];
        bool failedOnce = false;
        var buffer = new BlockRequest[8];
        var cancels = new List<int>();
        int rounds = 0;

        while (!picker.IsComplete)
        {
            Assert.True(++rounds < 5000, "download did not finish");
            for (int k = 0; k < peerCount; k++)
            {
                // Refill the pipeline.
                if (picker.IsInteresting(peers[k]) && outstanding[k].Count < buffer.Length)
                {
                    int n = picker.PickBlocks(k, peers[k], buffer.AsSpan(0, buffer.Length - outstanding[k].Count));
                    for (int i = 0; i < n; i++)
                    {
                        BlockRequest r = buffer[i];
                        Assert.True(peers[k][r.Piece]);
                        Assert.DoesNotContain(r, outstanding[k]);
                        Assert.DoesNotContain(r, received);
                        Assert.Equal(Math.Min(B, picker.PieceSize(r.Piece) - r.Offset), r.Length);
                        bool elsewhere = false;
                        for (int j = 0; j < peerCount; j++) elsewhere |= j != k && outstanding[j].Contains(r);
                        if (elsewhere)
                        {
                            Assert.True(picker.InEndgame, $"block {r} handed twice outside endgame");
                            duplicated.Add(r);
                        }
                        requestedEver.Add(r);
                        outstanding[k].Add(r);
                    }
                }

                // Deliver a few blocks in random order; sometimes drop one (choke, reject, timeout).
                int deliver = random.Next(4);
                for (int d = 0; d < deliver && outstanding[k].Count > 0; d++)
                {
                    int index = random.Next(outstanding[k].Count);
                    BlockRequest r = outstanding[k][index];
                    outstanding[k].RemoveAt(index);
                    if (random.Next(30) == 0)
                    {
                        picker.OnRequestDropped(k, r);
                        continue;
                    }
                    if (!picker.OnBlockReceived(k, r, cancels))
                    {
                        Assert.Contains(r, duplicated); // only an endgame duplicate may arrive unwanted
                        continue;
                    }
                    Assert.True(received.Add(r), $"block {r} accepted twice");
                    foreach (int other in cancels)
                    {
                        Assert.NotEqual(k, other);
                        Assert.True(outstanding[other].Remove(r), "cancel for a block the peer did not have requested");
                    }
                    if (++receivedPerPiece[r.Piece] == picker.BlockCount(r.Piece))
                    {
                        if (!failedOnce && r.Piece == 5)
                        {
                            failedOnce = true;
                            picker.OnPieceFailed(5);
                            received.RemoveWhere(b => b.Piece == 5);
                            receivedPerPiece[5] = 0;
                        }
                        else
                        {
                            picker.OnPieceVerified(r.Piece);
                        }
                    }
                }
            }
        }

        Assert.True(failedOnce);
        Assert.NotEmpty(duplicated); // the endgame path was exercised
        int blocks = 0;
        for (int p = 0; p < pieceCount; p++)
        {
            Assert.True(picker.HasPiece(p));
            for (int b = 0; b < picker.BlockCount(p); b++)
            {
                var block = new BlockRequest(p, b * B, Math.Min(B, picker.PieceSize(p) - b * B));
                Assert.Contains(block, requestedEver);
                Assert.Contains(block, received);
                blocks++;
            }
        }
        Assert.Equal(blocks, requestedEver.Count);
        Assert.Equal(0, picker.MissingPieces);
        Assert.Equal(0, picker.PartialPieces);
    }
}
