using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Tests.Interop;

/// <summary>
/// The smallest BitTorrent peer (BEP 3 only: handshake, bitfield, interest, choking, requests, pieces) over any
/// <see cref="PeerTransport"/>, built from Shoal's wire codec: it lets interop tests exercise a transport with a real
/// client before the session dials over it. Every piece it downloads is checked against the torrent's SHA-1.
/// </summary>
internal static class WirePeer
{
    private const int BlockLength = 16 * 1024;
    private const int MaxOutstandingRequests = 64;

    /// <summary>Downloads the whole torrent from the peer on <paramref name="transport"/>; returns its bytes.</summary>
    public static async Task<byte[]> DownloadAsync(PeerTransport transport, Torrent torrent, CancellationToken cancellationToken)
    {
        await WriteHandshakeAsync(transport.Output, torrent, cancellationToken);
        Handshake theirs = await ReadHandshakeAsync(transport.Input, cancellationToken);
        if (theirs.InfoHash != torrent.InfoHash) throw new InteropException("the peer answered with another info-hash");

        PeerMessageWriter.WriteInterested(transport.Output);
        await transport.Output.FlushAsync(cancellationToken);

        byte[] data = new byte[torrent.TotalSize];
        var blocks = new Queue<(int Piece, int Begin, int Length)>();
        for (int piece = 0; piece < torrent.PieceCount; piece++)
        {
            int size = torrent.GetPieceSize(piece);
            for (int begin = 0; begin < size; begin += BlockLength) blocks.Enqueue((piece, begin, Math.Min(BlockLength, size - begin)));
        }
        int[] missingPerPiece = [.. Enumerable.Range(0, torrent.PieceCount).Select(p => (torrent.GetPieceSize(p) + BlockLength - 1) / BlockLength)];
        var requested = new HashSet<(int, int)>();
        int verifiedPieces = 0;
        bool unchoked = false;
        var reader = new PeerMessageReader(torrent.PieceCount);

        while (verifiedPieces < torrent.PieceCount)
        {
            if (unchoked && blocks.Count > 0 && requested.Count < MaxOutstandingRequests)
            {
                while (blocks.Count > 0 && requested.Count < MaxOutstandingRequests)
                {
                    var (piece, begin, length) = blocks.Dequeue();
                    requested.Add((piece, begin));
                    PeerMessageWriter.WriteRequest(transport.Output, piece, begin, length);
                }
                await transport.Output.FlushAsync(cancellationToken);
            }

            ReadResult result = await transport.Input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (reader.TryRead(ref buffer, out PeerMessage message))
            {
                switch (message.Id)
                {
                    case MessageId.Unchoke:
                        unchoked = true;
                        break;
                    case MessageId.Choke:
                        // Requests are dropped by a choke (without the fast extension): ask again once unchoked.
                        unchoked = false;
                        foreach (var (piece, begin) in requested)
                            blocks.Enqueue((piece, begin, Math.Min(BlockLength, torrent.GetPieceSize(piece) - begin)));
                        requested.Clear();
                        break;
                    case MessageId.Piece when requested.Remove((message.Index, message.Begin)):
                        long offset = (long)message.Index * torrent.PieceLength + message.Begin;
                        message.Payload.CopyTo(data.AsSpan((int)offset, (int)message.Payload.Length));
                        if (--missingPerPiece[message.Index] == 0)
                        {
                            int size = torrent.GetPieceSize(message.Index);
                            byte[] hash = SHA1.HashData(data.AsSpan((int)((long)message.Index * torrent.PieceLength), size));
                            if (!hash.AsSpan().SequenceEqual(torrent.GetPieceHash(message.Index)))
                                throw new InteropException($"piece {message.Index} failed its SHA-1 check");
                            verifiedPieces++;
                        }
                        break;
                }
            }
            transport.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted && verifiedPieces < torrent.PieceCount)
                throw new InteropException($"the peer closed after {verifiedPieces} of {torrent.PieceCount} pieces");
        }
        return data;
    }

    /// <summary>Serves <paramref name="content"/> (all pieces) to the peer on <paramref name="transport"/> until it leaves.</summary>
    public static async Task<long> SeedAsync(PeerTransport transport, Torrent torrent, byte[] content, CancellationToken cancellationToken)
    {
        Handshake theirs = await ReadHandshakeAsync(transport.Input, cancellationToken);
        if (theirs.InfoHash != torrent.InfoHash) throw new InteropException("the peer asked for another info-hash");
        await WriteHandshakeAsync(transport.Output, torrent, cancellationToken);

        byte[] bits = new byte[(torrent.PieceCount + 7) / 8];
        for (int piece = 0; piece < torrent.PieceCount; piece++) bits[piece >> 3] |= (byte)(0x80 >> (piece & 7));
        PeerMessageWriter.WriteBitfield(transport.Output, bits);
        await transport.Output.FlushAsync(cancellationToken);

        var reader = new PeerMessageReader(torrent.PieceCount);
        long uploaded = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await transport.Input.ReadAsync(cancellationToken);
            }
            catch (IOException)
            {
                return uploaded; // the downloader went away abruptly once it had everything
            }
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool flush = false;
            while (reader.TryRead(ref buffer, out PeerMessage message))
            {
                switch (message.Id)
                {
                    case MessageId.Interested:
                        PeerMessageWriter.WriteUnchoke(transport.Output);
                        flush = true;
                        break;
                    case MessageId.Request:
                        long offset = (long)message.Index * torrent.PieceLength + message.Begin;
                        PeerMessageWriter.WritePiece(transport.Output, message.Index, message.Begin, content.AsSpan((int)offset, message.Length));
                        uploaded += message.Length;
                        flush = true;
                        break;
                }
            }
            transport.Input.AdvanceTo(buffer.Start, buffer.End);
            if (flush)
            {
                FlushResult flushed = await transport.Output.FlushAsync(cancellationToken);
                if (flushed.IsCompleted) return uploaded;
            }
            if (result.IsCompleted) return uploaded;
        }
    }

    private static async Task WriteHandshakeAsync(PipeWriter output, Torrent torrent, CancellationToken cancellationToken)
    {
        byte[] peerId = [.. "-SH0001-"u8, .. RandomNumberGenerator.GetBytes(12)];
        new Handshake(torrent.InfoHash, peerId, ReservedBits.Create(extension: false, fast: false, dht: false)).WriteTo(output);
        await output.FlushAsync(cancellationToken);
    }

    private static async Task<Handshake> ReadHandshakeAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (Handshake.TryParse(ref buffer, out Handshake handshake))
            {
                input.AdvanceTo(buffer.Start);
                return handshake;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) throw new InteropException("the peer closed during the handshake");
        }
    }
}
