using Xunit.Abstractions;

namespace Shoal.Tests.Swarm.Simulation;

/// <summary>A simulated swarm replays exactly from its seed: the same pieces in the same order at the same times.</summary>
public sealed class DeterministicSwarmTests(ITestOutputHelper output)
{
    private SimulatedSwarm RunSwarm(int seed)
    {
        var swarm = new SimulatedSwarm(seed, leechers: 6, size: 4 * 1024 * 1024 + 12345);
        Assert.True(swarm.Run(TimeSpan.FromMinutes(10)), "the simulated swarm did not finish: " + string.Join(", ", swarm.Statuses.Select(s => $"{s.State} {s.VerifiedPieces}/{s.PieceCount}")));
        for (int i = 1; i < swarm.Disks.Count; i++) Assert.Equal(swarm.Content, swarm.Disks[i].Data);
        output.WriteLine($"seed {seed}: {swarm.Timeline.Count} events; " + string.Join("; ", swarm.Statuses.Select((s, i) =>
            $"#{i} up {s.Uploaded} down {s.Downloaded}, last piece at {swarm.Timeline.LastOrDefault(e => e.Member == i && e.What.StartsWith("verified", StringComparison.Ordinal)).Ms} ms")));
        return swarm;
    }

    [Fact]
    public void The_same_seed_gives_the_same_piece_order_and_timeline_and_another_seed_another()
    {
        SimulatedSwarm first = RunSwarm(seed: 2024);
        SimulatedSwarm again = RunSwarm(seed: 2024);
        SimulatedSwarm other = RunSwarm(seed: 2025);

        Assert.NotEmpty(first.Timeline);
        Assert.Equal(first.Timeline, again.Timeline);
        Assert.NotEqual(PieceOrder(first), PieceOrder(other));
        // The leechers traded among themselves: not everything came from the seeder.
        Assert.True(first.Statuses.Skip(1).Sum(s => s.Uploaded) > 0, "no leecher uploaded anything");
    }

    private static List<(int Member, string What)> PieceOrder(SimulatedSwarm swarm) =>
        [.. swarm.Timeline.Where(e => e.What.StartsWith("verified", StringComparison.Ordinal)).Select(e => (e.Member, e.What))];
}
