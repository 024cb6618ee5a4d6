using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Shoal.Metainfo;
using Shoal.Wire;

namespace Shoal.Bench.Peers;

/// <summary>
/// A minimal peer on raw sockets and Shoal.Wire: handshake (no extension bits, so no fast extension and no
/// BEP 10), INTERESTED, then either silence (idle) or a download loop that keeps a fixed number of block
/// requests in flight while unchoked and discards the data.
/// </summary>
internal sealed class WirePeer : IAsyncDisposable
{
    private const int BlockLength = 16 * 1024;
    private readonly Socket _socket;
    private readonly PipeReader _input;
    private readonly Torrent _torrent;

    private WirePeer(Socket socket, Torrent torrent)
    {
        _socket = socket;
        _torrent = torrent;
        _input = PipeReader.Create(new NetworkStream(socket, ownsSocket: false), new StreamPipeReaderOptions(bufferSize: 64 * 1024));
    }

    /// <summary>Payload bytes of PIECE messages received.</summary>
    public long Received { get; private set; }

    /// <summary>Connects, exchanges handshakes and sends INTERESTED.</summary>
    public static async Task<WirePeer> ConnectAsync(IPEndPoint seeder, Torrent torrent, Random random, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(seeder, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var peer = new WirePeer(socket, torrent); // the stream needs a connected socket
        try
        {
            var peerId = new byte[Handshake.PeerIdLength];
            "-SB0001-"u8.CopyTo(peerId);
            random.NextBytes(peerId.AsSpan(8));
            var hello = new byte[Handshake.Length + 5];
            new Handshake(torrent.InfoHash, peerId, default).WriteTo(hello);
            var tail = new ArrayBufferWriter<byte>(5);
            PeerMessageWriter.WriteInterested(tail);
            tail.WrittenSpan.CopyTo(hello.AsSpan(Handshake.Length));
            await socket.SendAsync(hello, SocketFlags.None, cancellationToken).ConfigureAwait(false);

            while (true)
            {
                var result = await peer._input.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (Handshake.TryParse(ref buffer, out var reply))
                {
                    peer._input.AdvanceTo(buffer.Start);
                    if (reply.InfoHash != torrent.InfoHash) throw new BenchFailedException("seeder answered with another info hash");
                    return peer;
                }
                if (result.IsCompleted) throw new BenchFailedException("seeder closed the connection during the handshake");
                peer._input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Downloads until cancelled: while unchoked keeps <paramref name="depth"/> requests in flight, walking the
    /// pieces from <paramref name="firstPiece"/> and wrapping around.
    /// </summary>
    public async Task DownloadAsync(int firstPiece, int depth, CancellationToken cancellationToken)
    {
        var reader = new PeerMessageReader(_torrent.PieceCount);
        var output = new ArrayBufferWriter<byte>(depth * 17);
        var (piece, begin) = (firstPiece % _torrent.PieceCount, 0);
        var inFlight = 0;
        var unchoked = false;
        try
        {
            while (true)
            {
                if (unchoked && inFlight < depth)
                {
                    output.ResetWrittenCount();
                    for (; inFlight < depth; inFlight++)
                    {
                        var length = Math.Min(BlockLength, _torrent.GetPieceSize(piece) - begin);
                        PeerMessageWriter.WriteRequest(output, piece, begin, length);
                        begin += length;
                        if (begin >= _torrent.GetPieceSize(piece)) (piece, begin) = ((piece + 1) % _torrent.PieceCount, 0);
                    }
                    await _socket.SendAsync(output.WrittenMemory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }

                var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (reader.TryRead(ref buffer, out var message))
                {
                    switch (message.Id)
                    {
                        case MessageId.Unchoke:
                            unchoked = true;
                            break;
                        case MessageId.Choke:
                            // Without the fast extension a choke drops every pending request.
                            (unchoked, inFlight) = (false, 0);
                            break;
                        case MessageId.Piece:
                            Received += message.Payload.Length;
                            if (inFlight > 0) inFlight--;
                            break;
                    }
                }
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) return;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (SocketException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
