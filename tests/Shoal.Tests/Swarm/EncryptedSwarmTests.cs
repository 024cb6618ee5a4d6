using System.Collections.Concurrent;
using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Swarm;

/// <summary>Two real sessions on 127.0.0.1 in every pairing of encryption modes.</summary>
public sealed class EncryptedSwarmTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-mse-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(EncryptionMode.Require, EncryptionMode.Require, PeerEncryption.Rc4)]
    [InlineData(EncryptionMode.Require, EncryptionMode.Prefer, PeerEncryption.Rc4)]
    [InlineData(EncryptionMode.Prefer, EncryptionMode.Require, PeerEncryption.Rc4)]
    [InlineData(EncryptionMode.Prefer, EncryptionMode.Prefer, PeerEncryption.Rc4)]
    [InlineData(EncryptionMode.Prefer, EncryptionMode.Disable, PeerEncryption.None)]
    [InlineData(EncryptionMode.Disable, EncryptionMode.Prefer, PeerEncryption.None)] // the leecher falls back to plaintext
    public async Task CompatibleModesTransferTheTorrentOverTheExpectedConnection(EncryptionMode seederMode, EncryptionMode leecherMode, PeerEncryption expected)
    {
        (Torrent torrent, string seedDir, byte[] data) = await MakeTorrentAsync();
        var log = new ConcurrentQueue<string>();
        // The seeder's upload is capped so the connection lives long enough to be looked at (two seeds part at the end).
        await using ShoalSession seeder = await StartAsync(seederMode, log, maxUploadRate: 400_000);
        await using ShoalSession leecher = await StartAsync(leecherMode, log);
        TorrentHandle seeding = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle leeching = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = Path.Combine(_root, "leech"),
            Peers = [seeder.ListenEndPoint],
        });

        await Eventually.TrueAsync(() => seeding.GetPeers().Count == 1 && leeching.GetPeers().Count == 1, TimeSpan.FromSeconds(30),
            () => "the two sessions never connected:\n" + string.Join('\n', log));
        Assert.Equal(expected, Assert.Single(seeding.GetPeers()).Encryption);
        Assert.Equal(expected, Assert.Single(leeching.GetPeers()).Encryption);
        await Eventually.TrueAsync(() => seeding.GetStatus().Peers == 1, TimeSpan.FromSeconds(5), "no status snapshot");
        Assert.Equal(expected == PeerEncryption.None ? 0 : 1, seeding.GetStatus().EncryptedPeers);

        Task done = await Task.WhenAny(leeching.Completion, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(done == leeching.Completion, "the leecher did not finish:\n" + string.Join('\n', log));
        await leeching.Completion;
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(_root, "leech", "data.bin")));
    }

    [Theory]
    [InlineData(EncryptionMode.Require, EncryptionMode.Disable, "plaintext handshake refused: encryption is required")]
    [InlineData(EncryptionMode.Disable, EncryptionMode.Require, "encrypted handshake refused: encryption is disabled")]
    public async Task IncompatibleModesNeverConnectAndSayWhy(EncryptionMode seederMode, EncryptionMode leecherMode, string reason)
    {
        (Torrent torrent, string seedDir, _) = await MakeTorrentAsync();
        var seederLog = new ConcurrentQueue<string>();
        await using ShoalSession seeder = await StartAsync(seederMode, seederLog);
        await using ShoalSession leecher = await StartAsync(leecherMode, new ConcurrentQueue<string>());
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle leeching = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = Path.Combine(_root, "leech"),
            Peers = [seeder.ListenEndPoint],
        });

        await Eventually.TrueAsync(() => seederLog.Any(line => line.Contains(reason)), TimeSpan.FromSeconds(30),
            () => "the seeder never logged why it refused:\n" + string.Join('\n', seederLog));
        Assert.DoesNotContain(seederLog, line => line.Contains("not a BitTorrent handshake"));
        Assert.Equal(0, leeching.GetStatus().Peers);
        Assert.Equal(0, leeching.GetStatus().VerifiedPieces);
    }

    [Fact]
    public async Task AnEncryptedHandshakeForOneTorrentCarryingAHandshakeForAnotherIsRefused()
    {
        (Torrent torrent, string seedDir, _) = await MakeTorrentAsync();
        var log = new ConcurrentQueue<string>();
        await using ShoalSession seeder = await StartAsync(EncryptionMode.Prefer, log);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        var other = new byte[20];
        new Random(5).NextBytes(other);

        // Keyed for the seeder's torrent (so the handshake completes), but the BitTorrent handshake inside names another.
        var bittorrent = new byte[Shoal.Wire.Handshake.Length];
        new Shoal.Wire.Handshake(new InfoHash(other), new byte[20], Shoal.Wire.ReservedBits.Create(extension: true, fast: true, dht: false)).WriteTo(bittorrent);
        var socket = await Shoal.Transport.SocketTransport.ConnectAsync(seeder.ListenEndPoint, TimeSpan.FromSeconds(10), CancellationToken.None);
        await using EncryptedTransport connection = await MseHandshake.InitiateAsync(socket, torrent.InfoHash.Span.ToArray(), CryptoMethods.Rc4, bittorrent,
            TimeSpan.FromSeconds(10), TimeProvider.System);
        await Eventually.TrueAsync(() => log.Any(l => l.Contains("the encrypted handshake and the BitTorrent handshake name different torrents", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), () => string.Join('\n', log));
    }

    private async Task<(Torrent Torrent, string SeedDirectory, byte[] Data)> MakeTorrentAsync()
    {
        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        byte[] data = new byte[1_500_000];
        new Random(19).NextBytes(data);
        string file = Path.Combine(seedDir, "data.bin");
        await File.WriteAllBytesAsync(file, data);
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 64 * 1024 });
        return (torrent, seedDir, data);
    }

    private static Task<ShoalSession> StartAsync(EncryptionMode mode, ConcurrentQueue<string> log, long maxUploadRate = 0) => ShoalSession.StartAsync(new SessionOptions
    {
        MaxUploadRate = maxUploadRate,
        BindAddress = IPAddress.Loopback,
        ListenPort = 0,
        EnableDht = false,
        EnableLocalDiscovery = false,
        Encryption = mode,
        Log = log.Enqueue,
    });
}
