using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Shoal.Metainfo;

namespace Shoal.Trackers.Server;

/// <summary>
/// The BEP 15 tracker: connect, announce, scrape and error over one UDP socket, with stateless connection ids
/// (<see cref="UdpConnectionIds"/>). Packets without a valid connection id get no answer at all, so a forged
/// source address cannot turn the tracker into an amplifier: the only answer to an unproven source is the
/// 16-byte connect response to a 16-byte request. Malformed packets from a proven source get an error; nothing a
/// packet holds can end the receive loop.
/// </summary>
public sealed class UdpTrackerServer : IAsyncDisposable
{
    /// <summary>Largest answer: a 1,500-byte Ethernet frame minus the IP and UDP headers (IPv6's 48 bytes).</summary>
    public const int MaxResponseLength = 1452;

    private const int MaxRequestLength = UdpTrackerProtocol.ScrapeRequestHeaderLength + (UdpTrackerProtocol.MaxScrapeHashes * InfoHash.Length);
    private readonly SwarmRegistry _registry;
    private readonly AddressRateLimiter? _limiter;
    private readonly UdpConnectionIds _ids;
    private readonly Socket? _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private long _packetErrors;

    /// <summary>Creates a server without a socket (for feeding <see cref="HandlePacket"/> directly).</summary>
    public UdpTrackerServer(SwarmRegistry registry, AddressRateLimiter? limiter = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _limiter = limiter;
        _ids = new UdpConnectionIds(time);
    }

    private UdpTrackerServer(SwarmRegistry registry, AddressRateLimiter? limiter, TimeProvider? time, Socket socket)
        : this(registry, limiter, time)
    {
        _socket = socket;
    }

    /// <summary>Where the socket is bound (the real port when 0 was asked).</summary>
    public IPEndPoint? LocalEndPoint => _socket?.LocalEndPoint as IPEndPoint;

    /// <summary>Packets whose handling threw (a bug if ever non-zero; the loop goes on regardless).</summary>
    public long PacketErrors => Interlocked.Read(ref _packetErrors);

    /// <summary>
    /// Binds <paramref name="endpoint"/> and starts <paramref name="receiveLoops"/> receive loops. Binding the
    /// IPv6 any-address also serves IPv4 (dual mode).
    /// </summary>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local...).</exception>
    public static UdpTrackerServer Start(IPEndPoint endpoint, SwarmRegistry registry, AddressRateLimiter? limiter = null,
        TimeProvider? time = null, int receiveLoops = 2)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(receiveLoops);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            socket.ReceiveBufferSize = 4 * 1024 * 1024; // absorb bursts instead of dropping them in the kernel
            socket.Bind(endpoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var server = new UdpTrackerServer(registry, limiter, time, socket);
        for (int i = 0; i < receiveLoops; i++) server._loops.Add(Task.Run(server.ReceiveLoopAsync));
        return server;
    }

    /// <summary>Stops the loops and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>
    /// Handles one request datagram from <paramref name="remote"/>; writes the answer into
    /// <paramref name="response"/> (at least <see cref="MaxResponseLength"/> bytes) and returns its length, or 0 to
    /// send nothing. <paramref name="scratch"/> holds the peers picked (the registry's max numwant is enough).
    /// Never throws for any content of <paramref name="request"/>.
    /// </summary>
    public int HandlePacket(ReadOnlySpan<byte> request, IPEndPoint remote, Span<byte> response, Span<SwarmPeer> scratch)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (response.Length < MaxResponseLength) throw new ArgumentException($"response buffer must hold {MaxResponseLength} bytes", nameof(response));
        if (request.Length < 16 || request.Length > MaxRequestLength) return 0;
        if (remote.Address.IsIPv4MappedToIPv6) remote = new IPEndPoint(remote.Address.MapToIPv4(), remote.Port);
        if (_limiter is not null && !_limiter.TryAcquire(remote.Address)) return 0;

        long connectionId = BinaryPrimitives.ReadInt64BigEndian(request);
        int action = BinaryPrimitives.ReadInt32BigEndian(request[8..]);
        int transactionId = BinaryPrimitives.ReadInt32BigEndian(request[12..]);

        if (action == UdpTrackerProtocol.ActionConnect)
        {
            if (connectionId != UdpTrackerProtocol.ProtocolId) return 0;
            BinaryPrimitives.WriteInt32BigEndian(response, UdpTrackerProtocol.ActionConnect);
            BinaryPrimitives.WriteInt32BigEndian(response[4..], transactionId);
            BinaryPrimitives.WriteInt64BigEndian(response[8..], _ids.Create(remote));
            return UdpTrackerProtocol.ConnectResponseLength;
        }

        if (!_ids.IsValid(connectionId, remote)) return 0; // unproven source: stay silent
        return action switch
        {
            UdpTrackerProtocol.ActionAnnounce => Announce(request, remote, transactionId, response, scratch),
            UdpTrackerProtocol.ActionScrape => Scrape(request, transactionId, response),
            _ => Error(response, transactionId, "unknown action"),
        };
    }

    private int Announce(ReadOnlySpan<byte> request, IPEndPoint remote, int transactionId, Span<byte> response, Span<SwarmPeer> scratch)
    {
        if (request.Length < UdpTrackerProtocol.AnnounceRequestLength) return Error(response, transactionId, "announce packet is shorter than 98 bytes");
        long downloaded = BinaryPrimitives.ReadInt64BigEndian(request[56..]);
        long left = BinaryPrimitives.ReadInt64BigEndian(request[64..]);
        long uploaded = BinaryPrimitives.ReadInt64BigEndian(request[72..]);
        int evt = BinaryPrimitives.ReadInt32BigEndian(request[80..]);
        int numWant = BinaryPrimitives.ReadInt32BigEndian(request[92..]);
        int port = BinaryPrimitives.ReadUInt16BigEndian(request[96..]);
        if (evt is < 0 or > 3) return Error(response, transactionId, "unknown event");
        if (downloaded < 0 || left < 0 || uploaded < 0) return Error(response, transactionId, "negative byte count");
        // The IP field (offset 84) is ignored: the source address is the only one a UDP tracker can trust.

        bool v6 = remote.AddressFamily == AddressFamily.InterNetworkV6;
        int entry = v6 ? CompactPeers.V6Length : CompactPeers.V4Length;
        int fits = (MaxResponseLength - UdpTrackerProtocol.AnnounceResponseHeaderLength) / entry;
        var announce = new PeerAnnounce(new InfoHash(request.Slice(16, 20)), request.Slice(36, 20).ToArray(), remote.Address, port,
            uploaded, downloaded, left, (AnnounceEvent)evt, numWant);
        Span<SwarmPeer> room = scratch.Length > fits ? scratch[..fits] : scratch;
        AnnounceOutcome outcome = _registry.Announce(announce, v6 ? PeerFamilies.V6 : PeerFamilies.V4, room);
        if (outcome.FailureReason is { } reason) return Error(response, transactionId, reason);

        BinaryPrimitives.WriteInt32BigEndian(response, UdpTrackerProtocol.ActionAnnounce);
        BinaryPrimitives.WriteInt32BigEndian(response[4..], transactionId);
        BinaryPrimitives.WriteInt32BigEndian(response[8..], (int)outcome.Interval.TotalSeconds);
        BinaryPrimitives.WriteInt32BigEndian(response[12..], outcome.Leechers);
        BinaryPrimitives.WriteInt32BigEndian(response[16..], outcome.Seeders);
        int length = UdpTrackerProtocol.AnnounceResponseHeaderLength;
        for (int i = 0; i < outcome.PeerCount; i++)
        {
            length += CompactPeers.Write(room[i].Address, room[i].Port, response[length..]);
        }
        return length;
    }

    private int Scrape(ReadOnlySpan<byte> request, int transactionId, Span<byte> response)
    {
        int count = (request.Length - UdpTrackerProtocol.ScrapeRequestHeaderLength) / InfoHash.Length;
        if (count == 0) return Error(response, transactionId, "scrape names no info-hash");
        BinaryPrimitives.WriteInt32BigEndian(response, UdpTrackerProtocol.ActionScrape);
        BinaryPrimitives.WriteInt32BigEndian(response[4..], transactionId);
        int length = UdpTrackerProtocol.ScrapeResponseHeaderLength;
        for (int i = 0; i < count; i++)
        {
            ScrapeEntry entry = _registry.Scrape(new InfoHash(request.Slice(UdpTrackerProtocol.ScrapeRequestHeaderLength + (i * InfoHash.Length), InfoHash.Length)));
            BinaryPrimitives.WriteInt32BigEndian(response[length..], Clamp(entry.Seeders));
            BinaryPrimitives.WriteInt32BigEndian(response[(length + 4)..], Clamp(entry.Completed));
            BinaryPrimitives.WriteInt32BigEndian(response[(length + 8)..], Clamp(entry.Leechers));
            length += UdpTrackerProtocol.ScrapeEntryLength;
        }
        return length;
    }

    private static int Clamp(long value) => (int)Math.Clamp(value, 0, int.MaxValue);

    private static int Error(Span<byte> response, int transactionId, string message)
    {
        BinaryPrimitives.WriteInt32BigEndian(response, UdpTrackerProtocol.ActionError);
        BinaryPrimitives.WriteInt32BigEndian(response[4..], transactionId);
        return 8 + Encoding.UTF8.GetBytes(message, response[8..]);
    }

    private async Task ReceiveLoopAsync()
    {
        Socket socket = _socket!;
        CancellationToken token = _stop.Token;
        byte[] request = new byte[2048];
        byte[] response = new byte[MaxResponseLength];
        var scratch = new SwarmPeer[_registry.Options.MaxNumWant];
        var from = new SocketAddress(socket.AddressFamily);
        EndPoint template = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!token.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await socket.ReceiveFromAsync(request, SocketFlags.None, from, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
                continue; // an ICMP error for an earlier answer, a datagram too large: the next one may be fine
            }

            int length;
            try
            {
                var remote = (IPEndPoint)template.Create(from);
                length = HandlePacket(request.AsSpan(0, received), remote, response, scratch);
            }
            catch (Exception) // the tracker must outlive any packet; HandlePacket is fuzzed so this stays a counter
            {
                Interlocked.Increment(ref _packetErrors);
                continue;
            }
            if (length == 0) continue;
            try
            {
                await socket.SendToAsync(response.AsMemory(0, length), SocketFlags.None, from, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
                // The client's problem (unreachable, buffer full): the answer is lost, as UDP allows.
            }
        }
    }
}
