using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Discovery;

/// <summary>
/// BEP 14 local service discovery: announces torrents to the LAN by UDP multicast and reports peers that
/// announce torrents. One instance serves a whole session. Joins the IPv4 group and, when possible, the IPv6
/// group (failing to join IPv6 leaves it IPv4-only).
/// </summary>
/// <remarks>
/// Received announces are reported through the callback on a receive-loop thread (one per address family),
/// once per info-hash: the sender's address with the announced port. The callback must be quick and hand the
/// peer over to its owner (for example post it to the torrent's mailbox); an exception from it is swallowed
/// so one bad handler cannot stop discovery. Malformed, oversized, our own (by cookie) and rate-limited
/// datagrams are dropped silently.
/// </remarks>
public sealed class LocalServiceDiscovery : IAsyncDisposable
{
    /// <summary>Most distinct info-hashes remembered for the announce rate limit.</summary>
    public const int MaxRememberedAnnounces = 4096;

    private const int MaxConsecutiveReceiveErrors = 100;

    private readonly LsdOptions _options;
    private readonly Action<InfoHash, IPEndPoint> _onPeer;
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private readonly Socket? _v4;
    private readonly Socket? _v6;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    // Announces come from every torrent actor of the session, so this small table is shared: a lock around a
    // dictionary lookup is simpler than a mailbox for it.
    private readonly Lock _announceLock = new();
    private readonly Dictionary<InfoHash, TimeSpan> _lastAnnounced = [];
    private Exception? _lastSendError;
    private int _disposed;

    /// <summary>Opens the sockets, joins the groups and starts listening.</summary>
    /// <param name="options">Groups, interface, loopback, TTL, rates and clock.</param>
    /// <param name="onPeer">Called for each info-hash of each accepted announce with the announcing peer.</param>
    /// <exception cref="SocketException">Neither group could be joined (the IPv4 error is reported).</exception>
    public LocalServiceDiscovery(LsdOptions options, Action<InfoHash, IPEndPoint> onPeer)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onPeer);
        if (options.Ipv4Group is null && options.Ipv6Group is null) throw new ArgumentException("no multicast group configured", nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.TimeToLive, nameof(options));
        _options = options;
        _onPeer = onPeer;
        _time = options.TimeProvider;
        _startTimestamp = _time.GetTimestamp();
        Cookie = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

        Exception? v4Error = null;
        if (options.Ipv4Group is { } v4Group)
        {
            try
            {
                _v4 = OpenIpv4(v4Group);
            }
            catch (SocketException e)
            {
                v4Error = e;
            }
        }
        if (options.Ipv6Group is { } v6Group)
        {
            try
            {
                _v6 = OpenIpv6(v6Group);
            }
            catch (SocketException)
            {
                // IPv6 multicast is optional (many hosts and containers have no IPv6 multicast route).
            }
        }
        if (_v4 is null && _v6 is null)
            throw v4Error ?? new SocketException((int)SocketError.AddressNotAvailable);

        var loops = new List<Task>(2);
        if (_v4 is not null) loops.Add(Task.Run(() => ReceiveLoopAsync(_v4, _stop.Token)));
        if (_v6 is not null) loops.Add(Task.Run(() => ReceiveLoopAsync(_v6, _stop.Token)));
        _loops = [.. loops];
    }

    /// <summary>Our cookie: announces carrying it are our own and ignored when they loop back.</summary>
    public string Cookie { get; }

    /// <summary>True when the IPv4 group was joined.</summary>
    public bool Ipv4Enabled => _v4 is not null;

    /// <summary>True when the IPv6 group was joined.</summary>
    public bool Ipv6Enabled => _v6 is not null;

    /// <summary>The last error sending an announce (null when none): sends never throw, this is for diagnostics.</summary>
    public Exception? LastSendError => Volatile.Read(ref _lastSendError);

    /// <summary>
    /// Announces <paramref name="infoHashes"/> with our listen <paramref name="port"/> on every joined group.
    /// Info-hashes announced less than <see cref="LsdOptions.MinAnnounceInterval"/> ago are skipped; the rest
    /// go out in as few datagrams as fit (<see cref="LsdMessage.MaxHashesPerMessage"/> each). Returns how many
    /// info-hashes were sent on at least one group. Send errors are recorded in <see cref="LastSendError"/>.
    /// </summary>
    public async ValueTask<int> AnnounceAsync(IReadOnlyList<InfoHash> infoHashes, int port, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        List<InfoHash> due = TakeDue(infoHashes);
        int sent = 0;
        for (int start = 0; start < due.Count; start += LsdMessage.MaxHashesPerMessage)
        {
            List<InfoHash> chunk = due.GetRange(start, Math.Min(LsdMessage.MaxHashesPerMessage, due.Count - start));
            bool any = false;
            if (_v4 is not null) any |= await SendAsync(_v4, _options.Ipv4Group!, chunk, port, cancellationToken).ConfigureAwait(false);
            if (_v6 is not null) any |= await SendAsync(_v6, _options.Ipv6Group!, chunk, port, cancellationToken).ConfigureAwait(false);
            if (any) sent += chunk.Count;
        }
        return sent;
    }

    /// <summary>Stops listening and closes the sockets.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        _v4?.Dispose();
        _v6?.Dispose();
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stop.Dispose();
    }

    private TimeSpan Now => _time.GetElapsedTime(_startTimestamp);

    private List<InfoHash> TakeDue(IReadOnlyList<InfoHash> infoHashes)
    {
        var due = new List<InfoHash>(infoHashes.Count);
        lock (_announceLock)
        {
            TimeSpan now = Now;
            if (_lastAnnounced.Count + infoHashes.Count > MaxRememberedAnnounces) PruneAnnounced(now);
            foreach (InfoHash hash in infoHashes)
            {
                if (_lastAnnounced.TryGetValue(hash, out TimeSpan last) && now - last < _options.MinAnnounceInterval) continue;
                if (!_lastAnnounced.ContainsKey(hash) && _lastAnnounced.Count >= MaxRememberedAnnounces) continue;
                _lastAnnounced[hash] = now;
                due.Add(hash);
            }
        }
        return due;
    }

    private void PruneAnnounced(TimeSpan now)
    {
        var expired = new List<InfoHash>();
        foreach (KeyValuePair<InfoHash, TimeSpan> entry in _lastAnnounced)
        {
            if (now - entry.Value >= _options.MinAnnounceInterval) expired.Add(entry.Key);
        }
        foreach (InfoHash hash in expired) _lastAnnounced.Remove(hash);
    }

    private async ValueTask<bool> SendAsync(Socket socket, IPEndPoint group, List<InfoHash> hashes, int port, CancellationToken cancellationToken)
    {
        byte[] datagram = LsdMessage.Format(group.ToString(), port, hashes, Cookie);
        try
        {
            await socket.SendToAsync(datagram, SocketFlags.None, group, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException e)
        {
            Volatile.Write(ref _lastSendError, e);
            return false;
        }
    }

    private Socket OpenIpv4(IPEndPoint group)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            Bind(socket, group, IPAddress.Any);
            IPAddress local = _options.Ipv4Interface ?? IPAddress.Any;
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group.Address, local));
            if (_options.Ipv4Interface is not null)
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, _options.Ipv4Interface.GetAddressBytes());
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, _options.EnableLoopback);
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, _options.TimeToLive);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private Socket OpenIpv6(IPEndPoint group)
    {
        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IPv6Only, true);
            Bind(socket, group, IPAddress.IPv6Any);
            int index = _options.Ipv6InterfaceIndex;
            socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(group.Address, index));
            if (index != 0) socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastInterface, index);
            socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastLoopback, _options.EnableLoopback);
            socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.MulticastTimeToLive, _options.TimeToLive);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Binds to the group address where the OS allows it (Linux: only that group's datagrams arrive), else to
    /// the wildcard address (Windows).
    /// </summary>
    private static void Bind(Socket socket, IPEndPoint group, IPAddress any)
    {
        try
        {
            socket.Bind(new IPEndPoint(group.Address, group.Port));
        }
        catch (SocketException)
        {
            socket.Bind(new IPEndPoint(any, group.Port));
        }
    }

    private async Task ReceiveLoopAsync(Socket socket, CancellationToken token)
    {
        var limiter = new SourceRateLimiter(_options.MaxAnnouncesPerSourcePerMinute, TimeSpan.FromMinutes(1));
        byte[] buffer = new byte[LsdMessage.MaxDatagramLength + 1];
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(IPAddress.Any, 0)
            : new IPEndPoint(IPAddress.IPv6Any, 0);
        int errors = 0;
        while (!token.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);
                errors = 0;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // Transient errors (an ICMP error from an earlier send) are skipped; a socket that only fails is given up.
                if (++errors >= MaxConsecutiveReceiveErrors) return;
                continue;
            }
            if (result.ReceivedBytes > LsdMessage.MaxDatagramLength || result.RemoteEndPoint is not IPEndPoint source) continue;
            OnDatagram(buffer.AsSpan(0, result.ReceivedBytes), source, limiter);
        }
    }

    private void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source, SourceRateLimiter limiter)
    {
        LsdAnnounce? announce = LsdMessage.Parse(datagram);
        if (announce is null || announce.Cookie == Cookie) return;
        IPAddress address = source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address;
        if (!limiter.Allow(address, Now)) return;
        foreach (InfoHash hash in announce.InfoHashes)
        {
            try
            {
                // A fresh endpoint per call: IPEndPoint is mutable and each goes to its own torrent.
                _onPeer(hash, new IPEndPoint(address, announce.Port));
            }
#pragma warning disable CA1031 // The callback is the caller's code; a bug there must not stop discovery.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
