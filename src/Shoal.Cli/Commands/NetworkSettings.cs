using System.Net;
using System.Net.Sockets;
using Shoal.Dht;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Transport.Encryption;

namespace Shoal.Cli.Commands;

/// <summary>What the user asked for on <c>share</c> and <c>get</c>: sockets, limits, peers and output mode.</summary>
/// <param name="Port">Listen port (0 = any free one).</param>
/// <param name="Bind">Listen address.</param>
/// <param name="MaxUploadRate">Bytes per second, 0 = unlimited.</param>
/// <param name="MaxDownloadRate">Bytes per second, 0 = unlimited.</param>
/// <param name="Peers">Peers to dial at start.</param>
/// <param name="Trackers">Tracker URLs to announce to besides the torrent's own.</param>
/// <param name="Quiet">No progress output.</param>
/// <param name="Json">JSON status lines on standard output instead of a progress bar.</param>
/// <param name="NoDht">Turn the DHT off.</param>
/// <param name="DhtBootstrap">DHT bootstrap nodes (HOST:PORT); empty means the public routers.</param>
/// <param name="NoLsd">Turn local service discovery off.</param>
/// <param name="MaxConnections">Most peer connections at once; 0 keeps the session's default.</param>
/// <param name="UploadSlots">Regular unchoke slots; 0 keeps the session's default.</param>
/// <param name="OsCacheWindow">Recently written bytes left in the OS page cache per torrent; null leaves it to the OS.</param>
/// <param name="Encryption">Which connections to make and accept (MSE/PE).</param>
/// <param name="NoPortMapping">Do not ask the gateway to forward the listen port.</param>
/// <param name="NoUtp">TCP peer connections only.</param>
/// <param name="UtpOnly">uTP peer connections only.</param>
/// <param name="DataDirectory">Shoal's own state folder (resume files, DHT state); null: see <see cref="ShoalDataDirectory"/>.</param>
internal sealed record NetworkSettings(
    int Port,
    IPAddress Bind,
    long MaxUploadRate,
    long MaxDownloadRate,
    IReadOnlyList<PeerAddress> Peers,
    IReadOnlyList<string> Trackers,
    bool Quiet,
    bool Json,
    bool NoDht = false,
    IReadOnlyList<string>? DhtBootstrap = null,
    bool NoLsd = false,
    int MaxConnections = 0,
    int UploadSlots = 0,
    long? OsCacheWindow = StorageOptions.DefaultOsCacheWindow,
    EncryptionMode Encryption = EncryptionMode.Prefer,
    bool NoPortMapping = false,
    string? DataDirectory = null,
    bool NoUtp = false,
    bool UtpOnly = false)
{
    private static readonly SessionOptions Defaults = new();

    /// <summary>The session options these settings ask for.</summary>
    public SessionOptions ToSessionOptions() => new()
    {
        BindAddress = Bind,
        ListenPort = Port,
        MaxUploadRate = MaxUploadRate,
        MaxDownloadRate = MaxDownloadRate,
        EnableDht = !NoDht,
        Dht = NoDht ? null : new DhtNodeOptions
        {
            Port = Port,
            BindAddress = Bind,
            // One folder per listen port: two shoal processes on one host must not share a node id.
            // A random port (0) gets a fresh id each run.
            DataDirectory = Port == 0 ? null : Path.Combine(ShoalDataDirectory.Dht(ShoalDataDirectory.Resolve(DataDirectory)), "port-" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            BootstrapNodes = DhtBootstrap is { Count: > 0 } ? DhtBootstrap : DhtNodeOptions.DefaultBootstrapNodes,
        },
        EnableLocalDiscovery = !NoLsd,
        ResumeDirectory = ShoalDataDirectory.Resume(ShoalDataDirectory.Resolve(DataDirectory)),
        // One torrent per process: the session-wide cap and the per-torrent cap are the same number.
        MaxConnections = MaxConnections > 0 ? MaxConnections : Defaults.MaxConnections,
        MaxConnectionsPerTorrent = MaxConnections > 0 ? MaxConnections : Defaults.MaxConnectionsPerTorrent,
        UnchokeSlots = UploadSlots > 0 ? UploadSlots : Defaults.UnchokeSlots,
        OsCacheWindow = OsCacheWindow,
        Encryption = Encryption,
        EnablePortMapping = !NoPortMapping,
        EnableUtp = !NoUtp,
        EnableTcp = !UtpOnly,
    };

    /// <summary>Resolves every --peer (host names through DNS).</summary>
    public async Task<IReadOnlyList<IPEndPoint>> ResolvePeersAsync(CancellationToken cancellationToken)
    {
        var endpoints = new IPEndPoint[Peers.Count];
        for (int i = 0; i < Peers.Count; i++) endpoints[i] = await Peers[i].ResolveAsync(cancellationToken).ConfigureAwait(false);
        return endpoints;
    }

    /// <summary>Starts a session, turning socket failures into one clear line.</summary>
    public async Task<ShoalSession> StartSessionAsync(CancellationToken cancellationToken, Action<string>? log = null)
        => await StartSessionAsync(ToSessionOptions() with { Log = log }, cancellationToken).ConfigureAwait(false);

    /// <summary>Starts a session with <paramref name="options"/>, turning socket failures into one clear line.</summary>
    public static async Task<ShoalSession> StartSessionAsync(SessionOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await ShoalSession.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw DescribeBindFailure(ex, options.BindAddress, options.ListenPort);
        }
    }

    /// <summary>The one-line error for a failed bind.</summary>
    public static CliException DescribeBindFailure(SocketException ex, IPAddress bind, int port) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => new CliException($"port {port} is already in use", ExitCodes.Failure, ex),
        SocketError.AccessDenied => new CliException($"not allowed to listen on port {port} (ports below 1024 need privileges)", ExitCodes.Failure, ex),
        SocketError.AddressNotAvailable => new CliException($"address {bind} is not an address of this machine", ExitCodes.Usage, ex),
        _ => new CliException($"cannot listen on {new IPEndPoint(bind, port)}: {ex.Message}", ExitCodes.Failure, ex),
    };
}
