using System.Net;
using Shoal.Dht;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Discovery;

namespace Shoal.Tests.Swarm;

/// <summary>Peers that find each other and the torrent's metadata without being handed everything.</summary>
public sealed class DiscoveryLoopbackTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly LoopbackSessions _bed = new("shoal-discovery-");

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task MagnetWithOnlyAPeerFetchesTheMetadataThenTheData()
    {
        // 900 pieces of 16 KiB: the info dictionary is over 16 KiB, so it takes two BEP 9 pieces.
        (Torrent torrent, string seedDir, byte[] content) = await MakeTorrentAsync("magnet.bin", 900 * 16 * 1024 - 1234, 16 * 1024);
        Assert.True(torrent.InfoDictionary.Length > 16 * 1024);
        ShoalSession seeder = await StartAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        ShoalSession leecher = await StartAsync();
        var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&x.pe=127.0.0.1:{seeder.ListenEndPoint.Port}");
        string leechDir = _bed.Combine("leech");
        TorrentHandle handle = await leecher.AddMagnetAsync(magnet, new TorrentOptions { DownloadDirectory = leechDir });
        // No assertion that handle.Torrent is still null here: over loopback the metadata can arrive before this line runs.

        Torrent fetched = await handle.Metadata.WaitAsync(Patience);
        Assert.Equal(torrent.InfoHash, fetched.InfoHash);
        Assert.Equal(torrent.InfoDictionary.ToArray(), fetched.InfoDictionary.ToArray());
        await handle.Completion.WaitAsync(Patience);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(leechDir, "magnet.bin")));
    }

    [Fact]
    public async Task MagnetFileSelectionDownloadsOnlyTheSelectedFiles()
    {
        (Torrent torrent, string seedDir, Dictionary<string, byte[]> files, int middle) = await MakeThreeFileTorrentAsync("seed-multi");
        ShoalSession seeder = await StartAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        ShoalSession leecher = await StartAsync();
        string leechDir = _bed.Combine("leech-multi");
        var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&x.pe=127.0.0.1:{seeder.ListenEndPoint.Port}&so={middle}");
        TorrentHandle handle = await leecher.AddMagnetAsync(magnet, new TorrentOptions { DownloadDirectory = leechDir });

        await handle.Completion.WaitAsync(Patience);
        Assert.Equal(files["b.bin"], await File.ReadAllBytesAsync(Path.Combine(leechDir, "multi", "b.bin")));
        Assert.False(File.Exists(Path.Combine(leechDir, "multi", "a.bin")), "a.bin was not selected but was written");
        Assert.False(File.Exists(Path.Combine(leechDir, "multi", "c.bin")), "c.bin was not selected but was written");
        TorrentStatus status = handle.GetStatus();
        Assert.Equal(1.0, status.Progress, 3);
        Assert.True(status.Downloaded < 340_001, $"downloaded {status.Downloaded} bytes: more than the pieces of b.bin");
    }

    [Fact]
    public async Task ASelectiveLeecherUploadsAndKeepsThePiecesItSharesWithSkippedFiles()
    {
        // a.bin | b.bin | c.bin in 64 KiB pieces; only b.bin is selected. Pieces 1 and 3 hold bytes of a.bin and c.bin
        // too: the leecher keeps whole copies of them, so it can upload them and recheck them after a restart.
        (Torrent torrent, string seedDir, Dictionary<string, byte[]> files, int middle) = await MakeThreeFileTorrentAsync("seed-parts");
        ShoalSession seeder = await StartAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        ShoalSession first = await StartAsync();
        string firstDir = _bed.Combine("first");
        TorrentHandle firstHandle = await first.AddTorrentAsync(torrent,
            new TorrentOptions { DownloadDirectory = firstDir, SelectedFiles = [middle], Peers = [seeder.ListenEndPoint] });
        await firstHandle.Completion.WaitAsync(Patience);
        string parts = Path.Combine(firstDir, "." + torrent.InfoHash.ToHex() + ".parts");
        Assert.Equal(new[] { "1.piece", "3.piece" }, Directory.GetFiles(parts).Select(f => Path.GetFileName(f)).Order().ToArray());
        Assert.False(File.Exists(Path.Combine(firstDir, "multi", "a.bin")), "a.bin was not selected but was written");

        // The seeder leaves: the second leecher can only get pieces 1 and 3 from the first.
        await seeder.DisposeAsync();
        ShoalSession second = await StartAsync();
        string secondDir = _bed.Combine("second");
        TorrentHandle secondHandle = await second.AddTorrentAsync(torrent,
            new TorrentOptions { DownloadDirectory = secondDir, SelectedFiles = [middle], Peers = [first.ListenEndPoint] });
        await secondHandle.Completion.WaitAsync(Patience);
        Assert.Equal(files["b.bin"], await File.ReadAllBytesAsync(Path.Combine(secondDir, "multi", "b.bin")));

        // A restart with nobody to download from: every selected piece, 1 and 3 included, verifies from disk.
        await first.DisposeAsync();
        ShoalSession again = await StartAsync();
        TorrentHandle againHandle = await again.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = firstDir, SelectedFiles = [middle] });
        await againHandle.Completion.WaitAsync(Patience);
        Assert.Equal(0, againHandle.GetStatus().Downloaded);
    }

    [Fact]
    public async Task ALeecherThatKnowsOnePeerLearnsTheOthersThroughPex()
    {
        (Torrent torrent, string seedDir, _) = await MakeTorrentAsync("pex.bin", 4_000_000, 64 * 1024);
        // A slow seeder keeps everybody downloading long enough to be seen.
        ShoalSession seeder = await StartAsync(maxUpload: 200_000);
        TorrentHandle seed = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        var early = new List<ShoalSession>();
        var earlyHandles = new List<TorrentHandle>();
        for (int i = 0; i < 2; i++)
        {
            ShoalSession session = await StartAsync();
            early.Add(session);
            earlyHandles.Add(await session.AddTorrentAsync(torrent, new TorrentOptions
            {
                DownloadDirectory = _bed.Combine($"early{i}"),
                Peers = [seeder.ListenEndPoint],
            }));
        }
        await WaitUntilAsync(() => seed.GetPeers().Count == 2, "the seeder never saw both early leechers");
        // The early leechers find each other through the seeder's first PEX message. Once they have, the seeder's
        // next message to them is a minute away, so they cannot learn of the late leecher and dial it first: the
        // late leecher's connections to them are its own, from PEX.
        await WaitUntilAsync(() => earlyHandles.All(h => h.GetPeers().Count == 2), "the early leechers never found each other through PEX");

        ShoalSession late = await StartAsync();
        TorrentHandle lateHandle = await late.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = _bed.Combine("late"),
            Peers = [seeder.ListenEndPoint],
        });
        var earlyPorts = early.Select(s => s.ListenEndPoint.Port).ToHashSet();
        await WaitUntilAsync(
            () => lateHandle.GetPeers().Count(p => p.Source.HasFlag(PeerSource.Pex) && earlyPorts.Contains(p.EndPoint.Port)) == 2,
            "the late leecher did not connect to the early ones through PEX");
    }

    [MulticastLoopbackFact]
    public async Task TwoSessionsOnOneHostFindEachOtherThroughLocalDiscovery()
    {
        (Torrent torrent, string seedDir, byte[] content) = await MakeTorrentAsync("lsd.bin", 1_000_000, 64 * 1024);
        LsdOptions lsd = MulticastLoopback.Lsd(MulticastLoopback.FreeUdpPort());
        ShoalSession seeder = await StartAsync(lsd: lsd);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        ShoalSession leecher = await StartAsync(lsd: lsd);
        string leechDir = _bed.Combine("leech");
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = leechDir });

        await handle.Completion.WaitAsync(Patience);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(leechDir, "lsd.bin")));
    }

    [Fact]
    public async Task AMagnetWithNoTrackerAndNoPeersIsFoundThroughTheDht()
    {
        (Torrent torrent, string seedDir, byte[] content) = await MakeTorrentAsync("dht.bin", 1_500_000, 64 * 1024);
        await using var bootstrap = new DhtNode(new DhtNodeOptions { Port = 0, BindAddress = IPAddress.Loopback, BootstrapNodes = [] });
        await bootstrap.StartAsync();
        var dht = new DhtNodeOptions { Port = 0, BindAddress = IPAddress.Loopback, BootstrapNodes = [$"127.0.0.1:{bootstrap.LocalEndPoint!.Port}"] };

        // A capped seeder keeps the connection up for a few seconds: two seeds disconnect at once, and the peer list
        // shows who is connected now, so the DHT-found seeder must be seen while the download runs.
        ShoalSession seeder = await StartAsync(maxUpload: 500_000, dht: dht);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        ShoalSession leecher = await StartAsync(dht: dht);
        string leechDir = _bed.Combine("leech");
        TorrentHandle handle = await leecher.AddMagnetAsync(
            MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}"), new TorrentOptions { DownloadDirectory = leechDir });

        await WaitUntilAsync(() => handle.GetPeers().Any(p => p.Source.HasFlag(PeerSource.Dht)) || handle.Completion.IsCompleted,
            "the leecher never connected to a peer from the DHT");
        Assert.Contains(handle.GetPeers(), p => p.Source.HasFlag(PeerSource.Dht));
        await handle.Completion.WaitAsync(Patience);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(leechDir, "dht.bin")));
    }

    private Task<ShoalSession> StartAsync(long maxUpload = 0, LsdOptions? lsd = null, DhtNodeOptions? dht = null) => _bed.StartAsync(o => o with
    {
        MaxUploadRate = maxUpload,
        EnableLocalDiscovery = lsd is not null,
        LocalDiscovery = lsd,
        EnableDht = dht is not null,
        Dht = dht,
    });

    /// <summary>
    /// Three files that share pieces at their borders, a.bin | b.bin | c.bin in 64 KiB pieces with odd sizes, under
    /// <paramref name="folder"/>/multi; returns the contents by name and the index of b.bin.
    /// </summary>
    private async Task<(Torrent Torrent, string SeedDir, Dictionary<string, byte[]> Files, int Middle)> MakeThreeFileTorrentAsync(string folder)
    {
        string seedDir = _bed.Combine(folder);
        string content = Path.Combine(seedDir, "multi");
        Directory.CreateDirectory(content);
        var files = new Dictionary<string, byte[]>();
        foreach ((string name, int length) in new[] { ("a.bin", 100_000), ("b.bin", 150_001), ("c.bin", 90_000) })
        {
            byte[] bytes = new byte[length];
            new Random(length).NextBytes(bytes);
            files[name] = bytes;
            await File.WriteAllBytesAsync(Path.Combine(content, name), bytes);
        }
        Torrent torrent = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = 64 * 1024 });
        int middle = torrent.Files.ToList().FindIndex(f => f.Path.EndsWith("b.bin", StringComparison.Ordinal));
        return (torrent, seedDir, files, middle);
    }

    private async Task<(Torrent Torrent, string SeedDir, byte[] Content)> MakeTorrentAsync(string name, int length, int pieceLength)
    {
        string seedDir = _bed.Combine("seed-" + name);
        Directory.CreateDirectory(seedDir);
        byte[] content = new byte[length];
        new Random(length).NextBytes(content);
        string path = Path.Combine(seedDir, name);
        await File.WriteAllBytesAsync(path, content);
        Torrent torrent = await TorrentCreator.CreateAsync(path, new TorrentCreationOptions { PieceLength = pieceLength });
        return (torrent, seedDir, content);
    }

    private static Task WaitUntilAsync(Func<bool> condition, string failure) => Eventually.TrueAsync(condition, Patience, failure);
}
