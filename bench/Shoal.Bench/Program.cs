using Shoal.Bench;

// Benchmarks run from a checkout: `dotnet run -c Release --project bench/Shoal.Bench -- suite` runs them all.
if (args.Length == 0 || args[0] is "-h" or "--help" or "help" || (args.Length == 2 && args[0] != "fuzz" && args[1] is "-h" or "--help"))
{
    Console.WriteLine(BenchUsage.Text);
    return args.Length == 0 ? 2 : 0;
}

try
{
    return args[0] switch
    {
        "suite" => await Shoal.Bench.Suite.SuiteBenchmark.RunAsync(args[1..]),
        "pair" => await PairBenchmark.RunAsync(PairOptions.Parse(args[1..])),
        "tracker" => await Shoal.Bench.Trackers.TrackerBenchmark.RunAsync(args[1..]),
        "inproc" => await Shoal.Bench.Engine.InProcessBenchmark.RunAsync(args[1..]),
        "swarm" => await Shoal.Bench.Swarm.SwarmBenchmark.RunAsync(args[1..]),
        "recheck" => await Shoal.Bench.Recheck.RecheckBenchmark.RunAsync(args[1..]),
        "fuzz" => await Shoal.Bench.Fuzz.FuzzCommand.RunAsync(args[1..]),
        "peers" => await Shoal.Bench.Peers.PeersBenchmark.RunAsync(args[1..]),
        "dht" => await Shoal.Bench.Dht.DhtBenchmark.RunAsync(args[1..]),
        "micro" => await Shoal.Bench.Micro.MicroBenchmark.RunAsync(args[1..]),
        "daemon-scale" => await Shoal.Bench.Daemon.DaemonScaleBenchmark.RunAsync(args[1..]),
        "utp" => await Shoal.Bench.Utp.UtpPairBenchmark.RunAsync(args[1..]),
        "many-torrents" => await Shoal.Bench.Many.ManyTorrentsBenchmark.RunAsync(args[1..]),
        _ => throw new BenchUsageException($"unknown benchmark '{args[0]}'"),
    };
}
catch (BenchUsageException error)
{
    Console.Error.WriteLine("shoal-bench: " + error.Message);
    Console.Error.WriteLine(BenchUsage.Text);
    return 2;
}
catch (BenchFailedException error)
{
    Console.Error.WriteLine("shoal-bench: " + error.Message);
    return 1;
}
