using Shoal.Dht;
using Xunit.Abstractions;

namespace Shoal.Tests.Dht;

/// <summary>
/// 2,000 DHT nodes on a simulated network (50 ms round trips, 5% loss) in virtual time: announces and get_peers
/// lookups must succeed, before and after 30% of the nodes vanish without warning. The simulation itself is
/// <see cref="DhtLookupSimulation"/>, which the benchmark suite runs too.
/// </summary>
public sealed class DhtSimulationTests(ITestOutputHelper output)
{
    [Fact]
    public void GetPeersSucceedsInALargeLossyNetworkAndAfterChurn()
    {
        DhtLookupSimulation.Result result = DhtLookupSimulation.Run(new DhtLookupSimulation.Settings());
        output.WriteLine(result.JoinSummary);
        output.WriteLine(result.BeforeChurn.Summary);
        output.WriteLine(result.AfterChurn.Summary);
        output.WriteLine(result.TotalSummary);

        Assert.True(result.MinAnnouncedTo > 0, "an announce reached no node");
        Assert.True(result.BeforeChurn.SuccessRate >= 0.99, $"only {result.BeforeChurn.SuccessRate:P1} of get_peers lookups succeeded before churn");
        Assert.True(result.AfterChurn.SuccessRate >= 0.95, $"only {result.AfterChurn.SuccessRate:P1} of get_peers lookups succeeded after churn");
        Assert.Equal(0, result.InternalErrors);
    }

    [Fact]
    public void TheSameSeedReplaysTheSameTimeline()
    {
        // Issue 14 item 5: every random choice from the options' seed, every delay from the TimeProvider.
        var settings = new DhtLookupSimulation.Settings { NodeCount = 300, InfoHashes = 10, LookupsPerPhase = 30 };
        DhtLookupSimulation.Result first = DhtLookupSimulation.Run(settings);
        DhtLookupSimulation.Result second = DhtLookupSimulation.Run(settings);
        Assert.Equal((first.Datagrams, first.Dropped, first.Events, first.JoinDatagrams), (second.Datagrams, second.Dropped, second.Events, second.JoinDatagrams));
        foreach ((DhtLookupSimulation.Phase a, DhtLookupSimulation.Phase b) in new[] { (first.BeforeChurn, second.BeforeChurn), (first.AfterChurn, second.AfterChurn) })
        {
            Assert.Equal(a.Lookups.Select(Timeline), b.Lookups.Select(Timeline));
        }
        Assert.True(first.BeforeChurn.Succeeded > 0);

        static string Timeline(DhtLookupResult r) => $"{r.Elapsed.Ticks}/{r.FirstPeersAfter?.Ticks}/{r.QueriesSent}/{r.Responses}/{r.Hops}/{string.Join(",", r.Peers)}";
    }
}
