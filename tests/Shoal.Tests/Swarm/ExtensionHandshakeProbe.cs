using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Tests.Swarm;

/// <summary>A plaintext TCP peer that only wants to see what a session says of itself in BEP 10.</summary>
internal static class ExtensionHandshakeProbe
{
    /// <summary>Dials the session like a plaintext peer and returns the BEP 10 handshake it sends.</summary>
    public static async Task<ExtensionHandshake> ReadAsync(IPEndPoint session, InfoHash infoHash)
    {
        await using SocketTransport peer = await SocketTransport.ConnectAsync(session, TimeSpan.FromSeconds(10), CancellationToken.None);
        var peerId = new byte[20];
        new Random(3).NextBytes(peerId);
        new Handshake(infoHash, peerId, ReservedBits.Create(extension: true, fast: true, dht: false)).WriteTo(peer.Output);
        await peer.Output.FlushAsync();

        var reader = new PeerMessageReader(100);
        bool handshakeSeen = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            ReadResult result = await peer.Input.ReadAsync(timeout.Token);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                if (!handshakeSeen)
                {
                    if (!Handshake.TryParse(ref buffer, out _)) continue;
                    handshakeSeen = true;
                }
                while (reader.TryRead(ref buffer, out PeerMessage message))
                {
                    if (message.Id == MessageId.Extended && message.ExtendedId == ExtensionIds.Handshake)
                        return ExtensionHandshake.Parse(message.Payload.ToArray());
                }
            }
            finally
            {
                peer.Input.AdvanceTo(buffer.Start, buffer.End);
            }
            Assert.False(result.IsCompleted, "the session closed the connection before its extension handshake");
        }
    }
}
