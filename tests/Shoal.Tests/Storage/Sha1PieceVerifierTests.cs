using System.Security.Cryptography;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class Sha1PieceVerifierTests
{
    private static (byte[] Data, Sha1PieceVerifier Verifier) Pieces(int pieceLength, int total)
    {
        var data = new byte[total];
        new Random(5).NextBytes(data);
        int count = (total + pieceLength - 1) / pieceLength;
        var hashes = new byte[count * 20];
        for (int p = 0; p < count; p++)
            SHA1.HashData(data.AsSpan(p * pieceLength, Math.Min(pieceLength, total - p * pieceLength)), hashes.AsSpan(p * 20, 20));
        return (data, new Sha1PieceVerifier(hashes, count));
    }

    [Fact]
    public void Wrong_hash_length_is_a_format_error()
    {
        Assert.Throws<ShoalFormatException>(() => new Sha1PieceVerifier(new byte[20], 7));
        Assert.Throws<ShoalFormatException>(() => new Sha1PieceVerifier(new byte[21], 1));
        Assert.Equal(2, new Sha1PieceVerifier(new byte[40], 2).PieceCount);
    }

    [Fact]
    public void Piece_hash_is_the_right_slice_and_out_of_range_pieces_are_refused()
    {
        var hashes = new byte[60];
        for (int i = 0; i < hashes.Length; i++) hashes[i] = (byte)i;
        var verifier = new Sha1PieceVerifier(hashes, 3);
        Assert.Equal(hashes.AsSpan(20, 20).ToArray(), verifier.GetPieceHash(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => verifier.GetPieceHash(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => verifier.GetPieceHash(3));
    }

    [Fact]
    public void A_whole_piece_verifies_and_one_changed_byte_does_not()
    {
        (byte[] data, Sha1PieceVerifier verifier) = Pieces(1000, 2500);
        Assert.True(verifier.VerifyPiece(0, data.AsSpan(0, 1000)));
        Assert.True(verifier.VerifyPiece(2, data.AsSpan(2000, 500)));
        Assert.False(verifier.VerifyPiece(1, data.AsSpan(0, 1000))); // another piece's bytes
        data[1500] ^= 1;
        Assert.False(verifier.VerifyPiece(1, data.AsSpan(1000, 1000)));
    }

    [Fact]
    public void The_incremental_hasher_matches_in_any_chunking_and_is_reusable()
    {
        (byte[] data, Sha1PieceVerifier verifier) = Pieces(1000, 3000);
        using PieceHasher hasher = verifier.CreateHasher();
        foreach (int chunk in new[] { 1, 7, 333, 1000 })
        {
            for (int p = 0; p < 3; p++)
            {
                for (int at = 0; at < 1000; at += chunk) hasher.Append(data.AsSpan(p * 1000 + at, Math.Min(chunk, 1000 - at)));
                Assert.True(hasher.Finish(p));
            }
        }
        hasher.Append(data.AsSpan(0, 500));
        hasher.Reset(); // a piece that started over
        hasher.Append(data.AsSpan(1000, 1000));
        Assert.True(hasher.Finish(1));
        hasher.Append(data.AsSpan(1000, 1000));
        Assert.False(hasher.Finish(0));
    }
}
