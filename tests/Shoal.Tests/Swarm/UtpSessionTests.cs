using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Transport;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Swarm;

/// <summary>
/// Real sessions on 127.0.0.1 with uTP on their UDP port: uTP first, TCP when the peer does not speak uTP, uTP only,
/// encryption over uTP, and the transport in peer snapshots and the status.
/// </summary>
public sealed class UtpSessionTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-utp-session-").FullName;
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task TwoDefaultSessionsConnectOverUtpAndCountItsBytes()
    {
        (Torrent torrent, string seedDir, byte[] data) = await MakeTorrentAsync();
        await using ShoalSession seeder = await StartAsync("seeder", maxUploadRate: 500_000);
        await using ShoalSession leecher = await StartAsync("leecher");
        TorrentHandle seeding = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle leeching = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = LeechDir, Peers = [seeder.ListenEndPoint] });

        await Eventually.TrueAsync(() => seeding.GetPeers().Count == 1 && leeching.GetPeers().Count == 1, Patience, Log);
        Assert.Equal(TransportProtocol.Utp, Assert.Single(leeching.GetPeers()).Transport);
        Assert.Equal(TransportProtocol.Utp, Assert.Single(seeding.GetPeers()).Transport);
        await Eventually.TrueAsync(() => seeding.GetStatus().Transports?.UtpPeers == 1, TimeSpan.FromSeconds(5), "no status snapshot");

        await CompletesAsync(leeching, data);
        TransportCounts counts = leeching.GetStatus().Transports!;
        Assert.True(counts.UtpDownloaded >= data.Length, $"uTP bytes {counts.UtpDownloaded} of {data.Length}");
        Assert.Equal(0, counts.TcpDownloaded);
        Assert.Contains(_log, line => line.Contains("joined (Shoal", StringComparison.Ordinal) && line.Contains("uTP", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APeerWithoutUtpIsReachedOverTcp()
    {
        (Torrent torrent, string seedDir, byte[] data) = await MakeTorrentAsync();
        await using ShoalSession seeder = await StartAsync("seeder", enableUtp: false, maxUploadRate: 500_000);
        await using ShoalSession leecher = await StartAsync("leecher");
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle leeching = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = LeechDir, Peers = [seeder.ListenEndPoint] });

        await Eventually.TrueAsync(() => leeching.GetPeers().Count == 1, Patience, Log);
        Assert.Equal(TransportProtocol.Tcp, Assert.Single(leeching.GetPeers()).Transport);
        await CompletesAsync(leeching, data);
        Assert.Equal(0, leeching.GetStatus().Transports!.UtpDownloaded);
    }

    [Fact]
    public async Task AUtpOnlySessionSeedsOverUtpAndClosesIncomingTcp()
    {
        (Torrent torrent, string seedDir, byte[] data) = await MakeTorrentAsync();
        await using ShoalSession seeder = await StartAsync("seeder", enableTcp: false);
        await using ShoalSession leecher = await StartAsync("leecher");
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        // A TCP connection is accepted by the kernel and closed at once by the session: nothing is read from it.
        Assert.Equal(0, await ConnectAndReadAsync(seeder.ListenEndPoint));
        await Eventually.TrueAsync(() => _log.Any(line => line.Contains("refused: TCP is off (uTP only)", StringComparison.Ordinal)), Patience, Log);

        TorrentHandle leeching = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = LeechDir, Peers = [seeder.ListenEndPoint] });
        await CompletesAsync(leeching, data);
        Assert.True(leeching.GetStatus().Transports!.UtpDownloaded >= data.Length);
    }

    [Fact]
    public async Task AUtpOnlyDialerNeverFallsBackToTcp()
    {
        (Torrent torrent, string seedDir, _) = await MakeTorrentAsync();
        await using ShoalSession seeder = await StartAsync("seeder", enableUtp: false);
        await using ShoalSession leecher = await StartAsync("leecher", enableTcp: false);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle leeching = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = LeechDir, Peers = [seeder.ListenEndPoint] });

        await Eventually.TrueAsync(() => _log.Any(line => line.StartsWith("leecher:", StringComparison.Ordinal) && line.Contains("dial", StringComparison.Ordinal)
            && line.Contains("failed", StringComparison.Ordinal)), Patience, Log);
        Assert.Equal(0, leeching.GetStatus().Peers);
        Assert.DoesNotContain(_log, line => line.StartsWith("seeder:", StringComparison.Ordinal) && line.Contains("joined", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequiredEncryptionRunsOverUtp()
    {
        (Torrent torrent, string seedDir, byte[] data) = await MakeTorrentAsync();
        await using ShoalSession seeder = await StartAsync("seeder", encryption: EncryptionMode.Require, maxUploadRate: 500_000);
        await using ShoalSession leecher = await StartAsync("leecher", encryption: EncryptionMode.Require);
        TorrentHandle seeding = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle leeching = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = LeechDir, Peers = [seeder.ListenEndPoint] });

        await Eventually.TrueAsync(() => seeding.GetPeers().Count == 1, Patience, Log);
        PeerStatus peer = Assert.Single(seeding.GetPeers());
        Assert.Equal((TransportProtocol.Utp, PeerEncryption.Rc4), (peer.Transport, peer.Encryption));
        await CompletesAsync(leeching, data);
    }

    [Fact]
    public async Task SessionsWithPortZeroShareOneNumberForTcpAndUdp()
    {
        await using ShoalSession session = await StartAsync("one");
        int port = session.ListenEndPoint.Port;
        // The UDP port is taken (by uTP): binding it again fails.
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        SocketException taken = Assert.Throws<SocketException>(() => udp.Bind(new IPEndPoint(IPAddress.Loopback, port)));
        Assert.Equal(SocketError.AddressAlreadyInUse, taken.SocketErrorCode);
    }

    [Fact]
    public async Task NeitherTcpNorUtpIsRefused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => StartAsync("none", enableTcp: false, enableUtp: false));
    }

    private string LeechDir => Path.Combine(_root, "leech");

    private string Log() => string.Join('\n', _log);

    private async Task CompletesAsync(TorrentHandle leeching, byte[] data)
    {
        Task done = await Task.WhenAny(leeching.Completion, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(done == leeching.Completion, "the leecher did not finish:\n" + Log());
        await leeching.Completion;
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(LeechDir, "data.bin")));
    }

    /// <summary>Bytes read from a TCP connection to <paramref name="endPoint"/> before it closed (0 when reset, even mid-connect).</summary>
    private static async Task<int> ConnectAndReadAsync(IPEndPoint endPoint)
    {
        try
        {
            using var tcp = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await tcp.ConnectAsync(endPoint, timeout.Token);
            return await tcp.GetStream().ReadAsync(new byte[68], timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            return 0; // reset: closed all the same
        }
    }

    private async Task<(Torrent Torrent, string SeedDirectory, byte[] Data)> MakeTorrentAsync()
    {
        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        byte[] data = new byte[1_500_000];
        new Random(29).NextBytes(data);
        string file = Path.Combine(seedDir, "data.bin");
        await File.WriteAllBytesAsync(file, data);
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 64 * 1024 });
        return (torrent, seedDir, data);
    }

    private Task<ShoalSession> StartAsync(string name, bool enableUtp = true, bool enableTcp = true, EncryptionMode encryption = EncryptionMode.Prefer,
        long maxUploadRate = 0) => ShoalSession.StartAsync(new SessionOptions
    {
        BindAddress = IPAddress.Loopback,
        ListenPort = 0,
        EnableDht = false,
        EnableLocalDiscovery = false,
        EnableUtp = enableUtp,
        EnableTcp = enableTcp,
        Encryption = encryption,
        MaxUploadRate = maxUploadRate,
        Log = line => _log.Enqueue($"{name}: {line}"),
    });
}
