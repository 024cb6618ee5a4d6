using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>
/// <see cref="FileHashTrees"/>: answering BEP 52 hash requests from piece layers and verified pieces (compared with
/// <see cref="MerkleTree.GetHashes"/> over the whole file, itself checked against Python's hashlib), and checking
/// peers' answers: what proves up to the root is kept, anything else is refused.
/// </summary>
public sealed class FileHashTreesTests
{
    private static async Task<(V2TorrentKit Kit, FileHashTrees Trees, MerkleTree Whole, int Tree)> BigFileAsync()
    {
        V2TorrentKit kit = await V2TorrentKit.CreateAsync(TorrentVersion.V2);
        var trees = new FileHashTrees(kit.Torrent);
        byte[] data = await File.ReadAllBytesAsync(Path.Combine(kit.ContentPath, "f2.bin"));
        MerkleTree whole = MerkleTree.FromData(data);
        int tree = trees.FindTree(whole.Root);
        Assert.True(tree >= 0);
        return (kit, trees, whole, tree);
    }

    [Fact]
    public async Task Piece_layer_requests_are_answered_as_the_whole_tree_answers_them()
    {
        (V2TorrentKit kit, FileHashTrees trees, MerkleTree whole, int tree) = await BigFileAsync();
        using (kit)
        {
            Assert.Equal(5, trees.GetTreeHeight(tree)); // 19 blocks -> 32 leaves
            HashRequest request = trees.PieceLayerRequest(tree, 0);
            Assert.Equal(new HashRequest(whole.Root, 2, 0, 8, 2), request);
            Assert.True(trees.TryGetHashes(request, out byte[] hashes));
            Assert.Equal(whole.GetHashes(2, 0, 8, 2), hashes);
            // Half the layer with a proof up to the root: one uncle.
            var half = new HashRequest(whole.Root, 2, 4, 4, 2);
            Assert.True(trees.TryGetHashes(half, out hashes));
            Assert.Equal(whole.GetHashes(2, 4, 4, 2), hashes);
        }
    }

    [Fact]
    public async Task Block_hashes_are_served_once_their_piece_verified_with_proofs_up_to_the_root()
    {
        (V2TorrentKit kit, FileHashTrees trees, MerkleTree whole, int tree) = await BigFileAsync();
        using (kit)
        {
            var verifier = new MerklePieceVerifier(trees);
            int piece = kit.FirstPiece(2) + 1;
            HashRequest request = trees.BlockHashesRequest(piece)!.Value;
            Assert.Equal(new HashRequest(whole.Root, 0, 4, 4, 1), request);
            Assert.False(trees.TryGetHashes(request, out _)); // not verified yet: nothing to serve
            Assert.True(verifier.VerifyPiece(piece, kit.Piece(piece)));
            Assert.True(trees.TryGetHashes(request, out byte[] hashes));
            Assert.Equal(whole.GetHashes(0, 4, 4, 1), hashes);
            var toRoot = request with { ProofLayers = 4 };
            Assert.True(trees.TryGetHashes(toRoot, out hashes));
            Assert.Equal(whole.GetHashes(0, 4, 4, 4), hashes);
            // The last piece (3 blocks and a short one): the missing leaf is a zero hash.
            int last = kit.FirstPiece(2) + 4;
            Assert.True(verifier.VerifyPiece(last, kit.Piece(last)));
            Assert.True(trees.TryGetHashes(trees.BlockHashesRequest(last)!.Value with { ProofLayers = 4 }, out hashes));
            Assert.Equal(whole.GetHashes(0, 16, 4, 4), hashes);
        }
    }

    [Fact]
    public async Task Malformed_or_unknown_requests_are_refused()
    {
        (V2TorrentKit kit, FileHashTrees trees, MerkleTree whole, int _) = await BigFileAsync();
        using (kit)
        {
            Assert.False(trees.TryGetHashes(new HashRequest(Sha256Hash.Compute("other"u8), 2, 0, 8, 2), out _));
            Assert.False(trees.TryGetHashes(new HashRequest(whole.Root, 2, 1, 8, 2), out _));   // index not a multiple
            Assert.False(trees.TryGetHashes(new HashRequest(whole.Root, 2, 0, 3, 0), out _));   // not a power of two
            Assert.False(trees.TryGetHashes(new HashRequest(whole.Root, 2, 0, 16, 0), out _));  // past the layer
            Assert.False(trees.TryGetHashes(new HashRequest(whole.Root, 2, 0, 8, 3), out _));   // above the root
            Assert.False(trees.TryGetHashes(new HashRequest(whole.Root, 0, 0, 1024, 0), out _)); // over 512
        }
    }

    [Fact]
    public async Task A_magnet_learns_its_piece_layers_from_an_answer_that_proves_up_to_the_root()
    {
        (V2TorrentKit kit, FileHashTrees seeder, MerkleTree whole, int seederTree) = await BigFileAsync();
        using (kit)
        {
            var leecher = new FileHashTrees(Torrent.FromInfoDictionary(kit.Torrent.InfoDictionary));
            Assert.False(leecher.HasAllLayers);
            int tree = leecher.FindTree(whole.Root);
            Assert.Null(leecher.GetPieceLayer(tree));
            Assert.Equal([0], leecher.MissingLayerParts(tree));
            HashRequest request = leecher.PieceLayerRequest(tree, 0);
            Assert.True(seeder.TryGetHashes(request, out byte[] answer));

            byte[] forged = (byte[])answer.Clone();
            forged[40] ^= 1;
            Assert.Null(leecher.TryAddHashes(request, forged));
            Assert.Null(leecher.TryAddHashes(request, answer.AsSpan(0, answer.Length - 32))); // short
            Assert.Null(leecher.GetPieceLayer(tree));

            Assert.NotNull(leecher.TryAddHashes(request, answer));
            Assert.Equal(seeder.GetPieceLayer(seederTree), leecher.GetPieceLayer(tree));
            Assert.Empty(leecher.MissingLayerParts(tree));
            Assert.True(leecher.CanVerify(kit.FirstPiece(2) + 4));
            Assert.False(leecher.HasAllLayers); // the two-piece file's layer is still missing
            Assert.True(new MerklePieceVerifier(leecher).VerifyPiece(kit.FirstPiece(2), kit.Piece(kit.FirstPiece(2))));
        }
    }

    [Fact]
    public async Task Block_hashes_from_a_peer_are_checked_against_the_known_piece_hash()
    {
        (V2TorrentKit kit, FileHashTrees seeder, MerkleTree _, int _) = await BigFileAsync();
        using (kit)
        {
            int piece = kit.FirstPiece(2) + 2;
            Assert.True(new MerklePieceVerifier(seeder).VerifyPiece(piece, kit.Piece(piece)));
            var leecher = new FileHashTrees(kit.Torrent);
            HashRequest request = leecher.BlockHashesRequest(piece)!.Value;
            Assert.True(seeder.TryGetHashes(request, out byte[] answer));
            Assert.Equal(seeder.GetBlockHashes(piece).ToArray(), leecher.TryAddHashes(request, answer));
            answer[0] ^= 1;
            Assert.Null(leecher.TryAddHashes(request, answer));
        }
    }

    [Fact]
    public async Task A_piece_layer_from_resume_data_is_accepted_only_when_it_hashes_to_the_root()
    {
        (V2TorrentKit kit, FileHashTrees seeder, MerkleTree whole, int seederTree) = await BigFileAsync();
        using (kit)
        {
            var leecher = new FileHashTrees(Torrent.FromInfoDictionary(kit.Torrent.InfoDictionary));
            int tree = leecher.FindTree(whole.Root);
            byte[] layer = seeder.GetPieceLayer(seederTree)!;
            byte[] wrong = (byte[])layer.Clone();
            wrong[^1] ^= 1;
            Assert.False(leecher.TrySetPieceLayer(tree, wrong));
            Assert.False(leecher.TrySetPieceLayer(tree, layer.AsSpan(32)));
            Assert.True(leecher.TrySetPieceLayer(tree, layer));
            Assert.True(leecher.CanVerify(kit.FirstPiece(2)));
        }
    }
}
