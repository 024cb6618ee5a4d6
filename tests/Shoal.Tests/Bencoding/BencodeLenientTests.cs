using System.Text;
using Shoal.Bencoding;

namespace Shoal.Tests.Bencoding;

/// <summary><see cref="Bencode.DecodeLenient"/>: what libtorrent's bdecode accepts, and nothing more.</summary>
public sealed class BencodeLenientTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private static BValue Lenient(string s) => Bencode.DecodeLenient(B(s), out _);

    [Fact]
    public void Unsorted_keys_are_read_and_the_dictionary_remembers_it_was_not_canonical()
    {
        var d = Assert.IsType<BDictionary>(Lenient("d1:bi2e1:ai1e1:ci3ee"));
        Assert.Equal(["a", "b", "c"], d.Keys.Select(k => k.Text));
        Assert.Equal(2, d.GetInteger("b"));
        Assert.False(d.IsCanonical);
        Assert.Equal(B("d1:bi2e1:ai1e1:ci3ee"), d.SourceBytes.ToArray());
        Assert.Throws<BencodeException>(() => Bencode.Decode(B("d1:bi2e1:ai1ee")));
    }

    [Fact]
    public void A_repeated_key_keeps_its_first_value_as_in_libtorrent()
    {
        var d = Assert.IsType<BDictionary>(Lenient("d1:ai1e1:ai2e1:bi3e1:ai4ee"));
        Assert.Equal(2, d.Count);
        Assert.Equal(1, d.GetInteger("a"));
        Assert.False(d.IsCanonical);
    }

    [Theory]
    [InlineData("i007e", 7L)]
    [InlineData("i-0e", 0L)]
    [InlineData("i-007e", -7L)]
    [InlineData("i00e", 0L)]
    [InlineData("i99999999999999999999e", 0L)] // 20 digits, beyond 64 bits: libtorrent's int_value gives 0
    [InlineData("i-9223372036854775809e", 0L)]
    public void Non_canonical_integers_are_read(string input, long expected)
    {
        var value = Assert.IsType<BInteger>(Lenient(input));
        Assert.Equal(expected, value.Value);
        Assert.False(value.IsCanonical);
        Assert.Throws<BencodeException>(() => Bencode.Decode(B(input)));
    }

    [Fact]
    public void Leading_zeros_in_string_lengths_are_read()
    {
        var value = Assert.IsType<BString>(Lenient("004:spam"));
        Assert.Equal("spam", value.Text);
        Assert.False(value.IsCanonical);
    }

    [Fact]
    public void Non_canonical_values_make_every_container_around_them_non_canonical()
    {
        var root = Assert.IsType<BDictionary>(Lenient("d1:ad1:bli01eee1:cd1:di1eee"));
        BDictionary a = root.GetDictionary("a");
        Assert.False(root.IsCanonical);
        Assert.False(a.IsCanonical);
        Assert.False(a.GetList("b").IsCanonical);
        Assert.True(root.GetDictionary("c").IsCanonical);
        Assert.True(Lenient("d1:ai1e1:bli2eee").IsCanonical);
    }

    [Fact]
    public void Trailing_bytes_are_left_to_the_caller()
    {
        BValue value = Bencode.DecodeLenient(B("d1:ai1ee\r\ngarbage"), out int consumed);
        Assert.Equal(8, consumed);
        Assert.True(value.IsCanonical);
    }

    [Theory]
    [InlineData("i123456789012345678901e")] // 21 digits: libtorrent's decoder refuses it too
    [InlineData("ie")]
    [InlineData("i-e")]
    [InlineData("i1")]
    [InlineData("d1:a")]
    [InlineData("di1ei2ee")]
    [InlineData("5:abc")]
    [InlineData("e")]
    [InlineData("")]
    [InlineData("x")]
    public void What_libtorrent_refuses_stays_refused(string input)
    {
        Assert.Throws<BencodeException>(() => Lenient(input));
    }

    [Fact]
    public void Limits_hold_in_lenient_mode_too()
    {
        string deep = new string('l', 70) + new string('e', 70);
        Assert.Throws<BencodeException>(() => Bencode.DecodeLenient(B(deep), out _, new BencodeLimits { MaxDepth = 64 }));
        Assert.Throws<BencodeException>(() => Bencode.DecodeLenient(B("li1ei2ei3ee"), out _, new BencodeLimits { MaxItems = 3 }));
    }

    [Fact]
    public void Re_encoding_a_lenient_value_gives_canonical_bencode()
    {
        BValue value = Lenient("d1:bi007e1:ai1e1:ai2ee");
        Assert.Equal(B("d1:ai1e1:bi7ee"), Bencode.Encode(value));
        Assert.True(Bencode.Decode(Bencode.Encode(value)).IsCanonical);
    }
}
