using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Tests.Dht;

namespace Shoal.Tests.Swarm.Simulation;

/// <summary>
/// A torrent's disk path in memory for a simulated swarm: blocks are assembled per piece and verified with the real
/// <see cref="IPieceVerifier"/>, and the verdict comes back through the torrent's <see cref="IDiskEvents"/> after a
/// fixed delay of virtual time. Everything runs on the simulation's thread.
/// </summary>
internal sealed class SimulatedDisk : ITorrentDisk
{
    private static readonly TimeSpan HashDelay = TimeSpan.FromMilliseconds(2);
    private const int BlockLength = 16 * 1024;

    private readonly IPieceVerifier _verifier;
    private readonly VirtualTimeProvider _clock;
    private readonly byte[] _data;
    private readonly bool[] _verified;
    private readonly Dictionary<int, HashSet<int>> _received = [];
    private IDiskEvents? _events;
    private BlockBufferPool? _buffers;

    public SimulatedDisk(StorageLayout layout, IPieceVerifier verifier, VirtualTimeProvider clock, byte[]? seed)
    {
        Layout = layout;
        _verifier = verifier;
        _clock = clock;
        _data = seed is null ? new byte[layout.TotalSize] : (byte[])seed.Clone();
        _verified = new bool[layout.PieceCount];
        if (seed is not null) Array.Fill(_verified, true);
    }

    /// <summary>Called with (piece, verified) when a piece's verdict is given, at that virtual time.</summary>
    public Action<int, bool>? OnVerdict { get; set; }

    public StorageLayout Layout { get; }

    public byte[] Data => _data;

    public bool IsBacklogged => false;

    public void Attach(IDiskEvents events, BlockBufferPool buffers)
    {
        _events = events;
        _buffers = buffers;
    }

    public void EnqueueWrite(int piece, int offset, byte[] buffer, int length)
    {
        long start = Layout.GetPieceOffset(piece);
        Array.Copy(buffer, 0, _data, start + offset, length);
        _buffers!.Return(buffer);
        if (_verified[piece]) return;
        HashSet<int> blocks = _received.TryGetValue(piece, out HashSet<int>? known) ? known : _received[piece] = [];
        blocks.Add(offset);
        int size = Layout.GetPieceSize(piece);
        if (blocks.Count < (size + BlockLength - 1) / BlockLength) return;
        _received.Remove(piece);
        bool ok = _verifier.VerifyPiece(piece, _data.AsSpan((int)start, size));
        if (ok) _verified[piece] = true;
        _clock.Schedule(HashDelay, () =>
        {
            OnVerdict?.Invoke(piece, ok);
            _events!.OnPieceHashed(piece, ok);
        });
    }

    /// <summary>A block as the send loop would read it.</summary>
    public byte[] Read(int piece, int offset, int length) => _data.AsSpan((int)Layout.GetPieceOffset(piece) + offset, length).ToArray();

    public Task StopWritesAsync() => Task.CompletedTask;
    public bool IsWhollyStored(int piece) => true;

    public ValueTask ReadBlockAsync(int piece, int offset, Memory<byte> destination, CancellationToken ct = default)
    {
        _data.AsSpan((int)Layout.GetPieceOffset(piece) + offset, destination.Length).CopyTo(destination.Span);
        return ValueTask.CompletedTask;
    }

    public bool TryReadBlockCached(int piece, int offset, Span<byte> destination)
    {
        _data.AsSpan((int)Layout.GetPieceOffset(piece) + offset, destination.Length).CopyTo(destination);
        return true;
    }

    public Task<bool> HashPieceAsync(int piece, CancellationToken ct = default) =>
        Task.FromResult(_verifier.VerifyPiece(piece, _data.AsSpan((int)Layout.GetPieceOffset(piece), Layout.GetPieceSize(piece))));

    public Task<BitField> CheckFilesAsync(ResumeData? resume, IProgress<PieceCheckProgress>? progress, CancellationToken ct = default)
    {
        var have = new BitField(Layout.PieceCount);
        for (int p = 0; p < _verified.Length; p++) have[p] = _verified[p];
        return Task.FromResult(have);
    }

    public string? DescribeResumeMismatch(ResumeData resume) => null;
    public ExistingData DescribeExistingData(BitField verified) => new(verified.SetCount, verified.Length, []);
    public Task TrimOversizedFilesAsync(CancellationToken ct = default) => Task.CompletedTask;
    public Task CreateEmptyFilesAsync(CancellationToken ct = default) => Task.CompletedTask;
    public Task FlushAsync() => Task.CompletedTask;
    public Task ReleaseFilesAsync() => Task.CompletedTask;
    public Task<ResumeData> CaptureResumeAsync(InfoHash infoHash, CancellationToken ct = default) => throw new NotSupportedException("no resume data in a simulation");
    public int[]? TakeCorruptBlocks(int piece) => null;
    public bool CanIdentifyCorruptBlocks(int piece) => false;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
