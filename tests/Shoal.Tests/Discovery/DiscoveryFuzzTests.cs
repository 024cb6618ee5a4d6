using System.Net;
using Shoal.Discovery;
using Shoal.Metainfo;

namespace Shoal.Tests.Discovery;

/// <summary>Random and mutated inputs, seeded from valid messages: only the format exception family escapes.</summary>
public sealed class DiscoveryFuzzTests
{
    private const int Iterations = 3000;

    private static byte[] Mutate(Random random, byte[] valid)
    {
        if (random.Next(5) == 0)
        {
            byte[] noise = new byte[random.Next(120)];
            random.NextBytes(noise);
            return noise;
        }
        byte[] bytes = (byte[])valid.Clone();
        int mutations = random.Next(1, 6);
        for (int m = 0; m < mutations && bytes.Length > 0; m++)
        {
            int at = random.Next(bytes.Length);
            bytes[at] = random.Next(5) switch
            {
                0 => (byte)random.Next(256),
                1 => (byte)"0123456789"[random.Next(10)],
                2 => (byte)"dilse:-"[random.Next(7)],
                3 => 0xFF,
                _ => 0,
            };
        }
        return random.Next(4) switch
        {
            0 => bytes[..random.Next(bytes.Length + 1)],
            1 => [.. bytes, .. bytes[..random.Next(bytes.Length + 1)]],
            _ => bytes,
        };
    }

    private static IPEndPoint RandomEndPoint(Random random)
    {
        byte[] address = new byte[random.Next(2) == 0 ? 4 : 16];
        random.NextBytes(address);
        address[0] |= 1;
        return new IPEndPoint(new IPAddress(address), random.Next(1, 65536));
    }

    /// <summary>Runs <paramref name="parse"/> over mutations of <paramref name="seeds"/>; returns (accepted, rejected).</summary>
    private static (int Accepted, int Rejected) Fuzz(int seed, Func<Random, byte[]> seeds, Action<byte[]> parse)
    {
        var random = new Random(seed);
        int accepted = 0, rejected = 0;
        for (int i = 0; i < Iterations; i++)
        {
            byte[] input = Mutate(random, seeds(random));
            try
            {
                parse(input);
                accepted++;
            }
            catch (ShoalFormatException)
            {
                rejected++;
            }
        }
        return (accepted, rejected);
    }

    [Fact]
    public void ExtensionHandshake()
    {
        (int accepted, int rejected) = Fuzz(1010, random =>
        {
            var handshake = Shoal.Discovery.ExtensionHandshake.CreateLocal(random.Next(1, 65536), "Shoal " + random.Next(), random.Next(1, 1 << 24), RandomEndPoint(random).Address, random.Next(1, 1000), random.Next(2) == 0) with
            {
                Ipv4 = new IPAddress(random.Next()),
                PrefersEncryption = random.Next(2) == 0,
            };
            return handshake.Encode();
        }, bytes =>
        {
            ExtensionHandshake parsed = Shoal.Discovery.ExtensionHandshake.Parse(bytes);
            _ = parsed.Encode();
            Assert.True(parsed.Extensions.Count <= Shoal.Discovery.ExtensionHandshake.MaxExtensions);
        });
        Assert.True(accepted > 100 && rejected > 100, $"accepted {accepted}, rejected {rejected}");
    }

    [Fact]
    public void MetadataMessage()
    {
        (int accepted, int rejected) = Fuzz(909, random =>
        {
            int piece = random.Next(0, 40);
            return random.Next(3) switch
            {
                0 => Shoal.Discovery.MetadataMessage.Request(piece).Encode(),
                1 => Shoal.Discovery.MetadataMessage.Reject(piece).Encode(),
                _ => Shoal.Discovery.MetadataMessage.EncodeData(piece, random.Next(1, 1 << 24), new byte[random.Next(0, 300)]),
            };
        }, bytes =>
        {
            MetadataMessage parsed = Shoal.Discovery.MetadataMessage.Parse(bytes);
            Assert.True(parsed.Data.Length <= Shoal.Discovery.MetadataMessage.BlockSize);
            if (parsed.Type != MetadataMessageType.Unknown) _ = parsed.Encode();
        });
        Assert.True(accepted > 100 && rejected > 100, $"accepted {accepted}, rejected {rejected}");
    }

    [Fact]
    public void PexMessage()
    {
        (int accepted, int rejected) = Fuzz(1111, random =>
        {
            var added = new List<PexPeer>();
            var dropped = new List<IPEndPoint>();
            for (int i = random.Next(6); i > 0; i--) added.Add(new PexPeer(RandomEndPoint(random), (PexFlags)random.Next(32)));
            for (int i = random.Next(4); i > 0; i--) dropped.Add(RandomEndPoint(random));
            return new Shoal.Discovery.PexMessage(added, dropped).Encode();
        }, bytes =>
        {
            PexMessage parsed = Shoal.Discovery.PexMessage.Parse(bytes);
            Assert.True(parsed.Added.Count <= 2 * Shoal.Discovery.PexMessage.MaxEntriesPerList);
            _ = parsed.Encode();
        });
        Assert.True(accepted > 100 && rejected > 100, $"accepted {accepted}, rejected {rejected}");
    }

    [Fact]
    public void LsdMessageNeverThrows()
    {
        var random = new Random(1414);
        int parsed = 0;
        for (int i = 0; i < Iterations; i++)
        {
            var hashes = new InfoHash[random.Next(1, 4)];
            for (int h = 0; h < hashes.Length; h++)
            {
                byte[] bytes = new byte[20];
                random.NextBytes(bytes);
                hashes[h] = new InfoHash(bytes);
            }
            byte[] valid = LsdMessage.Format("239.192.152.143:6771", random.Next(1, 65536), hashes, random.Next(2) == 0 ? null : "k" + random.Next());
            byte[] input = Mutate(random, valid);
            if (LsdMessage.Parse(input) is LsdAnnounce announce)
            {
                parsed++;
                Assert.InRange(announce.Port, 1, 65535);
                Assert.InRange(announce.InfoHashes.Count, 1, LsdMessage.MaxHashesParsed);
            }
        }
        Assert.True(parsed > 100, $"only {parsed} parsed");
    }
}
