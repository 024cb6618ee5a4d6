using System.Net;
using System.Net.Sockets;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Tests.Reliability;

namespace Shoal.Tests.Swarm;

/// <summary>
/// A paused torrent's data check (a stopped torrent's "verify" in Transmission and qBittorrent): the data is checked,
/// nobody is dialled, accepted or announced to, and the torrent stays paused with what the check found.
/// </summary>
public sealed class PausedCheckTests : IDisposable
{
    private const int PieceLength = 256 * 1024;
    private const int SlowPieces = 1024; // 256 MiB of zeros read slowly: about 10 s of check until the test lets it run
    private const int Pieces = 48;
    private readonly string _folder = Directory.CreateTempSubdirectory("shoal-paused-check-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static Task<ShoalSession> StartSessionAsync() => ShoalSession.StartAsync(new SessionOptions
    {
        ListenPort = 0,
        BindAddress = IPAddress.Loopback,
        EnableDht = false,
        EnableLocalDiscovery = false,
    });

    /// <summary>True when the session drops a peer that dials in for the torrent (during the handshake or just after).</summary>
    private static async Task<bool> IncomingPeerIsDroppedAsync(ShoalSession session, Torrent torrent)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await using FaultyConnection peer = await FaultyConnection.ConnectAsync(IPAddress.Loopback, session.ListenEndPoint, torrent.InfoHash, torrent.PieceCount, timeout.Token);
            await peer.InitiateHandshakeAsync(timeout.Token);
            while (await peer.ReceiveAsync(timeout.Token) is not null)
            {
            }
            return true;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return false; // still connected after 10 s: it was taken
        }
        catch (Exception ex) when (FaultyConnection.IsDisconnect(ex))
        {
            return true;
        }
    }

    [Fact]
    public async Task A_torrent_added_paused_with_a_check_checks_without_peers_then_stays_paused_until_resumed()
    {
        Torrent torrent = SlowZeroStorage.CreateTorrent(PieceLength, SlowPieces);
        SlowZeroStorage? storage = null;
        using var peer = new CountingListener();
        await using ShoalSession session = await StartSessionAsync();
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = _folder,
            Storage = layout => storage = new SlowZeroStorage(layout, TimeSpan.FromMilliseconds(40)),
            Peers = [peer.EndPoint],
            StartPaused = true,
            CheckWhilePaused = true,
        });
        Assert.Equal(TorrentState.Checking, handle.GetStatus().State); // never shown paused before its check
        await Eventually.TrueAsync(() => handle.GetStatus().CheckedPieces >= 4, TimeSpan.FromSeconds(20), () => "the check made no progress");

        // While it checks: nobody dialled, a peer dialling in is dropped.
        Assert.True(await IncomingPeerIsDroppedAsync(session, torrent), "an incoming peer was taken during a paused check");
        TorrentStatus during = handle.GetStatus();
        Assert.Equal(TorrentState.Checking, during.State);
        Assert.InRange(during.CheckedPieces, 4, SlowPieces - 1);
        Assert.Equal(0, during.Peers);

        storage!.FullSpeed.Set();
        await Eventually.TrueAsync(() => handle.GetStatus().State == TorrentState.Suspended, TimeSpan.FromSeconds(30), () => $"not paused after its check: {handle.GetStatus()}");
        TorrentStatus after = handle.GetStatus();
        Assert.Equal(SlowPieces, after.VerifiedPieces);
        Assert.Equal(1.0, after.Progress);
        await Task.Delay(500);
        Assert.Equal(0, peer.Accepted);
        Assert.True(await IncomingPeerIsDroppedAsync(session, torrent), "an incoming peer was taken by a paused torrent");
        Assert.Equal(TorrentState.Suspended, handle.GetStatus().State);

        // Resumed, it runs from what it found (no second check) and dials its peer.
        Assert.True(await handle.ResumeAsync());
        Assert.Equal(TorrentState.Seeding, handle.GetStatus().State);
        await Eventually.TrueAsync(() => peer.Accepted > 0, TimeSpan.FromSeconds(20), "the resumed torrent dialled nobody");
    }

    [Fact]
    public async Task Rechecking_a_paused_torrent_finds_a_spoiled_piece_now_and_leaves_it_paused()
    {
        Torrent torrent = SlowZeroStorage.CreateTorrent(PieceLength, Pieces);
        string file = Path.Combine(_folder, "zeros.bin");
        await File.WriteAllBytesAsync(file, new byte[Pieces * PieceLength]);
        using var peer = new CountingListener();
        await using ShoalSession session = await StartSessionAsync();
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _folder });
        await Eventually.TrueAsync(() => handle.GetStatus().State == TorrentState.Seeding, TimeSpan.FromSeconds(30), () => $"not seeding: {handle.GetStatus()}");
        Assert.True(await handle.PauseAsync());

        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            stream.Position = 5L * PieceLength + 1000;
            stream.WriteByte(0x55);
        }
        await handle.RecheckAsync();
        Assert.True(handle.AddPeers([peer.EndPoint])); // known to it, never dialled while it is paused
        await Eventually.TrueAsync(() => handle.GetStatus() is { State: TorrentState.Suspended, VerifiedPieces: Pieces - 1 }, TimeSpan.FromSeconds(30),
            () => $"not checked: {handle.GetStatus()}");
        await Task.Delay(500);
        Assert.Equal(TorrentState.Suspended, handle.GetStatus().State);
        Assert.Equal(0, handle.GetStatus().Peers);
        Assert.Equal(0, peer.Accepted);
        Assert.False(handle.Completion.IsCompletedSuccessfully);
    }
}
