using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Shoal.Metainfo;
using Shoal.Transport;
using Shoal.Transport.Encryption;
using Shoal.Wire;

namespace Shoal.Tests.Transport.Encryption;

public sealed class EncryptionNegotiatorTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);
    private static readonly IPEndPoint Remote = new(IPAddress.Parse("192.0.2.7"), 6881);

    private static EncryptionNegotiator Negotiator(EncryptionMode mode, List<string>? log = null)
        => new(mode, TimeSpan.FromSeconds(30), TimeProvider.System, log is null ? null : log.Add);

    private static InfoHash Torrent(int seed)
    {
        var bytes = new byte[20];
        new Random(seed).NextBytes(bytes);
        return new InfoHash(bytes);
    }

    private static byte[] BitTorrentHandshake(InfoHash infoHash)
    {
        var bytes = new byte[Handshake.Length];
        new Handshake(infoHash, new byte[20], ReservedBits.Create(extension: true, fast: true, dht: false)).WriteTo(bytes);
        return bytes;
    }

    private static async Task<Handshake> ReadHandshakeAsync(PipeReader input)
    {
        ReadResult result = await input.ReadAtLeastAsync(Handshake.Length).AsTask().WaitAsync(Guard);
        ReadOnlySequence<byte> buffer = result.Buffer;
        Assert.True(Handshake.TryParse(ref buffer, out Handshake handshake), "no complete BitTorrent handshake");
        input.AdvanceTo(buffer.Start);
        return handshake;
    }

    [Fact]
    public async Task EachIncomingEncryptedConnectionFindsItsOwnTorrent()
    {
        InfoHash[] torrents = [.. Enumerable.Range(1, 6).Select(Torrent)];
        var responder = Negotiator(EncryptionMode.Prefer);
        var initiator = Negotiator(EncryptionMode.Require);
        foreach (InfoHash torrent in torrents) responder.Torrents.Add(torrent);

        foreach (InfoHash torrent in torrents.Reverse())
        {
            var (a, b) = InMemoryTransport.CreatePair();
            Task<PeerTransport> accepting = responder.AcceptAsync(b, CancellationToken.None);
            await using PeerTransport outgoing = await initiator.ConnectAsync(Remote, _ => ValueTask.FromResult<PeerTransport>(a), torrent,
                BitTorrentHandshake(torrent), CancellationToken.None).WaitAsync(Guard);
            await using PeerTransport incoming = await accepting.WaitAsync(Guard);

            var encrypted = Assert.IsType<EncryptedTransport>(incoming);
            Assert.Equal(torrent.Span.ToArray(), encrypted.StreamKey.ToArray());
            Assert.Equal(PeerEncryption.Rc4, incoming.Encryption);
            Assert.Equal(PeerEncryption.Rc4, outgoing.Encryption);
            // The BitTorrent handshake travelled as the initial payload and reads as if it had arrived in the clear.
            Assert.Equal(torrent, (await ReadHandshakeAsync(incoming.Input)).InfoHash);
        }
    }

    [Theory]
    [InlineData(EncryptionMode.Prefer)]
    [InlineData(EncryptionMode.Disable)]
    public async Task APlainHandshakeIsAcceptedUntouched(EncryptionMode mode)
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var outgoing = a;
        InfoHash torrent = Torrent(9);
        a.Output.Write(BitTorrentHandshake(torrent));
        await a.Output.FlushAsync();

        await using PeerTransport incoming = await Negotiator(mode).AcceptAsync(b, CancellationToken.None).WaitAsync(Guard);
        Assert.Same(b, incoming);
        Assert.Equal(PeerEncryption.None, incoming.Encryption);
        Assert.Equal(torrent, (await ReadHandshakeAsync(incoming.Input)).InfoHash);
    }

    [Fact]
    public async Task RequireRefusesAPlainHandshakeWithItsReason()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var outgoing = a;
        await using var raw = b;
        a.Output.Write(BitTorrentHandshake(Torrent(1)));
        await a.Output.FlushAsync();
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => Negotiator(EncryptionMode.Require).AcceptAsync(b, CancellationToken.None).WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.PlaintextRefused, error.Failure);
        Assert.Equal("plaintext handshake refused: encryption is required", error.Message);
    }

    [Fact]
    public async Task DisableRefusesAnEncryptedHandshakeInsteadOfCallingItGarbage()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var outgoing = a;
        await using var raw = b;
        await new MseTestPeer(a).SendKeyAsync(padding: 40);
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => Negotiator(EncryptionMode.Disable).AcceptAsync(b, CancellationToken.None).WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.EncryptedRefused, error.Failure);
        Assert.Equal("encrypted handshake refused: encryption is disabled", error.Message);
    }

    [Fact]
    public async Task AShortBurstOfGarbageIsNamedAsSuch()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var raw = b;
        a.Output.Write("GET / HTTP"u8);
        await a.Output.FlushAsync();
        await a.DisposeAsync();
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => Negotiator(EncryptionMode.Prefer).AcceptAsync(b, CancellationToken.None).WaitAsync(Guard));
        Assert.Equal(EncryptionFailure.NotAHandshake, error.Failure);
    }

    [Fact]
    public async Task AnEncryptedFailureIsReportedAsAnEncryptedHandshakeFailure()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var outgoing = a;
        await using var raw = b;
        var negotiator = Negotiator(EncryptionMode.Prefer); // knows no torrent
        Task<PeerTransport> accepting = negotiator.AcceptAsync(b, CancellationToken.None);
        _ = MseHandshake.InitiateAsync(a, Torrent(4).Span.ToArray(), CryptoMethods.Rc4, ReadOnlyMemory<byte>.Empty, TimeSpan.FromSeconds(30), TimeProvider.System);
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() => accepting.WaitAsync(Guard));
        Assert.Equal("encrypted handshake failed: the obfuscated info-hash matches none of our torrents", error.Message);
    }

    [Fact]
    public async Task PreferFallsBackToPlaintextAndRemembersThePeer()
    {
        InfoHash torrent = Torrent(5);
        var log = new List<string>();
        var negotiator = Negotiator(EncryptionMode.Prefer, log);
        var plainPeers = new List<Task<Handshake>>();
        int dials = 0;

        // A peer that speaks only plain BitTorrent: it reads 68 bytes and hangs up when they are not a handshake.
        ValueTask<PeerTransport> DialPlainOnlyPeer(CancellationToken token)
        {
            dials++;
            var (a, b) = InMemoryTransport.CreatePair();
            plainPeers.Add(PlainOnlyPeerAsync(b));
            return ValueTask.FromResult<PeerTransport>(a);
        }

        await using (PeerTransport first = await negotiator.ConnectAsync(Remote, DialPlainOnlyPeer, torrent, BitTorrentHandshake(torrent), CancellationToken.None).WaitAsync(Guard))
        {
            Assert.Equal(2, dials);
            Assert.Equal(PeerEncryption.None, first.Encryption);
            Assert.Equal(torrent, (await plainPeers[1].WaitAsync(Guard)).InfoHash);
        }
        Assert.True(negotiator.IsPlainOnly(Remote));
        Assert.Contains(log, line => line.Contains("encrypted handshake failed") && line.Contains("dialling again in plaintext"));

        await using (PeerTransport second = await negotiator.ConnectAsync(Remote, DialPlainOnlyPeer, torrent, BitTorrentHandshake(torrent), CancellationToken.None).WaitAsync(Guard))
        {
            Assert.Equal(3, dials); // straight to plaintext this time
            Assert.Equal(torrent, (await plainPeers[2].WaitAsync(Guard)).InfoHash);
        }
    }

    private static async Task<Handshake> PlainOnlyPeerAsync(PeerTransport transport)
    {
        try
        {
            ReadResult result = await transport.Input.ReadAtLeastAsync(Handshake.Length);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                if (Handshake.TryParse(ref buffer, out Handshake handshake)) return handshake;
            }
            catch (WireProtocolException)
            {
            }
            throw new WireProtocolException("not a BitTorrent handshake");
        }
        finally
        {
            await transport.DisposeAsync();
        }
    }

    [Fact]
    public async Task RequireDoesNotFallBack()
    {
        InfoHash torrent = Torrent(6);
        int dials = 0;
        ValueTask<PeerTransport> Dial(CancellationToken token)
        {
            dials++;
            var (a, b) = InMemoryTransport.CreatePair();
            _ = PlainOnlyPeerAsync(b);
            return ValueTask.FromResult<PeerTransport>(a);
        }
        var error = await Assert.ThrowsAsync<EncryptionHandshakeException>(() =>
            Negotiator(EncryptionMode.Require).ConnectAsync(Remote, Dial, torrent, BitTorrentHandshake(torrent), CancellationToken.None).WaitAsync(Guard));
        Assert.Equal(1, dials);
        Assert.StartsWith("encrypted handshake failed: ", error.Message);
    }

    [Fact]
    public void ThePlainOnlyMemoryIsBounded()
    {
        // Every failed encrypted attempt adds one peer; past the bound the oldest is forgotten.
        var negotiator = Negotiator(EncryptionMode.Prefer);
        for (int i = 0; i < EncryptionNegotiator.MaxPlainOnlyPeers + 10; i++) negotiator.RememberPlainOnly(new IPEndPoint(IPAddress.Loopback, 1 + i));
        Assert.Equal(EncryptionNegotiator.MaxPlainOnlyPeers, negotiator.PlainOnlyPeers);
        Assert.False(negotiator.IsPlainOnly(new IPEndPoint(IPAddress.Loopback, 1)));
        Assert.True(negotiator.IsPlainOnly(new IPEndPoint(IPAddress.Loopback, 1 + EncryptionNegotiator.MaxPlainOnlyPeers + 9)));
    }
}
