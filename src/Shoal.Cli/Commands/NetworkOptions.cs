using System.CommandLine;
using System.Net;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Transport.Encryption;

namespace Shoal.Cli.Commands;

/// <summary>The options shared by <c>share</c> and <c>get</c>.</summary>
internal sealed class NetworkOptions
{
    private readonly Option<int> _port = OptionFactory.Port(6881);
    private readonly Option<IPAddress?> _bind = OptionFactory.Address("--bind", "Address to listen on (default: all addresses)");
    private readonly Option<long> _maxUp = OptionFactory.Size("--max-upload-rate", "Upload cap in bytes per second, e.g. 500kB, 5MB, 1.5MiB (default: unlimited)");
    private readonly Option<long> _maxDown = OptionFactory.Size("--max-download-rate", "Download cap in bytes per second (default: unlimited)");
    private readonly Option<int> _maxConnections = OptionFactory.Int("--max-connections",
        "Most peer connections at once", new SessionOptions().MaxConnectionsPerTorrent, 1, 10_000);
    private readonly Option<int> _uploadSlots = OptionFactory.Int("--upload-slots",
        "Peers uploaded to at once (tit-for-tat, or turns when seeding); one optimistic slot comes on top",
        new SessionOptions().UnchokeSlots, 1, 1_000);
    private readonly Option<long> _osCache = OptionFactory.Size("--os-cache",
        "Recently written data left in the OS page cache, to upload from memory; older data is dropped from it once on disk (default: 64MiB; 'all' leaves it to the OS)",
        unlimitedWord: "all");
    private readonly Option<PeerAddress[]> _peers = OptionFactory.Peers();
    private readonly Option<string[]> _trackers = OptionFactory.Trackers("Tracker URL to announce to besides the torrent's own (repeatable; http, https or udp)");
    private readonly Option<bool> _noDht = new("--no-dht") { Description = "Do not use the DHT (BEP 5)" };
    private readonly Option<string[]> _dhtBootstrap = DhtCommand.Bootstrap();
    private readonly Option<EncryptionMode> _encryption = OptionFactory.Encryption();
    private readonly Option<bool> _noPortMapping = new("--no-port-mapping")
    {
        Description = "Do not ask the router to forward the listen port (UPnP IGD, NAT-PMP/PCP); it is asked by default unless --bind is a loopback address",
    };
    private readonly Option<bool> _noUtp = new("--no-utp") { Description = "Do not use uTP (BEP 29): TCP peer connections only" };
    private readonly Option<bool> _utpOnly = new("--utp-only")
    {
        Description = "Peer connections over uTP (BEP 29) only: no TCP dials, incoming TCP connections are closed (default: uTP first, TCP when a peer does not answer over uTP)",
    };
    private readonly Option<bool> _noLsd = new("--no-lsd") { Description = "Do not use local service discovery (BEP 14)" };
    private readonly Option<string?> _dataDirectory = OptionFactory.DataDirectory();
    private readonly Option<bool> _quiet = new("--quiet", "-q") { Description = "No progress output" };
    private readonly Option<bool> _json = new("--json") { Description = "Print one JSON status object per line on stdout, at least once a second" };

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_port);
        command.Options.Add(_bind);
        command.Options.Add(_maxUp);
        command.Options.Add(_maxDown);
        command.Options.Add(_maxConnections);
        command.Options.Add(_uploadSlots);
        command.Options.Add(_osCache);
        command.Options.Add(_peers);
        command.Options.Add(_trackers);
        command.Options.Add(_noDht);
        command.Options.Add(_dhtBootstrap);
        command.Options.Add(_noLsd);
        command.Options.Add(_noUtp);
        command.Options.Add(_utpOnly);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_noUtp) && result.GetValue(_utpOnly)) result.AddError("--no-utp and --utp-only cannot be used together");
        });
        command.Options.Add(_encryption);
        command.Options.Add(_noPortMapping);
        command.Options.Add(_dataDirectory);
        command.Options.Add(_quiet);
        command.Options.Add(_json);
    }

    /// <summary>Reads the parsed values.</summary>
    public NetworkSettings Read(ParseResult result) => new(
        result.GetValue(_port),
        result.GetValue(_bind) ?? IPAddress.Any,
        result.GetValue(_maxUp),
        result.GetValue(_maxDown),
        result.GetValue(_peers) ?? [],
        result.GetValue(_trackers) ?? [],
        result.GetValue(_quiet),
        result.GetValue(_json),
        result.GetValue(_noDht),
        result.GetValue(_dhtBootstrap) ?? [],
        result.GetValue(_noLsd),
        result.GetValue(_maxConnections),
        result.GetValue(_uploadSlots),
        result.GetResult(_osCache) is null ? StorageOptions.DefaultOsCacheWindow
            : result.GetValue(_osCache) is var window and not OptionFactory.Unlimited ? window : null,
        result.GetValue(_encryption),
        result.GetValue(_noPortMapping),
        result.GetValue(_dataDirectory),
        result.GetValue(_noUtp),
        result.GetValue(_utpOnly));
}
