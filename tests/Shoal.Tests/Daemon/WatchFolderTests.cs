using System.Net;
using System.Text.Json;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

public sealed class WatchFolderTests
{
    [Fact]
    public async Task A_dropped_torrent_is_added_and_marked_and_a_broken_one_is_marked_invalid()
    {
        using var folder = new TempFolder("shoal-daemon-watch");
        string watch = folder.Combine("watch");
        await using TestDaemon daemon = await TestDaemon.StartAsync(folder, o => o with { WatchDirectory = watch });
        using ApiClient client = daemon.Client();

        (Shoal.Metainfo.Torrent torrent, _) = await TestDaemon.MakeTorrentAsync(folder, "dropped.bin", 100_000, seed: 21);
        // Written in two steps like a slow copy: the daemon must not read it half-written.
        string dropped = Path.Combine(watch, "dropped.torrent");
        byte[] bytes = torrent.ToBytes();
        await File.WriteAllBytesAsync(dropped, bytes[..(bytes.Length / 2)]);
        await Task.Delay(500);
        await File.WriteAllBytesAsync(dropped, bytes);
        string broken = Path.Combine(watch, "broken.TORRENT");
        await File.WriteAllTextAsync(broken, "d4:infoi3ee");
        string other = Path.Combine(watch, "notes.txt");
        await File.WriteAllTextAsync(other, "not a torrent file name");

        await Eventually.TrueAsync(() => File.Exists(dropped + ".added") && File.Exists(broken + ".invalid"), TimeSpan.FromSeconds(30),
            () => "watch folder holds: " + string.Join(", ", Directory.EnumerateFiles(watch).Select(Path.GetFileName)));
        Assert.False(File.Exists(dropped));
        Assert.True(File.Exists(other), "a file that is not a .torrent was touched");
        (HttpStatusCode status, JsonElement list) = await client.GetAsync("api/v1/torrents");
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement row = Assert.Single(list.EnumerateArray());
        Assert.Equal(torrent.InfoHash.ToHex(), row.GetProperty("info_hash").GetString());

        // The same torrent dropped again is already there: marked added, not a second torrent.
        string again = Path.Combine(watch, "again.torrent");
        await File.WriteAllBytesAsync(again, bytes);
        await Eventually.TrueAsync(() => File.Exists(again + ".added"), TimeSpan.FromSeconds(30), "the duplicate was not marked");
        Assert.Single((await client.GetAsync("api/v1/torrents")).Body.EnumerateArray());
    }
}
