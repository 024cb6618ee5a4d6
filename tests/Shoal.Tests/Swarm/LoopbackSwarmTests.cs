using System.Net;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Swarm;

/// <summary>Real sessions on 127.0.0.1 sharing a torrent end to end.</summary>
public sealed class LoopbackSwarmTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-swarm-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task SeederAndFourLeechersStartingTogetherAllFinishByteIdenticalAndTrade()
    {
        const int pieceLength = 32 * 1024;
        string sourceDir = Path.Combine(_root, "seed");
        string content = Path.Combine(sourceDir, "content");
        var random = new Random(42);
        TestContent.WriteRandomFile(Path.Combine(content, "small.bin"), 10_000, random);              // smaller than a piece
        TestContent.WriteRandomFile(Path.Combine(content, "odd.bin"), 300_001, random);               // not piece-aligned
        TestContent.WriteRandomFile(Path.Combine(content, "sub", "deep.bin"), 1_500_000, random);     // in a subfolder
        Torrent torrent = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = pieceLength });

        // The seeder's upload is capped so the leechers cannot all be served by it alone in time: they
        // must trade pieces among themselves.
        var sessions = new List<ShoalSession>();
        try
        {
            ShoalSession seeder = await StartSessionAsync(sessions, maxUpload: 1_000_000);
            var leechers = new List<ShoalSession>();
            for (int i = 0; i < 4; i++) leechers.Add(await StartSessionAsync(sessions, maxUpload: 0));

            await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = sourceDir });
            var handles = new List<TorrentHandle>();
            for (int i = 0; i < leechers.Count; i++)
            {
                var peers = new List<IPEndPoint> { seeder.ListenEndPoint };
                peers.AddRange(leechers.Where((_, j) => j != i).Select(l => l.ListenEndPoint));
                handles.Add(await leechers[i].AddTorrentAsync(torrent, new TorrentOptions
                {
                    DownloadDirectory = Path.Combine(_root, $"leecher{i}"),
                    Peers = peers,
                }));
            }

            Task all = Task.WhenAll(handles.Select(h => h.Completion));
            Task finished = await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(90)));
            Assert.True(finished == all, "leechers did not finish: " + string.Join(", ", handles.Select(h => $"{h.GetStatus().Progress:P0}")));
            await all;

            for (int i = 0; i < leechers.Count; i++)
            {
                foreach (string relative in new[] { "small.bin", "odd.bin", Path.Combine("sub", "deep.bin") })
                {
                    byte[] expected = await File.ReadAllBytesAsync(Path.Combine(content, relative));
                    byte[] actual = await File.ReadAllBytesAsync(Path.Combine(_root, $"leecher{i}", "content", relative));
                    Assert.Equal(SHA256.HashData(expected), SHA256.HashData(actual));
                }
            }

            long uploadedByLeechers = handles.Sum(h => h.GetStatus().Uploaded);
            Assert.True(uploadedByLeechers > 0, "leechers never uploaded to each other");
            Assert.All(handles, h => Assert.Equal(0, h.GetStatus().FailedPieces));
        }
        finally
        {
            foreach (ShoalSession session in sessions) await session.DisposeAsync();
        }
    }

    [Fact]
    public async Task RestartedLeecherKeepsVerifiedDataAndFinishes()
    {
        string sourceDir = Path.Combine(_root, "seed");
        string file = Path.Combine(sourceDir, "data.bin");
        TestContent.WriteRandomFile(file, 2_000_000, new Random(7));
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 64 * 1024 });

        // Pre-seed the leecher's folder with the first half of the data plus garbage: only the verified
        // pieces may count, the rest must be fetched and the result must be exact.
        string leechDir = Path.Combine(_root, "leech");
        Directory.CreateDirectory(leechDir);
        byte[] source = await File.ReadAllBytesAsync(file);
        byte[] partial = new byte[source.Length];
        Array.Copy(source, partial, source.Length / 2);
        new Random(1).NextBytes(partial.AsSpan(source.Length / 2));
        await File.WriteAllBytesAsync(Path.Combine(leechDir, "data.bin"), partial);

        var sessions = new List<ShoalSession>();
        try
        {
            ShoalSession seeder = await StartSessionAsync(sessions, 0);
            ShoalSession leecher = await StartSessionAsync(sessions, 0);
            await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = sourceDir });
            TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions
            {
                DownloadDirectory = leechDir,
                Peers = [seeder.ListenEndPoint],
            });
            Task done = await Task.WhenAny(handle.Completion, Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(done == handle.Completion, "leecher did not finish");
            await handle.Completion;

            TorrentStatus status = handle.GetStatus();
            Assert.Equal(TorrentState.Seeding, status.State);
            Assert.True(status.Downloaded < source.Length * 3 / 4, $"downloaded {status.Downloaded} bytes, more than the missing half");
            Assert.Equal(source, await File.ReadAllBytesAsync(Path.Combine(leechDir, "data.bin")));
        }
        finally
        {
            foreach (ShoalSession session in sessions) await session.DisposeAsync();
        }
    }

    private static async Task<ShoalSession> StartSessionAsync(List<ShoalSession> sessions, long maxUpload)
    {
        ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            MaxUploadRate = maxUpload,
            EnableLocalDiscovery = false,
            EnableDht = false,
        });
        sessions.Add(session);
        return session;
    }
}
