using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>The storage half of smart ban: naming the blocks of a failed piece that differed from the verified copy.</summary>
public sealed class SmartBanDigestTests
{
    private const int PieceLength = 64 * 1024;

    [Fact]
    public async Task AFailedPieceThatThenVerifiesNamesExactlyTheBadBlocks()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(2);
        var c = new TestContent(PieceLength, [("t/f.bin", PieceLength * 3L, false)], 5);
        await using var storage = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        const int piece = 1;

        // First attempt: blocks 1 and 3 (of four 16 KiB blocks) are garbage.
        BlockWriteResult result = BlockWriteResult.Stored;
        foreach ((int offset, int length) in c.Blocks(piece, TorrentStorage.DigestBlockLength))
        {
            ReadOnlyMemory<byte> data = c.Block(piece, offset, length);
            if (offset / TorrentStorage.DigestBlockLength is 1 or 3)
            {
                byte[] bad = data.ToArray();
                bad[100] ^= 0x5A;
                data = bad;
            }
            result = await storage.WriteBlockAsync(piece, offset, data);
        }
        Assert.Equal(BlockWriteResult.PieceFailed, result);
        Assert.True(storage.CanIdentifyCorruptBlocks(piece));
        Assert.Null(storage.TakeCorruptBlocks(piece)); // not known until a good copy verifies

        foreach ((int offset, int length) in c.Blocks(piece, TorrentStorage.DigestBlockLength))
            result = await storage.WriteBlockAsync(piece, offset, c.Block(piece, offset, length));
        Assert.Equal(BlockWriteResult.PieceVerified, result);
        int[]? corrupt = storage.TakeCorruptBlocks(piece);
        Assert.NotNull(corrupt);
        Assert.Equal([1, 3], corrupt);
        Assert.Null(storage.TakeCorruptBlocks(piece)); // given out once
    }

    [Fact]
    public async Task APieceThatNeverFailedNamesNothing()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(2);
        var c = new TestContent(PieceLength, [("t/f.bin", PieceLength * 2L, false)], 6);
        await using var storage = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        BlockWriteResult result = BlockWriteResult.Stored;
        foreach ((int offset, int length) in c.Blocks(0, TorrentStorage.DigestBlockLength))
            result = await storage.WriteBlockAsync(0, offset, c.Block(0, offset, length));
        Assert.Equal(BlockWriteResult.PieceVerified, result);
        Assert.False(storage.CanIdentifyCorruptBlocks(0));
        Assert.Null(storage.TakeCorruptBlocks(0));
    }
}
