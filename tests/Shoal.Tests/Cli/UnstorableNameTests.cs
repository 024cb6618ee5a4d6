using System.Net;
using System.Security.Cryptography;
using System.Text;
using Shoal.Bencoding;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Cli;

/// <summary>
/// Issue 13 item 3: names the file system cannot hold are dealt with when the torrent is added, before any
/// download. A name over 255 bytes is cut as libtorrent cuts it (the extension kept) and the download lands under
/// that name; a path longer than the file system allows is refused with one line and exit 2, and nothing is
/// written. The CLI runs as a child process (its data folder is the test run's, through SHOAL_DATA_DIR).
/// </summary>
public sealed class UnstorableNameTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-names-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static Task<ProcessResult> RunShoalAsync(params string[] arguments) => ShoalCli.RunAsync(Patience, arguments);

    private static byte[] SingleFileTorrent(byte[] rawName, byte[] content, int pieceLength = 16 * 1024)
    {
        var pieces = new List<byte>();
        for (int at = 0; at < content.Length; at += pieceLength)
            pieces.AddRange(SHA1.HashData(content.AsSpan(at, Math.Min(pieceLength, content.Length - at))));
        var info = new BDictionary();
        info.Set("length", new BInteger(content.Length));
        info.Set("name", new BString(rawName));
        info.Set("piece length", new BInteger(pieceLength));
        info.Set("pieces", new BString(pieces.ToArray()));
        var root = new BDictionary();
        root.Set("info", info);
        return Bencode.Encode(root);
    }

    [Fact]
    public async Task A_300_byte_name_is_cut_keeping_its_extension_and_the_download_lands_there()
    {
        byte[] content = new byte[100_000];
        new Random(300).NextBytes(content);
        string longName = new string('n', 296) + ".bin"; // 300 bytes: ext4 allows 255
        string torrentPath = Path.Combine(_root, "long.torrent");
        await File.WriteAllBytesAsync(torrentPath, SingleFileTorrent(Encoding.UTF8.GetBytes(longName), content));
        Torrent torrent = Torrent.Load(torrentPath);
        string expectedName = new string('n', 240) + ".bin";
        Assert.Equal(expectedName, torrent.Name);

        ProcessResult info = await RunShoalAsync("info", torrentPath);
        Assert.True(info.ExitCode == 0, info.Transcript);
        Assert.Contains(expectedName, info.Output, StringComparison.Ordinal);

        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, expectedName), content);
        var options = new SessionOptions { BindAddress = IPAddress.Loopback, ListenPort = 0, EnableDht = false, EnableLocalDiscovery = false };
        await using ShoalSession seeder = await ShoalSession.StartAsync(options);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        string output = Path.Combine(_root, "out");
        ProcessResult get = await RunShoalAsync("get", torrentPath, "-o", output, "--port", "0", "--bind", "127.0.0.1",
            "--peer", seeder.ListenEndPoint.ToString(), "--no-dht", "--no-lsd", "--exit-when-done", "--quiet");
        Assert.True(get.ExitCode == 0, get.Transcript);
        Assert.Equal([expectedName], Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName));
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(output, expectedName)));
    }

    [Fact]
    public async Task A_path_longer_than_the_file_system_allows_is_refused_with_one_line_and_exit_2_before_any_download()
    {
        // 20 folders of 240 bytes: every name fits, the whole path (about 4,900 bytes) does not (Linux allows 4,095).
        var file = new BDictionary();
        file.Set("length", new BInteger(1000));
        file.Set("path", new BList([.. Enumerable.Range(0, 20).Select(i => (BValue)new BString(new string((char)('a' + i), 240))), new BString("leaf.bin")]));
        var info = new BDictionary();
        info.Set("files", new BList([file]));
        info.Set("name", new BString("deep"));
        info.Set("piece length", new BInteger(16 * 1024));
        info.Set("pieces", new BString(new byte[20]));
        var root = new BDictionary();
        root.Set("info", info);
        string torrentPath = Path.Combine(_root, "deep.torrent");
        await File.WriteAllBytesAsync(torrentPath, Bencode.Encode(root));

        string output = Path.Combine(_root, "out");
        ProcessResult get = await RunShoalAsync("get", torrentPath, "-o", output, "--port", "0", "--bind", "127.0.0.1",
            "--no-dht", "--no-lsd", "--exit-when-done", "--quiet");
        Assert.True(get.ExitCode == 2, get.Transcript);
        string line = Assert.Single(get.StandardError, l => l.Length > 0);
        Assert.StartsWith("shoal: error: ", line, StringComparison.Ordinal);
        Assert.Contains("the file system allows", line, StringComparison.Ordinal);
        Assert.True(line.Length < 400, line);
        Assert.True(!Directory.Exists(output) || !Directory.EnumerateFileSystemEntries(output).Any(), "something was written to " + output);
    }
}
