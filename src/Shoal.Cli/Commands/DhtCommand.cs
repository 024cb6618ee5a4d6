using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Shoal.Dht;
using Shoal.Metainfo;

namespace Shoal.Cli.Commands;

/// <summary>
/// <c>shoal dht</c>: run a standalone DHT node, IPv4 and IPv6 (BEP 32), until Ctrl+C; or one-shot <c>get-peers</c>
/// (both families), <c>ping</c> and <c>stats</c> (the saved routing tables).
/// </summary>
internal static class DhtCommand
{
    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Build(CliContext context)
    {
        Option<int> port = OptionFactory.Port(6881);
        port.Description = "UDP port for the DHT (0 picks a free port)";
        Option<IPAddress?> bind = OptionFactory.Address("--bind",
            "Address to bind to: an IPv4 address runs the IPv4 DHT there, an IPv6 address the IPv6 DHT (default: both, on every address)");
        Option<string?> dataDir = DataDir();
        Option<string[]> bootstrap = Bootstrap();
        var interval = OptionFactory.Int("--interval", "Seconds between stats lines", 10, 1, 3600);

        var command = new Command("dht", "Run a DHT node, or query the DHT (get-peers, ping, stats)") { port, bind, dataDir, bootstrap, interval };
        command.SetAction(async (result, cancellationToken) =>
        {
            // A long-running node keeps its identity: a folder another node runs from is an error, not a shared id.
            DhtNodeOptions options = Options(context, result.GetValue(port), result.GetValue(bind), result.GetValue(dataDir), result.GetValue(bootstrap)!)
                with { StateAccess = DhtStateAccess.ClaimOrFail };
            await using var node = await StartAsync(options, cancellationToken).ConfigureAwait(false);
            foreach (DhtNode family in new[] { node.Ipv4Node, node.Ipv6Node }.OfType<DhtNode>())
                context.Out.WriteLine($"dht node {family.Id.ToHex()} listening on {family.LocalEndPoint}");
            var period = TimeSpan.FromSeconds(result.GetValue(interval));
            try
            {
                while (true)
                {
                    await Task.Delay(period, cancellationToken).ConfigureAwait(false);
                    DhtStats s = node.GetStats();
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"nodes {s.Nodes} (good {s.GoodNodes}) in {s.Buckets} buckets; stored {s.StoredPeers} peers for {s.StoredInfoHashes} info-hashes; " +
                        $"queries in {s.QueriesReceived} (dropped {s.QueriesDropped}), out {s.QueriesSent} (timeouts {s.Timeouts}); external {s.ExternalAddress?.ToString() ?? "unknown"}"));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Success; // Ctrl+C is how a standalone node stops
            }
        });
        command.Subcommands.Add(BuildGetPeers(context));
        command.Subcommands.Add(BuildPing(context));
        command.Subcommands.Add(BuildStats(context));
        return command;
    }

    private static Command BuildGetPeers(CliContext context)
    {
        var hash = new Argument<string>("HASH") { Description = "The info-hash, 40 hex or 32 base32 characters" };
        Option<int> port = OptionFactory.Port(0);
        port.Description = "UDP port for the DHT (default: a free port)";
        Option<string?> dataDir = DataDir();
        Option<string[]> bootstrap = Bootstrap();
        var timeout = OptionFactory.Int("--timeout", "Give up after this many seconds without peers", 30, 1, 3600);
        var command = new Command("get-peers", "Find peers for an info-hash in the DHT; prints one IP:PORT per line") { hash, port, dataDir, bootstrap, timeout };
        command.SetAction(async (result, cancellationToken) =>
        {
            InfoHash infoHash = InfoHash.Parse(result.GetValue(hash)!);
            // One-shot: a fresh id and the saved nodes as a head start, nothing saved, never in a running node's way.
            DhtNodeOptions options = Options(context, result.GetValue(port), null, result.GetValue(dataDir), result.GetValue(bootstrap)!)
                with { StateAccess = DhtStateAccess.SeedsOnly };
            await using var node = await StartAsync(options, cancellationToken).ConfigureAwait(false);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(result.GetValue(timeout)));
            try
            {
                while (true)
                {
                    // No separate bootstrap lookup first: while the table is small, a lookup asks the bootstrap
                    // nodes and the saved ones itself, and the node keeps filling its table in the background.
                    DhtLookupResult found = await node.GetPeersAsync(infoHash, deadline.Token).ConfigureAwait(false);
                    if (found.Peers.Count > 0)
                    {
                        foreach (IPEndPoint peer in found.Peers) context.Out.WriteLine(peer.ToString());
                        return ExitCodes.Success;
                    }
                    await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CliException($"no peers found for {infoHash.ToHex()} within {result.GetValue(timeout)} s", ExitCodes.Failure);
            }
        });
        return command;
    }

    private static Command BuildPing(CliContext context)
    {
        var target = new Argument<string>("HOST:PORT") { Description = "The DHT node to ping" };
        var timeout = OptionFactory.Int("--timeout", "Seconds to wait for the answer", 5, 1, 600);
        var command = new Command("ping", "Ping a DHT node and print its id and round-trip time") { target, timeout };
        command.SetAction(async (result, cancellationToken) =>
        {
            PeerAddress address = PeerAddress.Parse(result.GetValue(target)!);
            IPEndPoint endPoint = await address.ResolveAsync(cancellationToken).ConfigureAwait(false);
            var options = new DhtNodeOptions
            {
                Port = 0,
                BindAddress = endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any,
                BootstrapNodes = [],
                QueryTimeout = TimeSpan.FromSeconds(result.GetValue(timeout)),
            };
            await using var node = new DhtNode(options);
            await node.StartAsync(cancellationToken).ConfigureAwait(false);
            long started = TimeProvider.System.GetTimestamp();
            NodeId? id = await node.PingAsync(endPoint, cancellationToken).ConfigureAwait(false);
            if (id is null) throw new CliException($"no answer from {address} within {result.GetValue(timeout)} s", ExitCodes.Failure);
            double ms = TimeProvider.System.GetElapsedTime(started).TotalMilliseconds;
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{address} id {id.Value.ToHex()} time {ms:F1} ms"));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildStats(CliContext context)
    {
        Option<string?> dataDir = DataDir();
        var command = new Command("stats", "Summarise the saved routing tables, IPv4 and IPv6 (buckets, nodes)") { dataDir };
        command.SetAction((result, cancellationToken) =>
        {
            string dir = ShoalDataDirectory.Dht(ShoalDataDirectory.Resolve(result.GetValue(dataDir)));
            DhtState? v4 = DhtState.Load(dir, DhtState.FileName), v6 = DhtState.Load(dir, DhtState.Ipv6FileName);
            if (v4 is null && v6 is null) throw new CliException($"no saved DHT state in {dir}", ExitCodes.Failure);
            foreach ((string family, DhtState? state) in new[] { ("IPv4", v4), ("IPv6", v6) })
            {
                if (state is null) continue;
                // Rebuild the table around the saved id to show how the nodes fall into buckets.
                var table = new RoutingTable(state.Id, TimeProvider.System);
                foreach (NodeContact node in state.Nodes) table.Observe(node, responded: true, out _);
                context.Out.WriteLine($"{family} node id: {state.Id.ToHex()}");
                context.Out.WriteLine($"external:     {state.ExternalAddress?.ToString() ?? "unknown"}");
                context.Out.WriteLine($"nodes:        {state.Nodes.Count.ToString(CultureInfo.InvariantCulture)} saved, {table.Count.ToString(CultureInfo.InvariantCulture)} placed");
                context.Out.WriteLine($"buckets:      {table.BucketCount.ToString(CultureInfo.InvariantCulture)}");
                for (int b = 0; b < table.BucketCount; b++)
                {
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  bucket {b,3}: {table.GetBucket(b).Count} nodes, {table.GetReplacements(b).Count} replacements"));
                }
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    /// <summary>Starts the IPv4 and IPv6 DHTs the options ask for (BEP 32); a bind failure becomes one line.</summary>
    private static async Task<DualStackDht> StartAsync(DhtNodeOptions options, CancellationToken cancellationToken)
    {
        var node = new DualStackDht(options);
        try
        {
            await node.StartAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw NetworkSettings.DescribeBindFailure(ex, options.BindAddress, options.Port);
        }
        catch (DhtStateInUseException ex)
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw new CliException($"{ex.Message}; give this node its own --data-dir", ExitCodes.Failure, ex);
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static DhtNodeOptions Options(CliContext context, int port, IPAddress? bind, string? dataDir, string[] bootstrap) => new()
    {
        Port = port,
        BindAddress = bind ?? IPAddress.Any,
        DataDirectory = ShoalDataDirectory.Dht(ShoalDataDirectory.Resolve(dataDir)),
        BootstrapNodes = bootstrap.Length > 0 ? bootstrap : DhtNodeOptions.DefaultBootstrapNodes,
        Log = message => context.Error.WriteLine($"shoal: dht: {TerminalText.Escape(ErrorReporter.OneLine(message))}"),
    };

    private static Option<string?> DataDir() => OptionFactory.DataDirectory();

    /// <summary>The repeatable --dht-bootstrap HOST:PORT option (also on share and get).</summary>
    internal static Option<string[]> Bootstrap() => new("--dht-bootstrap")
    {
        Description = "Bootstrap node HOST:PORT (repeatable; default: the public routers)",
        HelpName = "HOST:PORT",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
        CustomParser = result =>
        {
            var list = new List<string>(result.Tokens.Count);
            foreach (Token token in result.Tokens)
            {
                if (!PeerAddress.TryParse(token.Value, out PeerAddress? peer, out string? error))
                {
                    result.AddError($"--dht-bootstrap: {error}");
                    return [];
                }
                list.Add(peer!.ToString());
            }
            return [.. list];
        },
    };
}
