using System.Buffers;
using System.IO.Pipelines;
using Shoal.Metainfo;
using Shoal.Tests.Trackers;
using Shoal.Transport;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Transport.Encryption;

public sealed class MseHandshakeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);
    private static readonly byte[] StreamKey = Convert.FromHexString("c0ffee00112233445566778899aabbccddeeff01");

    private static StreamKeyIndex IndexOf(params byte[][] infoHashes)
    {
        var index = new StreamKeyIndex();
        foreach (byte[] hash in infoHashes) index.Add(new InfoHash(hash));
        return index;
    }

    private static byte[] Hash(int seed)
    {
        var hash = new byte[20];
        new Random(seed).NextBytes(hash);
        return hash;
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader input, int count)
    {
        ReadResult result = await input.ReadAtLeastAsync(count).AsTask().WaitAsync(Guard);
        Assert.True(result.Buffer.Length >= count, $"the stream ended after {result.Buffer.Length} of {count} bytes");
        byte[] bytes = result.Buffer.Slice(0, count).ToArray();
        input.AdvanceTo(result.Buffer.GetPosition(count));
        return bytes;
    }

    [Fact]
    public async Task Rc4ConnectionCarriesTheInitialPayloadAndDataBothWays()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        byte[] initial = new byte[68];
        new Random(1).NextBytes(initial);
        StreamKeyIndex index = IndexOf(Hash(1), Hash(2), StreamKey, Hash(3));

        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, index.Find, CryptoMethods.Rc4 | CryptoMethods.Plaintext, Timeout, TimeProvider.System);
        await using EncryptedTransport initiator = await MseHandshake.InitiateAsync(a, StreamKey, CryptoMethods.Rc4, initial, Timeout, TimeProvider.System).WaitAsync(Guard);
        await using EncryptedTransport responder = await responding.WaitAsync(Guard);

        Assert.Equal((PeerEncryption.Rc4, PeerEncryption.Rc4), (initiator.Encryption, responder.Encryption));
        Assert.Equal(StreamKey, responder.StreamKey.ToArray());
        Assert.Equal(initial, await ReadExactlyAsync(responder.Input, initial.Length));

        // A megabyte each way, written in uneven pieces and read across pipe segments.
        var up = new byte[1 << 20];
        var down = new byte[1 << 20];
        new Random(2).NextBytes(up);
        new Random(3).NextBytes(down);
        Task sending = Task.WhenAll(WriteInPiecesAsync(initiator.Output, up), WriteInPiecesAsync(responder.Output, down));
        byte[] receivedUp = await ReadExactlyAsync(responder.Input, up.Length);
        byte[] receivedDown = await ReadExactlyAsync(initiator.Input, down.Length);
        await sending.WaitAsync(Guard);
        Assert.Equal(up, receivedUp);
        Assert.Equal(down, receivedDown);
    }

    [Fact]
    public async Task AnInitialPayloadThatCarriesPartOfTheHandshakeJoinsTheStreamSeamlessly()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        byte[] handshake = new byte[68];
        new Random(4).NextBytes(handshake);
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, Timeout, TimeProvider.System);
        await using EncryptedTransport initiator = await MseHandshake.InitiateAsync(a, StreamKey, CryptoMethods.Rc4, handshake.AsMemory(0, 30), Timeout, TimeProvider.System).WaitAsync(Guard);
        await using EncryptedTransport responder = await responding.WaitAsync(Guard);

        // The reader must first hand out the 30 replayed bytes, then, asked for more, join them to what follows.
        Task<byte[]> reading = ReadExactlyAsync(responder.Input, 68);
        await Task.Delay(50);
        initiator.Output.Write(handshake.AsSpan(30));
        await initiator.Output.FlushAsync();
        Assert.Equal(handshake, await reading);

        // Then the replay is gone and reads go straight to the decrypted stream.
        initiator.Output.Write("after"u8);
        await initiator.Output.FlushAsync();
        Assert.Equal("after"u8.ToArray(), await ReadExactlyAsync(responder.Input, 5));
    }

    private static async Task WriteInPiecesAsync(PipeWriter output, byte[] data)
    {
        int at = 0, step = 1;
        while (at < data.Length)
        {
            int length = Math.Min(step, data.Length - at);
            Memory<byte> memory = output.GetMemory(length);
            data.AsSpan(at, length).CopyTo(memory.Span);
            output.Advance(length);
            if (step % 3 == 0) await output.FlushAsync();
            at += length;
            step = step * 7 % 40_000 + 1;
        }
        await output.FlushAsync();
    }

    [Fact]
    public async Task Rc4BytesOnTheWireAreNotThePlaintext()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var rawResponder = b;
        var peer = new MseTestPeer(b);
        Task<EncryptedTransport> initiating = MseHandshake.InitiateAsync(a, StreamKey, CryptoMethods.Rc4, ReadOnlyMemory<byte>.Empty, Timeout, TimeProvider.System);
        byte[] secret = await peer.ReceiveKeyAsync();
        await peer.SendKeyAsync(padding: 100);
        await peer.SendAsync(MseTestPeer.Step4(secret, StreamKey, CryptoMethods.Rc4));
        await using EncryptedTransport initiator = await initiating.WaitAsync(Guard);

        // What we saw of step 1 and 3 is skipped: PadA is random, step 3 has a known length.
        await SkipThroughSyncHashAsync(b.Input, secret);
        await ReadExactlyAsync(b.Input, 20 + 8 + 4 + 2 + 2);
        byte[] message = System.Text.Encoding.ASCII.GetBytes("this is a BitTorrent message in the clear");
        initiator.Output.Write(message);
        await initiator.Output.FlushAsync();
        byte[] wire = await ReadExactlyAsync(b.Input, message.Length);
        Assert.NotEqual(message, wire);
        // The stream continues keyA's keystream after step 3's 16 encrypted bytes.
        Rc4Cipher keyA = Rc4Cipher.ForMse(MseHashes.InitiatorKey(secret, StreamKey));
        keyA.Skip(16);
        keyA.Apply(wire);
        Assert.Equal(message, wire);
    }

    private static async Task SkipThroughSyncHashAsync(PipeReader input, byte[] secret)
    {
        byte[] sync = MseHashes.SyncHash(secret);
        while (true)
        {
            ReadResult result = await input.ReadAsync().AsTask().WaitAsync(Guard);
            byte[] seen = result.Buffer.ToArray();
            int at = seen.AsSpan().IndexOf(sync);
            if (at >= 0)
            {
                input.AdvanceTo(result.Buffer.GetPosition(at + sync.Length));
                return;
            }
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    [Fact]
    public async Task PlaintextMethodObfuscatesOnlyTheHandshake()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4 | CryptoMethods.Plaintext, Timeout, TimeProvider.System);
        await using EncryptedTransport initiator = await MseHandshake.InitiateAsync(a, StreamKey, CryptoMethods.Plaintext, new byte[] { 1, 2, 3 }, Timeout, TimeProvider.System).WaitAsync(Guard);
        await using EncryptedTransport responder = await responding.WaitAsync(Guard);
        Assert.Equal((PeerEncryption.Obfuscated, PeerEncryption.Obfuscated), (initiator.Encryption, responder.Encryption));

        initiator.Output.Write("hello"u8);
        await initiator.Output.FlushAsync();
        // The initial payload is always RC4 (decrypted by the handshake), the rest passes as sent.
        Assert.Equal([1, 2, 3, .. "hello"u8.ToArray()], await ReadExactlyAsync(responder.Input, 8));
    }

    [Fact]
    public async Task RequireRefusesAPeerThatOffersOnlyPlaintext()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var rawInitiator = a;
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, Timeout, TimeProvider.System);
        _ = MseHandshake.InitiateAsync(a, StreamKey, CryptoMethods.Plaintext, ReadOnlyMemory<byte>.Empty, Timeout, TimeProvider.System);
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => responding.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.NoCommonCryptoMethod, error.Failure);
        Assert.Contains("offers crypto methods 0x1", error.Message);
        await b.DisposeAsync();
    }

    [Fact]
    public async Task AnInfoHashOfNoneOfOurTorrentsIsRefused()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var rawInitiator = a;
        await using var rawResponder = b;
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(Hash(1), Hash(2)).Find, CryptoMethods.Rc4, Timeout, TimeProvider.System);
        _ = MseHandshake.InitiateAsync(a, StreamKey, CryptoMethods.Rc4, ReadOnlyMemory<byte>.Empty, Timeout, TimeProvider.System);
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => responding.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.UnknownTorrent, error.Failure);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(512)] // the most PadA the specification allows still synchronises
    public async Task TheResponderSynchronisesAfterAnyAllowedPadding(int padding)
    {
        var (a, b) = InMemoryTransport.CreatePair();
        var peer = new MseTestPeer(a);
        await using var rawInitiator = a;
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, Timeout, TimeProvider.System);
        await peer.SendKeyAsync(padding);
        byte[] secret = await peer.ReceiveKeyAsync();
        await peer.SendAsync(MseTestPeer.Step3(secret, StreamKey, CryptoMethods.Rc4, "IA"u8, padC: 512).Bytes);
        await using EncryptedTransport responder = await responding.WaitAsync(Guard);
        Assert.Equal("IA"u8.ToArray(), await ReadExactlyAsync(responder.Input, 2));
    }

    [Fact]
    public async Task GarbageInsteadOfTheSyncHashFailsAtThePaddingBoundNotAtTheDeadline()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        var peer = new MseTestPeer(a);
        await using var rawInitiator = a;
        await using var rawResponder = b;
        // A clock that never moves: a missing bound would hang here instead of failing.
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, Timeout, new ManualTimeProvider());
        await peer.SendKeyAsync(padding: 0);
        await peer.SendAsync(new byte[512 + 20]); // exactly the window, and the connection stays open
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => responding.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.SyncHashNotFound, error.Failure);
        Assert.Contains("within 512 bytes of padding", error.Message);
    }

    [Fact]
    public async Task ANonZeroVerificationConstantIsRefused()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        var peer = new MseTestPeer(a);
        await using var rawInitiator = a;
        await using var rawResponder = b;
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, Timeout, TimeProvider.System);
        await peer.SendKeyAsync(10);
        byte[] secret = await peer.ReceiveKeyAsync();
        await peer.SendAsync(MseTestPeer.Step3(secret, StreamKey, CryptoMethods.Rc4, [], vcByte: 1).Bytes);
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => responding.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.BadVerificationConstant, error.Failure);
    }

    [Fact]
    public async Task APadCLongerThan512BytesIsRefused()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        var peer = new MseTestPeer(a);
        await using var rawInitiator = a;
        await using var rawResponder = b;
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, Timeout, TimeProvider.System);
        await peer.SendKeyAsync(10);
        byte[] secret = await peer.ReceiveKeyAsync();
        await peer.SendAsync(MseTestPeer.Step3(secret, StreamKey, CryptoMethods.Rc4, [], padCField: 513).Bytes);
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => responding.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.BadLength, error.Failure);
        Assert.Contains("PadC of 513 bytes", error.Message);
    }

    [Fact]
    public async Task ADegenerateKeyIsRefusedBeforeWeAnswer()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        var peer = new MseTestPeer(a);
        await using var rawInitiator = a;
        await using var rawResponder = b;
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, Timeout, TimeProvider.System);
        byte[] one = new byte[96];
        one[^1] = 1;
        await peer.SendAsync(one);
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => responding.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.InvalidPublicKey, error.Failure);
    }

    [Fact]
    public async Task APeerThatHangsUpMidKeyIsNamedByTheStepItInterrupted()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var rawResponder = b;
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, Timeout, TimeProvider.System);
        await new MseTestPeer(a).SendAsync(new byte[50]);
        await a.DisposeAsync();
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => responding.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.ConnectionClosed, error.Failure);
        Assert.Contains("after 50 bytes of the peer's public key", error.Message);
    }

    [Fact]
    public async Task TheDeadlineComesFromTheTimeProviderAndNamesTheStep()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var rawInitiator = a;
        await using var rawResponder = b;
        var time = new ManualTimeProvider();
        Task<EncryptedTransport> responding = MseHandshake.RespondAsync(b, IndexOf(StreamKey).Find, CryptoMethods.Rc4, TimeSpan.FromSeconds(10), time);
        var peer = new MseTestPeer(a);
        await peer.SendKeyAsync(0); // then silence
        await peer.ReceiveKeyAsync().WaitAsync(Guard); // the responder answered: it now waits for the sync hash
        Assert.NotEmpty(time.PendingDueTimes());
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(responding.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => responding.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.TimedOut, error.Failure);
        Assert.Contains("timed out after 10 s waiting for sync hash", error.Message);
    }

    [Fact]
    public async Task TheInitiatorGivesUpWhenNoVerificationConstantFollowsThePadding()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        var peer = new MseTestPeer(b);
        await using var rawInitiator = a;
        await using var rawResponder = b;
        Task<EncryptedTransport> initiating = MseHandshake.InitiateAsync(a, StreamKey, CryptoMethods.Rc4, ReadOnlyMemory<byte>.Empty, Timeout, new ManualTimeProvider());
        await peer.ReceiveKeyAsync();
        await peer.SendKeyAsync(padding: 512);
        await peer.SendAsync(new byte[8]); // 520 bytes after the key, none of them the encrypted VC
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => initiating.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.VerificationConstantNotFound, error.Failure);
    }

    [Theory]
    [InlineData(CryptoMethods.Plaintext | CryptoMethods.Rc4)] // must pick one
    [InlineData(CryptoMethods.Plaintext)] // not offered
    [InlineData((CryptoMethods)0x04)]
    public async Task TheInitiatorRefusesASelectionItDidNotOffer(CryptoMethods select)
    {
        var (a, b) = InMemoryTransport.CreatePair();
        var peer = new MseTestPeer(b);
        await using var rawInitiator = a;
        await using var rawResponder = b;
        Task<EncryptedTransport> initiating = MseHandshake.InitiateAsync(a, StreamKey, CryptoMethods.Rc4, ReadOnlyMemory<byte>.Empty, Timeout, TimeProvider.System);
        byte[] secret = await peer.ReceiveKeyAsync();
        await peer.SendKeyAsync(padding: 3);
        await peer.SendAsync(MseTestPeer.Step4(secret, StreamKey, select));
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => initiating.WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.NoCommonCryptoMethod, error.Failure);
    }
}
