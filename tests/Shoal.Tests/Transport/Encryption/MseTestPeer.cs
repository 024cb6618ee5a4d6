using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Shoal.Transport;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Transport.Encryption;

/// <summary>
/// One side of an MSE handshake written out step by step in the test, so each field can be bent: the padding
/// lengths, the verification constant, the offered or selected methods, the length fields.
/// </summary>
internal sealed class MseTestPeer(PeerTransport transport)
{
    public MseKeyExchange Keys { get; } = new();

    public PeerTransport Transport { get; } = transport;

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        Transport.Output.Write(bytes.Span);
        await Transport.Output.FlushAsync();
    }

    /// <summary>Step 1 or 2: our public key and <paramref name="padding"/> random bytes.</summary>
    public Task SendKeyAsync(int padding)
    {
        var bytes = new byte[MseKeyExchange.KeyLength + padding];
        Keys.PublicKey.CopyTo(bytes, 0);
        new Random(padding).NextBytes(bytes.AsSpan(MseKeyExchange.KeyLength));
        return SendAsync(bytes);
    }

    /// <summary>Reads the other side's 96-byte key and returns the shared secret.</summary>
    public async Task<byte[]> ReceiveKeyAsync()
    {
        ReadResult result = await Transport.Input.ReadAtLeastAsync(MseKeyExchange.KeyLength);
        byte[] remote = result.Buffer.Slice(0, MseKeyExchange.KeyLength).ToArray();
        Transport.Input.AdvanceTo(result.Buffer.GetPosition(MseKeyExchange.KeyLength));
        return Keys.ComputeSecret(remote);
    }

    /// <summary>
    /// The initiator's step 3: sync hash, obfuscated stream key, then ENCRYPT(VC, crypto_provide, len(PadC), PadC,
    /// len(IA), IA) with keyA. Returns the initiator's two ciphers, positioned after the handshake.
    /// </summary>
    public static (byte[] Bytes, Rc4Cipher Encrypt, Rc4Cipher Decrypt) Step3(byte[] secret, byte[] streamKey, CryptoMethods provide,
        ReadOnlySpan<byte> initialPayload, int padC = 0, int? padCField = null, byte vcByte = 0)
    {
        var encrypted = new byte[8 + 4 + 2 + padC + 2 + initialPayload.Length];
        encrypted.AsSpan(0, 8).Fill(vcByte);
        BinaryPrimitives.WriteUInt32BigEndian(encrypted.AsSpan(8), (uint)provide);
        BinaryPrimitives.WriteUInt16BigEndian(encrypted.AsSpan(12), (ushort)(padCField ?? padC));
        BinaryPrimitives.WriteUInt16BigEndian(encrypted.AsSpan(14 + padC), (ushort)initialPayload.Length);
        initialPayload.CopyTo(encrypted.AsSpan(16 + padC));
        Rc4Cipher encrypt = Rc4Cipher.ForMse(MseHashes.InitiatorKey(secret, streamKey));
        encrypt.Apply(encrypted);
        byte[] bytes = [.. MseHashes.SyncHash(secret), .. MseHashes.ObfuscatedStreamKey(secret, streamKey), .. encrypted];
        return (bytes, encrypt, Rc4Cipher.ForMse(MseHashes.ResponderKey(secret, streamKey)));
    }

    /// <summary>The responder's step 4: ENCRYPT(VC, crypto_select, len(PadD), PadD) with keyB.</summary>
    public static byte[] Step4(byte[] secret, byte[] streamKey, CryptoMethods select, int padD = 0)
    {
        var bytes = new byte[8 + 4 + 2 + padD];
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), (uint)select);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(12), (ushort)padD);
        Rc4Cipher.ForMse(MseHashes.ResponderKey(secret, streamKey)).Apply(bytes);
        return bytes;
    }
}
