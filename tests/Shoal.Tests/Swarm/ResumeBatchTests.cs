using System.Net;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>Resume files are written in batches (one flush each) and only when something changed.</summary>
public sealed class ResumeBatchTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-resume-batch-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Saves_asked_for_together_are_written_in_a_few_batches_and_each_is_readable()
    {
        var writer = new ResumeWriter();
        var saves = new List<Task>();
        var hashes = new List<InfoHash>();
        for (int i = 0; i < 300; i++)
        {
            var hash = new InfoHash(SHA1.HashData(BitConverter.GetBytes(i)));
            hashes.Add(hash);
            var verified = new BitField(3);
            verified[i % 3] = true;
            saves.Add(writer.SaveAsync(Path.Combine(_root, $"{i}.resume"), new ResumeData(hash, 16384, verified, [new ResumeFileState(40000, 1234)], 99)));
        }
        await Task.WhenAll(saves);
        Assert.Equal(300, writer.FilesWritten);
        Assert.InRange(writer.Batches, 1, 30); // one batch per flush, not one per file
        for (int i = 0; i < 300; i++)
        {
            ResumeData? back = ResumeFile.TryLoad(Path.Combine(_root, $"{i}.resume"), hashes[i], out string? why);
            Assert.True(back is not null, why);
            Assert.True(back!.IsVerified(i % 3));
        }
        Assert.Empty(Directory.GetFiles(_root, "*.tmp"));
    }

    [Fact]
    public async Task A_save_that_cannot_be_written_fails_alone()
    {
        var writer = new ResumeWriter();
        string blocker = Path.Combine(_root, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "x");
        var data = new ResumeData(new InfoHash(new byte[20]), 16384, new BitField(1), [ResumeFileState.Absent], 1);
        Task good = writer.SaveAsync(Path.Combine(_root, "good.resume"), data);
        Task bad = writer.SaveAsync(Path.Combine(blocker, "bad.resume"), data);
        await good;
        await Assert.ThrowsAnyAsync<IOException>(() => bad);
        Assert.True(File.Exists(Path.Combine(_root, "good.resume")));
    }

    [Fact]
    public async Task A_seed_saves_once_after_its_first_check_and_not_again_when_it_stops_unchanged()
    {
        string data = Path.Combine(_root, "data");
        Directory.CreateDirectory(data);
        var torrents = new List<Torrent>();
        for (int i = 0; i < 20; i++)
        {
            string file = Path.Combine(data, $"f{i}.bin");
            await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(20_000));
            torrents.Add(await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 16 * 1024 }));
        }
        string resume = Path.Combine(_root, "resume");
        SessionOptions options = new()
        {
            ListenPort = 0,
            BindAddress = IPAddress.Loopback,
            EnableDht = false,
            EnableLocalDiscovery = false,
            EnablePortMapping = false,
            ResumeDirectory = resume,
        };
        await using (ShoalSession session = await ShoalSession.StartAsync(options))
        {
            var handles = new List<TorrentHandle>();
            foreach (Torrent t in torrents) handles.Add(await session.AddTorrentAsync(t, new TorrentOptions { DownloadDirectory = data }));
            // Checked without resume data: each saves at once (a restart then hashes nothing), in batches.
            await Eventually.TrueAsync(() => session.ResumeWriter.FilesWritten == 20, TimeSpan.FromSeconds(30), "the seeds did not save their resume data");
            Assert.All(handles, h => Assert.Equal(TorrentState.Seeding, h.GetStatus().State));
            Assert.InRange(session.ResumeWriter.Batches, 1, 20);
            // Stopping seeds that changed nothing writes nothing.
            await handles[0].StopAsync();
            Assert.Equal(20, session.ResumeWriter.FilesWritten);
        }
        Assert.Equal(20, Directory.GetFiles(resume, "*.resume").Length);

        // The next session trusts them, and its stop writes nothing either.
        await using (ShoalSession session = await ShoalSession.StartAsync(options))
        {
            var handles = new List<TorrentHandle>();
            foreach (Torrent t in torrents) handles.Add(await session.AddTorrentAsync(t, new TorrentOptions { DownloadDirectory = data }));
            await Eventually.TrueAsync(() => handles.All(h => h.GetStatus().State == TorrentState.Seeding), TimeSpan.FromSeconds(30), "the seeds did not seed");
            await Task.WhenAll(handles.Select(h => h.StopAsync()));
            Assert.Equal(0, session.ResumeWriter.FilesWritten);
        }
    }
}
