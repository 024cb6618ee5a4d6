using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>
/// A UDP tracker (BEP 15): connect, then announce or scrape with the connection id, reused for a minute.
/// Every request is retransmitted after <c>base * 2^n</c> without an answer; answers with another transaction
/// id are ignored. One request at a time per client (callers rarely overlap; a gate keeps it simple).
/// </summary>
public sealed class UdpTrackerClient : ITrackerClient
{
    private delegate int RequestWriter(Span<byte> packet, long connectionId, int transactionId);

    private delegate T ResponseReader<T>(ReadOnlySpan<byte> packet);

    private readonly UdpTrackerOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _send = new byte[UdpTrackerProtocol.ScrapeRequestHeaderLength + (UdpTrackerProtocol.MaxScrapeHashes * InfoHash.Length)];
    private readonly byte[] _receive;
    private Socket? _socket;
    private bool _ipv6;
    private long _connectionId;
    private DateTimeOffset _connectionExpires = DateTimeOffset.MinValue;
    private bool _disposed;

    /// <summary>Creates a client for <paramref name="announceUrl"/> (<c>udp://host:port[/announce]</c>).</summary>
    public UdpTrackerClient(Uri announceUrl, UdpTrackerOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(announceUrl);
        if (!announceUrl.IsAbsoluteUri || announceUrl.Scheme != "udp") throw new ArgumentException($"'{announceUrl}' is not a udp:// tracker URL", nameof(announceUrl));
        if (announceUrl.Port is <= 0 or > 65535) throw new ArgumentException($"udp tracker URL '{announceUrl}' has no port", nameof(announceUrl));
        Url = announceUrl;
        _options = options ?? new UdpTrackerOptions();
        _time = time ?? TimeProvider.System;
        _receive = new byte[Math.Max(_options.MaxResponseBytes, 64)];
    }

    /// <inheritdoc />
    public Uri Url { get; }

    /// <summary>Connect requests sent so far (tests check that the connection id is reused).</summary>
    public int ConnectRequestsSent { get; private set; }

    /// <inheritdoc />
    public Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.PeerId.Length != 20) throw new ArgumentException("a peer id is 20 bytes", nameof(request));
        return RequestAsync(
            UdpTrackerProtocol.ActionAnnounce,
            (packet, connectionId, transactionId) => UdpTrackerProtocol.WriteAnnounceRequest(packet, connectionId, transactionId, request),
            packet => UdpTrackerProtocol.ReadAnnounceResponse(packet, _ipv6, _options.MaxPeers),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<ScrapeResponse> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        if (infoHashes.Count is 0 or > UdpTrackerProtocol.MaxScrapeHashes)
        {
            throw new ArgumentException($"a UDP scrape asks for 1 to {UdpTrackerProtocol.MaxScrapeHashes} info-hashes", nameof(infoHashes));
        }
        return RequestAsync(
            UdpTrackerProtocol.ActionScrape,
            (packet, connectionId, transactionId) => UdpTrackerProtocol.WriteScrapeRequest(packet, connectionId, transactionId, infoHashes),
            packet => UdpTrackerProtocol.ReadScrapeResponse(packet, infoHashes),
            cancellationToken);
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose()
    {
        _disposed = true;
        _socket?.Dispose();
    }

    private async Task<T> RequestAsync<T>(int action, RequestWriter write, ResponseReader<T> read, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Socket socket = _socket ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
            int attempt = 0;
            while (true)
            {
                if (_time.GetUtcNow() >= _connectionExpires)
                {
                    int connectId = RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
                    int length = UdpTrackerProtocol.WriteConnectRequest(_send, connectId);
                    ConnectRequestsSent++;
                    int received = await ExchangeAsync(socket, length, connectId, attempt, cancellationToken).ConfigureAwait(false);
                    if (received < 0)
                    {
                        attempt = NextAttempt(attempt);
                        continue;
                    }
                    ExpectAction(UdpTrackerProtocol.ActionConnect, received);
                    _connectionId = UdpTrackerProtocol.ReadConnectResponse(_receive.AsSpan(0, received));
                    _connectionExpires = _time.GetUtcNow() + _options.ConnectionIdLifetime;
                }

                int transactionId = RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
                int requestLength = write(_send, _connectionId, transactionId);
                int answer = await ExchangeAsync(socket, requestLength, transactionId, attempt, cancellationToken).ConfigureAwait(false);
                if (answer < 0)
                {
                    attempt = NextAttempt(attempt);
                    continue;
                }
                ExpectAction(action, answer);
                return read(_receive.AsSpan(0, answer));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private int NextAttempt(int attempt)
    {
        if (attempt >= _options.MaxRetransmissions)
        {
            throw new TrackerException(Url, $"no answer after {attempt + 1} tries");
        }
        return attempt + 1;
    }

    private void ExpectAction(int action, int received)
    {
        UdpTrackerProtocol.TryReadHeader(_receive.AsSpan(0, received), out int got, out _);
        if (got != action) throw new TrackerFormatException($"tracker {Url}: answer has action {got}, expected {action}");
    }

    /// <summary>Sends the request and waits for the answer with its transaction id; -1 on timeout.</summary>
    private async Task<int> ExchangeAsync(Socket socket, int length, int transactionId, int attempt, CancellationToken cancellationToken)
    {
        try
        {
            await socket.SendAsync(_send.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new TrackerException(Url, $"cannot send: {e.Message}", inner: e);
        }

        TimeSpan wait = _options.RetransmitBase * Math.Pow(2, attempt);
        using var timer = new CancellationTokenSource(wait, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        while (true)
        {
            int received;
            try
            {
                received = await socket.ReceiveAsync(_receive, SocketFlags.None, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return -1;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
            {
                continue; // larger than our bound: not an answer we accept
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
            {
                throw new TrackerException(Url, "nothing listens on that port (ICMP port unreachable)", inner: e);
            }
            catch (SocketException e)
            {
                throw new TrackerException(Url, $"receive failed: {e.Message}", inner: e);
            }

            // BEP 15: a packet that is too short or carries another transaction id is ignored.
            if (!UdpTrackerProtocol.TryReadHeader(_receive.AsSpan(0, received), out int action, out int id) || id != transactionId) continue;
            if (action == UdpTrackerProtocol.ActionError)
            {
                string message = UdpTrackerProtocol.ReadErrorMessage(_receive.AsSpan(0, received));
                throw new TrackerException(Url, $"refused: {message}", message);
            }
            return received;
        }
    }

    private async Task<Socket> OpenAsync(CancellationToken cancellationToken)
    {
        string host = Url.DnsSafeHost;
        IPAddress? address;
        if (!IPAddress.TryParse(host, out address))
        {
            IPAddress[] addresses;
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new TrackerException(Url, $"cannot resolve '{host}': {e.Message}", inner: e);
            }
            address = Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetworkV6)
                ?? throw new TrackerException(Url, $"'{host}' has no IP address");
        }
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();

        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Connect(new IPEndPoint(address, Url.Port)); // a connected socket only hears from the tracker
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new TrackerException(Url, $"cannot open a socket: {e.Message}", inner: e);
        }
        _ipv6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        return socket;
    }
}
