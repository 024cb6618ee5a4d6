using System.Net;
using System.Net.Sockets;
using Shoal.Dht;
using Shoal.Transport;
using Shoal.Transport.Udp;
using Shoal.Transport.Utp;

namespace Shoal.Swarm;

/// <summary>
/// The session's port: the TCP listen socket and, whenever uTP or the DHT is on, the UDP socket pair of the same port
/// number, with a uTP multiplexer on each UDP socket. Builds the session's acceptors (where peers reach us) and
/// connectors (how we reach them), and closes everything in the order that lets connections end cleanly.
/// </summary>
internal sealed class SessionSockets : IAsyncDisposable
{
    /// <summary>With port 0, how many TCP ports are tried before giving up on finding one whose UDP twin is free too.</summary>
    private const int MaxPortAttempts = 16;

    private SessionSockets(PeerListener listener, UdpSocketPair? udp, UtpMultiplexer? utpV4, UtpMultiplexer? utpV6)
    {
        Listener = listener;
        Udp = udp;
        UtpV4 = utpV4;
        UtpV6 = utpV6;
    }

    /// <summary>The TCP listen socket (bound even when TCP is off, so the port number is the session's).</summary>
    public PeerListener Listener { get; }

    /// <summary>The UDP port (the DHT's and uTP's); null when neither is on or it could not bind.</summary>
    public UdpSocketPair? Udp { get; }

    /// <summary>uTP on the IPv4 UDP socket; null when uTP is off or that socket is missing.</summary>
    public UtpMultiplexer? UtpV4 { get; }

    /// <summary>uTP on the IPv6 UDP socket; null when uTP is off or that socket is missing.</summary>
    public UtpMultiplexer? UtpV6 { get; }

    /// <summary>True when uTP runs on at least one family.</summary>
    public bool UtpRuns => UtpV4 is not null || UtpV6 is not null;

    /// <summary>
    /// Binds TCP at the options' listen port and UDP at the same number (with port 0, a number free in both). A UDP
    /// port that cannot be bound turns uTP and the DHT off (logged), as a DHT that cannot bind always did.
    /// </summary>
    /// <exception cref="SocketException">The TCP port cannot be bound.</exception>
    /// <exception cref="ArgumentException">Neither TCP nor uTP is enabled.</exception>
    public static SessionSockets Bind(SessionContext context)
    {
        SessionOptions options = context.Options;
        if (!options.EnableTcp && !options.EnableUtp) throw new ArgumentException("SessionOptions: at least one of EnableTcp and EnableUtp must be on");
        bool wantsUdp = options.EnableUtp || options.EnableDht;
        for (int attempt = 1; ; attempt++)
        {
            PeerListener listener = PeerListener.Start(new IPEndPoint(options.BindAddress, options.ListenPort), backlog: 128, context.SocketMemory, options.Time);
            if (!wantsUdp) return new SessionSockets(listener, null, null, null);
            int port = listener.LocalEndPoint.Port;
            UdpSocketPair udp;
            try
            {
                udp = DualStackDht.BindUdp(UdpAddresses(options) with { Port = port, Log = message => context.Log("[udp] " + message) });
            }
            catch (SocketException ex) when (options.ListenPort == 0 && attempt < MaxPortAttempts)
            {
                // Someone holds that number in UDP: take another TCP port, so one number serves all three protocols.
                _ = ex;
                listener.DisposeAsync().AsTask().GetAwaiter().GetResult();
                continue;
            }
            catch (SocketException ex)
            {
                context.Log($"uTP and the DHT are off: cannot bind UDP port {port}: {ex.Message}");
                return new SessionSockets(listener, null, null, null);
            }
            if (!options.EnableUtp) return new SessionSockets(listener, udp, null, null);
            return new SessionSockets(listener, udp, Multiplexer(context, udp.Ipv4), Multiplexer(context, udp.Ipv6));
        }
    }

    /// <summary>Where peers reach us: the TCP listener and the uTP multiplexers.</summary>
    public IReadOnlyList<IPeerAcceptor> Acceptors()
    {
        var acceptors = new List<IPeerAcceptor> { Listener };
        if (UtpV4 is not null) acceptors.Add(new UtpAcceptor(UtpV4));
        if (UtpV6 is not null) acceptors.Add(new UtpAcceptor(UtpV6));
        return acceptors;
    }

    /// <summary>How we reach peers, in the order tried: uTP first (as libtorrent), then TCP; each only when enabled.</summary>
    public IReadOnlyList<IPeerConnector> Connectors(SessionContext context)
    {
        var connectors = new List<IPeerConnector>(2);
        if (UtpRuns) connectors.Add(new UtpConnector(UtpV4, UtpV6));
        if (context.Options.EnableTcp) connectors.Add(new TcpConnector(context.SocketMemory, context.Time, SessionContext.HandshakeTimeout));
        return connectors;
    }

    /// <summary>
    /// Closes uTP (its connections are RESET; the torrents, stopped first, have closed theirs cleanly) and then the UDP
    /// sockets. The TCP listener is the session's acceptor and is disposed with the acceptors.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (UtpV4 is not null) await UtpV4.DisposeAsync().ConfigureAwait(false);
        if (UtpV6 is not null) await UtpV6.DisposeAsync().ConfigureAwait(false);
        if (Udp is not null) await Udp.DisposeAsync().ConfigureAwait(false);
        await Listener.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The addresses the UDP sockets bind: the DHT's when it has its own settings, else the session's (IPv6 beside IPv4 "any").</summary>
    private static DhtNodeOptions UdpAddresses(SessionOptions options) =>
        options.Dht ?? new DhtNodeOptions { BindAddress = options.BindAddress };

    private static UtpMultiplexer? Multiplexer(SessionContext context, UdpSocket? socket)
    {
        if (socket is null) return null;
        SessionOptions options = context.Options;
        return new UtpMultiplexer(socket, new UtpOptions
        {
            Time = options.Time,
            RandomSeed = options.RandomSeed is null ? null : context.NewRandom().Next(),
            Memory = context.SocketMemory,
            AcceptFilter = options.IncomingFilter,
            Log = options.Log is null ? null : message => context.Log("[utp] " + message),
        });
    }
}
