using System.Security.Cryptography;
using Shoal.Bencoding;
using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Tests.Swarm;

/// <summary>
/// A torrent of zeros (one file, zeros.bin) and a storage that serves them without a disk: reads the size of a
/// data check's batch (more than a block) wait <c>checkReadDelay</c> each until the test sets <see cref="FullSpeed"/>;
/// block reads for uploads are not slowed. Nothing may be written.
/// </summary>
internal sealed class SlowZeroStorage(StorageLayout layout, TimeSpan checkReadDelay) : IPieceStorage
{
    public readonly ManualResetEventSlim FullSpeed = new(false);

    /// <summary>The torrent of <paramref name="pieces"/> pieces of zeros of <paramref name="pieceLength"/> bytes.</summary>
    public static Torrent CreateTorrent(int pieceLength, int pieces)
    {
        byte[] pieceHash = SHA1.HashData(new byte[pieceLength]);
        byte[] hashes = new byte[pieces * 20];
        for (int p = 0; p < pieces; p++) pieceHash.CopyTo(hashes, p * 20);
        var info = new BDictionary();
        info.Set("name", new BString("zeros.bin"));
        info.Set("length", new BInteger((long)pieces * pieceLength));
        info.Set("piece length", new BInteger(pieceLength));
        info.Set("pieces", new BString(hashes));
        var root = new BDictionary();
        root.Set("info", info);
        return Torrent.Parse(Bencode.Encode(root));
    }

    public void Read(int piece, int offset, Span<byte> destination)
    {
        if (destination.Length > 16 * 1024) FullSpeed.Wait(checkReadDelay);
        destination.Clear();
    }

    public bool TryReadCached(int piece, int offset, Span<byte> destination) => false;
    public void WritePiece(int piece, ReadOnlySpan<byte> data) => throw new InvalidOperationException("the zeros are read-only: a seed or a paused torrent writes nothing");
    public void WriteBlock(int piece, int offset, ReadOnlySpan<byte> data) => throw new InvalidOperationException("the zeros are read-only: a seed or a paused torrent writes nothing");
    public bool RequiresWholePiece(int piece) => false;
    public bool CanServe(int piece) => true;
    public void Flush() { }
    public void Refresh() { }
    public ResumeFileState[] InspectFiles() => [.. layout.Files.Select(f => new ResumeFileState(f.Length, 1))];
    public bool MayHold(int piece, ResumeFileState[] files) => true;
    public void CreateEmptyFiles() { }
    public void Dispose() => FullSpeed.Set();
}
