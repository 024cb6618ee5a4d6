using System.IO.Pipelines;
using System.Net;

namespace Shoal.Transport.Encryption;

/// <summary>
/// A connection after a successful MSE/PE handshake: a <see cref="PeerTransport"/> wrapping the inner one, so the
/// swarm code reads and writes BitTorrent messages exactly as over a plain connection. With RC4 both directions are
/// filtered in place (<see cref="DecryptingPipeReader"/>, <see cref="EncryptingPipeWriter"/>); with the plaintext
/// method only the handshake was obfuscated and the pipes pass through. Disposal and abort go to the inner transport.
/// </summary>
public sealed class EncryptedTransport : PeerTransport
{
    private readonly PeerTransport _inner;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;

    /// <param name="inner">The connection the handshake ran on; this transport owns it from now on.</param>
    /// <param name="method">The crypto method both sides agreed on.</param>
    /// <param name="decrypt">The receiving direction's cipher (used only with RC4).</param>
    /// <param name="encrypt">The sending direction's cipher (used only with RC4).</param>
    /// <param name="streamKey">The torrent's 20-byte info-hash the handshake was keyed with.</param>
    /// <param name="initialInput">Decrypted bytes delivered before the inner stream (the responder's initial payload).</param>
    internal EncryptedTransport(PeerTransport inner, CryptoMethods method, Rc4Cipher decrypt, Rc4Cipher encrypt,
        ReadOnlyMemory<byte> streamKey, ReadOnlyMemory<byte> initialInput)
    {
        _inner = inner;
        Method = method;
        StreamKey = streamKey;
        bool rc4 = method == CryptoMethods.Rc4;
        _input = rc4 || !initialInput.IsEmpty ? new DecryptingPipeReader(inner.Input, rc4 ? decrypt : null, initialInput) : inner.Input;
        _output = rc4 ? new EncryptingPipeWriter(inner.Output, encrypt) : inner.Output;
    }

    /// <summary>The crypto method in use after the handshake.</summary>
    public CryptoMethods Method { get; }

    /// <summary>The 20-byte info-hash (SKEY) the handshake was keyed with: the BitTorrent handshake must name it.</summary>
    public ReadOnlyMemory<byte> StreamKey { get; }

    /// <inheritdoc />
    public override PeerEncryption Encryption => Method == CryptoMethods.Rc4 ? PeerEncryption.Rc4 : PeerEncryption.Obfuscated;

    /// <inheritdoc />
    public override TransportProtocol Protocol => _inner.Protocol;

    /// <inheritdoc />
    public override PipeReader Input => _input;

    /// <inheritdoc />
    public override PipeWriter Output => _output;

    /// <inheritdoc />
    public override IPEndPoint RemoteEndPoint => _inner.RemoteEndPoint;

    /// <inheritdoc />
    public override void Abort() => _inner.Abort();

    /// <inheritdoc />
    public override ValueTask DisposeAsync() => _inner.DisposeAsync();
}
