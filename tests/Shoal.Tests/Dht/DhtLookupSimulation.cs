using System.Diagnostics;
using System.Globalization;
using System.Net;
using Shoal.Dht;
using Shoal.Metainfo;

namespace Shoal.Tests.Dht;

/// <summary>
/// Many <see cref="DhtNode"/>s on a <see cref="SimulatedNetwork"/> in virtual time: the nodes join, info-hashes are
/// announced, then get_peers lookups run from random nodes before and after a share of the nodes vanish without
/// warning. It asserts nothing: <c>DhtSimulationTests</c> checks the success rates, and the benchmark suite
/// (bench/Shoal.Bench compiles this file) reports the figures, so both always measure the same simulation.
/// </summary>
internal static class DhtLookupSimulation
{
    /// <summary>What to simulate. The defaults are the test's network: 2,000 nodes, 50 ms round trips, 5% loss.</summary>
    public sealed record Settings
    {
        public int NodeCount { get; init; } = 2000;

        public int InfoHashes { get; init; } = 40;

        public int LookupsPerPhase { get; init; } = 200;

        public TimeSpan OneWayLatency { get; init; } = TimeSpan.FromMilliseconds(25);

        public TimeSpan Jitter { get; init; } = TimeSpan.FromMilliseconds(5);

        public double LossRate { get; init; } = 0.05;

        /// <summary>Share of the nodes that vanish before the second phase.</summary>
        public double ChurnFraction { get; init; } = 0.3;

        /// <summary>Nodes joining per virtual second, each bootstrapping from 3 earlier nodes.</summary>
        public int JoinsPerSecond { get; init; } = 20;

        public int Seed { get; init; } = 42;

        public int NetworkSeed { get; init; } = 7;
    }

    /// <summary>One round of lookups and what they found.</summary>
    public sealed record Phase(string Name, int Succeeded, IReadOnlyList<DhtLookupResult> Lookups)
    {
        public double SuccessRate => Lookups.Count == 0 ? 0 : (double)Succeeded / Lookups.Count;

        /// <summary>Lookups that returned any peers, for the first-peers figures.</summary>
        public IEnumerable<DhtLookupResult> Found => Lookups.Where(r => r.FirstPeersAfter is not null);

        public double ElapsedMs(double p) => Percentile(Lookups.Select(r => r.Elapsed.TotalMilliseconds), p);

        public double FirstPeersMs(double p) => Percentile(Found.Select(r => r.FirstPeersAfter!.Value.TotalMilliseconds), p);

        public double Hops(double p) => Percentile(Lookups.Select(r => (double)r.Hops), p);

        public double FirstPeersHop(double p) => Percentile(Found.Select(r => (double)r.FirstPeersHop), p);

        public double Queries(double p) => Percentile(Lookups.Select(r => (double)r.QueriesSent), p);

        public string Summary => string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {Succeeded}/{Lookups.Count} succeeded; " +
            $"lookup time median {ElapsedMs(0.5):F0} ms, p90 {ElapsedMs(0.9):F0} ms; " +
            $"first peers median {FirstPeersMs(0.5):F0} ms, p90 {FirstPeersMs(0.9):F0} ms; " +
            $"hops median {Hops(0.5)}, first-peers hop median {FirstPeersHop(0.5)}; " +
            $"queries median {Queries(0.5)}, p90 {Queries(0.9)}");
    }

    /// <summary>Everything one simulation produced.</summary>
    public sealed record Result(
        Settings Settings,
        double MedianTableSize,
        long JoinDatagrams,
        long JoinEvents,
        int MinAnnouncedTo,
        Phase BeforeChurn,
        Phase AfterChurn,
        long Datagrams,
        long Dropped,
        long Events,
        long InternalErrors,
        TimeSpan WallTime)
    {
        public string JoinSummary => string.Create(CultureInfo.InvariantCulture,
            $"joined: {Settings.NodeCount} nodes, {JoinDatagrams} datagrams, {JoinEvents} events; median table size {MedianTableSize}");

        public string TotalSummary => $"total: {Datagrams} datagrams, {Dropped} dropped, {Events} events";
    }

    /// <summary>Runs the whole simulation on the calling thread; throws when announces or lookups never finish.</summary>
    public static Result Run(Settings settings)
    {
        var wall = Stopwatch.StartNew();
        var random = new Random(settings.Seed);
        var time = new VirtualTimeProvider();
        var network = new SimulatedNetwork(time, new Random(settings.NetworkSeed), settings.OneWayLatency, settings.Jitter, settings.LossRate);
        var nodes = new List<DhtNode>(settings.NodeCount);
        var addresses = new List<IPEndPoint>(settings.NodeCount);
        var used = new HashSet<IPAddress>();

        for (int i = 0; i < settings.NodeCount; i++)
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
            if (i % settings.JoinsPerSecond == settings.JoinsPerSecond - 1) time.Advance(TimeSpan.FromSeconds(1));
        }
        time.Advance(TimeSpan.FromMinutes(2));
        double tableSize = Percentile(nodes.Select(n => (double)n.GetStats().Nodes), 0.5);
        (long joinDatagrams, long joinEvents) = (network.Sent, time.EventsRun);

        // Announce: each info-hash by one node, on a port that identifies it.
        var announced = new List<(InfoHash Hash, IPEndPoint Peer)>();
        var announces = new List<Task<DhtLookupResult>>();
        for (int h = 0; h < settings.InfoHashes; h++)
        {
            byte[] bytes = new byte[20];
            random.NextBytes(bytes);
            var hash = new InfoHash(bytes);
            int who = random.Next(settings.NodeCount);
            int port = 10_000 + h;
            announced.Add((hash, new IPEndPoint(addresses[who].Address, port)));
            announces.Add(nodes[who].AnnounceAsync(hash, port));
        }
        if (!time.RunUntil(() => announces.All(t => t.IsCompleted), TimeSpan.FromMinutes(2)))
        {
            throw new InvalidOperationException("DHT simulation: the announces did not finish within 2 virtual minutes");
        }
        int minAnnouncedTo = announces.Min(t => t.Result.AnnouncedTo);

        Phase before = RunLookups("before churn", settings, nodes, alive: _ => true, announced, random, time);

        // Some vanish without warning; the survivors run for one refresh period (15 minutes).
        var gone = new HashSet<int>();
        while (gone.Count < (int)(settings.NodeCount * settings.ChurnFraction)) gone.Add(random.Next(settings.NodeCount));
        foreach (int g in gone) network.Disconnect(addresses[g]);
        time.Advance(TimeSpan.FromMinutes(15));

        string afterName = string.Create(CultureInfo.InvariantCulture, $"after {settings.ChurnFraction * 100:0}% churn");
        Phase after = RunLookups(afterName, settings, nodes, alive: i => !gone.Contains(i), announced, random, time);
        return new Result(settings, tableSize, joinDatagrams, joinEvents, minAnnouncedTo, before, after, network.Sent, network.Dropped,
            time.EventsRun, nodes.Sum(n => n.InternalErrors), wall.Elapsed);
    }

    private static Phase RunLookups(string name, Settings settings, List<DhtNode> nodes, Func<int, bool> alive,
        List<(InfoHash Hash, IPEndPoint Peer)> announced, Random random, VirtualTimeProvider time)
    {
        var runs = new List<(Task<DhtLookupResult> Task, IPEndPoint Expected)>();
        for (int l = 0; l < settings.LookupsPerPhase; l++)
        {
            int who;
            do who = random.Next(nodes.Count); while (!alive(who));
            (InfoHash hash, IPEndPoint peer) = announced[random.Next(announced.Count)];
            runs.Add((nodes[who].GetPeersAsync(hash), peer));
            time.Advance(TimeSpan.FromMilliseconds(20));
        }
        if (!time.RunUntil(() => runs.All(r => r.Task.IsCompleted), TimeSpan.FromMinutes(5)))
        {
            throw new InvalidOperationException($"DHT simulation: the lookups {name} did not finish within 5 virtual minutes");
        }
        int ok = runs.Count(r => r.Task.Result.Peers.Contains(r.Expected));
        return new Phase(name, ok, runs.Select(r => r.Task.Result).ToList());
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

    /// <summary>The value at rank <paramref name="p"/> (0.5 = median) of the sorted values; 0 when there are none.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
    }
}
