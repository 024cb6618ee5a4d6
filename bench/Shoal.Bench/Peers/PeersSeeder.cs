using System.Globalization;
using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Bench.Peers;

/// <summary>
/// The seeder child of the <c>peers</c> benchmark: one ShoalSession seeding one torrent, in its own process so
/// its /proc numbers hold nothing but the seeder. The <c>shoal share</c> CLI cannot be used: it has no switch for
/// the connection limits (60 per torrent by default), and this benchmark goes beyond them.
/// </summary>
/// <remarks>
/// Protocol on stdout/stdin: prints <c>READY port</c> once seeding; then answers <c>stat</c> with
/// <c>STAT peers uploaded</c> and <c>gc</c> with <c>GC</c> after a full blocking compacting collection; exits at end of stdin.
/// </remarks>
internal static class PeersSeeder
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? torrentPath = null, data = null;
        var maxConnections = 300;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--serve": break;
                case "--torrent": torrentPath = args[++i]; break;
                case "--data": data = args[++i]; break;
                case "--max-connections": maxConnections = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: throw new BenchUsageException($"peers --serve: unknown option '{args[i]}'");
            }
        }
        if (torrentPath is null || data is null) throw new BenchUsageException("peers --serve needs --torrent and --data");

        var torrent = Torrent.Load(torrentPath);
        var options = new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
            MaxConnections = maxConnections,
            MaxConnectionsPerTorrent = maxConnections,
            MaxConnectionsPerAddress = maxConnections, // every measured connection comes from 127.0.0.1
            // The benchmark measures memory as growth over a baseline and collects by itself ('after GC'): a release of
            // the session's own after the active phase would fall between two readings and make the growth negative.
            ReturnMemoryWhenIdle = false,
        };
        await using var session = await ShoalSession.StartAsync(options).ConfigureAwait(false);
        var handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = data }).ConfigureAwait(false);
        await handle.Completion.WaitAsync(TimeSpan.FromMinutes(10)).ConfigureAwait(false);
        if (handle.GetStatus().State != TorrentState.Seeding) throw new BenchFailedException($"seeder state is {handle.GetStatus().State}, not Seeding");
        Console.Out.WriteLine($"READY {session.ListenEndPoint.Port}");
        Console.Out.Flush();

        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } command)
        {
            switch (command.Trim())
            {
                case "stat":
                    var status = handle.GetStatus();
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"STAT {status.Peers} {status.Uploaded}"));
                    break;
                case "gc":
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    GC.WaitForPendingFinalizers();
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    Console.Out.WriteLine("GC");
                    break;
            }
            Console.Out.Flush();
        }
        return 0;
    }
}
