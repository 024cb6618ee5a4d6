using Shoal.Bench.Dht;
using Shoal.Bench.Engine;
using Shoal.Bench.Micro;
using Shoal.Bench.Peers;
using Shoal.Bench.Recheck;
using Shoal.Bench.Suite;
using Shoal.Bench.Swarm;
using Shoal.Bench.Trackers;
using Shoal.Bench.Utp;

namespace Shoal.Bench;

/// <summary>The help text: every verb, the suite first.</summary>
internal static class BenchUsage
{
    public static string Text => $"""
        usage: dotnet run -c Release --project bench/Shoal.Bench -- VERB [options]   (shoal-bench below)

        {SuiteOptions.Usage}
        {PairOptions.Usage}
        {PeersOptions.Usage}
        {TrackerOptions.Usage}
        other verbs:
          shoal-bench {SwarmOptions.Usage}
          shoal-bench {RecheckOptions.Usage}
          shoal-bench {DhtBenchmark.Usage}
          shoal-bench {InProcessBenchmark.Usage}
          shoal-bench {MicroBenchmark.Usage}
          shoal-bench {Shoal.Bench.Daemon.DaemonScaleOptions.Usage}
          shoal-bench {UtpPairBenchmark.Usage}
          shoal-bench {Shoal.Bench.Many.ManyTorrentsOptions.Usage}
          shoal-bench fuzz [--target NAME|all] [--seconds N] [--seed N] [--out DIR]   (fuzz --help lists the targets)
        """;
}
