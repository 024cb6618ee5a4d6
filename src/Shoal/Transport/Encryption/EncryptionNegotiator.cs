using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Shoal.Metainfo;

namespace Shoal.Transport.Encryption;

/// <summary>
/// A session's encryption policy applied to its connections, before the BitTorrent handshake: outgoing connections
/// run the MSE/PE handshake (or not) per the <see cref="EncryptionMode"/>, falling back to plaintext in Prefer mode;
/// incoming connections are told apart (plain <c>0x13 "BitTorrent protocol"</c> or the start of an encrypted
/// handshake) and the encrypted ones matched to their torrent through <see cref="Torrents"/>. Thread-safe.
/// </summary>
public sealed class EncryptionNegotiator
{
    /// <summary>Peers remembered as unable to answer an encrypted handshake (Prefer mode); the oldest is forgotten first.</summary>
    public const int MaxPlainOnlyPeers = 4096;

    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly Action<string>? _log;
    private readonly HashSet<IPEndPoint> _plainOnly = [];
    private readonly Queue<IPEndPoint> _plainOnlyOrder = new();
    private readonly Lock _plainOnlyLock = new();

    /// <param name="mode">Which connections to make and accept.</param>
    /// <param name="handshakeTimeout">Deadline of one encrypted handshake (and of telling plain from encrypted).</param>
    /// <param name="time">Clock of the deadlines.</param>
    /// <param name="log">Where fallbacks are reported; null discards.</param>
    public EncryptionNegotiator(EncryptionMode mode, TimeSpan handshakeTimeout, TimeProvider time, Action<string>? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(handshakeTimeout, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        _mode = mode;
        _timeout = handshakeTimeout;
        _time = time;
        _log = log;
    }

    private volatile EncryptionMode _mode;

    /// <summary>The mode this negotiator applies; a change applies to the next connection made or accepted (a session's settings change it at runtime).</summary>
    public EncryptionMode Mode
    {
        get => _mode;
        set => _mode = value;
    }

    /// <summary>The session's torrents, as encrypted handshakes name them. The session adds and removes them.</summary>
    public StreamKeyIndex Torrents { get; } = new();

    /// <summary>Peers in the Prefer-mode memory of failed encrypted attempts.</summary>
    public int PlainOnlyPeers
    {
        get
        {
            lock (_plainOnlyLock) return _plainOnly.Count;
        }
    }

    /// <summary>
    /// Opens an outgoing connection to <paramref name="endPoint"/> with <paramref name="connect"/> and sends
    /// <paramref name="bittorrentHandshake"/> over it: inside the encrypted handshake (Prefer, Require) or plain
    /// (Disable, or Prefer after the peer failed an encrypted attempt, in which case it is dialled again at once).
    /// Returns the connection ready for the peer's BitTorrent handshake. The caller owns the result; on failure
    /// every connection opened here is closed.
    /// </summary>
    public async Task<PeerTransport> ConnectAsync(IPEndPoint endPoint, Func<CancellationToken, ValueTask<PeerTransport>> connect,
        InfoHash infoHash, ReadOnlyMemory<byte> bittorrentHandshake, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(connect);
        if (Mode == EncryptionMode.Disable || Mode == EncryptionMode.Prefer && IsPlainOnly(endPoint))
            return await ConnectPlainAsync(connect, bittorrentHandshake, cancellationToken).ConfigureAwait(false);

        PeerTransport transport = await connect(cancellationToken).ConfigureAwait(false);
        try
        {
            return await MseHandshake.InitiateAsync(transport, infoHash.Span.ToArray(), CryptoMethods.Rc4, bittorrentHandshake,
                _timeout, _time, keys: null, cancellationToken).ConfigureAwait(false);
        }
        catch (EncryptionHandshakeException ex) when (Mode == EncryptionMode.Prefer && !cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(transport).ConfigureAwait(false);
            RememberPlainOnly(endPoint);
            _log?.Invoke($"{endPoint}: encrypted handshake failed ({ex.Message}); dialling again in plaintext");
        }
        catch (EncryptionHandshakeException ex)
        {
            await DisposeQuietlyAsync(transport).ConfigureAwait(false);
            throw new EncryptionHandshakeException(ex.Failure, "encrypted handshake failed: " + ex.Message, ex);
        }
        catch
        {
            await DisposeQuietlyAsync(transport).ConfigureAwait(false);
            throw;
        }
        return await ConnectPlainAsync(connect, bittorrentHandshake, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Decides what an accepted connection speaks and applies the mode: returns <paramref name="transport"/> itself for
    /// a plain BitTorrent handshake (its bytes untouched), or the connection after a completed encrypted handshake (its
    /// input then replays the peer's decrypted BitTorrent handshake). Throws <see cref="EncryptionHandshakeException"/>
    /// with the reason when the mode refuses the connection or the encrypted handshake fails; the caller closes it.
    /// </summary>
    public async Task<PeerTransport> AcceptAsync(PeerTransport transport, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transport);
        bool plain = await StartsWithPlainHandshakeAsync(transport.Input, cancellationToken).ConfigureAwait(false);
        if (plain)
        {
            if (Mode == EncryptionMode.Require)
                throw new EncryptionHandshakeException(EncryptionFailure.PlaintextRefused, "plaintext handshake refused: encryption is required");
            return transport;
        }
        if (Mode == EncryptionMode.Disable)
            throw new EncryptionHandshakeException(EncryptionFailure.EncryptedRefused, "encrypted handshake refused: encryption is disabled");
        CryptoMethods allowed = Mode == EncryptionMode.Require ? CryptoMethods.Rc4 : CryptoMethods.Rc4 | CryptoMethods.Plaintext;
        try
        {
            return await MseHandshake.RespondAsync(transport, Torrents.Find, allowed, _timeout, _time, keys: null, cancellationToken).ConfigureAwait(false);
        }
        catch (EncryptionHandshakeException ex)
        {
            throw new EncryptionHandshakeException(ex.Failure, "encrypted handshake failed: " + ex.Message, ex);
        }
    }

    /// <summary>True when the Prefer mode dials <paramref name="endPoint"/> in plaintext (an encrypted attempt failed).</summary>
    public bool IsPlainOnly(IPEndPoint endPoint)
    {
        lock (_plainOnlyLock) return _plainOnly.Contains(endPoint);
    }

    internal void RememberPlainOnly(IPEndPoint endPoint)
    {
        lock (_plainOnlyLock)
        {
            if (!_plainOnly.Add(endPoint)) return;
            _plainOnlyOrder.Enqueue(endPoint);
            if (_plainOnlyOrder.Count > MaxPlainOnlyPeers) _plainOnly.Remove(_plainOnlyOrder.Dequeue()); // at the bound: forget the oldest
        }
    }

    private static async Task<PeerTransport> ConnectPlainAsync(Func<CancellationToken, ValueTask<PeerTransport>> connect,
        ReadOnlyMemory<byte> bittorrentHandshake, CancellationToken cancellationToken)
    {
        PeerTransport transport = await connect(cancellationToken).ConfigureAwait(false);
        try
        {
            transport.Output.Write(bittorrentHandshake.Span);
            await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            return transport;
        }
        catch
        {
            await DisposeQuietlyAsync(transport).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits for the first 20 bytes (or the end of the stream) without consuming them: true when they are, or begin,
    /// the plain BitTorrent protocol header.
    /// </summary>
    private async Task<bool> StartsWithPlainHandshakeAsync(PipeReader input, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        ReadResult result;
        try
        {
            result = await input.ReadAtLeastAsync(Wire.Handshake.ProtocolHeaderLength, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new EncryptionHandshakeException(EncryptionFailure.TimedOut,
                $"the peer sent no handshake within {_timeout.TotalSeconds:0.#} s");
        }
        ReadOnlySequence<byte> buffer = result.Buffer;
        int available = (int)Math.Min(buffer.Length, Wire.Handshake.ProtocolHeaderLength);
        bool plain = StartsWithProtocolHeader(buffer.Slice(0, available));
        // Consumed nothing and examined nothing: the handshake reader that comes next sees the same bytes at once.
        input.AdvanceTo(buffer.Start);
        if (available < Wire.Handshake.ProtocolHeaderLength && !plain)
        {
            throw new EncryptionHandshakeException(available == 0 ? EncryptionFailure.ConnectionClosed : EncryptionFailure.NotAHandshake,
                available == 0 ? "the peer closed the connection without a handshake"
                    : $"the peer closed the connection after {available} bytes that start neither a BitTorrent nor an encrypted handshake");
        }
        return plain;
    }

    private static bool StartsWithProtocolHeader(ReadOnlySequence<byte> head)
    {
        ReadOnlySpan<byte> header = "\u0013BitTorrent protocol"u8;
        Span<byte> bytes = stackalloc byte[header.Length];
        head.CopyTo(bytes);
        return bytes[..(int)head.Length].SequenceEqual(header[..(int)head.Length]);
    }

    private static async ValueTask DisposeQuietlyAsync(PeerTransport transport)
    {
        try { await transport.DisposeAsync().ConfigureAwait(false); }
        catch (Exception) { /* closing a failed connection; the handshake error is the one worth reporting */ }
    }
}
