using System.Buffers;
using System.Text;
using Shoal.Bencoding;

namespace Shoal.Tests.Bencoding;

public sealed class BencodeWriterTests
{
    [Fact]
    public void Writer_produces_the_expected_bytes()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new BencodeWriter(buffer);
        w.WriteDictionaryStart();
        w.WriteString("a");
        w.WriteInteger(long.MinValue);
        w.WriteString("b"u8);
        w.WriteListStart();
        w.WriteString("");
        w.WriteString("é");
        w.WriteInteger(0);
        w.WriteEnd();
        w.WriteString("c");
        w.WriteRaw("i7e"u8);
        w.WriteEnd();
        Assert.Equal(0, w.Depth);
        Assert.Equal("d1:ai-9223372036854775808e1:bl0:2:\u00c3\u00a9i0ee1:ci7ee", Encoding.Latin1.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void WriteEnd_without_an_open_container_throws()
    {
        var w = new BencodeWriter(new ArrayBufferWriter<byte>());
        Assert.Throws<InvalidOperationException>(w.WriteEnd);
    }

    [Fact]
    public void Dictionary_built_in_any_order_encodes_with_sorted_keys()
    {
        var d = new BDictionary();
        d.Set("zeta", new BInteger(1));
        d.Set("alpha", new BString("x"));
        d.Set("mid", new BList([new BInteger(2), new BDictionary()]));
        d.Set(new BString(new byte[] { 0xFF }), new BInteger(3));
        d.Set("Alpha", new BInteger(4)); // 'A' (0x41) sorts before 'a' (0x61)
        d.Set("alpha", new BString("y")); // replaces
        byte[] bytes = Bencode.Encode(d);
        Assert.Equal("d5:Alphai4e5:alpha1:y3:midli2edee4:zetai1e1:\u00ffi3ee", Encoding.Latin1.GetString(bytes));
        // Canonical output passes the strict decoder.
        Assert.Equal(bytes, Bencode.Encode(Bencode.Decode(bytes)));
        Assert.True(d.Remove("mid"));
        Assert.False(d.Remove("mid"));
        Assert.Equal(4, d.Count);
    }

    [Fact]
    public void Encoding_a_cycle_fails_instead_of_hanging()
    {
        var list = new BList();
        list.Add(list);
        Assert.Throws<InvalidOperationException>(() => Bencode.Encode(list));
    }

    [Fact]
    public void Random_trees_round_trip()
    {
        var random = new Random(1234);
        for (int i = 0; i < 300; i++)
        {
            BValue value = RandomValue(random, 0);
            byte[] bytes = Bencode.Encode(value);
            BValue decoded = Bencode.Decode(bytes);
            Assert.Equal(bytes, Bencode.Encode(decoded));
        }
    }

    private static BValue RandomValue(Random random, int depth)
    {
        int kind = random.Next(depth > 4 ? 2 : 4);
        switch (kind)
        {
            case 0:
                return new BInteger(random.NextInt64(long.MinValue, long.MaxValue));
            case 1:
                byte[] bytes = new byte[random.Next(0, 20)];
                random.NextBytes(bytes);
                return new BString(bytes);
            case 2:
                var list = new BList();
                for (int i = random.Next(0, 5); i > 0; i--) list.Add(RandomValue(random, depth + 1));
                return list;
            default:
                var dict = new BDictionary();
                for (int i = random.Next(0, 5); i > 0; i--)
                {
                    byte[] key = new byte[random.Next(0, 4)];
                    random.NextBytes(key);
                    dict.Set(new BString(key), RandomValue(random, depth + 1));
                }
                return dict;
        }
    }
}
