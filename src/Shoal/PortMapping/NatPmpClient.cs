using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Shoal.PortMapping;

/// <summary>
/// Talks PCP (RFC 6887) to a gateway's port 5351, and NAT-PMP (RFC 6886) when the gateway answers that it does not
/// speak PCP. One UDP socket connected to the gateway, so the kernel drops datagrams from anyone else. Each request
/// is retransmitted after 250 ms, 500 ms, 1 s and 2 s (RFC 6886's schedule, cut short), then gives up.
/// </summary>
internal sealed class NatPmpClient : IDisposable
{
    private static readonly TimeSpan FirstRetransmission = TimeSpan.FromMilliseconds(250);
    private const int Attempts = 4;

    private readonly Socket _socket;
    private readonly TimeProvider _time;
    private readonly byte[] _receiveBuffer = new byte[1100]; // PCP's maximum message size

    public NatPmpClient(IPAddress gateway, PortMappingOptions options)
    {
        Gateway = gateway;
        _time = options.Time;
        _socket = options.CreateSocket(gateway.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.Connect(new IPEndPoint(gateway, NatPmpMessages.ServerPort));
            LocalAddress = ((IPEndPoint)_socket.LocalEndPoint!).Address;
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>The gateway's address.</summary>
    public IPAddress Gateway { get; }

    /// <summary>Our address on the gateway's network (PCP requests must carry it).</summary>
    public IPAddress LocalAddress { get; }

    /// <summary>True once the gateway answered PCP; false once it said it only speaks NAT-PMP; null before.</summary>
    public bool? SpeaksPcp { get; private set; }

    /// <summary>A fresh 12-byte PCP mapping nonce (unpredictable: it keeps off-path hosts from touching the mapping).</summary>
    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(PcpMessages.NonceLength);

    /// <summary>
    /// Creates, renews (<paramref name="lifetimeSeconds"/> &gt; 0) or deletes (0) a mapping, with PCP when the gateway
    /// speaks it, else NAT-PMP. <paramref name="nonce"/> identifies the mapping to a PCP gateway across renewals.
    /// </summary>
    public async Task<MappingGrant> MapAsync(byte[] nonce, PortMappingProtocol protocol, int internalPort, int suggestedExternalPort,
        uint lifetimeSeconds, CancellationToken cancellationToken)
    {
        if (SpeaksPcp != false)
        {
            byte[] request = PcpMessages.MapRequest(nonce, protocol, internalPort, suggestedExternalPort, lifetimeSeconds, LocalAddress);
            PcpMapResponse pcp = default;
            bool unsupported = false;
            await ExchangeAsync(request, datagram => PcpMessages.TryReadMapResponse(datagram, nonce, out pcp, out unsupported), "PCP MAP",
                cancellationToken).ConfigureAwait(false);
            if (!unsupported)
            {
                SpeaksPcp = true;
                return new MappingGrant(pcp.ExternalPort, pcp.LifetimeSeconds, pcp.ExternalAddress);
            }
            SpeaksPcp = false; // the gateway speaks NAT-PMP only: everything from now on goes that way
        }

        byte[] mapRequest = NatPmpMessages.MapRequest(protocol, internalPort, lifetimeSeconds == 0 ? 0 : suggestedExternalPort, lifetimeSeconds);
        NatPmpResponse map = default;
        byte opcode = NatPmpMessages.Opcode(protocol);
        await ExchangeAsync(mapRequest, datagram => NatPmpMessages.TryReadResponse(datagram, opcode, out map), "NAT-PMP mapping", cancellationToken)
            .ConfigureAwait(false);
        return new MappingGrant(map.ExternalPort, map.LifetimeSeconds, null);
    }

    /// <summary>The gateway's external IPv4 address (NAT-PMP's opcode 0).</summary>
    public async Task<IPAddress> GetExternalAddressAsync(CancellationToken cancellationToken)
    {
        NatPmpResponse response = default;
        await ExchangeAsync(NatPmpMessages.ExternalAddressRequest(),
            datagram => NatPmpMessages.TryReadResponse(datagram, NatPmpMessages.ExternalAddressOpcode, out response), "NAT-PMP external address",
            cancellationToken).ConfigureAwait(false);
        return response.ExternalAddress!;
    }

    /// <summary>Sends <paramref name="request"/> until <paramref name="accept"/> takes an answer or the attempts run out.</summary>
    private async Task ExchangeAsync(byte[] request, Func<byte[], bool> accept, string what, CancellationToken cancellationToken)
    {
        TimeSpan wait = FirstRetransmission;
        for (int attempt = 0; attempt < Attempts; attempt++, wait *= 2)
        {
            try
            {
                await _socket.SendAsync(request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new PortMappingException($"cannot send a {what} request to {Gateway}: {ex.SocketErrorCode}", ex);
            }
            using var timeout = new CancellationTokenSource(wait, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                while (true)
                {
                    int received = await _socket.ReceiveAsync(_receiveBuffer, SocketFlags.None, linked.Token).ConfigureAwait(false);
                    if (accept(_receiveBuffer[..received])) return;
                    // Anything else (a stray answer to an earlier attempt, an unrelated opcode) is skipped.
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // no answer in time: send again, waiting twice as long
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
            {
                throw new PortMappingException($"{Gateway} refuses {what} requests (nothing listens on UDP port {NatPmpMessages.ServerPort})", ex);
            }
        }
        throw new PortMappingException($"{Gateway} did not answer a {what} request ({Attempts} attempts over {(FirstRetransmission * ((1 << Attempts) - 1)).TotalSeconds:0.##} s)");
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>What a gateway granted: the external port, the lifetime in seconds, and (PCP) the external address.</summary>
internal readonly record struct MappingGrant(int ExternalPort, uint LifetimeSeconds, IPAddress? ExternalAddress);
