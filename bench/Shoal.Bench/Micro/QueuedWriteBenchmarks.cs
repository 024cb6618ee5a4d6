using BenchmarkDotNet.Attributes;
using Shoal.Picking;
using Shoal.Storage;

namespace Shoal.Bench.Micro;

/// <summary>
/// The torrent actor's write path, one operation = one piece: every 16 KiB block of the piece is queued with
/// <c>ITorrentDisk.EnqueueWrite</c> (the block buffer handed over, as the actor does), the disk service's workers
/// copy and hash each block and give the verdict through the torrent's disk events, and the operation ends when the
/// verdict is in. As in <see cref="StorageBenchmarks"/>, the piece hashes are wrong so each piece fails and is reset:
/// hashing and the hop to the disk workers are measured, not a disk write. Block data cycles through 64 MiB.
/// </summary>
public class QueuedWriteBenchmarks
{
    private const long TorrentSize = StorageBenchmarks.TorrentSize;
    private const int SourceBytes = 64 << 20;
    private const int SmartBanTracked = 256; // CorruptBlockFinder.MaxFailedPiecesTracked

    private byte[] _source = [];
    private string _root = "";
    private DiskService? _disk;
    private TorrentStorage? _storage;
    private StorageLayout? _layout;
    private readonly BlockBufferPool _buffers = new();
    private readonly Verdicts _verdicts = new();
    private int _next;

    /// <summary>Piece length: 256 KiB (16 blocks) and 1 MiB (64 blocks).</summary>
    [Params(256 * 1024, 1024 * 1024)]
    public int PieceLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = new byte[SourceBytes];
        new Random(3).NextBytes(_source);
        int pieces = (int)(TorrentSize / PieceLength);
        _layout = new StorageLayout([new StorageFile(["payload.bin"], TorrentSize, IsPadding: false)], PieceLength);
        var verifier = new Sha1PieceVerifier(new byte[pieces * Sha1PieceVerifier.HashSize], pieces);
        _root = Path.Combine(Path.GetTempPath(), $"shoal-bench-micro-{Environment.ProcessId}-queued");
        _disk = new DiskService();
        _storage = TorrentStorage.Create(_disk, _layout, verifier, _root); // no piece verifies, so no file is created
        ((ITorrentDisk)_storage).Attach(_verdicts, _buffers);
        _next = 0;
        for (int i = 0; i < SmartBanTracked; i++)
        {
            if (VerifyQueuedPiece()) throw new InvalidOperationException("a piece with a wrong hash verified");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _storage?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _disk?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (Directory.Exists(_root)) throw new InvalidOperationException($"the queued write benchmark wrote to {_root}");
    }

    /// <summary>Queues the next piece's blocks and waits for its verdict; returns it (always false here).</summary>
    [Benchmark]
    public bool VerifyQueuedPiece()
    {
        ITorrentDisk disk = _storage!;
        int pieces = _layout!.PieceCount;
        int piece = _next;
        _next = _next + 1 < pieces ? _next + 1 : SmartBanTracked;
        int sourceOffset = (int)((long)piece * PieceLength % SourceBytes);
        _verdicts.Arm();
        for (int offset = 0; offset < PieceLength; offset += PiecePicker.BlockLength)
        {
            byte[] buffer = _buffers.Rent(PiecePicker.BlockLength);
            _source.AsSpan(sourceOffset + offset, PiecePicker.BlockLength).CopyTo(buffer);
            disk.EnqueueWrite(piece, offset, buffer, PiecePicker.BlockLength);
        }
        return _verdicts.Wait();
    }

    private sealed class Verdicts : IDiskEvents
    {
        private readonly ManualResetEventSlim _done = new(false);
        private volatile bool _verified;

        public void Arm() => _done.Reset();

        public bool Wait()
        {
            _done.Wait();
            return _verified;
        }

        public void OnPieceHashed(int piece, bool verified)
        {
            _verified = verified;
            _done.Set();
        }

        public void OnWriteFailed(int piece, Exception error) => throw new InvalidOperationException("a queued write failed", error);

        public void OnWriteBacklogDrained() { }
    }
}
