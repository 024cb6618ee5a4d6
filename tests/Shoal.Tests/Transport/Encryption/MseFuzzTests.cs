using System.Buffers;
using Shoal.Metainfo;
using Shoal.Tests.Trackers;
using Shoal.Transport;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Transport.Encryption;

/// <summary>
/// Random and mutated bytes into the accepting side: whatever arrives, the negotiator ends with a connection or an
/// <see cref="EncryptionHandshakeException"/>, never another exception and never a hang (the clock never moves, so only
/// the bounds and the end of the input can end a handshake).
/// </summary>
public sealed class MseFuzzTests
{
    private static readonly InfoHash Torrent = new(Convert.FromHexString("c0ffee00112233445566778899aabbccddeeff01"));

    /// <summary>The responder's fixed key, so a valid handshake can be written ahead and then bent.</summary>
    private static readonly MseKeyExchange Responder = new(Convert.FromHexString("fedcba9876543210fedcba9876543210fedcba98"));

    [Fact]
    public async Task RandomAndMutatedInputEndsInAConnectionOrAHandshakeError()
    {
        var random = new Random(20261206);
        byte[] valid = ValidInitiatorBytes(random);
        var index = new StreamKeyIndex();
        index.Add(Torrent);
        int completed = 0;
        for (int round = 0; round < 400; round++)
        {
            byte[] input = (round % 4) switch
            {
                0 => RandomBytes(random, random.Next(0, 1500)),
                1 or 2 => Mutate(valid, random),
                _ => valid[..random.Next(0, valid.Length + 1)], // cut short (or whole)
            };
            var (a, b) = InMemoryTransport.CreatePair();
            await using var sender = a;
            await using var receiver = b;
            a.Output.Write(input);
            await a.Output.FlushAsync();
            a.Output.Complete(); // the input ends: a handshake waiting for more must fail, not hang
            try
            {
                // Half the rounds through the negotiator (plain or encrypted?), half straight into the responder with
                // the key the valid input was written for, so mutations reach every field behind the sync hash.
                Task<PeerTransport> accepting = round % 2 == 0
                    ? new EncryptionNegotiator(EncryptionMode.Prefer, TimeSpan.FromSeconds(30), new ManualTimeProvider()) .AcceptAsync(b, CancellationToken.None)
                    : RespondAsync(b, index);
                await accepting.WaitAsync(TimeSpan.FromSeconds(20));
                completed++;
            }
            catch (EncryptionHandshakeException)
            {
            }
            catch (Exception ex)
            {
                Assert.Fail($"round {round} ({input.Length} bytes: {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 40)))}...) threw {ex}");
            }
        }
        Assert.True(completed > 0, "no round completed a handshake: the valid input is not valid");
    }

    private static async Task<PeerTransport> RespondAsync(PeerTransport transport, StreamKeyIndex index) =>
        await MseHandshake.RespondAsync(transport, index.Find, CryptoMethods.Rc4 | CryptoMethods.Plaintext, TimeSpan.FromSeconds(30),
            new ManualTimeProvider(), Responder);

    /// <summary>An initiator's steps 1 and 3 for <see cref="Torrent"/>, keyed against <see cref="Responder"/>.</summary>
    private static byte[] ValidInitiatorBytes(Random random)
    {
        var initiator = new MseKeyExchange(Convert.FromHexString("0123456789abcdef0123456789abcdef01234567"));
        byte[] secret = initiator.ComputeSecret(Responder.PublicKey);
        byte[] padA = RandomBytes(random, 37);
        (byte[] step3, _, _) = MseTestPeer.Step3(secret, Torrent.Span.ToArray(), CryptoMethods.Rc4 | CryptoMethods.Plaintext, new byte[68], padC: 5);
        return [.. initiator.PublicKey, .. padA, .. step3];
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        byte[] copy = (byte[])valid.Clone();
        int flips = random.Next(1, 6);
        for (int i = 0; i < flips; i++) copy[random.Next(copy.Length)] ^= (byte)random.Next(1, 256);
        return copy;
    }
}
