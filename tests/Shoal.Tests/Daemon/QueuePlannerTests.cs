using Shoal.Daemon.Service;
using Shoal.Daemon.State;

namespace Shoal.Tests.Daemon;

public sealed class QueuePlannerTests
{
    private static QueueEntry Down(RunMode mode = RunMode.Started) => new(mode, Complete: false, Errored: false);

    private static QueueEntry Seed(RunMode mode = RunMode.Started) => new(mode, Complete: true, Errored: false);

    [Fact]
    public void Downloads_and_seeds_take_their_own_slots_in_queue_order()
    {
        bool[] run = QueuePlanner.Plan([Down(), Seed(), Down(), Down(), Seed(), Seed()], enabled: true, maxDownloads: 2, maxSeeds: 1);
        Assert.Equal([true, true, true, false, false, false], run);
    }

    [Fact]
    public void Paused_and_errored_torrents_never_run_and_take_no_slot()
    {
        bool[] run = QueuePlanner.Plan([Down(RunMode.Paused), new QueueEntry(RunMode.Started, false, Errored: true), Down(), Down()],
            enabled: true, maxDownloads: 1, maxSeeds: 1);
        Assert.Equal([false, false, true, false], run);
    }

    [Fact]
    public void Force_started_torrents_run_beyond_the_limits_and_take_no_slot()
    {
        bool[] run = QueuePlanner.Plan([Down(RunMode.Forced), Down(RunMode.Forced), Down(), Down()], enabled: true, maxDownloads: 1, maxSeeds: 0);
        Assert.Equal([true, true, true, false], run);
    }

    [Fact]
    public void A_negative_limit_is_no_limit_and_a_disabled_queue_runs_everything_started()
    {
        Assert.Equal([true, true, true], QueuePlanner.Plan([Down(), Down(), Seed()], enabled: true, maxDownloads: -1, maxSeeds: -1));
        Assert.Equal([true, true, false], QueuePlanner.Plan([Down(), Seed(), Down(RunMode.Paused)], enabled: false, maxDownloads: 0, maxSeeds: 0));
    }

    [Fact]
    public void When_a_download_completes_it_becomes_a_seed_and_frees_its_slot()
    {
        QueueEntry[] before = [Down(), Down(), Down()];
        Assert.Equal([true, false, false], QueuePlanner.Plan(before, true, 1, 5));
        QueueEntry[] after = [Seed(), Down(), Down()];
        Assert.Equal([true, true, false], QueuePlanner.Plan(after, true, 1, 5));
    }
}
