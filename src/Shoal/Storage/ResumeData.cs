using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// A fast-resume snapshot of one torrent: which pieces were verified and durable on disk, and the length and
/// last-write time of every file at that moment. Immutable. Produced by <see cref="TorrentStorage.CaptureResumeAsync"/>,
/// stored with <see cref="ResumeFile.Save"/>, read back with <see cref="ResumeFile.TryLoad"/> and used by
/// <see cref="TorrentStorage.CheckExistingAsync(ResumeData?, IProgress{int}?, CancellationToken)"/>.
/// </summary>
public sealed class ResumeData
{
    private readonly byte[] _verified; // wire layout: MSB of byte 0 is piece 0, spare bits zero
    private readonly ResumeFileState[] _files;

    /// <summary>Creates resume data. <paramref name="verifiedPieces"/> and <paramref name="files"/> are copied.</summary>
    /// <param name="infoHash">The torrent's info-hash.</param>
    /// <param name="pieceLength">Nominal piece length.</param>
    /// <param name="verifiedPieces">One bit per piece: verified and on disk at capture time.</param>
    /// <param name="files">One state per file of the layout, in torrent order.</param>
    /// <param name="capturedUtcTicks">When the snapshot was taken (UTC ticks); informational.</param>
    public ResumeData(InfoHash infoHash, int pieceLength, BitField verifiedPieces, IReadOnlyList<ResumeFileState> files, long capturedUtcTicks)
    {
        ArgumentNullException.ThrowIfNull(verifiedPieces);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        InfoHash = infoHash;
        PieceLength = pieceLength;
        PieceCount = verifiedPieces.Length;
        _verified = verifiedPieces.Bytes.ToArray();
        VerifiedCount = verifiedPieces.SetCount;
        _files = new ResumeFileState[files.Count];
        for (int i = 0; i < _files.Length; i++) _files[i] = files[i];
        CapturedUtcTicks = capturedUtcTicks;
    }

    /// <summary>The torrent's info-hash.</summary>
    public InfoHash InfoHash { get; }

    /// <summary>Number of pieces of the torrent.</summary>
    public int PieceCount { get; }

    /// <summary>Nominal piece length of the torrent.</summary>
    public int PieceLength { get; }

    /// <summary>Number of pieces recorded as verified.</summary>
    public int VerifiedCount { get; }

    /// <summary>When the snapshot was taken (UTC ticks). Informational: never used to decide what to trust.</summary>
    public long CapturedUtcTicks { get; }

    /// <summary>
    /// For a v2 or hybrid torrent: what its merkle trees had learned (<see cref="HashTreeResume"/>'s encoding), or null.
    /// Opaque here; every hash in it is proved again when it is taken back.
    /// </summary>
    internal byte[]? HashTrees { get; init; }

    /// <summary>File states in torrent order (one per file of the layout, padding included).</summary>
    public IReadOnlyList<ResumeFileState> Files => _files;

    /// <summary>The verified bitfield in wire layout (most significant bit of byte 0 is piece 0).</summary>
    public ReadOnlySpan<byte> VerifiedBytes => _verified;

    /// <summary>True when piece <paramref name="piece"/> was verified at capture time.</summary>
    public bool IsVerified(int piece)
    {
        if ((uint)piece >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(piece));
        return (_verified[piece >> 3] & (0x80 >> (piece & 7))) != 0;
    }

    /// <summary>
    /// The torrent's renamed files when the snapshot was taken (file index → path under the download folder,
    /// '/'-separated: <see cref="Swarm.TorrentOptions.RenamedFiles"/>), so a torrent added again finds them; empty when none.
    /// </summary>
    public IReadOnlyDictionary<int, string> RenamedFiles { get; init; } = NoRenamedFiles;

    /// <summary>The renamed files of data that has none.</summary>
    internal static IReadOnlyDictionary<int, string> NoRenamedFiles { get; } = new Dictionary<int, string>();

    /// <summary>The same data with <paramref name="renamedFiles"/> as its renamed files.</summary>
    internal ResumeData WithRenamedFiles(IReadOnlyDictionary<int, string>? renamedFiles) =>
        new(InfoHash, PieceLength, ToBitField(), _files, CapturedUtcTicks) { RenamedFiles = renamedFiles ?? NoRenamedFiles, HashTrees = HashTrees };

    /// <summary>A new <see cref="BitField"/> holding the verified pieces.</summary>
    public BitField ToBitField()
    {
        var field = new BitField(PieceCount);
        field.LoadFrom(_verified);
        return field;
    }
}
