using System.Globalization;
using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>
/// The child process of <see cref="ManyTorrentsTests"/>: one session seeding COUNT small single-file torrents from ROOT,
/// with the session's file pool at MAX-OPEN-FILES. With FREE-DESCRIPTORS, it first holds every descriptor the limit
/// allows but that many (and runs eight disk workers), so the session runs out of descriptors again and again. Prints
/// one line of counts and exits 0 once every torrent seeds, 1 when one fails or the wait times out.
/// </summary>
internal static class ManyTorrentsChild
{
    public const string Verb = "many-torrents-child";

    public static async Task<int> RunAsync(string[] args)
    {
        string root = args[0];
        int count = int.Parse(args[1], CultureInfo.InvariantCulture);
        int maxOpenFiles = int.Parse(args[2], CultureInfo.InvariantCulture);
        int? free = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : null;
        string data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        var random = new Random(22);
        var content = new byte[16 * 1024];
        var torrents = new List<Torrent>(count);
        for (int i = 0; i < count; i++)
        {
            string file = Path.Combine(data, $"f{i:D5}.bin");
            random.NextBytes(content);
            await File.WriteAllBytesAsync(file, content);
            torrents.Add(await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 16 * 1024 }));
        }

        // The managed heap before the session (the parsed torrents included), to tell what each torrent costs once it seeds.
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        int logged = 0;
        await using ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            ListenPort = 0,
            BindAddress = IPAddress.Loopback,
            EnableDht = false,
            EnableLocalDiscovery = false,
            EnablePortMapping = false,
            MaxOpenFiles = maxOpenFiles,
            DiskConcurrency = free is null ? 4 : 8,
            ResumeDirectory = Path.Combine(root, "resume"),
            Log = line =>
            {
                // A few lines are enough to tell what went wrong; thousands of torrents may say the same.
                if (Interlocked.Increment(ref logged) <= 20) Console.Error.WriteLine(line);
            },
        });
        var handles = new List<TorrentHandle>(count);
        var hogs = new List<FileStream>();
        if (free is int keep)
        {
            // The runtime loads code lazily, which needs descriptors too: one torrent first runs every path once.
            handles.Add(await session.AddTorrentAsync(torrents[0], new TorrentOptions { DownloadDirectory = data }));
            await handles[0].Completion;
            await Task.Delay(500);
            try
            {
                while (true) hogs.Add(new FileStream("/dev/null", FileMode.Open, FileAccess.Read));
            }
            catch (IOException)
            {
                // The limit: give back what the session may use.
            }
            for (int i = 0; i < keep && hogs.Count > 0; i++)
            {
                hogs[^1].Dispose();
                hogs.RemoveAt(hogs.Count - 1);
            }
        }
        // Sampled from before the first add: the checks open (and close) the data files while torrents are still
        // being added, and on a fast machine all of them may be done before the adding ends.
        int mostDescriptors = 0, mostDataFiles = 0, seeding = 0, failed = 0;
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                try
                {
                    mostDescriptors = Math.Max(mostDescriptors, Directory.GetFiles("/proc/self/fd").Length);
                }
                catch (IOException)
                {
                    // Listing /proc/self/fd needs a descriptor too; with every one in use this sample is skipped.
                }
                mostDataFiles = Math.Max(mostDataFiles, session.OpenFiles);
                try { await Task.Delay(10, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        foreach (Torrent torrent in torrents.Skip(handles.Count)) handles.Add(await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = data }));

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            seeding = handles.Count(h => h.GetStatus().State == TorrentState.Seeding);
            failed = handles.Count(h => h.GetStatus().State == TorrentState.Error);
            if (seeding + failed == count) break;
            await Task.Delay(50);
        }
        sampling.Cancel();
        await sampler;
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(torrents);
        foreach (TorrentHandle h in handles.Where(h => h.GetStatus().State == TorrentState.Error).Take(3))
            Console.Error.WriteLine($"{h.Torrent?.Name}: {h.GetStatus().Error}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seeding={seeding} error={failed} most-descriptors={mostDescriptors} most-data-files={mostDataFiles} shortages={session.DescriptorShortages} managed-per-torrent={(heapAfter - heapBefore) / count}"));
        foreach (FileStream hog in hogs) hog.Dispose();
        return seeding == count ? 0 : 1;
    }
}
