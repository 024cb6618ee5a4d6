using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>The library's seeding goals over real sockets: ratio, seeding time and idle time, pausing or removing the seed.</summary>
public sealed class SessionSeedingGoalsTests : IDisposable
{
    private const int PieceLength = LoopbackSessions.PieceLength;
    private readonly LoopbackSessions _bed = new("shoal-goals-");

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task A_seed_pauses_at_the_sessions_ratio_goal_changed_at_runtime_and_says_why()
    {
        (Torrent torrent, string seedDir) = await CreateAsync("shared", 12 * PieceLength);
        ShoalSession seeder = await StartAsync(new SeedingGoals { Ratio = 2, Action = SeedingGoalAction.Pause });
        var events = new List<SessionEvent>();
        _ = Task.Run(async () =>
        {
            await foreach (SessionEvent e in seeder.ReadEventsAsync())
                lock (events) events.Add(e);
        });
        TorrentHandle seed = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await seed.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        // Nothing uploaded yet: ratio 0, it keeps seeding.
        await Task.Delay(1500);
        Assert.Equal(TorrentState.Seeding, seed.GetStatus().State);

        ShoalSession leecher = await StartAsync(null);
        TorrentHandle leech = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _bed.Combine("leech"), Peers = [seeder.ListenEndPoint] });
        await leech.Completion.WaitAsync(TimeSpan.FromSeconds(90));
        // Everything uploaded once: ratio 1, short of the goal of 2.
        await Eventually.TrueAsync(() => seed.GetStatus().Uploaded >= torrent.TotalSize, TimeSpan.FromSeconds(30), "the upload was not counted");
        await Task.Delay(1500);
        Assert.Equal(TorrentState.Seeding, seed.GetStatus().State);

        // A goal of 0.9, set on the running session, is reached already.
        seeder.SetSeedingGoals(new SeedingGoals { Ratio = 0.9, Action = SeedingGoalAction.Pause });
        await Eventually.TrueAsync(() => seed.GetStatus().State == TorrentState.Suspended, TimeSpan.FromSeconds(30),
            () => $"the seed did not pause at its ratio: {seed.GetStatus()}");
        SessionEvent reached;
        lock (events) reached = Assert.Single(events, e => e.Kind == SessionEventKind.SeedingGoalReached);
        Assert.Contains("ratio", reached.Message);
        Assert.Single(seeder.Torrents); // paused, not removed
        Assert.True(seed.SeedingTime > TimeSpan.Zero);
    }

    [Fact]
    public async Task A_torrents_own_seeding_time_goal_removes_it_and_session_goals_changed_at_runtime_pause_the_others()
    {
        (Torrent first, string firstDir) = await CreateAsync("first", 3 * PieceLength);
        (Torrent second, string secondDir) = await CreateAsync("second", 2 * PieceLength);
        ShoalSession session = await StartAsync(null);
        TorrentHandle a = await session.AddTorrentAsync(first, new TorrentOptions { DownloadDirectory = firstDir });
        TorrentHandle b = await session.AddTorrentAsync(second, new TorrentOptions { DownloadDirectory = secondDir });
        await Task.WhenAll(a.Completion, b.Completion).WaitAsync(TimeSpan.FromSeconds(60));
        // No goal anywhere: both seed on.
        await Task.Delay(2500);
        Assert.Equal([TorrentState.Seeding, TorrentState.Seeding], [a.GetStatus().State, b.GetStatus().State]);

        // Its own goal: seeded long enough already, it leaves the session; its data stays.
        await a.SetSeedingGoalsAsync(new SeedingGoals { SeedingTime = TimeSpan.FromSeconds(1), Action = SeedingGoalAction.Remove });
        await Eventually.TrueAsync(() => session.Torrents.Count == 1, TimeSpan.FromSeconds(20), "the seed was not removed at its seeding time");
        Assert.Equal(second.InfoHash, session.Torrents[0].InfoHash);
        Assert.True(File.Exists(Path.Combine(firstDir, "first")));

        // The session's goals, set now: two seconds without an upload pause the other one.
        Assert.Null(session.SeedingGoals);
        session.SetSeedingGoals(new SeedingGoals { IdleTime = TimeSpan.FromSeconds(2), Action = SeedingGoalAction.Pause });
        await Eventually.TrueAsync(() => b.GetStatus().State == TorrentState.Suspended, TimeSpan.FromSeconds(20),
            () => $"the idle seed did not pause: {b.GetStatus()}");
    }

    [Fact]
    public async Task Idle_seeds_without_a_goal_are_not_visited_by_the_goal_pass_and_their_seeding_time_still_counts()
    {
        (Torrent first, string firstDir) = await CreateAsync("idle-a", 2 * PieceLength);
        (Torrent second, string secondDir) = await CreateAsync("idle-b", 2 * PieceLength);
        ShoalSession session = await StartAsync(null);
        TorrentHandle a = await session.AddTorrentAsync(first, new TorrentOptions { DownloadDirectory = firstDir });
        TorrentHandle b = await session.AddTorrentAsync(second, new TorrentOptions { DownloadDirectory = secondDir });
        await Task.WhenAll(a.Completion, b.Completion).WaitAsync(TimeSpan.FromSeconds(60));
        // The pass sees the change to seeding, once.
        await Eventually.TrueAsync(() => a.SeedingTime > TimeSpan.Zero && b.SeedingTime > TimeSpan.Zero, TimeSpan.FromSeconds(20), "seeding was not seen");
        await Task.Delay(1500);
        long visits = session.StatusVisits;
        TimeSpan seeded = a.SeedingTime;

        // Seeds with no peer and no goal publish nothing new: three passes go by without looking at them.
        await Task.Delay(3500);
        Assert.Equal(visits, session.StatusVisits);
        Assert.True(a.SeedingTime - seeded >= TimeSpan.FromSeconds(3), $"seeding time did not count while unvisited: {seeded} then {a.SeedingTime}");

        // A goal of its own: looked at every second again, and acted on.
        await b.SetSeedingGoalsAsync(new SeedingGoals { SeedingTime = TimeSpan.FromSeconds(1), Action = SeedingGoalAction.Pause });
        await Eventually.TrueAsync(() => b.GetStatus().State == TorrentState.Suspended, TimeSpan.FromSeconds(20), () => $"the seed did not pause: {b.GetStatus()}");
        Assert.True(session.StatusVisits > visits);
        Assert.Equal(TorrentState.Seeding, a.GetStatus().State);
    }

    private Task<(Torrent, string)> CreateAsync(string name, int length) => _bed.CreateTorrentAsync("seed-" + name, length, (name, length));

    private Task<ShoalSession> StartAsync(SeedingGoals? goals) => _bed.StartAsync(o => o with { SeedingGoals = goals });
}
