using System.Net;
using Shoal.Cli.Tracker;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Swarm;

/// <summary>BEP 52 end to end between real sessions on 127.0.0.1: v2-only and hybrid torrents, from a .torrent and from a magnet.</summary>
public sealed class V2SwarmTests : IAsyncLifetime
{
    private const int PieceLength = 32 * 1024;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(60);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-v2swarm-").FullName;
    private readonly List<ShoalSession> _sessions = [];
    private readonly List<string> _log = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (ShoalSession session in _sessions) await session.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private async Task<(Torrent Torrent, string SeedDir, string Content)> CreateAsync(TorrentVersion version)
    {
        string seedDir = Path.Combine(_root, "seed");
        string content = Path.Combine(seedDir, "content");
        var random = new Random(52);
        TestContent.WriteRandomFile(Path.Combine(content, "small.bin"), 10_000, random);          // one block
        TestContent.WriteRandomFile(Path.Combine(content, "odd.bin"), 300_001, random);           // several pieces, short tail
        TestContent.WriteRandomFile(Path.Combine(content, "sub", "deep.bin"), 1_000_000, random); // a subfolder, many pieces
        Torrent torrent = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = PieceLength, Version = version });
        return (torrent, seedDir, content);
    }

    [Theory]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task A_leecher_downloads_a_v2_or_hybrid_torrent_from_a_seeder(TorrentVersion version)
    {
        (Torrent torrent, string seedDir, string content) = await CreateAsync(version);
        ShoalSession seeder = await StartSessionAsync();
        ShoalSession leecher = await StartSessionAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        string leechDir = Path.Combine(_root, "leech");
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = leechDir, Peers = [seeder.ListenEndPoint] });
        await CompletesAsync(handle);
        TestContent.AssertSameTree(content, Path.Combine(leechDir, "content"));
        Assert.Equal(0, handle.GetStatus().FailedPieces);
    }

    [Theory]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task A_magnet_gets_its_metadata_and_piece_layers_from_peers(TorrentVersion version)
    {
        (Torrent torrent, string seedDir, string content) = await CreateAsync(version);
        ShoalSession seeder = await StartSessionAsync();
        ShoalSession leecher = await StartSessionAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        MagnetLink magnet = torrent.ToMagnetLink();
        Assert.NotNull(magnet.InfoHashV2);
        Assert.Contains("urn:btmh:1220", magnet.ToString(), StringComparison.Ordinal);
        string leechDir = Path.Combine(_root, "leech");
        TorrentHandle handle = await leecher.AddMagnetAsync(MagnetLink.Parse(magnet.ToString()),
            new TorrentOptions { DownloadDirectory = leechDir, Peers = [seeder.ListenEndPoint] });
        await CompletesAsync(handle);
        TestContent.AssertSameTree(content, Path.Combine(leechDir, "content"));
        Assert.Equal(0, handle.GetStatus().FailedPieces);
    }

    [Fact]
    public async Task Piece_layers_learned_from_peers_are_kept_so_a_restart_verifies_without_peers()
    {
        (Torrent torrent, string seedDir, string content) = await CreateAsync(TorrentVersion.V2);
        string resumeDir = Path.Combine(_root, "resume");
        string leechDir = Path.Combine(_root, "leech");
        ShoalSession seeder = await StartSessionAsync();
        ShoalSession leecher = await StartSessionAsync(resumeDir);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle handle = await leecher.AddMagnetAsync(torrent.ToMagnetLink(), new TorrentOptions { DownloadDirectory = leechDir, Peers = [seeder.ListenEndPoint] });
        await CompletesAsync(handle);
        await leecher.DisposeAsync();
        // The layers learned from the seeder are in the resume data (with the pieces they let the restart trust).
        string resume = Assert.Single(Directory.EnumerateFiles(resumeDir, "*.resume"));
        Assert.NotNull(Shoal.Storage.ResumeFile.TryLoad(resume, torrent.InfoHash, out _)?.HashTrees);

        // Restarted with the info dictionary (no piece layers in it) and nobody to ask: it seeds from what is on disk.
        ShoalSession restarted = await StartSessionAsync(resumeDir);
        Torrent known = Torrent.FromInfoDictionary(torrent.InfoDictionary);
        Assert.False(known.HasPieceLayers);
        TorrentHandle again = await restarted.AddTorrentAsync(known, new TorrentOptions { DownloadDirectory = leechDir });
        await CompletesAsync(again);
        Assert.Equal(TorrentState.Seeding, again.GetStatus().State);
        Assert.Equal(0, again.GetStatus().Downloaded);
    }

    [Fact]
    public async Task A_hybrid_seeder_is_announced_under_both_hashes_so_a_v2_only_peer_finds_it_through_the_tracker()
    {
        await using TrackerHost tracker = await TrackerHost.StartAsync(new TrackerHostOptions
        {
            Bind = IPAddress.Loopback,
            HttpPort = 0,
            UdpPort = 0,
            MaxRequestsPerSecond = 0,
        }, CancellationToken.None);
        (Torrent torrent, string seedDir, string content) = await CreateAsync(TorrentVersion.Hybrid);
        string url = tracker.HttpAnnounceUrl.ToString();
        // The leecher knows the v2 hash and the tracker, nothing else, and announces first (it gets nobody). The
        // seeder then announces under both hashes, gets the leecher from its v2 announce, and must dial it with
        // the v2 hash: the leecher knows no other.
        ShoalSession leecher = await StartSessionAsync();
        MagnetLink v2Only = MagnetLink.Parse($"magnet:?xt=urn:btmh:1220{torrent.InfoHashV2!.Value.ToHex()}&tr={Uri.EscapeDataString(url)}");
        string leechDir = Path.Combine(_root, "leech");
        TorrentHandle handle = await leecher.AddMagnetAsync(v2Only, new TorrentOptions { DownloadDirectory = leechDir });
        var deadline = DateTime.UtcNow + Bounded;
        while (!handle.GetTrackers().Any(t => t.IsWorking) && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Contains(handle.GetTrackers(), t => t.IsWorking);
        ShoalSession seeder = await StartSessionAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir, Trackers = [url] });
        await CompletesAsync(handle);
        TestContent.AssertSameTree(content, Path.Combine(leechDir, "content"));
    }

    [Fact]
    public async Task A_hybrid_seeder_accepts_peers_that_name_it_by_its_v2_hash()
    {
        (Torrent torrent, string seedDir, string content) = await CreateAsync(TorrentVersion.Hybrid);
        ShoalSession seeder = await StartSessionAsync();
        ShoalSession leecher = await StartSessionAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        // Only the v2 hash: the leecher dials with the truncated SHA-256 info-hash, checks the metadata against the
        // full one, and joins the v2 swarm.
        MagnetLink v2Only = MagnetLink.Parse($"magnet:?xt=urn:btmh:1220{torrent.InfoHashV2!.Value.ToHex()}");
        Assert.Equal(torrent.InfoHashV2.Value.Truncate(), v2Only.InfoHash);
        string leechDir = Path.Combine(_root, "leech");
        TorrentHandle handle = await leecher.AddMagnetAsync(v2Only, new TorrentOptions { DownloadDirectory = leechDir, Peers = [seeder.ListenEndPoint] });
        await CompletesAsync(handle);
        TestContent.AssertSameTree(content, Path.Combine(leechDir, "content"));

        // The same torrent cannot be added twice under its other hash.
        await Assert.ThrowsAsync<InvalidOperationException>(() => seeder.AddMagnetAsync(v2Only, new TorrentOptions { DownloadDirectory = Path.Combine(_root, "again") }));
    }

    [Fact]
    public async Task A_second_torrent_with_the_same_file_copies_it_from_the_first_instead_of_downloading_it()
    {
        (Torrent first, string seedDir, string content) = await CreateAsync(TorrentVersion.V2);
        // Another torrent (another name, another folder, a hybrid) whose one big file is the first torrent's deep.bin.
        string otherContent = Path.Combine(_root, "other", "album");
        Directory.CreateDirectory(otherContent);
        File.Copy(Path.Combine(content, "sub", "deep.bin"), Path.Combine(otherContent, "same.bin"));
        TestContent.WriteRandomFile(Path.Combine(otherContent, "new.bin"), 100_000, new Random(6));
        Torrent second = await TorrentCreator.CreateAsync(otherContent, new TorrentCreationOptions { PieceLength = PieceLength, Version = TorrentVersion.Hybrid });
        ShoalSession session = await StartSessionAsync();
        TorrentHandle firstHandle = await session.AddTorrentAsync(first, new TorrentOptions { DownloadDirectory = seedDir });
        await CompletesAsync(firstHandle);

        string target = Path.Combine(_root, "second");
        TorrentHandle secondHandle = await session.AddTorrentAsync(second, new TorrentOptions { DownloadDirectory = target });
        // No peer at all: only the copy can bring the data.
        string copied = Path.Combine(target, "album", "same.bin");
        Assert.True(File.Exists(copied), "the identical file was not copied");
        Assert.Equal(File.ReadAllBytes(Path.Combine(content, "sub", "deep.bin")), File.ReadAllBytes(copied));
        Assert.False(File.Exists(Path.Combine(target, "album", "new.bin")));
        Assert.Empty(Directory.EnumerateFiles(target, "*" + ".shoal-reuse", SearchOption.AllDirectories));

        int sameFile = second.Files.Select((f, i) => (f, i)).Single(x => x.f.PathSegments[^1] == "same.bin").i;
        int pieces = second.GetFilePieces(sameFile).Count;
        var deadline = DateTime.UtcNow + Bounded;
        while (secondHandle.GetStatus() is { State: TorrentState.Checking } && DateTime.UtcNow < deadline) await Task.Delay(50);
        TorrentStatus status = secondHandle.GetStatus();
        Assert.Equal(TorrentState.Downloading, status.State);
        Assert.Equal(pieces, status.VerifiedPieces);
        Assert.Equal(0, status.Downloaded);
    }

    [Fact]
    public async Task A_file_already_at_the_target_is_never_overwritten_by_the_copy()
    {
        (ShoalSession session, Torrent second) = await SeedATorrentAndMakeAnotherWithOneOfItsFilesAsync();
        string target = Path.Combine(_root, "second");
        string mine = Path.Combine(target, "album", "same.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(mine)!);
        byte[] usersOwn = [1, 2, 3];
        File.WriteAllBytes(mine, usersOwn);
        await session.AddTorrentAsync(second, new TorrentOptions { DownloadDirectory = target }); // no peers: nothing else may write there
        Assert.Equal(usersOwn, File.ReadAllBytes(mine));
    }

    [Fact]
    public async Task The_copy_never_goes_through_a_symbolic_link_in_the_download_folder()
    {
        (ShoalSession session, Torrent second) = await SeedATorrentAndMakeAnotherWithOneOfItsFilesAsync();
        string target = Path.Combine(_root, "second");
        string elsewhere = Path.Combine(_root, "elsewhere");
        Directory.CreateDirectory(target);
        Directory.CreateDirectory(elsewhere);
        Directory.CreateSymbolicLink(Path.Combine(target, "album"), elsewhere);
        try { await session.AddTorrentAsync(second, new TorrentOptions { DownloadDirectory = target }); }
        catch (Shoal.Storage.StorageException) { } // refusing the folder is fine too; writing through the link is not
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
    }

    /// <summary>
    /// A session seeding a v2 torrent, and a second v2 torrent (not added) whose one file, album/same.bin, is the
    /// first's odd.bin: adding it makes the session copy that file from the first.
    /// </summary>
    private async Task<(ShoalSession Session, Torrent Second)> SeedATorrentAndMakeAnotherWithOneOfItsFilesAsync()
    {
        (Torrent first, string seedDir, string content) = await CreateAsync(TorrentVersion.V2);
        string otherContent = Path.Combine(_root, "other", "album");
        Directory.CreateDirectory(otherContent);
        File.Copy(Path.Combine(content, "odd.bin"), Path.Combine(otherContent, "same.bin"));
        Torrent second = await TorrentCreator.CreateAsync(otherContent, new TorrentCreationOptions { PieceLength = PieceLength, Version = TorrentVersion.V2 });
        ShoalSession session = await StartSessionAsync();
        await CompletesAsync(await session.AddTorrentAsync(first, new TorrentOptions { DownloadDirectory = seedDir }));
        return (session, second);
    }

    private async Task CompletesAsync(TorrentHandle handle)
    {
        Task done = await Task.WhenAny(handle.Completion, Task.Delay(Bounded));
        TorrentStatus status = handle.GetStatus();
        string log;
        lock (_log) log = string.Join("\n", _log.TakeLast(40));
        Assert.True(done == handle.Completion, $"did not finish: {status.State} {status.Progress:P0} {status.Error}\n{log}");
        await handle.Completion;
    }

    private async Task<ShoalSession> StartSessionAsync(string? resumeDirectory = null)
    {
        ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            ResumeDirectory = resumeDirectory,
            Log = line => { lock (_log) _log.Add($"[{_sessions.Count}] {line}"); },
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableLocalDiscovery = false,
            EnableDht = false,
        });
        _sessions.Add(session);
        return session;
    }
}
