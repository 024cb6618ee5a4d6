using System.Globalization;
using Shoal.Metainfo;

namespace Shoal.Bench.Micro;

/// <summary>The two shapes of a ~1 MB .torrent the bencode benchmarks parse.</summary>
public enum TorrentShape
{
    /// <summary>One 800 MiB file in 16 KiB pieces: 51,200 piece hashes make a 1,024,000-byte 'pieces' string.</summary>
    SingleFile,

    /// <summary>10,000 files in 100 folders: about 10,000 small dictionaries with a path list each.</summary>
    MultiFile,
}

/// <summary>
/// Makes the .torrent files with the engine's own <see cref="TorrentCreator"/> over sparse files in a temporary
/// folder (sparse: reading them costs no disk, hashing 800 MiB of zeros takes about a second), then deletes the
/// folder. Each shape is made once per process: BenchmarkDotNet creates the benchmark objects itself, so a shared
/// cache is the only way to hand them the bytes without making them again for every case.
/// </summary>
internal static class TorrentInputs
{
    public const long SingleFileSize = 800L * 1024 * 1024;
    public const int SingleFilePieceLength = 16 * 1024;
    public const int MultiFileCount = 10_000;
    private const int FilesPerFolder = 100;

    private static readonly Lazy<byte[]> SingleFile = new(() => Create(TorrentShape.SingleFile));
    private static readonly Lazy<byte[]> MultiFile = new(() => Create(TorrentShape.MultiFile));

    public static byte[] Get(TorrentShape shape) => shape == TorrentShape.SingleFile ? SingleFile.Value : MultiFile.Value;

    private static byte[] Create(TorrentShape shape)
    {
        string root = Path.Combine(Path.GetTempPath(), $"shoal-bench-micro-{Environment.ProcessId}-{shape}");
        Console.Error.WriteLine($"[micro] creating the {shape} .torrent with TorrentCreator in {root}...");
        try
        {
            string content = Path.Combine(root, shape == TorrentShape.SingleFile ? "ubuntu-24.04-desktop-amd64.iso" : "Field Recordings Collection");
            int? pieceLength;
            if (shape == TorrentShape.SingleFile)
            {
                Directory.CreateDirectory(root);
                MakeSparse(content, SingleFileSize);
                pieceLength = SingleFilePieceLength;
            }
            else
            {
                MakeTree(content);
                pieceLength = null; // the creator's own choice for the total size
            }
            var options = new TorrentCreationOptions
            {
                PieceLength = pieceLength,
                AnnounceTiers = [["http://tracker.example.org:6969/announce", "udp://tracker.example.org:1337/announce"], ["udp://backup.example.net:6969/announce"]],
                Comment = "Shoal micro-benchmark input",
                CreationDate = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero),
            };
            Torrent torrent = TorrentCreator.CreateAsync(content, options).GetAwaiter().GetResult();
            byte[] bytes = torrent.ToBytes();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[micro] {shape}: {bytes.Length:N0} bytes, {torrent.Files.Count:N0} files, {torrent.PieceCount:N0} pieces of {torrent.PieceLength / 1024} KiB"));
            return bytes;
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>10,000 files of 1..16 KiB in 100 folders, named the way a large collection is.</summary>
    private static void MakeTree(string content)
    {
        var random = new Random(42);
        for (int i = 0; i < MultiFileCount; i++)
        {
            int folder = i / FilesPerFolder;
            string dir = Path.Combine(content, string.Create(CultureInfo.InvariantCulture, $"Site {folder:000} - Recording session {2000 + folder % 25}"));
            if (i % FilesPerFolder == 0) Directory.CreateDirectory(dir);
            string name = string.Create(CultureInfo.InvariantCulture, $"{i % FilesPerFolder + 1:000} - Dawn chorus take {i:00000}.flac");
            MakeSparse(Path.Combine(dir, name), random.Next(1024, 16 * 1024 + 1));
        }
    }

    private static void MakeSparse(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        stream.SetLength(length);
    }
}
