using System.Net;
using Shoal.Cli.Tracker;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>Peers that know nothing but a tracker URL (Shoal's own tracker) find each other and finish.</summary>
public sealed class TrackerSwarmTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-tracker-swarm-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("http")]
    [InlineData("udp")]
    public async Task SeederAndLeechersThatKnowOnlyTheTrackerFinish(string scheme)
    {
        await using TrackerHost tracker = await TrackerHost.StartAsync(new TrackerHostOptions
        {
            Bind = IPAddress.Loopback,
            HttpPort = 0,
            UdpPort = 0,
            MaxRequestsPerSecond = 0,
        }, CancellationToken.None);
        string url = (scheme == "http" ? tracker.HttpAnnounceUrl : tracker.UdpAnnounceUrl).ToString();

        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        byte[] content = new byte[3_000_000];
        new Random(3).NextBytes(content);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "data.bin"), content);
        Torrent torrent = await TorrentCreator.CreateAsync(Path.Combine(seedDir, "data.bin"), new TorrentCreationOptions
        {
            PieceLength = 64 * 1024,
            AnnounceTiers = [[url]],
        });

        var sessions = new List<ShoalSession>();
        try
        {
            ShoalSession seeder = await StartAsync(sessions);
            await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
            var handles = new List<TorrentHandle>();
            for (int i = 0; i < 2; i++)
            {
                ShoalSession leecher = await StartAsync(sessions);
                handles.Add(await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = Path.Combine(_root, $"leech{i}") }));
            }

            await Task.WhenAll(handles.Select(h => h.Completion)).WaitAsync(TimeSpan.FromSeconds(60));
            for (int i = 0; i < handles.Count; i++)
            {
                Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(_root, $"leech{i}", "data.bin")));
                Assert.Contains(handles[i].GetTrackers(), t => t.IsWorking && t.Url.Scheme == scheme);
            }
            Assert.Contains(handles, h => h.GetStatus().Sources?.Tracker > 0);
        }
        finally
        {
            foreach (ShoalSession session in sessions) await session.DisposeAsync();
        }
    }

    private static async Task<ShoalSession> StartAsync(List<ShoalSession> sessions)
    {
        ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
        });
        sessions.Add(session);
        return session;
    }
}
