using Shoal.Metainfo;

namespace Shoal.Tests.Storage;

/// <summary>A v2 or hybrid torrent made by Shoal's creator over files of every size class, with its byte stream.</summary>
internal sealed class V2TorrentKit : IDisposable
{
    public const int PieceLength = 64 * 1024; // 4 blocks per piece

    private readonly string _root = Directory.CreateTempSubdirectory("shoal-v2-").FullName;

    private V2TorrentKit()
    {
    }

    public Torrent Torrent { get; private set; } = null!;

    /// <summary>The torrent's bytes in piece order: files, and zeros where padding files are.</summary>
    public byte[] Stream { get; private set; } = [];

    public string ContentPath => Path.Combine(_root, "content");

    public string Folder => _root;

    /// <summary>Files of 10,000 bytes (under a block), 40,000 (under a piece), 300,001 (several pieces, short tail) and 131,072 (exactly two pieces).</summary>
    public static async Task<V2TorrentKit> CreateAsync(TorrentVersion version, params int[] sizes)
    {
        var kit = new V2TorrentKit();
        if (sizes.Length == 0) sizes = [10_000, 40_000, 300_001, 131_072];
        var random = new Random(52);
        for (int i = 0; i < sizes.Length; i++)
        {
            byte[] data = new byte[sizes[i]];
            random.NextBytes(data);
            Directory.CreateDirectory(kit.ContentPath);
            await File.WriteAllBytesAsync(Path.Combine(kit.ContentPath, $"f{i}.bin"), data);
        }
        kit.Torrent = await TorrentCreator.CreateAsync(kit.ContentPath, new TorrentCreationOptions { PieceLength = PieceLength, Version = version });
        var stream = new MemoryStream();
        foreach (TorrentFile file in kit.Torrent.Files)
        {
            if (file.IsPadding) stream.Write(new byte[file.Length]);
            else stream.Write(await File.ReadAllBytesAsync(Path.Combine(kit._root, Path.Combine([.. file.PathSegments]))));
        }
        kit.Stream = stream.ToArray();
        if (kit.Stream.Length != kit.Torrent.TotalSize) throw new InvalidOperationException($"stream {kit.Stream.Length} bytes, torrent {kit.Torrent.TotalSize}");
        return kit;
    }

    /// <summary>Index in <see cref="Torrent.Files"/> (padding counted) of the i-th file written.</summary>
    public int FileIndex(int i)
    {
        for (int f = 0; f < Torrent.Files.Count; f++)
            if (Torrent.Files[f].PathSegments[^1] == $"f{i}.bin") return f;
        throw new ArgumentOutOfRangeException(nameof(i));
    }

    /// <summary>The first piece of the i-th file written.</summary>
    public int FirstPiece(int i) => Torrent.GetFilePieces(FileIndex(i)).First;

    public ReadOnlySpan<byte> Piece(int piece) => Stream.AsSpan(piece * PieceLength, Torrent.GetPieceSize(piece));

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
