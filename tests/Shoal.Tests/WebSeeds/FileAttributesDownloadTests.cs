using System.Net;
using Shoal.Bencoding;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;

namespace Shoal.Tests.WebSeeds;

/// <summary>
/// BEP 47 file attributes on download: 'x' files end executable, 'l' files end as relative symbolic links to their
/// target inside the torrent, and nothing leads out of the download folder or replaces what the user has there.
/// The data comes from a web seed (a Kestrel server on 127.0.0.1).
/// </summary>
public sealed class FileAttributesDownloadTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-attr-").FullName;
    private RangeHttpServer _server = null!;
    private ShoalSession? _session;

    public async Task InitializeAsync() => _server = await RangeHttpServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_session is not null) await _session.DisposeAsync();
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>
    /// payload/{run.sh (x), sub/data.bin, link -> sub/data.bin, folder-link -> sub, escape -> ../../etc/passwd (unsafe),
    /// taken -> run.sh (where the user already has a file)}.
    /// </summary>
    private async Task<(Torrent Torrent, byte[] Script, byte[] Data)> MakeTorrentAsync()
    {
        string content = Path.Combine(_root, "source", "payload");
        Directory.CreateDirectory(Path.Combine(content, "sub"));
        var random = new Random(9);
        byte[] script = new byte[40_000], data = new byte[90_001];
        random.NextBytes(script);
        random.NextBytes(data);
        File.WriteAllBytes(Path.Combine(content, "run.sh"), script);
        File.WriteAllBytes(Path.Combine(content, "sub", "data.bin"), data);
        _server.AddFolder("payload", content);
        Torrent plain = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = 16 * 1024 });

        var root = (BDictionary)Bencode.Decode(plain.ToBytes());
        var info = (BDictionary)root["info"];
        var files = new List<BValue>();
        foreach (BValue entry in (BList)info["files"])
        {
            var file = (BDictionary)entry;
            if (((BString)((BList)file["path"])[0]).Text == "run.sh") file.Set("attr", new BString("x"));
            files.Add(file);
        }
        // Links hold no bytes: the pieces stay the same.
        files.Add(Link(["link"], ["sub", "data.bin"]));
        files.Add(Link(["folder-link"], ["sub"]));
        files.Add(Link(["escape"], ["..", "..", "etc", "passwd"]));
        files.Add(Link(["taken"], ["run.sh"]));
        info.Set("files", new BList(files));
        return (Torrent.Parse(Bencode.Encode(root)), script, data);
    }

    private static BDictionary Link(string[] path, string[] target)
    {
        var link = new BDictionary();
        link.Set("attr", new BString("l"));
        link.Set("length", new BInteger(0));
        link.Set("path", new BList(path.Select(s => (BValue)new BString(s))));
        link.Set("symlink path", new BList(target.Select(s => (BValue)new BString(s))));
        return link;
    }

    [Fact]
    public async Task ExecutableAndLinksAreMadeAndNothingLeadsOutOrIsReplaced()
    {
        (Torrent torrent, byte[] script, byte[] data) = await MakeTorrentAsync();
        Assert.Contains(torrent.Files, f => f.IsExecutable);
        Assert.Equal(4, torrent.Files.Count(f => f.IsSymlink));

        string target = Path.Combine(_root, "download");
        string payload = Path.Combine(target, "payload");
        // The user already has a file where the torrent wants the link 'taken'.
        Directory.CreateDirectory(payload);
        File.WriteAllText(Path.Combine(payload, "taken"), "mine");

        var log = new List<string>();
        _session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
            EnablePortMapping = false,
            Log = line => { lock (log) log.Add(line); },
        });
        TorrentHandle handle = await _session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = target, WebSeeds = [_server.BaseUrl.ToString()] });
        Task done = handle.Completion;
        Assert.True(await Task.WhenAny(done, Task.Delay(TimeSpan.FromSeconds(60))) == done, $"not done: {handle.GetStatus().Progress:P0} {_server}");
        await done;

        // 'x': executable once complete (checked as soon as Completion fires: the attributes come first).
        string runSh = Path.Combine(payload, "run.sh");
        Assert.Equal(script, File.ReadAllBytes(runSh));
        if (!OperatingSystem.IsWindows())
        {
            Assert.True((File.GetUnixFileMode(runSh) & UnixFileMode.UserExecute) != 0, "run.sh is not executable");
            Assert.True((File.GetUnixFileMode(Path.Combine(payload, "sub", "data.bin")) & UnixFileMode.UserExecute) == 0, "data.bin became executable");
        }

        // 'l': relative links to files and folders of the torrent.
        Assert.Equal(Path.Combine("sub", "data.bin"), new FileInfo(Path.Combine(payload, "link")).LinkTarget);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(payload, "link")));
        Assert.Equal("sub", new DirectoryInfo(Path.Combine(payload, "folder-link")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(payload, "folder-link", "data.bin")));

        // A link that would lead out of the torrent is an empty regular file, never a link.
        var escape = new FileInfo(Path.Combine(payload, "escape"));
        Assert.Null(escape.LinkTarget);
        Assert.True(escape.Exists);
        Assert.Equal(0, escape.Length);

        // The user's file is left as it was, and the log says so.
        var taken = new FileInfo(Path.Combine(payload, "taken"));
        Assert.Null(taken.LinkTarget);
        Assert.Equal("mine", File.ReadAllText(taken.FullName));
        lock (log) Assert.Contains(log, line => line.Contains("taken", StringComparison.Ordinal) && line.Contains("left as it is", StringComparison.Ordinal));

        // Restarted on the finished folder: the links are not files of the storage (no link conflict), the check passes.
        await _session.DisposeAsync();
        _session = await ShoalSession.StartAsync(new SessionOptions { BindAddress = IPAddress.Loopback, ListenPort = 0, EnableDht = false, EnableLocalDiscovery = false, EnablePortMapping = false });
        TorrentHandle again = await _session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = target });
        Task seeding = again.Completion;
        Assert.True(await Task.WhenAny(seeding, Task.Delay(TimeSpan.FromSeconds(60))) == seeding, $"restart: {again.GetStatus().State} {again.GetStatus().Error}");
        await seeding;
        Assert.Equal(TorrentState.Seeding, again.GetStatus().State);
    }

    [Fact]
    public void NoLinkIsMadeThroughALinkTheUserPlacedInTheFolder()
    {
        string root = StoragePaths.NormalizeRoot(Path.Combine(_root, "dl"));
        string outside = Path.Combine(_root, "outside");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(root);
        // DIR/payload is a link to a folder elsewhere: a link made "inside" it would land outside DIR.
        Directory.CreateSymbolicLink(Path.Combine(root, "payload"), outside);
        var layout = new StorageLayout(
        [
            new StorageFile(["payload", "a.bin"], 16 * 1024, false),
            new StorageFile(["payload", "link"], 0, false) { SymlinkTarget = ["payload", "a.bin"] },
            new StorageFile(["payload", "run"], 0, false) { IsExecutable = true },
        ], 16 * 1024);
        File.WriteAllText(Path.Combine(outside, "run"), "#!/bin/sh");

        List<string> problems = FinishedFiles.Apply(root, layout, _ => false);

        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(outside), e => Path.GetFileName(e) == "link");
        if (!OperatingSystem.IsWindows()) Assert.True((File.GetUnixFileMode(Path.Combine(outside, "run")) & UnixFileMode.UserExecute) == 0);
        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.Contains("is a symbolic link", p, StringComparison.Ordinal));
    }
}
