using System.Collections.Concurrent;
using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Transport;

namespace Shoal.Tests.Swarm;

/// <summary>
/// BEP 55 on loopback with three real sessions: a seeder and a leecher each behind a "NAT" (they accept no unsolicited
/// incoming connection, TCP or uTP, from anyone: only a uTP SYN from an endpoint they are dialling themselves gets
/// through, as a NAT lets in the answer to its own outgoing packets), and a relay both connect to. The leecher learns
/// the seeder's address through the relay's PEX, fails to dial it, asks the relay for a rendezvous, and the two meet
/// over uTP by dialling each other at once.
/// </summary>
public sealed class HolepunchSessionTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-holepunch-").FullName;
    private readonly ConcurrentQueue<string> _log = new();

    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public void Dispose()
    {
        output.WriteLine(Log());
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task APeerThatCannotBeDialledIsReachedThroughARelayOverUtp()
    {
        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        byte[] data = new byte[1_000_000];
        new Random(55).NextBytes(data);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "data.bin"), data);
        Torrent torrent = await TorrentCreator.CreateAsync(Path.Combine(seedDir, "data.bin"), new TorrentCreationOptions { PieceLength = 64 * 1024 });

        // The relay has nothing of the torrent and downloads slowly (so it stays a leecher, connected to both, and the
        // leecher cannot finish without the seeder); the seeder is behind its "NAT" and dials out only.
        await using ShoalSession relay = await StartAsync("relay", incomingFilter: null, maxDownloadRate: 16 * 1024);
        await using ShoalSession seeder = await StartAsync("seeder", incomingFilter: _ => false);
        // The leecher is behind a "NAT" too: the seeder cannot dial it either (it would, once the relay's PEX names it).
        await using ShoalSession leecher = await StartAsync("leecher", incomingFilter: _ => false);
        TorrentHandle relaying = await relay.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = Path.Combine(_root, "relay") });
        TorrentHandle seeding = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir, Peers = [relay.ListenEndPoint] });
        await Eventually.TrueAsync(() => relaying.GetPeers().Count == 1, Patience, Log);

        // Two peers behind NATs that hear of each other in the same PEX round dial each other at once, and their SYNs
        // cross: a punch by luck. To see the relay at work, the seeder must not dial the leecher on its own: a passer-by
        // comes and goes first, so the relay's PEX to the seeder (at most one a minute, BEP 11) has just been spent.
        await using (ShoalSession passerBy = await StartAsync("passer-by", incomingFilter: null))
        {
            await passerBy.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = Path.Combine(_root, "passer-by"), Peers = [relay.ListenEndPoint] });
            await Eventually.TrueAsync(() => seeding.GetPeers().Count == 2, Patience, Log); // the seeder heard of it through PEX
        }
        await Eventually.TrueAsync(() => seeding.GetPeers().Count == 1, Patience, Log);

        TorrentHandle leeching = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = Path.Combine(_root, "leech"),
            Peers = [relay.ListenEndPoint],
        });

        // The direct dial fails (the seeder closes TCP and ignores the uTP SYN), the relay introduces the two.
        await Eventually.TrueAsync(() => HasLine("seeder:", "refused: filtered"), Patience, Log);
        await Eventually.TrueAsync(() => HasLine("leecher:", $"holepunch: asked {relay.ListenEndPoint}"), Patience, Log);
        await Eventually.TrueAsync(() => HasLine("relay:", "holepunch: introduced"), Patience, Log);
        await Eventually.TrueAsync(() => leeching.GetPeers().Any(p => p.PeerId.Span.SequenceEqual(seeder.PeerId.Span)), Patience, Log);
        PeerStatus punched = leeching.GetPeers().First(p => p.PeerId.Span.SequenceEqual(seeder.PeerId.Span));
        Assert.Equal(TransportProtocol.Utp, punched.Transport);

        Task done = await Task.WhenAny(leeching.Completion, Task.Delay(Patience));
        Assert.True(done == leeching.Completion, "the leecher did not finish:\n" + Log());
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(_root, "leech", "data.bin")));
    }

    [Fact]
    public async Task WithoutUtpNoHolepunchIsOffered()
    {
        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "data.bin"), new byte[100_000]);
        Torrent torrent = await TorrentCreator.CreateAsync(Path.Combine(seedDir, "data.bin"), new TorrentCreationOptions { PieceLength = 16 * 1024 });
        await using ShoalSession seeder = await StartAsync("seeder", incomingFilter: null, enableUtp: false);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        Shoal.Discovery.ExtensionHandshake theirs = await ExtensionHandshakeProbe.ReadAsync(seeder.ListenEndPoint, torrent.InfoHash);
        Assert.False(theirs.Supports(Shoal.Discovery.HolepunchMessage.ExtensionName));

        await using ShoalSession utp = await StartAsync("utp", incomingFilter: null);
        await utp.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        Shoal.Discovery.ExtensionHandshake offered = await ExtensionHandshakeProbe.ReadAsync(utp.ListenEndPoint, torrent.InfoHash);
        Assert.True(offered.Supports(Shoal.Discovery.HolepunchMessage.ExtensionName));
    }

    private bool HasLine(string prefix, string text) =>
        _log.Any(line => line.StartsWith(prefix, StringComparison.Ordinal) && line.Contains(text, StringComparison.Ordinal));

    private string Log() => string.Join('\n', _log);

    private Task<ShoalSession> StartAsync(string name, Func<IPEndPoint, bool>? incomingFilter, bool enableUtp = true, long maxDownloadRate = 0) =>
        ShoalSession.StartAsync(new SessionOptions
    {
        MaxDownloadRate = maxDownloadRate,
        BindAddress = IPAddress.Loopback,
        ListenPort = 0,
        EnableDht = false,
        EnableLocalDiscovery = false,
        EnableUtp = enableUtp,
        IncomingFilter = incomingFilter,
        Log = line => _log.Enqueue($"{name}: {line} @{_clock.Elapsed.TotalSeconds:F1}s"),
    });
}
