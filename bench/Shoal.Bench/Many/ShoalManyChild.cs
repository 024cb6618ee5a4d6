using System.Diagnostics;
using System.Globalization;
using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Bench.Many;

/// <summary>
/// The Shoal side of <c>many-torrents</c>, in a process of its own (<c>many-torrents --child ...</c>) so its
/// descriptors, memory and CPU are measured alone: one session seeds the first COUNT torrents of a folder, as
/// <c>lt_many.py</c> does with libtorrent. Prints <c>MANAGED</c> (managed heap per torrent beyond the parsed
/// metainfo, after full collections) and <c>READY</c> (seconds from the first add until every torrent seeds), idles
/// until stdin closes, then prints <c>STOPPED</c> (seconds to dispose the session).
/// </summary>
internal static class ShoalManyChild
{
    public static async Task<int> RunAsync(string torrents, string data, string resume, int count, int maxOpenFiles)
    {
        string[] names = [.. Directory.GetFiles(torrents, "*.torrent").Order(StringComparer.Ordinal).Take(count)];
        if (names.Length < count) throw new BenchFailedException($"{torrents} holds {names.Length} torrents, {count} asked for");
        var parsed = new Torrent[count];
        for (int i = 0; i < count; i++) parsed[i] = Torrent.Parse(await File.ReadAllBytesAsync(names[i]).ConfigureAwait(false));
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        int errors = 0;
        await using ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            ListenPort = 0,
            BindAddress = IPAddress.Loopback,
            EnableDht = false,
            EnableLocalDiscovery = false,
            EnablePortMapping = false,
            ResumeDirectory = resume,
            MaxOpenFiles = maxOpenFiles,
            Log = line =>
            {
                if (line.Contains("error", StringComparison.OrdinalIgnoreCase) && Interlocked.Increment(ref errors) <= 10) Console.Error.WriteLine(line);
            },
        }).ConfigureAwait(false);

        var clock = Stopwatch.StartNew();
        var handles = new TorrentHandle[count];
        var options = new TorrentOptions { DownloadDirectory = data };
        for (int i = 0; i < count; i++) handles[i] = await session.AddTorrentAsync(parsed[i], options).ConfigureAwait(false);
        double added = clock.Elapsed.TotalSeconds;
        // Every torrent's Completion finishes as it seeds (a seed from the start completes after its check).
        Task all = Task.WhenAll(handles.Select(h => h.Completion));
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromMinutes(10))).ConfigureAwait(false) != all)
            throw new BenchFailedException($"only {handles.Count(h => h.Completion.IsCompletedSuccessfully)} of {count} torrents seed after 10 minutes");
        await all.ConfigureAwait(false);
        double seeding = clock.Elapsed.TotalSeconds;

        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(parsed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"MANAGED {(heapAfter - heapBefore) / (double)count:0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ADDED {added:0.000}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {seeding:0.000}"));

        await Console.In.ReadToEndAsync().ConfigureAwait(false); // the benchmark measures the idle session meanwhile
        // What the idle session's managed heap is, as the runtime sees it (not measured by the benchmark: for a
        // person reading the child's output, to tell the live heap from the garbage collector's headroom).
        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"HEAP live {GC.GetTotalMemory(false) / 1048576.0:0.0} MiB, heap {gc.HeapSizeBytes / 1048576.0:0.0} MiB, fragmented {gc.FragmentedBytes / 1048576.0:0.0} MiB, committed {gc.TotalCommittedBytes / 1048576.0:0.0} MiB"));
        var stopping = Stopwatch.StartNew();
        await session.DisposeAsync().ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STOPPED {stopping.Elapsed.TotalSeconds:0.000}"));
        GC.KeepAlive(handles);
        return 0;
    }
}
