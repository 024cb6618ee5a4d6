using Shoal.Bencoding;
using Shoal.Metainfo;
using static Shoal.Tests.Metainfo.TorrentFixtures;

namespace Shoal.Tests.Metainfo;

/// <summary>Random and mutated inputs into every Metainfo parser: only ShoalFormatException may escape.</summary>
public sealed class MetainfoFuzzTests
{
    private static byte[][] Seeds()
    {
        BDictionary pad = FileEntry(100, ".pad", "100");
        pad.Set("attr", S("p"));
        var root = new BDictionary();
        root.Set("announce-list", new BList([new BList([S("http://a/1")]), new BList([S("udp://b:1")])]));
        root.Set("comment", S("c"));
        root.Set("creation date", new BInteger(1_700_000_000));
        root.Set("info", MultiFileInfo("n", FileEntry(10, "a", "b"), pad, FileEntry(40_000, "c")));
        // The corpus's odd torrents that load (unsorted keys, padding, links, v2 and hybrid trees) reach the deep code.
        IEnumerable<byte[]> corpus = TorrentCorpus.Entries.Values.Where(e => e.Loads).OrderBy(e => e.File, StringComparer.Ordinal)
            .Select(e => File.ReadAllBytes(TorrentCorpus.Fixture(e.File)));
        return [SampleMultiFile(), Wrap(SingleFileInfo()), Bencode.Encode(root), .. corpus];
    }

    internal static byte[] Mutate(Random random, byte[] seed)
    {
        byte[] data = [.. seed];
        int rounds = random.Next(1, 4);
        for (int r = 0; r < rounds; r++)
        {
            switch (random.Next(6))
            {
                case 0: // bit flips
                    if (data.Length == 0) break;
                    for (int i = random.Next(1, 4); i > 0; i--) data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1: // truncation
                    data = data[..random.Next(data.Length + 1)];
                    break;
                case 2: // insertion of structural or random bytes
                    {
                        byte[] alphabet = "ilde0123456789:-"u8.ToArray();
                        int at = random.Next(data.Length + 1);
                        byte b = random.Next(2) == 0 ? alphabet[random.Next(alphabet.Length)] : (byte)random.Next(256);
                        data = [.. data[..at], b, .. data[at..]];
                        break;
                    }
                case 3: // splice a chunk of the input elsewhere
                    {
                        if (data.Length < 2) break;
                        int from = random.Next(data.Length);
                        int len = random.Next(1, Math.Min(64, data.Length - from) + 1);
                        int at = random.Next(data.Length + 1);
                        data = [.. data[..at], .. data.AsSpan(from, len), .. data[at..]];
                        break;
                    }
                case 4: // deletion
                    {
                        if (data.Length < 2) break;
                        int from = random.Next(data.Length);
                        int len = random.Next(1, Math.Min(16, data.Length - from) + 1);
                        data = [.. data[..from], .. data[(from + len)..]];
                        break;
                    }
                default: // overwrite a digit run to stress length and integer parsing
                    {
                        if (data.Length == 0) break;
                        int at = random.Next(data.Length);
                        data[at] = (byte)"0123456789"[random.Next(10)];
                        break;
                    }
            }
        }
        return data;
    }

    [Fact]
    public void Mutated_torrents_only_raise_format_exceptions()
    {
        var random = new Random(20240601);
        byte[][] seeds = Seeds();
        int parsed = 0;
        for (int i = 0; i < 4000; i++)
        {
            byte[] input = Mutate(random, seeds[i % seeds.Length]);
            // The fuzz targets' own invariants (round trips, safe paths, lenient decoding) apply to every input.
            if (Shoal.Tests.Fuzz.FuzzParsers.Run("metainfo", input) == Shoal.Tests.Fuzz.FuzzOutcome.Accepted) parsed++;
            Shoal.Tests.Fuzz.FuzzParsers.Run("bencode", input);
        }
        Assert.True(parsed > 0, "no mutation survived; the fuzzer is not reaching deep code");
    }

    [Fact]
    public void Random_bytes_into_the_parsers_only_raise_format_exceptions()
    {
        var random = new Random(777);
        for (int i = 0; i < 3000; i++)
        {
            byte[] input = new byte[random.Next(0, 64)];
            if (random.Next(2) == 0) random.NextBytes(input);
            else for (int j = 0; j < input.Length; j++) input[j] = "ilde0123456789:-"u8[random.Next(16)];
            try { Bencode.Decode(input); } catch (ShoalFormatException) { }
            try { Bencode.DecodePrefix(input, out _); } catch (ShoalFormatException) { }
            try { Torrent.Parse(input); } catch (ShoalFormatException) { }
            try { Torrent.FromInfoDictionary(input); } catch (ShoalFormatException) { }
        }
    }

    [Fact]
    public void Mutated_magnet_links_only_raise_format_exceptions()
    {
        var random = new Random(4242);
        string[] seeds =
        [
            "magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&dn=My+Film%20%C3%A9&tr=http%3A%2F%2Ft%2Fa&x.pe=1.2.3.4:5&so=0,2,4-6",
            "magnet:?xt=urn:btih:IQW23AGCD2ZC24B73RWKBWQ3VIZK3HL5&tr=udp://x:1&so=1-3",
            "magnet:?xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e&xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d",
        ];
        const string Alphabet = "magnet:?xt=urn:btih&%+-,0123456789abcdefABCDEF\u00e9\ud83d\ude00\ud800";
        int parsed = 0;
        for (int i = 0; i < 3000; i++)
        {
            char[] chars = seeds[i % seeds.Length].ToCharArray();
            var list = new List<char>(chars);
            for (int r = random.Next(1, 4); r > 0; r--)
            {
                int op = random.Next(3);
                if (op == 0 && list.Count > 0) list[random.Next(list.Count)] = Alphabet[random.Next(Alphabet.Length)];
                else if (op == 1) list.Insert(random.Next(list.Count + 1), Alphabet[random.Next(Alphabet.Length)]);
                else if (list.Count > 0) list.RemoveRange(random.Next(list.Count), 1);
            }
            string uri = new([.. list]);
            try
            {
                MagnetLink m = MagnetLink.Parse(uri);
                parsed++;
                Assert.Equal(m, MagnetLink.Parse(m.ToString()));
            }
            catch (ShoalFormatException)
            {
            }
        }
        Assert.True(parsed > 0);
    }
}
