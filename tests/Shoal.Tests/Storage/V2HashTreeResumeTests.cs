using System.Buffers.Binary;
using System.Security.Cryptography;
using Shoal.Bencoding;
using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>
/// <see cref="HashTreeResume"/>: what a v2 torrent's merkle trees learned (piece layers and proved parts of them from
/// peers, block hashes of verified pieces) survives a restart through resume data, and nothing in resume data is
/// trusted unless it proves up to the torrent's pieces roots.
/// </summary>
public sealed class V2HashTreeResumeTests
{
    /// <summary>
    /// A leecher that knows the torrent from a magnet link (no layers) and has learned: the first half of f2's layer (5
    /// pieces: a part of 4 proved by one uncle), f3's whole layer (2 pieces), and f3's first piece (verified).
    /// </summary>
    private static async Task<(V2TorrentKit Kit, FileHashTrees Seed, FileHashTrees Leecher)> LearnedAsync()
    {
        V2TorrentKit kit = await V2TorrentKit.CreateAsync(TorrentVersion.V2);
        var seed = new FileHashTrees(kit.Torrent);
        var leecher = new FileHashTrees(Torrent.FromInfoDictionary(kit.Torrent.InfoDictionary));
        int f2 = Tree(leecher, kit, 2), f3 = Tree(leecher, kit, 3);
        var half = new HashRequest(leecher.GetRoot(f2), leecher.PieceLayer, 0, 4, leecher.GetTreeHeight(f2) - leecher.PieceLayer - 1);
        Assert.True(seed.TryGetHashes(half, out byte[] answer));
        Assert.NotNull(leecher.TryAddHashes(half, answer));
        HashRequest whole = leecher.PieceLayerRequest(f3, 0);
        Assert.True(seed.TryGetHashes(whole, out answer));
        Assert.NotNull(leecher.TryAddHashes(whole, answer));
        Assert.True(new MerklePieceVerifier(leecher).VerifyPiece(kit.FirstPiece(3), kit.Piece(kit.FirstPiece(3))));
        return (kit, seed, leecher);
    }

    private static int Tree(FileHashTrees trees, V2TorrentKit kit, int file) => trees.GetTreeOfPiece(kit.FirstPiece(file));

    private static FileHashTrees Restarted(V2TorrentKit kit) => new(Torrent.FromInfoDictionary(kit.Torrent.InfoDictionary));

    [Fact]
    public async Task Layers_parts_and_block_hashes_learned_come_back_after_a_restart()
    {
        (V2TorrentKit kit, FileHashTrees seed, FileHashTrees leecher) = await LearnedAsync();
        using (kit)
        {
            byte[] state = HashTreeResume.Capture(leecher) ?? throw new InvalidOperationException("nothing captured");
            FileHashTrees restarted = Restarted(kit);
            HashTreeResume.Restored restored = HashTreeResume.Restore(restarted, state);
            Assert.Empty(restored.Refused);
            Assert.Equal((1, 1, 1), (restored.Layers, restored.Parts, restored.Pieces));

            int f2 = Tree(restarted, kit, 2), f3 = Tree(restarted, kit, 3);
            Assert.Equal(seed.GetPieceLayer(Tree(seed, kit, 3)), restarted.GetPieceLayer(f3));
            Assert.True(restarted.HasBlockHashes(kit.FirstPiece(3)));
            Assert.True(restarted.TryGetHashes(restarted.BlockHashesRequest(kit.FirstPiece(3))!.Value, out _)); // served again
            Assert.False(restarted.HasBlockHashes(kit.FirstPiece(3) + 1));

            // The part came back: the other half alone completes f2's layer.
            Assert.Single(restarted.GetLayerParts(f2));
            var rest = new HashRequest(restarted.GetRoot(f2), restarted.PieceLayer, 4, 4, restarted.GetTreeHeight(f2) - restarted.PieceLayer - 1);
            Assert.True(seed.TryGetHashes(rest, out byte[] answer));
            Assert.NotNull(restarted.TryAddHashes(rest, answer));
            Assert.Equal(seed.GetPieceLayer(Tree(seed, kit, 2)), restarted.GetPieceLayer(f2));
            Assert.Empty(restarted.GetLayerParts(f2)); // a whole layer keeps no parts
        }
    }

    [Fact]
    public async Task Layers_that_came_with_the_torrent_are_not_kept_again()
    {
        using V2TorrentKit kit = await V2TorrentKit.CreateAsync(TorrentVersion.V2);
        var trees = new FileHashTrees(kit.Torrent);
        Assert.Null(HashTreeResume.Capture(trees)); // nothing learned
        Assert.True(new MerklePieceVerifier(trees).VerifyPiece(kit.FirstPiece(2), kit.Piece(kit.FirstPiece(2))));
        var state = (BDictionary)Bencode.Decode(HashTreeResume.Capture(trees)!);
        var entry = (BDictionary)Assert.Single(state.GetList("trees"));
        Assert.False(entry.ContainsKey("layer"));
        Assert.True(entry.ContainsKey("blocks"));
    }

    [Theory]
    [InlineData("layer", "the piece layer of file")]
    [InlineData("parts", "part(s) of the piece layer of file")]
    [InlineData("blocks", "piece(s) whose block hashes do not hash up to the piece's hash")]
    public async Task A_tampered_layer_part_or_block_hash_is_refused_and_named(string field, string logged)
    {
        (V2TorrentKit kit, FileHashTrees _, FileHashTrees leecher) = await LearnedAsync();
        using (kit)
        {
            var state = (BDictionary)Bencode.Decode(HashTreeResume.Capture(leecher)!);
            foreach (BDictionary entry in state.GetList("trees").Cast<BDictionary>())
            {
                if (field == "parts" && entry.TryGetList("parts", out BList? parts))
                {
                    var part = (BDictionary)parts[0];
                    part.Set("hashes", Flip(part.GetString("hashes")));
                }
                else if (field != "parts" && entry.TryGetString(field, out BString? value)) entry.Set(field, Flip(value));
            }
            FileHashTrees restarted = Restarted(kit);
            HashTreeResume.Restored restored = HashTreeResume.Restore(restarted, Bencode.Encode(state));
            string refused = Assert.Single(restored.Refused);
            Assert.Contains(logged, refused, StringComparison.Ordinal);
            Assert.Contains("discarded", refused, StringComparison.Ordinal);
            int f2 = Tree(restarted, kit, 2), f3 = Tree(restarted, kit, 3);
            if (field == "layer") Assert.Null(restarted.GetPieceLayer(f3));
            if (field == "parts") Assert.Empty(restarted.GetLayerParts(f2));
            if (field != "parts") Assert.False(restarted.HasBlockHashes(kit.FirstPiece(3)));
            // A block hash is refused whatever proves it: with the layer refused nothing does, with it kept the hashes do not.
            if (field == "blocks") Assert.NotNull(restarted.GetPieceLayer(f3));
        }
    }

    [Fact]
    public async Task Garbage_foreign_roots_and_wrong_types_are_refused_without_throwing()
    {
        (V2TorrentKit kit, FileHashTrees _, FileHashTrees leecher) = await LearnedAsync();
        using (kit)
        {
            byte[] good = HashTreeResume.Capture(leecher)!;
            var random = new Random(18);
            for (int i = 0; i < 2000; i++)
            {
                byte[] bad = (byte[])good.Clone();
                for (int k = random.Next(1, 4); k > 0; k--) bad[random.Next(bad.Length)] = (byte)random.Next(256);
                FileHashTrees restarted = Restarted(kit);
                HashTreeResume.Restore(restarted, bad); // never throws
                // Whatever was taken back proves: a layer taken back is the right one, and so are block hashes.
                int f3 = Tree(restarted, kit, 3);
                if (restarted.GetPieceLayer(f3) is { } layer) Assert.Equal(leecher.GetPieceLayer(Tree(leecher, kit, 3)), layer);
                if (restarted.HasBlockHashes(kit.FirstPiece(3))) Assert.Equal(leecher.GetBlockHashes(kit.FirstPiece(3)).ToArray(), restarted.GetBlockHashes(kit.FirstPiece(3)).ToArray());
            }
            Assert.NotEmpty(HashTreeResume.Restore(Restarted(kit), "not bencode"u8.ToArray()).Refused);
            Assert.NotEmpty(HashTreeResume.Restore(Restarted(kit), "d5:treesi1ee"u8.ToArray()).Refused);
            var foreign = new BDictionary();
            var entry = new BDictionary();
            entry.Set("root", new BString(SHA256.HashData("another file"u8)));
            entry.Set("layer", new BString(new byte[64]));
            foreign.Set("trees", new BList([entry]));
            Assert.Contains("no file of this torrent", Assert.Single(HashTreeResume.Restore(Restarted(kit), Bencode.Encode(foreign)).Refused), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Resume_files_carry_the_hash_trees_as_version_3_and_stay_version_1_without()
    {
        (V2TorrentKit kit, FileHashTrees _, FileHashTrees leecher) = await LearnedAsync();
        using (kit)
        {
            var bits = new BitField(kit.Torrent.PieceCount);
            bits[kit.FirstPiece(3)] = true;
            ResumeFileState[] files = [.. kit.Torrent.Files.Select(f => new ResumeFileState(f.Length, 638_000_000_000_000_000))];
            byte[] state = HashTreeResume.Capture(leecher)!;
            var plain = new ResumeData(kit.Torrent.InfoHash, V2TorrentKit.PieceLength, bits, files, 1);
            var withTrees = new ResumeData(kit.Torrent.InfoHash, V2TorrentKit.PieceLength, bits, files, 1) { HashTrees = state };

            byte[] v1 = ResumeFile.Serialize(plain);
            Assert.Equal(ResumeFile.FormatVersion, BinaryPrimitives.ReadInt32LittleEndian(v1.AsSpan(8)));
            Assert.Null(ResumeFile.TryParse(v1, kit.Torrent.InfoHash, out _)!.HashTrees);

            byte[] v2 = ResumeFile.Serialize(withTrees);
            Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(v2.AsSpan(8))); // 2 is renamed files alone
            ResumeData parsed = ResumeFile.TryParse(v2, kit.Torrent.InfoHash, out string? why) ?? throw new InvalidOperationException(why);
            Assert.Equal(state, parsed.HashTrees);
            Assert.Equal(bits.Bytes.ToArray(), parsed.VerifiedBytes.ToArray());
            Assert.Equal(files, parsed.Files);

            for (int n = 0; n < v2.Length; n += 7) Assert.Null(ResumeFile.TryParse(v2.AsSpan(0, n), kit.Torrent.InfoHash, out _));
            byte[] lying = (byte[])v2.Clone();
            BinaryPrimitives.WriteInt32LittleEndian(lying.AsSpan(v2.Length - 20 - state.Length - 4), state.Length + 1); // section length past the end
            SHA1.HashData(lying.AsSpan(0, lying.Length - 20), lying.AsSpan(lying.Length - 20));
            Assert.Null(ResumeFile.TryParse(lying, kit.Torrent.InfoHash, out why));
            Assert.Contains("size", why, StringComparison.Ordinal);

            // Renamed files and trees together: both come back, and renaming keeps the trees.
            var renamed = new Dictionary<int, string> { [0] = "renamed/first.bin" };
            byte[] both = ResumeFile.Serialize(withTrees.WithRenamedFiles(renamed));
            Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(both.AsSpan(8)));
            ResumeData again = ResumeFile.TryParse(both, kit.Torrent.InfoHash, out why) ?? throw new InvalidOperationException(why);
            Assert.Equal(state, again.HashTrees);
            Assert.Equal("renamed/first.bin", again.RenamedFiles[0]);
            byte[] renamesOnly = ResumeFile.Serialize(plain.WithRenamedFiles(renamed));
            Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(renamesOnly.AsSpan(8)));
            Assert.Null(ResumeFile.TryParse(renamesOnly, kit.Torrent.InfoHash, out _)!.HashTrees);
        }
    }

    private static BString Flip(BString value)
    {
        byte[] bytes = value.Bytes.ToArray();
        bytes[bytes.Length / 2] ^= 0x10;
        return new BString(bytes);
    }
}
