using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>First-and-last-piece priority in a real download: the edges of every file come before the middles.</summary>
public sealed class FirstAndLastPiecesSwarmTests : IDisposable
{
    private const int PieceLength = 64 * 1024;
    private const int PiecesPerFile = 12;
    private readonly LoopbackSessions _bed = new("shoal-firstlast-");

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task Set_on_a_checked_torrent_the_first_and_last_piece_of_every_file_are_verified_before_the_middles()
    {
        string content = _bed.Combine("seed", "show");
        Directory.CreateDirectory(content);
        var random = new Random(16);
        foreach (string name in new[] { "e1.mkv", "e2.mkv", "e3.mkv" })
        {
            byte[] data = new byte[PiecesPerFile * PieceLength];
            random.NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(content, name), data);
        }
        Torrent torrent = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = PieceLength });
        int[] edges = [0, PiecesPerFile - 1, PiecesPerFile, 2 * PiecesPerFile - 1, 2 * PiecesPerFile, 3 * PiecesPerFile - 1];

        ShoalSession seeder = await StartAsync(maxUpload: 384 * 1024);
        TorrentHandle seed = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _bed.Combine("seed") });
        await Eventually.TrueAsync(() => seed.GetStatus().State == TorrentState.Seeding, TimeSpan.FromSeconds(30), "the seeder never seeded");
        ShoalSession leecher = await StartAsync();
        // Checked while paused (nothing there), so the picker exists when the flag is set: the setter changes a live picker.
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = _bed.Combine("leech"),
            Peers = [seeder.ListenEndPoint],
            StartPaused = true,
            CheckWhilePaused = true,
        });
        await Eventually.TrueAsync(() => handle.GetStatus().State == TorrentState.Suspended, TimeSpan.FromSeconds(30), () => $"not checked: {handle.GetStatus()}");
        await handle.SetFirstAndLastPiecesFirstAsync(true);
        Assert.True(await handle.ResumeAsync());

        // Half of the pieces verified: every edge is among them (by chance alone, about 1 time in 70).
        BitField have = new(torrent.PieceCount);
        await Eventually.TrueAsync(() =>
        {
            PieceMap map = handle.GetPieceMapAsync().GetAwaiter().GetResult();
            have = new BitField(map.PieceCount);
            have.LoadFrom(map.Have);
            return have.SetCount >= torrent.PieceCount / 2;
        }, TimeSpan.FromSeconds(60), () => $"the download stalled: {handle.GetStatus()}", pollMilliseconds: 20);
        Assert.True(have.SetCount < torrent.PieceCount, "the download finished before it could be looked at");
        Assert.All(edges, p => Assert.True(have[p], $"edge piece {p} missing with {have.SetCount} of {torrent.PieceCount} verified"));
        await handle.Completion.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private Task<ShoalSession> StartAsync(long maxUpload = 0) => _bed.StartAsync(o => o with { MaxUploadRate = maxUpload });
}
