using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Discovery;

/// <summary>
/// Collects an info dictionary from peers over BEP 9 (magnet links): which 16 KiB pieces are still needed,
/// which are requested from which peer, and who sent each received one. When the last piece arrives the
/// whole is checked against the info-hash; on a mismatch everything is needed again and the contributors
/// are reported so the caller can penalise them.
/// </summary>
/// <remarks>
/// Single-threaded (owned by the torrent actor). Peers are identified by the caller's integer key. Request
/// timeouts are the caller's: it calls <see cref="OnRejected"/> for a piece that timed out. The buffer is
/// allocated when the first piece arrives, so announced sizes cost nothing until data flows.
/// </remarks>
public sealed class MetadataAssembler
{
    private const int NoPeer = -1;

    private readonly InfoHash _infoHash;
    private readonly Sha256Hash? _infoHashV2;
    private readonly PieceState[] _state;
    private readonly int[] _requester;
    private readonly int[] _contributor;
    private byte[]? _buffer;
    private int _remaining;
    private int[] _lastFailureContributors = [];

    private enum PieceState : byte { Needed, Requested, Have }

    /// <summary>
    /// Starts assembling metadata of <paramref name="metadataSize"/> bytes for <paramref name="infoHash"/>. With
    /// <paramref name="infoHashV2"/> (a BEP 52 magnet's xt=urn:btmh) the metadata must hash to all 32 bytes of it
    /// with SHA-256, and for a hybrid (both hashes known) to the v1 hash with SHA-1 as well.
    /// </summary>
    /// <exception cref="ExtensionMessageException">The size (announced by a peer) is ≤ 0 or over 16 MiB.</exception>
    public MetadataAssembler(InfoHash infoHash, long metadataSize, Sha256Hash? infoHashV2 = null)
    {
        _infoHashV2 = infoHashV2;
        if (!IsValidSize(metadataSize))
            throw new ExtensionMessageException($"metadata size {metadataSize} is out of range 1..{MetadataMessage.MaxMetadataSize}");
        _infoHash = infoHash;
        Size = (int)metadataSize;
        PieceCount = (Size + MetadataMessage.BlockSize - 1) / MetadataMessage.BlockSize;
        _state = new PieceState[PieceCount];
        _requester = new int[PieceCount];
        _contributor = new int[PieceCount];
        _requester.AsSpan().Fill(NoPeer);
        _contributor.AsSpan().Fill(NoPeer);
        _remaining = PieceCount;
    }

    /// <summary>True when a peer-announced metadata size is acceptable (1 byte to 16 MiB).</summary>
    public static bool IsValidSize(long metadataSize) => metadataSize > 0 && metadataSize <= MetadataMessage.MaxMetadataSize;

    /// <summary>Creates the assembler, or returns false when the announced size is out of range.</summary>
    public static bool TryCreate(InfoHash infoHash, long metadataSize, [NotNullWhen(true)] out MetadataAssembler? assembler) =>
        TryCreate(infoHash, metadataSize, null, out assembler);

    /// <summary>Creates the assembler (checking the full v2 hash when given), or returns false when the announced size is out of range.</summary>
    public static bool TryCreate(InfoHash infoHash, long metadataSize, Sha256Hash? infoHashV2, [NotNullWhen(true)] out MetadataAssembler? assembler)
    {
        assembler = IsValidSize(metadataSize) ? new MetadataAssembler(infoHash, metadataSize, infoHashV2) : null;
        return assembler is not null;
    }

    /// <summary>The info-hash the metadata must match.</summary>
    public InfoHash InfoHash => _infoHash;

    /// <summary>The full v2 info-hash the metadata must match, when known.</summary>
    public Sha256Hash? InfoHashV2 => _infoHashV2;

    /// <summary>Total metadata size in bytes.</summary>
    public int Size { get; }

    /// <summary>Number of 16 KiB pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Pieces not received yet.</summary>
    public int RemainingPieces => _remaining;

    /// <summary>True once the metadata is complete and verified.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>How many times a complete set of pieces failed the hash check.</summary>
    public int FailedAttempts { get; private set; }

    /// <summary>The verified info dictionary; empty until <see cref="IsComplete"/>.</summary>
    public ReadOnlyMemory<byte> InfoDictionary => IsComplete ? _buffer : ReadOnlyMemory<byte>.Empty;

    /// <summary>The distinct peer keys that sent pieces of the last attempt that failed the hash check.</summary>
    public IReadOnlyList<int> LastFailureContributors => _lastFailureContributors;

    /// <summary>The expected length of <paramref name="piece"/> (16 KiB except for the last).</summary>
    public int PieceLength(int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, PieceCount);
        return piece == PieceCount - 1 ? Size - (piece * MetadataMessage.BlockSize) : MetadataMessage.BlockSize;
    }

    /// <summary>
    /// The next needed piece to ask <paramref name="peerKey"/> for, marked as requested from it; null when
    /// every missing piece is already requested from someone (or the transfer is complete).
    /// </summary>
    public int? NextPieceToRequest(int peerKey)
    {
        if (IsComplete) return null;
        for (int i = 0; i < _state.Length; i++)
        {
            if (_state[i] != PieceState.Needed) continue;
            _state[i] = PieceState.Requested;
            _requester[i] = peerKey;
            return i;
        }
        return null;
    }

    /// <summary>The peer rejected (or timed out on) <paramref name="piece"/>: it is needed again.</summary>
    public void OnRejected(int peerKey, int piece)
    {
        if ((uint)piece >= (uint)PieceCount) return;
        if (_state[piece] == PieceState.Requested && _requester[piece] == peerKey) Release(piece);
    }

    /// <summary>The peer disconnected: every piece requested from it is needed again.</summary>
    public void OnPeerGone(int peerKey)
    {
        for (int i = 0; i < _state.Length; i++)
        {
            if (_state[i] == PieceState.Requested && _requester[i] == peerKey) Release(i);
        }
    }

    /// <summary>
    /// Stores a received piece. Accepted from any peer, requested or not: the final hash check decides. The
    /// length must be exactly 16 KiB, except the last piece which is the remainder.
    /// </summary>
    public MetadataPieceResult OnData(int peerKey, int piece, ReadOnlySpan<byte> data)
    {
        if (IsComplete) return MetadataPieceResult.Duplicate;
        if ((uint)piece >= (uint)PieceCount || data.Length != PieceLength(piece)) return MetadataPieceResult.Invalid;
        if (_state[piece] == PieceState.Have) return MetadataPieceResult.Duplicate;

        _buffer ??= new byte[Size];
        data.CopyTo(_buffer.AsSpan(piece * MetadataMessage.BlockSize));
        _state[piece] = PieceState.Have;
        _requester[piece] = NoPeer;
        _contributor[piece] = peerKey;
        if (--_remaining > 0) return MetadataPieceResult.Accepted;

        if (Matches(_buffer))
        {
            IsComplete = true;
            return MetadataPieceResult.Completed;
        }
        FailedAttempts++;
        _lastFailureContributors = DistinctContributors();
        Reset();
        return MetadataPieceResult.HashMismatch;
    }

    /// <summary>
    /// True when the bytes hash to the info-hash: with a full v2 hash known, SHA-256 over all 32 bytes (and SHA-1 to
    /// the v1 hash too for a hybrid); otherwise SHA-1 (v1), or the truncated SHA-256 of a v2 hash.
    /// </summary>
    private bool Matches(ReadOnlySpan<byte> metadata)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (_infoHashV2 is { } v2)
        {
            SHA256.HashData(metadata, hash);
            if (!hash.SequenceEqual(v2.Span)) return false;
            if (v2.Truncate() == _infoHash) return true; // v2-only: the wire hash is the truncation
            SHA1.HashData(metadata, hash);
            return hash[..InfoHash.Length].SequenceEqual(_infoHash.Span);
        }
        SHA1.HashData(metadata, hash);
        if (hash[..InfoHash.Length].SequenceEqual(_infoHash.Span)) return true;
        SHA256.HashData(metadata, hash);
        return hash[..InfoHash.Length].SequenceEqual(_infoHash.Span);
    }

    private int[] DistinctContributors()
    {
        var seen = new HashSet<int>();
        var list = new List<int>();
        foreach (int key in _contributor)
        {
            if (key != NoPeer && seen.Add(key)) list.Add(key);
        }
        return [.. list];
    }

    private void Reset()
    {
        _state.AsSpan().Clear();
        _requester.AsSpan().Fill(NoPeer);
        _contributor.AsSpan().Fill(NoPeer);
        _remaining = PieceCount;
    }

    private void Release(int piece)
    {
        _state[piece] = PieceState.Needed;
        _requester[piece] = NoPeer;
    }
}
