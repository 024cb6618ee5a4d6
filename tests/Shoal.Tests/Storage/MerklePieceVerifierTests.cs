using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>
/// v2 verification (BEP 52): pieces against the piece layers of a torrent Shoal's creator made (whose roots and layers
/// are checked against libtorrent's and Python's hashlib elsewhere), block by block, for v2-only and hybrid torrents.
/// </summary>
public sealed class MerklePieceVerifierTests
{
    [Theory]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task Every_piece_verifies_whole_and_in_any_chunking(TorrentVersion version)
    {
        using V2TorrentKit kit = await V2TorrentKit.CreateAsync(version);
        var verifier = (MerklePieceVerifier)PieceVerifiers.For(kit.Torrent);
        Assert.Equal(version == TorrentVersion.Hybrid, verifier.ChecksSha1);
        using PieceHasher hasher = verifier.CreateHasher();
        foreach (int chunk in new[] { 1000, 16384, 65536 })
        {
            for (int p = 0; p < kit.Torrent.PieceCount; p++)
            {
                ReadOnlySpan<byte> piece = kit.Piece(p);
                Assert.True(verifier.VerifyPiece(p, piece), $"piece {p} whole");
                hasher.Begin(p);
                for (int at = 0; at < piece.Length; at += chunk) hasher.Append(piece.Slice(at, Math.Min(chunk, piece.Length - at)));
                Assert.True(hasher.Finish(p), $"piece {p} in chunks of {chunk}");
            }
        }
    }

    [Fact]
    public async Task A_changed_byte_fails_and_the_block_it_is_in_is_named()
    {
        using V2TorrentKit kit = await V2TorrentKit.CreateAsync(TorrentVersion.V2);
        var verifier = (MerklePieceVerifier)PieceVerifiers.For(kit.Torrent);
        int piece = kit.FirstPiece(2) + 1; // a whole piece of the 300,001-byte file
        byte[] good = kit.Piece(piece).ToArray();
        Assert.True(verifier.VerifyPiece(piece, good));
        ReadOnlySpan<byte> rightHashes = verifier.Trees.GetBlockHashes(piece);
        Assert.Equal(4 * 32, rightHashes.Length);

        byte[] bad = (byte[])good.Clone();
        bad[(2 * 16384) + 5] ^= 0x40; // block 2
        using PieceHasher hasher = verifier.CreateHasher();
        hasher.Begin(piece);
        hasher.Append(bad);
        Assert.False(hasher.Finish(piece));
        Assert.True(verifier.HasFailedAttempt(piece));
        Assert.Equal(new[] { 2 }, verifier.FindCorruptBlocks(piece, rightHashes));
        Assert.Null(verifier.FindCorruptBlocks(piece, rightHashes)); // consumed
    }

    [Fact]
    public async Task A_hybrid_piece_must_match_its_sha1_hash_too()
    {
        using V2TorrentKit kit = await V2TorrentKit.CreateAsync(TorrentVersion.Hybrid);
        var verifier = (MerklePieceVerifier)PieceVerifiers.For(kit.Torrent);
        // The last piece of the 10,000-byte file: the file's bytes (which the tree covers) then padding (which only
        // SHA-1 covers). A change in the padding must fail the piece.
        int piece = kit.FirstPiece(0);
        byte[] data = kit.Piece(piece).ToArray();
        Assert.True(verifier.VerifyPiece(piece, data));
        data[^1] = 1;
        Assert.False(verifier.VerifyPiece(piece, data));
    }

    [Fact]
    public async Task A_v2_piece_whose_layer_is_unknown_fails_and_a_hybrid_one_falls_back_to_sha1()
    {
        using V2TorrentKit v2 = await V2TorrentKit.CreateAsync(TorrentVersion.V2);
        Torrent magnetV2 = Torrent.FromInfoDictionary(v2.Torrent.InfoDictionary); // no piece layers
        Assert.False(magnetV2.HasPieceLayers);
        var verifierV2 = (MerklePieceVerifier)PieceVerifiers.For(magnetV2);
        int big = v2.FirstPiece(2);
        Assert.False(verifierV2.Trees.CanVerify(big));
        Assert.False(verifierV2.VerifyPiece(big, v2.Piece(big)));
        Assert.True(verifierV2.VerifyPiece(v2.FirstPiece(0), v2.Piece(v2.FirstPiece(0)))); // one piece: its root is its hash

        using V2TorrentKit hybrid = await V2TorrentKit.CreateAsync(TorrentVersion.Hybrid);
        Torrent magnetHybrid = Torrent.FromInfoDictionary(hybrid.Torrent.InfoDictionary);
        var verifierHybrid = (MerklePieceVerifier)PieceVerifiers.For(magnetHybrid);
        int hybridBig = hybrid.FirstPiece(2);
        Assert.True(verifierHybrid.VerifyPiece(hybridBig, hybrid.Piece(hybridBig)));
    }

    [Fact]
    public void A_v1_torrent_gets_the_sha1_verifier()
    {
        Torrent v1 = Torrent.Parse(Shoal.Tests.Metainfo.TorrentFixtures.SampleMultiFile());
        Assert.IsType<Sha1PieceVerifier>(PieceVerifiers.For(v1));
    }
}
