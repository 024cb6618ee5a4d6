using System.Globalization;
using System.Net;
using Shoal.Cli;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Trackers;

namespace Shoal.Tests.Swarm;

/// <summary>Trackers hear the truth: the real 'left' from the first announce, the real 'downloaded', every tier, every tracker asked for.</summary>
public sealed class TrackerTruthTests : IAsyncDisposable
{
    private const int PieceLength = 64 * 1024;
    private const int Size = 32 * PieceLength;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-tracker-truth-").FullName;
    private readonly List<ShoalSession> _sessions = [];
    private readonly byte[] _content = new byte[Size];

    public TrackerTruthTests() => new Random(61).NextBytes(_content);

    private async Task<(Torrent Torrent, string SeedDirectory)> CreateAsync(params Uri[][] tiers)
    {
        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        string file = Path.Combine(seedDir, "data.bin");
        await File.WriteAllBytesAsync(file, _content);
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions
        {
            PieceLength = PieceLength,
            AnnounceTiers = [.. tiers.Select(t => (IReadOnlyList<string>)[.. t.Select(u => u.ToString())])],
        });
        return (torrent, seedDir);
    }

    private async Task<ShoalSession> StartAsync()
    {
        ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
        });
        _sessions.Add(session);
        return session;
    }

    private static long Number(IReadOnlyDictionary<string, string> announce, string key) => long.Parse(announce[key], CultureInfo.InvariantCulture);

    [Fact]
    public async Task ASeederAnnouncesItselfAsASeederFromTheFirstAnnounce()
    {
        await using var tracker = new RecordingHttpTracker();
        (Torrent torrent, string seedDir) = await CreateAsync([tracker.AnnounceUrl]);
        ShoalSession seeder = await StartAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        await Eventually.TrueAsync(() => !tracker.Announces.IsEmpty, Bounded, "no announce");
        IReadOnlyDictionary<string, string> first = tracker.Snapshot()[0];
        Assert.Equal("started", first["event"]);
        Assert.Equal(0, Number(first, "left"));
    }

    [Fact]
    public async Task ALeecherAnnouncesWhatIsReallyLeftThenCompletedWithWhatItReallyDownloaded()
    {
        await using var tracker = new RecordingHttpTracker();
        (Torrent torrent, string seedDir) = await CreateAsync([tracker.AnnounceUrl]);
        ShoalSession seeder = await StartAsync();
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        string leechDir = Path.Combine(_root, "leech");
        Directory.CreateDirectory(leechDir);
        const int have = 12 * PieceLength; // 12 of 32 pieces already on disk
        await File.WriteAllBytesAsync(Path.Combine(leechDir, "data.bin"), _content.AsSpan(0, have).ToArray());

        ShoalSession leecher = await StartAsync();
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = leechDir,
            Peers = [seeder.ListenEndPoint],
        });
        await handle.Completion.WaitAsync(Bounded);
        await Eventually.TrueAsync(() => tracker.Snapshot().Any(a => a.GetValueOrDefault("event") == "completed"), Bounded, "no completed announce");

        string leecherPort = leecher.ListenEndPoint.Port.ToString(CultureInfo.InvariantCulture);
        IReadOnlyDictionary<string, string>[] mine = [.. tracker.Snapshot().Where(a => a["port"] == leecherPort)];
        Assert.Equal("started", mine[0]["event"]);
        Assert.Equal(Size - have, Number(mine[0], "left"));
        IReadOnlyDictionary<string, string> completed = mine.Single(a => a.GetValueOrDefault("event") == "completed");
        Assert.Equal(0, Number(completed, "left"));
        long downloaded = Number(completed, "downloaded");
        Assert.True(downloaded >= Size - have, $"completed said downloaded={downloaded}, the leecher fetched at least {Size - have}");
        Assert.Equal(handle.GetStatus().Downloaded, downloaded);
    }

    [Fact]
    public async Task EveryTierHearsTheAnnounce()
    {
        await using var first = new RecordingHttpTracker();
        await using var second = new RecordingHttpTracker();
        (Torrent torrent, string seedDir) = await CreateAsync([first.AnnounceUrl], [second.AnnounceUrl]);
        ShoalSession seeder = await StartAsync();
        TorrentHandle handle = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        await Eventually.TrueAsync(() => !first.Announces.IsEmpty && !second.Announces.IsEmpty, Bounded,
            $"announces: first tier {first.Announces.Count}, second tier {second.Announces.Count}");
        Assert.All([first.Snapshot()[0], second.Snapshot()[0]], a => Assert.Equal(("started", 0L), (a["event"], Number(a, "left"))));
        await Eventually.TrueAsync(() => handle.GetTrackers().All(t => t.IsWorking), Bounded, "not every tracker shows as working");
    }

    [Fact]
    public async Task ShareWithATorrentAndATrackerOptionAnnouncesToBothAsASeeder()
    {
        await using var own = new RecordingHttpTracker();
        await using var extra = new RecordingHttpTracker();
        (Torrent torrent, string seedDir) = await CreateAsync([own.AnnounceUrl]);
        string torrentFile = Path.Combine(_root, "data.torrent");
        await File.WriteAllBytesAsync(torrentFile, torrent.ToBytes());
        var stdout = new StringWriter();
        using var stop = new CancellationTokenSource();
        Task<int> share = Program.RunAsync(["share", Path.Combine(seedDir, "data.bin"), "--torrent", torrentFile, "--tracker", extra.AnnounceUrl.ToString(),
            "--port", "0", "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "-q"], TextWriter.Synchronized(stdout), TextWriter.Null, stop.Token);
        try
        {
            await Eventually.TrueAsync(() => !own.Announces.IsEmpty && !extra.Announces.IsEmpty, Bounded,
                $"announces: the torrent's tracker {own.Announces.Count}, --tracker {extra.Announces.Count}");
            Assert.All([own.Snapshot()[0], extra.Snapshot()[0]], a => Assert.Equal(("started", 0L), (a["event"], Number(a, "left"))));
        }
        finally
        {
            stop.Cancel();
            Assert.Equal(0, await share);
        }
        // The magnet link shoal prints names both trackers, so whoever uses it finds the extra one too.
        string magnet = stdout.ToString().Split('\n').Single(l => l.StartsWith("magnet: ", StringComparison.Ordinal));
        Assert.Contains(Uri.EscapeDataString(extra.AnnounceUrl.ToString()), magnet, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ShoalSession session in _sessions) await session.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
