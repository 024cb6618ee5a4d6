using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Interop;
using Shoal.Trackers.Server;

namespace Shoal.Tests.Daemon;

/// <summary>
/// A Shoal session on 127.0.0.1 seeding one torrent of random bytes, with a UDP tracker of its own named in the
/// torrent (so a daemon that adds the .torrent finds the seed), and a magnet link that names the seed (x.pe).
/// </summary>
internal sealed class LoopbackSeed : IAsyncDisposable
{
    private LoopbackSeed(ShoalSession session, UdpTrackerServer tracker, Torrent torrent, string content)
    {
        Session = session;
        Tracker = tracker;
        Torrent = torrent;
        Content = content;
    }

    public ShoalSession Session { get; }

    public UdpTrackerServer Tracker { get; }

    public Torrent Torrent { get; }

    /// <summary>The seeded file (single-file) or folder.</summary>
    public string Content { get; }

    public string Magnet => $"magnet:?xt=urn:btih:{Torrent.InfoHash.ToHex()}&dn={Uri.EscapeDataString(Torrent.Name)}&x.pe=127.0.0.1:{Session.ListenEndPoint.Port}";

    /// <param name="folder">Where the content goes (folder/seed/NAME).</param>
    /// <param name="name">The file's name.</param>
    /// <param name="bytes">Its size.</param>
    /// <param name="seed">Seed of its random bytes.</param>
    /// <param name="uploadRate">The seed's upload cap (0: none), to keep a download going for a while.</param>
    /// <param name="files">More than 0: a multi-file torrent of this many equal files instead.</param>
    public static async Task<LoopbackSeed> StartAsync(TempFolder folder, string name, int bytes, int seed, long uploadRate = 0, int files = 0, int pieceLength = 16384)
    {
        string content = folder.Combine("seed", name);
        if (files > 0)
        {
            var random = new Random(seed);
            for (int i = 0; i < files; i++) TestContent.WriteRandomFile(Path.Combine(content, $"part{i}.bin"), bytes / files, random);
        }
        else
        {
            TestContent.WriteRandomFile(content, bytes, new Random(seed));
        }
        UdpTrackerServer tracker = UdpTrackerServer.Start(new IPEndPoint(IPAddress.Loopback, 0), new SwarmRegistry());
        Torrent torrent = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions
        {
            PieceLength = pieceLength,
            AnnounceTiers = [[$"udp://127.0.0.1:{tracker.LocalEndPoint!.Port}/announce"]],
        });
        ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
            MaxUploadRate = uploadRate,
        });
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = folder.Combine("seed") });
        await Eventually.TrueAsync(() => handle.GetStatus().State == TorrentState.Seeding, TimeSpan.FromSeconds(60), "the loopback seed never seeded");
        return new LoopbackSeed(session, tracker, torrent, content);
    }

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        await Tracker.DisposeAsync();
    }
}
