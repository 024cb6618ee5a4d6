using Shoal.Metainfo;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>Torrents made for the dialect tests: random content written in the test folder, the torrent made by Shoal.</summary>
internal static class DialectTorrents
{
    /// <summary>A two-file torrent "album" (a.bin of <paramref name="first"/> bytes, b.bin of <paramref name="second"/>) in <paramref name="into"/>.</summary>
    public static async Task<Torrent> TwoFilesAsync(TempFolder folder, int seed, int first = 40_000, int second = 20_000, string into = "source", string name = "album")
    {
        string root = folder.Combine(into, name);
        var random = new Random(seed);
        TestContent.WriteRandomFile(Path.Combine(root, "a.bin"), first, random);
        TestContent.WriteRandomFile(Path.Combine(root, "b.bin"), second, random);
        return await TorrentCreator.CreateAsync(root, new TorrentCreationOptions
        {
            PieceLength = 16384,
            Comment = "made for a test",
            AnnounceTiers = [["udp://127.0.0.1:9/announce"], ["http://tracker.example.org:6969/announce"]],
        });
    }

    /// <summary>A single-file torrent whose content is already where the daemon downloads (it checks it and seeds).</summary>
    public static async Task<(Torrent Torrent, string Content)> AlreadyDownloadedAsync(string downloads, string name, int bytes, int seed)
    {
        string content = Path.Combine(downloads, name);
        TestContent.WriteRandomFile(content, bytes, new Random(seed));
        return (await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = 16384 }), content);
    }
}
