using System.Net;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Tests.Reliability;
using Shoal.Wire;

namespace Shoal.Tests.Swarm;

/// <summary>The data check is a job: the torrent keeps serving its mailbox, and its peers, while it runs.</summary>
public sealed class CheckWhileServingTests
{
    private const long Size = 2L * 1024 * 1024 * 1024;
    private const int PieceLength = 4 * 1024 * 1024;

    [Fact]
    public async Task A_peer_that_joins_during_a_2_GiB_check_is_told_what_is_verified_so_far_and_is_served()
    {
        Torrent torrent = SlowZeroStorage.CreateTorrent(PieceLength, (int)(Size / PieceLength));
        SlowZeroStorage? storage = null;
        string folder = Directory.CreateTempSubdirectory("shoal-check-").FullName;
        try
        {
            await using ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
            {
                ListenPort = 0,
                BindAddress = IPAddress.Loopback,
                EnableDht = false,
                EnableLocalDiscovery = false,
            });
            TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions
            {
                DownloadDirectory = folder,
                Storage = layout => storage = new SlowZeroStorage(layout, TimeSpan.FromMilliseconds(50)),
            });
            await Eventually.TrueAsync(() => handle.GetStatus().CheckedPieces >= 8, TimeSpan.FromSeconds(20), () => "the check made no progress");
            Assert.Equal(TorrentState.Checking, handle.GetStatus().State);

            await using FaultyConnection peer = await FaultyConnection.ConnectAsync(IPAddress.Loopback, session.ListenEndPoint, torrent.InfoHash, torrent.PieceCount, CancellationToken.None);
            await peer.InitiateHandshakeAsync(CancellationToken.None);
            await peer.SendAsync(PeerMessageWriter.WriteHaveNone, CancellationToken.None);
            await peer.SendAsync(PeerMessageWriter.WriteInterested, CancellationToken.None);

            // Whatever was verified when it joined came in one announcement, what was verified after as HAVEs;
            // the torrent unchokes the only interested peer at once.
            var known = new HashSet<int>();
            bool unchoked = false;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (!unchoked || known.Count == 0)
            {
                WireMessage m = await peer.ReceiveAsync(timeout.Token) ?? throw new EndOfStreamException("closed");
                if (m.Id == MessageId.Have) known.Add(m.Index);
                if (m.Id is MessageId.Bitfield or MessageId.HaveAll) known.Add(-1);
                if (m.Id == MessageId.Unchoke) unchoked = true;
            }
            await peer.SendAsync(w => PeerMessageWriter.WriteRequest(w, 0, 0, 16 * 1024), CancellationToken.None);
            WireMessage block;
            do block = await peer.ReceiveAsync(timeout.Token) ?? throw new EndOfStreamException("closed");
            while (block.Id != MessageId.Piece);
            Assert.Equal((0, 0, 16 * 1024), (block.Index, block.Begin, block.Length));

            // Served while the check is still running, and the status shows how far it got.
            TorrentStatus during = handle.GetStatus();
            Assert.Equal(TorrentState.Checking, during.State);
            Assert.InRange(during.CheckedPieces, 8, torrent.PieceCount - 1);
            Assert.Equal(torrent.PieceCount, during.PieceCount);
            Assert.Equal(1, during.Peers);

            storage!.FullSpeed.Set();
            await Eventually.TrueAsync(() => handle.GetStatus().State == TorrentState.Seeding, TimeSpan.FromSeconds(60), () => $"not seeding: {handle.GetStatus()}");
            Assert.Equal(torrent.PieceCount, handle.GetStatus().VerifiedPieces);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
