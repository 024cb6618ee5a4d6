using System.Globalization;
using System.Net;
using Shoal.Dht;
using Shoal.Metainfo;
using Xunit.Abstractions;

namespace Shoal.Tests.Dht;

/// <summary>
/// 2,000 DHT nodes on a simulated network (50 ms round trips, 5% loss) in virtual time: announces and get_peers
/// lookups must succeed, before and after 30% of the nodes vanish without warning.
/// </summary>
public sealed class DhtSimulationTests(ITestOutputHelper output)
{
    private const int NodeCount = 2000;
    private const int InfoHashes = 40;
    private const int LookupsPerPhase = 200;

    [Fact]
    public void GetPeersSucceedsInALargeLossyNetworkAndAfterChurn()
    {
        var random = new Random(42);
        var time = new VirtualTimeProvider();
        var network = new SimulatedNetwork(time, new Random(7), TimeSpan.FromMilliseconds(25), TimeSpan.FromMilliseconds(5), lossRate: 0.05);
        var nodes = new List<DhtNode>(NodeCount);
        var addresses = new List<IPEndPoint>(NodeCount);
        var used = new HashSet<IPAddress>();

        for (int i = 0; i < NodeCount; i++)
        {
            IPAddress ip = RandomPublicAddress(random, used);
            var endPoint = new IPEndPoint(ip, 6881);
            var options = new DhtNodeOptions
            {
                Port = 6881,
                BootstrapNodes = [],
                RandomSeed = i,
                NodeId = NodeId.CreateSecure(ip, random),
                QueriesPerSecondPerSource = 1000,
                QueryBurstPerSource = 1000,
            };
            var node = new DhtNode(options, network.Attach(endPoint), time);
            var bootstrap = new List<IPEndPoint>();
            for (int b = 0; b < 3 && addresses.Count > 0; b++) bootstrap.Add(addresses[random.Next(addresses.Count)]);
            node.Start(bootstrap);
            nodes.Add(node);
            addresses.Add(endPoint);
            if (i % 20 == 19) time.Advance(TimeSpan.FromSeconds(1));
        }
        time.Advance(TimeSpan.FromMinutes(2));
        output.WriteLine($"joined: {NodeCount} nodes, {network.Sent} datagrams, {time.EventsRun} events; " +
            $"median table size {Median(nodes.Select(n => (double)n.GetStats().Nodes))}");

        // Announce: each info-hash by one node, on a port that identifies it.
        var announced = new List<(InfoHash Hash, IPEndPoint Peer)>();
        var announces = new List<Task<DhtLookupResult>>();
        for (int h = 0; h < InfoHashes; h++)
        {
            byte[] bytes = new byte[20];
            random.NextBytes(bytes);
            var hash = new InfoHash(bytes);
            int who = random.Next(NodeCount);
            int port = 10_000 + h;
            announced.Add((hash, new IPEndPoint(addresses[who].Address, port)));
            announces.Add(nodes[who].AnnounceAsync(hash, port));
        }
        Assert.True(time.RunUntil(() => announces.All(t => t.IsCompleted), TimeSpan.FromMinutes(2)), "announces did not finish");
        Assert.All(announces, t => Assert.True(t.Result.AnnouncedTo > 0));

        (double rate, string summary) = RunLookups("before churn", nodes, alive: _ => true, announced, random, time);
        output.WriteLine(summary);
        Assert.True(rate >= 0.99, $"only {rate:P1} of get_peers lookups succeeded before churn");

        // 30% vanish without warning; the survivors run for one refresh period (15 minutes).
        var gone = new HashSet<int>();
        while (gone.Count < NodeCount * 3 / 10) gone.Add(random.Next(NodeCount));
        foreach (int g in gone) network.Disconnect(addresses[g]);
        time.Advance(TimeSpan.FromMinutes(15));

        (double rateAfter, string summaryAfter) = RunLookups("after 30% churn", nodes, alive: i => !gone.Contains(i), announced, random, time);
        output.WriteLine(summaryAfter);
        output.WriteLine($"total: {network.Sent} datagrams, {network.Dropped} dropped, {time.EventsRun} events");
        Assert.True(rateAfter >= 0.95, $"only {rateAfter:P1} of get_peers lookups succeeded after churn");
        foreach (DhtNode node in nodes) Assert.Equal(0, node.InternalErrors);
    }

    private static (double Rate, string Summary) RunLookups(string phase, List<DhtNode> nodes, Func<int, bool> alive,
        List<(InfoHash Hash, IPEndPoint Peer)> announced, Random random, VirtualTimeProvider time)
    {
        var runs = new List<(Task<DhtLookupResult> Task, IPEndPoint Expected)>();
        for (int l = 0; l < LookupsPerPhase; l++)
        {
            int who;
            do who = random.Next(nodes.Count); while (!alive(who));
            (InfoHash hash, IPEndPoint peer) = announced[random.Next(announced.Count)];
            runs.Add((nodes[who].GetPeersAsync(hash), peer));
            time.Advance(TimeSpan.FromMilliseconds(20));
        }
        Assert.True(time.RunUntil(() => runs.All(r => r.Task.IsCompleted), TimeSpan.FromMinutes(5)), "lookups did not finish");
        int ok = runs.Count(r => r.Task.Result.Peers.Contains(r.Expected));
        var results = runs.Select(r => r.Task.Result).ToList();
        var found = results.Where(r => r.FirstPeersAfter is not null).ToList();
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"{phase}: {ok}/{runs.Count} succeeded; " +
            $"lookup time median {Median(results.Select(r => r.Elapsed.TotalMilliseconds)):F0} ms, p90 {Percentile(results.Select(r => r.Elapsed.TotalMilliseconds), 0.9):F0} ms; " +
            $"first peers median {Median(found.Select(r => r.FirstPeersAfter!.Value.TotalMilliseconds)):F0} ms, p90 {Percentile(found.Select(r => r.FirstPeersAfter!.Value.TotalMilliseconds), 0.9):F0} ms; " +
            $"hops median {Median(results.Select(r => (double)r.Hops))}, first-peers hop median {Median(found.Select(r => (double)r.FirstPeersHop))}; " +
            $"queries median {Median(results.Select(r => (double)r.QueriesSent))}, p90 {Percentile(results.Select(r => (double)r.QueriesSent), 0.9)}");
        return ((double)ok / runs.Count, summary);
    }

    private static IPAddress RandomPublicAddress(Random random, HashSet<IPAddress> used)
    {
        while (true)
        {
            byte[] b = new byte[4];
            random.NextBytes(b);
            if (b[0] is 0 or 10 or 127 or 169 or 172 or 192 or >= 224) continue;
            var ip = new IPAddress(b);
            if (used.Add(ip)) return ip;
        }
    }

    private static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

    private static double Percentile(IEnumerable<double> values, double p)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
    }
}
