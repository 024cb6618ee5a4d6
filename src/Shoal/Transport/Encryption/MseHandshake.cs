using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;

namespace Shoal.Transport.Encryption;

/// <summary>
/// The Message Stream Encryption / Protocol Encryption handshake (the Vuze specification every major client speaks),
/// on either side of a connection:
/// <code>
/// 1 A->B: Ya, PadA
/// 2 B->A: Yb, PadB
/// 3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
///         ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
/// 4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
/// 5 A->B: ENCRYPT2(payload)
/// </code>
/// Y are 96-byte Diffie-Hellman public keys, S the shared secret, SKEY the torrent's info-hash, VC eight zero bytes,
/// ENCRYPT the RC4 stream keyed with HASH('keyA'|'keyB', S, SKEY) after dropping its first 1024 bytes. Every padding
/// is bounded by 512 bytes, so neither side ever buffers more than a few hundred bytes for a peer that sends garbage.
/// </summary>
public static class MseHandshake
{
    /// <summary>The most padding either side may put before a sync point (PadA, PadB) or in PadC/PadD.</summary>
    public const int MaxPadding = 512;

    /// <summary>Length of the verification constant VC.</summary>
    public const int VerificationConstantLength = 8;

    /// <summary>
    /// Runs the initiator's side (A) on a freshly connected <paramref name="transport"/>. The BitTorrent handshake
    /// goes in <paramref name="initialPayload"/>, so it leaves in the same flight as step 3 instead of a round trip
    /// later. Returns the connection wrapped for the crypto method the peer selected; its input starts right after
    /// the peer's PadD. On failure throws <see cref="EncryptionHandshakeException"/> (the transport is left open:
    /// the caller disposes it).
    /// </summary>
    /// <param name="transport">The connection; owned by the returned transport on success.</param>
    /// <param name="streamKey">SKEY: the torrent's 20-byte info-hash.</param>
    /// <param name="provide">The crypto methods we accept (crypto_provide).</param>
    /// <param name="initialPayload">IA: at most 65535 bytes sent RC4-encrypted inside step 3.</param>
    /// <param name="timeout">Deadline for the whole handshake.</param>
    /// <param name="time">Clock of the deadline.</param>
    /// <param name="keys">Our key pair; null draws a fresh one.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    public static async Task<EncryptedTransport> InitiateAsync(PeerTransport transport, ReadOnlyMemory<byte> streamKey, CryptoMethods provide,
        ReadOnlyMemory<byte> initialPayload, TimeSpan timeout, TimeProvider time, MseKeyExchange? keys = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (streamKey.Length != MseHashes.Length) throw new ArgumentException("the stream key is a 20-byte info-hash", nameof(streamKey));
        if (initialPayload.Length > ushort.MaxValue) throw new ArgumentException("the initial payload is at most 65535 bytes", nameof(initialPayload));
        if ((provide & (CryptoMethods.Plaintext | CryptoMethods.Rc4)) == 0) throw new ArgumentException("offer at least one crypto method", nameof(provide));
        var input = new MseInput(transport.Input);
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        CancellationToken token = linked.Token;
        try
        {
            keys ??= new MseKeyExchange();
            PipeWriter output = transport.Output;
            output.Write(keys.PublicKey);
            WritePadding(output, RandomNumberGenerator.GetInt32(MaxPadding + 1));
            await FlushAsync(output, "our public key", token).ConfigureAwait(false);

            byte[] remoteKey = await input.ReadAsync(MseKeyExchange.KeyLength, "the peer's public key", token).ConfigureAwait(false);
            byte[] secret = keys.ComputeSecret(remoteKey);
            Rc4Cipher encrypt = Rc4Cipher.ForMse(MseHashes.InitiatorKey(secret, streamKey.Span));
            Rc4Cipher decrypt = Rc4Cipher.ForMse(MseHashes.ResponderKey(secret, streamKey.Span));

            output.Write(MseHashes.SyncHash(secret));
            output.Write(MseHashes.ObfuscatedStreamKey(secret, streamKey.Span));
            var header = new byte[VerificationConstantLength + 4 + 2 + 2 + initialPayload.Length];
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(VerificationConstantLength), (uint)provide);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(VerificationConstantLength + 4), 0); // len(PadC)
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(VerificationConstantLength + 6), (ushort)initialPayload.Length);
            initialPayload.Span.CopyTo(header.AsSpan(VerificationConstantLength + 8));
            encrypt.Apply(header);
            output.Write(header);
            await FlushAsync(output, "our handshake", token).ConfigureAwait(false);

            // The peer's VC is the first thing its RC4 stream encrypts: encrypting zeros with a copy of that stream's
            // start gives the bytes to look for, and leaves our decryptor positioned right after them.
            var encryptedVc = new byte[VerificationConstantLength];
            decrypt.Apply(encryptedVc);
            await input.SyncAsync(encryptedVc, MaxPadding, "the peer's verification constant", EncryptionFailure.VerificationConstantNotFound, token)
                .ConfigureAwait(false);
            byte[] selectField = await input.ReadAsync(4 + 2, "the peer's crypto_select", token).ConfigureAwait(false);
            decrypt.Apply(selectField);
            var select = (CryptoMethods)BinaryPrimitives.ReadUInt32BigEndian(selectField);
            if (select is not (CryptoMethods.Plaintext or CryptoMethods.Rc4) || (select & provide) == 0)
                throw new EncryptionHandshakeException(EncryptionFailure.NoCommonCryptoMethod,
                    $"the peer selected crypto method 0x{(uint)select:x}, we offered 0x{(uint)provide:x}");
            int padD = BinaryPrimitives.ReadUInt16BigEndian(selectField.AsSpan(4));
            if (padD > MaxPadding) throw new EncryptionHandshakeException(EncryptionFailure.BadLength, $"PadD of {padD} bytes (at most {MaxPadding})");
            if (padD > 0) decrypt.Apply(await input.ReadAsync(padD, "the peer's PadD", token).ConfigureAwait(false));
            return new EncryptedTransport(transport, select, decrypt, encrypt, streamKey, ReadOnlyMemory<byte>.Empty);
        }
        catch (Exception ex) when (Translate(ex, input, timeout, deadline.Token, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Runs the responder's side (B) on an accepted <paramref name="transport"/> whose first bytes are not a plain
    /// BitTorrent handshake. <paramref name="findStreamKey"/> maps HASH('req2', SKEY) to the torrent's info-hash
    /// (null: not ours). Returns the connection wrapped for the selected method; its input replays the decrypted
    /// initial payload (the start of the peer's BitTorrent handshake) before the rest of the stream.
    /// </summary>
    /// <param name="transport">The connection; owned by the returned transport on success.</param>
    /// <param name="findStreamKey">Finds the info-hash whose HASH('req2', info-hash) is given; null when none.</param>
    /// <param name="allowed">The crypto methods we accept; RC4 wins when the peer offers it.</param>
    /// <param name="timeout">Deadline for the whole handshake.</param>
    /// <param name="time">Clock of the deadline.</param>
    /// <param name="keys">Our key pair; null draws a fresh one.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    public static async Task<EncryptedTransport> RespondAsync(PeerTransport transport, Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>?> findStreamKey,
        CryptoMethods allowed, TimeSpan timeout, TimeProvider time, MseKeyExchange? keys = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(findStreamKey);
        var input = new MseInput(transport.Input);
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        CancellationToken token = linked.Token;
        try
        {
            byte[] remoteKey = await input.ReadAsync(MseKeyExchange.KeyLength, "the peer's public key", token).ConfigureAwait(false);
            keys ??= new MseKeyExchange();
            byte[] secret = keys.ComputeSecret(remoteKey);
            PipeWriter output = transport.Output;
            output.Write(keys.PublicKey);
            WritePadding(output, RandomNumberGenerator.GetInt32(MaxPadding + 1));
            await FlushAsync(output, "our public key", token).ConfigureAwait(false);

            await input.SyncAsync(MseHashes.SyncHash(secret), MaxPadding, "sync hash HASH('req1', S)", EncryptionFailure.SyncHashNotFound, token)
                .ConfigureAwait(false);
            byte[] obfuscated = await input.ReadAsync(MseHashes.Length, "the obfuscated info-hash", token).ConfigureAwait(false);
            MseHashes.Xor(obfuscated, MseHashes.StreamKeyMask(secret));
            ReadOnlyMemory<byte> streamKey = findStreamKey(obfuscated) is { Length: MseHashes.Length } found ? found
                : throw new EncryptionHandshakeException(EncryptionFailure.UnknownTorrent, "the obfuscated info-hash matches none of our torrents");
            Rc4Cipher decrypt = Rc4Cipher.ForMse(MseHashes.InitiatorKey(secret, streamKey.Span));
            Rc4Cipher encrypt = Rc4Cipher.ForMse(MseHashes.ResponderKey(secret, streamKey.Span));

            byte[] fields = await input.ReadAsync(VerificationConstantLength + 4 + 2, "the peer's verification constant", token).ConfigureAwait(false);
            decrypt.Apply(fields);
            if (fields.AsSpan(0, VerificationConstantLength).ContainsAnyExcept((byte)0))
                throw new EncryptionHandshakeException(EncryptionFailure.BadVerificationConstant,
                    "the verification constant does not decrypt to zeros (the peer keyed RC4 differently)");
            var provided = (CryptoMethods)BinaryPrimitives.ReadUInt32BigEndian(fields.AsSpan(VerificationConstantLength));
            int padC = BinaryPrimitives.ReadUInt16BigEndian(fields.AsSpan(VerificationConstantLength + 4));
            if (padC > MaxPadding) throw new EncryptionHandshakeException(EncryptionFailure.BadLength, $"PadC of {padC} bytes (at most {MaxPadding})");
            byte[] padAndLength = await input.ReadAsync(padC + 2, "the peer's PadC and len(IA)", token).ConfigureAwait(false);
            decrypt.Apply(padAndLength);
            int initialLength = BinaryPrimitives.ReadUInt16BigEndian(padAndLength.AsSpan(padC));
            byte[] initialPayload = initialLength == 0 ? []
                : await input.ReadAsync(initialLength, "the peer's initial payload", token).ConfigureAwait(false);
            decrypt.Apply(initialPayload);

            CryptoMethods common = provided & allowed;
            CryptoMethods select = (common & CryptoMethods.Rc4) != 0 ? CryptoMethods.Rc4
                : (common & CryptoMethods.Plaintext) != 0 ? CryptoMethods.Plaintext
                : throw new EncryptionHandshakeException(EncryptionFailure.NoCommonCryptoMethod,
                    $"the peer offers crypto methods 0x{(uint)provided:x}, we accept 0x{(uint)allowed:x}");
            var answer = new byte[VerificationConstantLength + 4 + 2];
            BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(VerificationConstantLength), (uint)select);
            encrypt.Apply(answer); // len(PadD) = 0
            output.Write(answer);
            await FlushAsync(output, "our crypto_select", token).ConfigureAwait(false);
            return new EncryptedTransport(transport, select, decrypt, encrypt, streamKey, initialPayload);
        }
        catch (Exception ex) when (Translate(ex, input, timeout, deadline.Token, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Random padding from the system's cryptographic generator, like the keys: lengths and bytes a seeded generator
    /// could replay would give traffic classifiers the pattern the padding exists to hide.
    /// </summary>
    private static void WritePadding(PipeWriter output, int length)
    {
        if (length == 0) return;
        Span<byte> span = output.GetSpan(length)[..length];
        RandomNumberGenerator.Fill(span);
        output.Advance(length);
    }

    private static async ValueTask FlushAsync(PipeWriter output, string what, CancellationToken cancellationToken)
    {
        FlushResult flushed = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flushed.IsCompleted || flushed.IsCanceled)
            throw new EncryptionHandshakeException(EncryptionFailure.ConnectionClosed, $"the peer closed the connection before {what} was sent");
    }

    /// <summary>Names a deadline by the step it hit and a lost connection by the step it interrupted; null keeps the exception.</summary>
    private static Exception? Translate(Exception ex, MseInput input, TimeSpan timeout, CancellationToken deadline, CancellationToken caller) => ex switch
    {
        EncryptionHandshakeException => null,
        OperationCanceledException when deadline.IsCancellationRequested && !caller.IsCancellationRequested =>
            new EncryptionHandshakeException(EncryptionFailure.TimedOut,
                $"encrypted handshake timed out after {timeout.TotalSeconds:0.#} s waiting for {input.Waiting}", ex),
        IOException or ObjectDisposedException or InvalidOperationException when !caller.IsCancellationRequested =>
            new EncryptionHandshakeException(EncryptionFailure.ConnectionClosed,
                $"the connection failed while we waited for {input.Waiting}: {ex.Message}", ex),
        _ => null,
    };
}
