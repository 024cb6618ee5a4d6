using Shoal.Daemon.Service;
using Shoal.Daemon.State;

namespace Shoal.Tests.Daemon;

public sealed class SeedingGoalsTests
{
    [Theory]
    [InlineData(200, 100, 100, 2.0)]
    [InlineData(50, 0, 100, 0.5)] // added complete: ratio over what it has
    [InlineData(0, 0, 0, 0.0)]
    [InlineData(10, 0, 0, SeedingGoals.MaxRatio)]
    public void Ratio_follows_qbittorrent(long up, long down, long done, double expected)
        => Assert.Equal(expected, SeedingGoals.Ratio(up, down, done), 6);

    [Fact]
    public void No_goal_is_reached_when_none_is_set()
        => Assert.Null(SeedingGoals.Reached(new TorrentSettings(), new DaemonSettings { DefaultSavePath = "/d" }, 50, 1_000_000, 1_000_000));

    [Fact]
    public void The_session_goals_apply_unless_the_torrent_has_its_own()
    {
        var session = new DaemonSettings { DefaultSavePath = "/d", RatioLimit = 2, SeedingTimeLimitMinutes = 60, IdleLimitMinutes = 10 };
        Assert.Contains("ratio", SeedingGoals.Reached(new TorrentSettings(), session, 2.0, 0, 0));
        Assert.Null(SeedingGoals.Reached(new TorrentSettings(), session, 1.99, 3599, 599));
        Assert.Contains("seeded 60 minutes", SeedingGoals.Reached(new TorrentSettings(), session, 0, 3600, 0));
        Assert.Contains("no upload", SeedingGoals.Reached(new TorrentSettings(), session, 0, 0, 600));
        // The torrent's own: none (negative) overrides the session's, a value replaces it.
        Assert.Null(SeedingGoals.Reached(new TorrentSettings { RatioLimit = -1, SeedingTimeLimitMinutes = -1, IdleLimitMinutes = -1 }, session, 9, 9999, 9999));
        Assert.Contains("ratio", SeedingGoals.Reached(new TorrentSettings { RatioLimit = 0.5 }, session, 0.5, 0, 0));
    }
}
