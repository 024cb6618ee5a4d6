using System.Text.Json;
using Shoal.Metainfo;

namespace Shoal.Tests.Metainfo;

/// <summary>
/// <see cref="MerkleTree"/> against vectors computed independently with Python's hashlib
/// (Corpus/make_merkle_vectors.py, its own merkle.py): roots of files of every size class, piece layers for
/// several piece lengths, BEP 52 hash-request answers (proofs), and the padding hashes.
/// </summary>
public sealed class MerkleTreeTests
{
    private static readonly JsonElement Vectors =
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TorrentCorpus.Directory(), "merkle_vectors.json"))).RootElement.Clone();

    private static byte[] Content(int size)
    {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) data[i] = (byte)((i * 131) + (i >> 11));
        return data;
    }

    private static byte[] Hex(IEnumerable<JsonElement> hashes) => [.. hashes.SelectMany(h => Convert.FromHexString(h.GetString()!))];

    public static TheoryData<int> Sizes() => [.. Vectors.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("size").GetInt32())];

    private static JsonElement FileVector(int size) =>
        Vectors.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("size").GetInt32() == size);

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Root_and_piece_layers_match_the_independent_vectors(int size)
    {
        JsonElement vector = FileVector(size);
        byte[] data = Content(size);
        MerkleTree tree = MerkleTree.FromData(data);
        Assert.Equal(vector.GetProperty("leaves").GetInt32(), tree.LeafCount);
        Assert.Equal((size + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize, tree.BlockCount);
        Assert.Equal(vector.GetProperty("root").GetString(), tree.Root.ToHex());

        foreach (JsonProperty layer in vector.GetProperty("piece_layers").EnumerateObject())
        {
            int pieceLength = int.Parse(layer.Name, System.Globalization.CultureInfo.InvariantCulture);
            byte[] expected = Hex(layer.Value.EnumerateArray());
            Assert.Equal(expected, tree.GetPieceLayer(pieceLength));
            // The root comes back from the piece layer alone (how a torrent's 'piece layers' are checked) ...
            Assert.Equal(tree.Root, MerkleTree.RootFromPieceLayer(expected, pieceLength));
            // ... and each piece hash from that piece's blocks (how a piece is verified once downloaded).
            int pieces = expected.Length / MerkleTree.HashSize;
            for (int p = 0; p < pieces; p++)
            {
                int start = p * pieceLength;
                int blocks = (Math.Min(pieceLength, size - start) + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize;
                ReadOnlySpan<byte> leaves = tree.GetLayer(0).Slice(start / MerkleTree.BlockSize * MerkleTree.HashSize, blocks * MerkleTree.HashSize);
                Assert.Equal(expected.AsSpan(p * MerkleTree.HashSize, MerkleTree.HashSize).ToArray(), MerkleTree.PieceHash(leaves, pieceLength, size).Span.ToArray());
            }
        }
    }

    public static TheoryData<int, int, int, int, int> Proofs()
    {
        var data = new TheoryData<int, int, int, int, int>();
        foreach (JsonElement file in Vectors.GetProperty("files").EnumerateArray())
        {
            foreach (JsonElement proof in file.GetProperty("proofs").EnumerateArray())
            {
                data.Add(file.GetProperty("size").GetInt32(), proof.GetProperty("base").GetInt32(), proof.GetProperty("index").GetInt32(),
                    proof.GetProperty("length").GetInt32(), proof.GetProperty("proof_layers").GetInt32());
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Proofs))]
    public void Hash_request_answers_match_the_vectors_and_verify_against_the_root(int size, int baseLayer, int index, int length, int proofLayers)
    {
        JsonElement proof = FileVector(size).GetProperty("proofs").EnumerateArray().Single(p =>
            p.GetProperty("base").GetInt32() == baseLayer && p.GetProperty("index").GetInt32() == index
            && p.GetProperty("length").GetInt32() == length && p.GetProperty("proof_layers").GetInt32() == proofLayers);
        MerkleTree tree = MerkleTree.FromData(Content(size));
        byte[] answer = tree.GetHashes(baseLayer, index, length, proofLayers);
        Assert.Equal(Hex(proof.GetProperty("hashes").EnumerateArray()), answer);

        int uncles = answer.Length / MerkleTree.HashSize - length;
        // With uncles up to just below the root, the answer proves itself against the root; a flipped bit does not.
        Sha256Hash reached = MerkleTree.ComputeRoot(baseLayer, index, answer.AsSpan(0, length * MerkleTree.HashSize), answer.AsSpan(length * MerkleTree.HashSize));
        int reachedLayer = baseLayer + System.Numerics.BitOperations.Log2((uint)length) + uncles;
        if (reachedLayer == tree.Height)
        {
            Assert.Equal(tree.Root, reached);
            answer[^1] ^= 1;
            Assert.NotEqual(tree.Root, MerkleTree.ComputeRoot(baseLayer, index, answer.AsSpan(0, length * MerkleTree.HashSize), answer.AsSpan(length * MerkleTree.HashSize)));
        }
        else
        {
            Assert.Equal(tree.GetLayer(reachedLayer).Slice((index >> (reachedLayer - baseLayer)) * MerkleTree.HashSize, MerkleTree.HashSize).ToArray(), reached.Span.ToArray());
        }
    }

    [Fact]
    public void Padding_hashes_match_the_vectors()
    {
        JsonElement[] pads = [.. Vectors.GetProperty("pad_hashes").EnumerateArray()];
        for (int layer = 0; layer < pads.Length; layer++) Assert.Equal(pads[layer].GetString(), MerkleTree.PadHash(layer).ToHex());
        Assert.True(MerkleTree.PadHash(0).IsZero);
    }

    [Theory]
    [InlineData(0, 1, 2, 0)]   // index not a multiple of the length
    [InlineData(0, 0, 3, 0)]   // length not a power of two
    [InlineData(0, 0, 1, 0)]   // length below 2
    [InlineData(0, 16, 2, 0)]  // past the end of the layer
    [InlineData(0, 0, 2, 4)]   // proof layers reaching above the root
    [InlineData(5, 0, 2, 0)]   // base layer above the root
    public void Malformed_hash_requests_are_refused(int baseLayer, int index, int length, int proofLayers)
    {
        MerkleTree tree = MerkleTree.FromData(Content(262144)); // 16 leaves, height 4
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.GetHashes(baseLayer, index, length, proofLayers));
    }

    [Fact]
    public void Piece_lengths_must_be_powers_of_two_of_at_least_16_KiB()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.PieceLayerIndex(8192));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.PieceLayerIndex(3 * 16384));
        Assert.Equal(4, MerkleTree.PieceLayerIndex(256 * 1024));
        Assert.Throws<ArgumentException>(() => MerkleTree.FromData([]));
    }
}
