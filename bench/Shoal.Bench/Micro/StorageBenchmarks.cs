using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Shoal.Picking;
using Shoal.Storage;

namespace Shoal.Bench.Micro;

/// <summary>
/// SHA-1 piece verification over a 1 GiB torrent, one operation = one piece.
/// <para><see cref="VerifyDownloadedPiece"/> is the download path itself: every 16 KiB block of the piece goes through
/// <see cref="TorrentStorage.WriteBlockAsync"/> in its buffered mode (copied into the piece buffer, hashed with an
/// incremental SHA-1 as the contiguous prefix grows, the digest compared when the last block lands). The torrent's
/// piece hashes are deliberately wrong, so each piece ends as <see cref="BlockWriteResult.PieceFailed"/> and is reset:
/// a matching piece would go on to a disk write, which is not hashing and could only happen once per piece. The
/// first 256 failures also keep per-block digests (smart ban); they are spent in the setup so the measurement sees
/// the steady path.</para>
/// <para><see cref="HashStoredPiece"/> is the data check's way (<c>DataCheck.HashBatch</c>, private):
/// <see cref="IPieceVerifier.VerifyPiece"/> over a piece already in memory (one SHA-1, then the compare).</para>
/// Block data cycles through 64 MiB of random bytes, more than the CPU caches, as a stream of downloaded data is.
/// </summary>
public class StorageBenchmarks
{
    /// <summary>Size of the torrent whose pieces are verified.</summary>
    public const long TorrentSize = 1L << 30;

    private const int SourceBytes = 64 << 20;
    private const int SmartBanTracked = 256; // CorruptBlockFinder.MaxFailedPiecesTracked

    private byte[] _source = [];
    private string _root = "";
    private DiskService? _disk;
    private TorrentStorage? _storage;
    private StorageLayout? _layout;
    private Sha1PieceVerifier? _verifier;
    private int _next;

    /// <summary>Piece length: 256 KiB (16 blocks) and 1 MiB (64 blocks), 4,096 and 1,024 pieces in 1 GiB.</summary>
    [Params(256 * 1024, 1024 * 1024)]
    public int PieceLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = new byte[SourceBytes];
        new Random(3).NextBytes(_source);
        int pieces = (int)(TorrentSize / PieceLength);
        _layout = new StorageLayout([new StorageFile(["payload.bin"], TorrentSize, IsPadding: false)], PieceLength);
        _verifier = new Sha1PieceVerifier(new byte[pieces * Sha1PieceVerifier.HashSize], pieces);
        _root = Path.Combine(Path.GetTempPath(), $"shoal-bench-micro-{Environment.ProcessId}-storage");
        _disk = new DiskService(concurrency: 1);
        _storage = TorrentStorage.Create(_disk, _layout, _verifier, _root); // creates no file until a piece verifies, which none does
        _next = 0;
        for (int i = 0; i < SmartBanTracked; i++)
        {
            if (VerifyDownloadedPiece() != BlockWriteResult.PieceFailed) throw new InvalidOperationException("a piece with a wrong hash did not fail");
        }
        if (HashStoredPiece()) throw new InvalidOperationException("a piece matched a hash of zeros");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _disk?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (Directory.Exists(_root)) throw new InvalidOperationException($"the storage benchmark wrote to {_root}");
    }

    /// <summary>Hands the next piece's blocks to the storage in order; returns what the last block did.</summary>
    [Benchmark]
    public BlockWriteResult VerifyDownloadedPiece()
    {
        TorrentStorage storage = _storage!;
        int piece = NextPiece();
        ReadOnlyMemory<byte> data = Source(piece);
        BlockWriteResult last = BlockWriteResult.Ignored;
        for (int offset = 0; offset < data.Length; offset += PiecePicker.BlockLength)
        {
            ValueTask<BlockWriteResult> write = storage.WriteBlockAsync(piece, offset, data.Slice(offset, PiecePicker.BlockLength));
            // Buffered blocks and a failed piece complete at once; anything else means a disk job was posted.
            if (!write.IsCompletedSuccessfully) throw new InvalidOperationException("a block write went to the disk");
            last = write.Result;
        }
        return last;
    }

    /// <summary>Hashes the next piece in one call and compares the digest with the torrent's.</summary>
    [Benchmark]
    public bool HashStoredPiece()
    {
        int piece = NextPiece();
        return _verifier!.VerifyPiece(piece, Source(piece).Span);
    }

    /// <summary>Pieces in torrent order, skipping those whose failures keep smart-ban digests.</summary>
    private int NextPiece()
    {
        int count = _layout!.PieceCount;
        int piece = _next;
        _next = _next + 1 < count ? _next + 1 : SmartBanTracked;
        return piece;
    }

    private ReadOnlyMemory<byte> Source(int piece) => _source.AsMemory((int)((long)piece * PieceLength % SourceBytes), PieceLength);
}
