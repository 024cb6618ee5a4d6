using System.Diagnostics;
using System.Globalization;
using System.Net;
using Shoal.Cli;
using Shoal.Dht;
using Shoal.Metainfo;
using Shoal.Tests.Interop;
using Xunit.Abstractions;

namespace Shoal.Tests.Dht;

/// <summary>
/// Issue 21: two Shoal processes on one host must never share a DHT identity. One state folder belongs to one running
/// node (an OS lock that dies with its process); one-shot commands run beside it with a fresh id; a message carrying
/// our own id from elsewhere is a conflict, not ourselves; a dead saved table never delays a live bootstrap node.
/// </summary>
public sealed class SharedStateFolderTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "shoal-dht21-" + Guid.NewGuid().ToString("N"));

    /// <summary>Where the CLI keeps DHT state for <c>--data-dir _dir</c>; the library tests use it too.</summary>
    private string DhtDir => Path.Combine(_dir, "dht");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static readonly NodeId SavedId = NodeId.ParseHex("21212121212121212121212121212121212121ab");

    /// <summary>A state file as an earlier run leaves it: an id and a few nodes that are long gone.</summary>
    private void WriteEarlierRunState(int deadNodes = 3)
    {
        var random = new Random(21);
        var nodes = new List<NodeContact>();
        for (int i = 0; i < deadNodes; i++) nodes.Add(new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Loopback, CliDhtNode.FreeUdpPort())));
        new DhtState(SavedId, null, nodes).Save(DhtDir);
    }

    // ---------------------------------------------------------------- the folder lock

    [Fact]
    public void AFolderHasOneOwnerAtATime()
    {
        using (DhtStateFolder first = DhtStateFolder.Claim(DhtDir))
        {
            DhtStateInUseException ex = Assert.Throws<DhtStateInUseException>(() => DhtStateFolder.Claim(DhtDir));
            Assert.Contains("in use", ex.Message, StringComparison.Ordinal);
            Assert.Equal(first.Directory, ex.Directory);
        }
        using DhtStateFolder again = DhtStateFolder.Claim(DhtDir); // released by Dispose
        Assert.True(File.Exists(Path.Combine(DhtDir, DhtStateFolder.LockFileName)));
    }

    [Fact]
    public void ASecondNodeOnAClaimedFolderRunsWithAFreshIdOrFailsAsAsked()
    {
        WriteEarlierRunState();
        var time = new VirtualTimeProvider();
        var network = new SimulatedNetwork(time, new Random(1), TimeSpan.FromMilliseconds(10), TimeSpan.Zero, 0);
        var owner = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], DataDirectory = DhtDir }, network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.1"), 1)), time);
        Assert.Equal(SavedId, owner.Id);

        Assert.Throws<DhtStateInUseException>(() => new DhtNode(new DhtNodeOptions { BootstrapNodes = [], DataDirectory = DhtDir, StateAccess = DhtStateAccess.ClaimOrFail },
            network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.2"), 1)), time));

        var log = new List<string>();
        var second = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], DataDirectory = DhtDir, Log = log.Add },
            network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.3"), 1)), time);
        Assert.NotEqual(SavedId, second.Id);
        Assert.Contains(log, m => m.Contains("in use", StringComparison.Ordinal) && m.Contains("fresh id", StringComparison.Ordinal));
        var quiet = new List<string>();
        var oneShot = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], DataDirectory = DhtDir, StateAccess = DhtStateAccess.SeedsOnly, Log = quiet.Add },
            network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.4"), 1)), time);
        Assert.NotEqual(SavedId, oneShot.Id);
        Assert.NotEqual(second.Id, oneShot.Id);
        Assert.Empty(quiet); // asked for: nothing to report

        second.Start([]);
        oneShot.Start([]);
        time.Advance(TimeSpan.FromSeconds(5));
        second.Dispose();
        oneShot.Dispose();
        Assert.Equal(SavedId, DhtState.Load(DhtDir)!.Id); // neither wrote the owner's file
        owner.Dispose();

        using DhtNode next = new(new DhtNodeOptions { BootstrapNodes = [], DataDirectory = DhtDir, StateAccess = DhtStateAccess.ClaimOrFail },
            network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.5"), 1)), time);
        Assert.Equal(SavedId, next.Id); // the owner let go at Dispose
    }

    [Fact]
    public async Task AKilledNodeLeavesNoStaleClaim()
    {
        WriteEarlierRunState();
        using ChildProcess node = ShoalCli.Start("dht", "--port", "0", "--bind", "127.0.0.1", "--data-dir", _dir, "--dht-bootstrap", "127.0.0.1:9");
        await node.WaitForLineAsync(l => l.Contains(" listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "shoal dht listening");
        Assert.Throws<DhtStateInUseException>(() => DhtStateFolder.Claim(DhtDir));
        node.Kill(); // SIGKILL: no chance to clean anything up
        await node.WaitForExitAsync(TimeSpan.FromSeconds(20));
        using DhtStateFolder claim = DhtStateFolder.Claim(DhtDir);
        Assert.Equal(SavedId, DhtState.Load(DhtDir)!.Id);
    }

    // ---------------------------------------------------------------- the CLI, as the issue tried it

    [Fact]
    public async Task AOneShotGetPeersBesideAStandaloneNodeOnOneFolderFindsThePeer()
    {
        WriteEarlierRunState();
        int port = CliDhtNode.FreeUdpPort();
        await using CliDhtNode standalone = CliDhtNode.Start(port, _dir, "--dht-bootstrap", "127.0.0.1:9");
        await standalone.WaitListeningAsync();
        Assert.Contains(SavedId.ToHex(), standalone.Output.Text, StringComparison.Ordinal);

        // A seeder announces itself to the standalone node.
        var hash = new InfoHash(Enumerable.Range(121, 20).Select(b => (byte)b).ToArray());
        await using (var seeder = new DhtNode(new DhtNodeOptions { Port = 0, BindAddress = IPAddress.Loopback, BootstrapNodes = [$"127.0.0.1:{port}"] }))
        {
            await seeder.StartAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.True((await seeder.AnnounceAsync(hash, 45821, cancellationToken: timeout.Token)).AnnouncedTo > 0);
        }

        var found = new StringWriter();
        var error = new StringWriter();
        var clock = Stopwatch.StartNew();
        int code = await Program.RunAsync(["dht", "get-peers", hash.ToHex(), "--data-dir", _dir, "--dht-bootstrap", $"127.0.0.1:{port}", "--timeout", "5"],
            found, error, CancellationToken.None);
        output.WriteLine($"get-peers beside a running node on one folder: {clock.ElapsedMilliseconds} ms (the issue saw a 30 s timeout)");
        Assert.True(code == 0, error.ToString());
        Assert.Contains("127.0.0.1:45821", found.ToString(), StringComparison.Ordinal);
        Assert.Equal(SavedId, DhtState.Load(DhtDir)!.Id); // the one-shot command wrote nothing

        // `shoal dht stats` still reads the saved tables while the node runs.
        var stats = new StringWriter();
        Assert.Equal(0, await Program.RunAsync(["dht", "stats", "--data-dir", _dir], stats, new StringWriter(), CancellationToken.None));
        Assert.Contains("IPv4 node id: " + SavedId.ToHex(), stats.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecondLongRunningNodeOnOneFolderSaysItIsInUseAndTheFirstKeepsWorking()
    {
        WriteEarlierRunState();
        int port = CliDhtNode.FreeUdpPort();
        await using CliDhtNode first = CliDhtNode.Start(port, _dir, "--dht-bootstrap", "127.0.0.1:9");
        await first.WaitListeningAsync();

        var error = new StringWriter();
        int code = await Program.RunAsync(["dht", "--port", "0", "--bind", "127.0.0.1", "--data-dir", _dir, "--dht-bootstrap", "127.0.0.1:9"],
            new StringWriter(), error, CancellationToken.None);
        Assert.Equal(ExitCodes.Failure, code);
        string[] lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("in use", lines[0], StringComparison.Ordinal);
        Assert.Contains("--data-dir", lines[0], StringComparison.Ordinal);

        var ping = new StringWriter();
        Assert.Equal(0, await Program.RunAsync(["dht", "ping", $"127.0.0.1:{port}"], ping, new StringWriter(), CancellationToken.None));
        Assert.Contains("id " + SavedId.ToHex(), ping.ToString(), StringComparison.Ordinal);
        Assert.False(first.Run.IsCompleted);
    }

    [Fact]
    public async Task TwoLibraryNodesOnOneFolderRunWithTheirOwnIdsAndBothWork()
    {
        WriteEarlierRunState();
        var log = new List<string>();
        DhtNodeOptions Options(int seed) => new()
        {
            Port = 0,
            BindAddress = IPAddress.Loopback,
            DataDirectory = DhtDir,
            BootstrapNodes = [],
            RandomSeed = seed,
            Log = m => { lock (log) log.Add(m); },
        };
        await using (var a = new DualStackDht(Options(1)))
        await using (var b = new DualStackDht(Options(2)))
        {
            await a.StartAsync();
            await b.StartAsync();
            Assert.Equal(SavedId, a.Ipv4Node!.Id);
            Assert.NotEqual(a.Ipv4Node.Id, b.Ipv4Node!.Id);
            lock (log) Assert.Single(log, m => m.Contains("in use", StringComparison.Ordinal));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.Equal(a.Ipv4Node.Id, await b.Ipv4Node.PingAsync(a.LocalEndPoint!, timeout.Token));
            Assert.Equal(b.Ipv4Node.Id, await a.Ipv4Node.PingAsync(b.LocalEndPoint!, timeout.Token));
        }
        Assert.Equal(SavedId, DhtState.Load(DhtDir)!.Id);
        lock (log) Assert.DoesNotContain(log, m => m.Contains("conflict", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- our own id from elsewhere

    [Fact]
    public async Task AnotherNodeWithOurIdIsAConflictNotOurselves()
    {
        var time = new VirtualTimeProvider();
        var network = new SimulatedNetwork(time, new Random(1), TimeSpan.FromMilliseconds(10), TimeSpan.Zero, 0);
        NodeId shared = NodeId.CreateRandom(new Random(5));
        var logA = new List<string>();
        var logB = new List<string>();
        var epA = new IPEndPoint(IPAddress.Parse("20.0.0.1"), 6881);
        var epB = new IPEndPoint(IPAddress.Parse("20.0.0.2"), 6881);
        var epP = new IPEndPoint(IPAddress.Parse("20.0.0.3"), 6881);
        var a = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], NodeId = shared, RandomSeed = 1, Log = logA.Add }, network.Attach(epA), time);
        var b = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], NodeId = shared, RandomSeed = 2, Log = logB.Add }, network.Attach(epB), time);
        var p = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 3 }, network.Attach(epP), time);
        a.Start([]);
        p.Start([epA]);
        time.Advance(TimeSpan.FromSeconds(5));
        var hash = new InfoHash(Enumerable.Range(1, 20).Select(x => (byte)x).ToArray());
        Task<DhtLookupResult> announce = p.AnnounceAsync(hash, 4000);
        Assert.True(time.RunUntil(() => announce.IsCompleted, TimeSpan.FromSeconds(30)));
        time.Advance(TimeSpan.FromSeconds(1));

        // b has a's id: its lookup through a must still find the peer, and both say what happened.
        b.Start([epA]);
        Task<DhtLookupResult> lookup = b.GetPeersAsync(hash);
        Assert.True(time.RunUntil(() => lookup.IsCompleted, TimeSpan.FromSeconds(30)));
        Assert.Contains(new IPEndPoint(epP.Address, 4000), (await lookup).Peers);
        Task<NodeId?> ping = b.PingAsync(epA);
        Assert.True(time.RunUntil(() => ping.IsCompleted, TimeSpan.FromSeconds(10)));
        Assert.Equal(shared, await ping); // an answer from a real node, not ourselves
        Assert.Single(logA, m => m.Contains("node id conflict", StringComparison.Ordinal) && m.Contains(epB.ToString(), StringComparison.Ordinal));
        Assert.Single(logB, m => m.Contains("node id conflict", StringComparison.Ordinal) && m.Contains(epA.ToString(), StringComparison.Ordinal));
        Assert.Equal(0, a.InternalErrors + b.InternalErrors);
    }

    [Fact]
    public async Task ANodeThatQueriesItselfThroughAnotherAddressKnowsItIsItself()
    {
        var log = new List<string>();
        await using var node = new DhtNode(new DhtNodeOptions { Port = 0, BindAddress = IPAddress.Any, BootstrapNodes = [], Log = m => { lock (log) log.Add(m); } });
        await node.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var viaLoopback = new IPEndPoint(IPAddress.Loopback, node.LocalEndPoint!.Port); // bound to 0.0.0.0: reaches us
        Assert.Null(await node.PingAsync(viaLoopback, timeout.Token));
        Assert.Equal(0, node.GetStats().Timeouts); // known at once, not waited out
        lock (log) Assert.DoesNotContain(log, m => m.Contains("conflict", StringComparison.Ordinal));
        Assert.Equal(0, node.InternalErrors);
    }

    // ---------------------------------------------------------------- dead saved table, live bootstrap node

    [Fact]
    public async Task ADeadSavedTableDoesNotDelayALiveBootstrapNode()
    {
        var oneWay = TimeSpan.FromMilliseconds(25);
        TimeSpan roundTrip = 2 * oneWay;
        var time = new VirtualTimeProvider();
        var network = new SimulatedNetwork(time, new Random(1), oneWay, TimeSpan.Zero, 0);
        var bootstrap = new IPEndPoint(IPAddress.Parse("20.0.0.1"), 6881);
        var seederAddress = new IPEndPoint(IPAddress.Parse("20.0.0.2"), 6881);
        var b = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 1 }, network.Attach(bootstrap), time);
        var seeder = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 2 }, network.Attach(seederAddress), time);
        b.Start([]);
        seeder.Start([bootstrap]);
        time.Advance(TimeSpan.FromSeconds(5));
        var hash = new InfoHash(Enumerable.Range(40, 20).Select(x => (byte)x).ToArray());
        Task<DhtLookupResult> announce = seeder.AnnounceAsync(hash, 5000);
        Assert.True(time.RunUntil(() => announce.IsCompleted, TimeSpan.FromSeconds(30)));

        // Sixteen saved nodes from an earlier run, none of them alive any more.
        var random = new Random(9);
        var dead = new List<NodeContact>();
        for (int i = 0; i < 16; i++) dead.Add(new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Parse("30.0.1." + (i + 1)), 6881)));
        new DhtState(NodeId.CreateRandom(random), null, dead).Save(DhtDir);
        var node = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], DataDirectory = DhtDir, RandomSeed = 3 },
            network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.3"), 6881)), time);
        node.Start([bootstrap]);
        Task<DhtLookupResult> lookup = node.GetPeersAsync(hash);
        Assert.True(time.RunUntil(() => lookup.IsCompleted, TimeSpan.FromSeconds(60)));
        DhtLookupResult result = await lookup;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first peers after {result.FirstPeersAfter?.TotalMilliseconds} ms, lookup done after {result.Elapsed.TotalMilliseconds} ms (round trip {roundTrip.TotalMilliseconds} ms), {result.QueriesSent} queries, {result.Responses} answers, {result.Hops} hops"));
        Assert.Contains(new IPEndPoint(seederAddress.Address, 5000), result.Peers);
        Assert.Equal(roundTrip, result.FirstPeersAfter); // the bootstrap node's first answer
        // The dead nodes are given up on once the network's round trip is known (the adaptive soft timeout), not
        // after the 1.5 s an unknown network allows: the whole lookup takes a few round trips.
        Assert.True(result.Elapsed <= 4 * roundTrip, $"the lookup took {result.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(0, node.InternalErrors);
    }
}
