using System.Net;

namespace Shoal.Transport;

/// <summary>
/// One way to reach a peer: TCP today (<see cref="TcpConnector"/>), uTP next. The session dials through its list of
/// connectors, trying first the one that last worked for that peer (see <c>PeerCandidate.Connector</c>); what the
/// connection carries on top (an encrypted stream, the BitTorrent handshake) is not the connector's business.
/// </summary>
public interface IPeerConnector
{
    /// <summary>Short name, as remembered per peer and shown in logs ("tcp", "utp").</summary>
    string Name { get; }

    /// <summary>True when this connector can reach <paramref name="endPoint"/> at all (its address family, say).</summary>
    bool CanReach(IPEndPoint endPoint);

    /// <summary>Opens a connection; completes once it is established.</summary>
    /// <exception cref="TimeoutException">The connection was not established in time.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">The connection was refused or failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    ValueTask<PeerTransport> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken);
}

/// <summary>One way peers reach us: a TCP listen socket today (<see cref="PeerListener"/>), uTP next.</summary>
public interface IPeerAcceptor : IAsyncDisposable
{
    /// <summary>Short name ("tcp", "utp").</summary>
    string Name { get; }

    /// <summary>Where peers reach us (with the real port when bound to port 0).</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Waits for the next incoming connection.</summary>
    /// <exception cref="ObjectDisposedException">The acceptor was disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    ValueTask<PeerTransport> AcceptAsync(CancellationToken cancellationToken);
}
