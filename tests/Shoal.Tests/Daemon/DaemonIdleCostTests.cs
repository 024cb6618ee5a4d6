using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>What a daemon of idle seeds does each second: nothing per torrent (no status looked at, no counter written).</summary>
public sealed class DaemonIdleCostTests() : DaemonApiTests("shoal-daemon-idle")
{
    [Fact]
    public async Task Idle_seeds_are_not_looked_at_nor_written_every_second_and_their_seeding_time_still_counts_across_a_restart()
    {
        var ids = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            (Shoal.Metainfo.Torrent torrent, _) = await TestDaemon.MakeTorrentAsync(Folder, $"idle{i}.bin", 100_000, seed: 60 + i, into: Server.Downloads);
            ids.Add(await DaemonApi.AddAsync(Api, torrent.ToBytes()));
        }
        foreach (long id in ids) await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        // Past the counters' write of the change to seeding.
        await Task.Delay(StatusPass.CounterInterval + TimeSpan.FromSeconds(1));
        StatusPass pass = Server.Host.Service.Pass;
        long observed = pass.Observed;
        long written = pass.CounterRowsWritten;

        // Six passes and a counter write go by: seeds with no peer publish no new status, and their seeding time,
        // kept as a timestamp, needs no write.
        await Task.Delay(StatusPass.CounterInterval + TimeSpan.FromSeconds(1));
        Assert.Equal(observed, pass.Observed);
        Assert.Equal(written, pass.CounterRowsWritten);

        // A clean stop writes the time counters: the restarted daemon shows the time seeded.
        await Server.RestartAsync();
        using ApiClient client = Server.Client();
        await client.FetchCsrfAsync();
        JsonElement row = await client.TorrentAsync(ids[0]);
        Assert.True(row.GetProperty("seeding_seconds").GetInt64() >= 10, row.ToString());
    }
}
