using System.Net;
using System.Threading.Channels;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Tests.Reliability;
using Shoal.Wire;

namespace Shoal.Tests.Swarm;

/// <summary>
/// A peer on a raw TCP connection from 127.0.0.1 to a session (or a daemon): BEP 10 with ut_pex, keeping every ut_pex message the session sends it.
/// <see cref="SyncAsync"/> is a round trip through the torrent's mailbox: whatever the session sent before handling
/// this peer's latest message has arrived when it returns.
/// </summary>
internal sealed class RawPexPeer : IAsyncDisposable
{
    private const byte OurPexId = 9;
    private readonly FaultyConnection _connection;
    private readonly List<PexMessage> _pex = [];
    private readonly Channel<WireMessage> _answers = Channel.CreateUnbounded<WireMessage>();
    private readonly CancellationTokenSource _stop = new();
    private Task _reading = Task.CompletedTask;

    private RawPexPeer(FaultyConnection connection) => _connection = connection;

    public List<PexMessage> PexReceived
    {
        get { lock (_pex) return [.. _pex]; }
    }

    public static async Task<RawPexPeer> ConnectAsync(IPEndPoint session, Torrent torrent, int? listenPort)
    {
        FaultyConnection connection = await FaultyConnection.ConnectAsync(IPAddress.Loopback, session, torrent.InfoHash, torrent.PieceCount,
            CancellationToken.None, reserved: ReservedBits.Create(extension: true, fast: true, dht: false));
        var peer = new RawPexPeer(connection);
        await connection.InitiateHandshakeAsync(CancellationToken.None);
        byte[] handshake = new ExtensionHandshake { Extensions = new Dictionary<string, byte> { [ExtensionIds.PexName] = OurPexId }, ListenPort = listenPort }.Encode();
        await connection.SendAsync(w =>
        {
            PeerMessageWriter.WriteHaveNone(w);
            PeerMessageWriter.WriteExtended(w, ExtensionIds.Handshake, handshake);
        }, CancellationToken.None);
        peer._reading = Task.Run(peer.ReadAsync);
        await peer.SyncAsync();
        return peer;
    }

    public Task KeepAliveAsync() => _connection.SendAsync(PeerMessageWriter.WriteKeepAlive, CancellationToken.None);

    /// <summary>Tells the session, over ut_pex, of <paramref name="added"/>.</summary>
    public Task SendPexAsync(IPEndPoint added) =>
        _connection.SendAsync(w => PeerMessageWriter.WriteExtended(w, ExtensionIds.Pex, new PexMessage([new PexPeer(added, PexFlags.None)], []).Encode()), CancellationToken.None);

    /// <summary>Asks for a block while choked or not; the answer (REJECT or PIECE) comes after all the session sent before.</summary>
    public async Task SyncAsync()
    {
        await _connection.SendAsync(w => PeerMessageWriter.WriteRequest(w, 0, 0, 16 * 1024), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        WireMessage answer = await _answers.Reader.ReadAsync(timeout.Token);
        Assert.Equal((0, 0), (answer.Index, answer.Begin));
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _connection.ReceiveAsync(_stop.Token, keepPayload: true) is WireMessage message)
            {
                if (message.Id == MessageId.Extended && message.ExtendedId == OurPexId)
                    lock (_pex) _pex.Add(PexMessage.Parse(_connection.LastPayload!));
                else if (message.Id is MessageId.Reject or MessageId.Piece)
                    _answers.Writer.TryWrite(message);
            }
        }
        catch (Exception ex) when (FaultyConnection.IsDisconnect(ex))
        {
        }
        finally
        {
            _answers.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _connection.DisposeAsync();
        await _reading;
        _stop.Dispose();
    }
}
