using System.Text;
using Shoal.Bencoding;

namespace Shoal.Tests.Bencoding;

public sealed class BencodeDecodeTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private static BValue Decode(string s, BencodeLimits? limits = null) => Bencode.Decode(B(s), limits);

    [Theory]
    [InlineData("i0e", 0L)]
    [InlineData("i42e", 42L)]
    [InlineData("i-42e", -42L)]
    [InlineData("i9223372036854775807e", long.MaxValue)]
    [InlineData("i-9223372036854775808e", long.MinValue)]
    public void Decodes_integers(string input, long expected)
    {
        var value = Assert.IsType<BInteger>(Decode(input));
        Assert.Equal(expected, value.Value);
    }

    [Theory]
    [InlineData("0:", "")]
    [InlineData("4:spam", "spam")]
    [InlineData("11:hello world", "hello world")]
    public void Decodes_strings(string input, string expected)
    {
        var value = Assert.IsType<BString>(Decode(input));
        Assert.Equal(expected, value.Text);
    }

    [Fact]
    public void Decodes_nested_structure()
    {
        var root = Assert.IsType<BDictionary>(Decode("d4:listli1e4:spamlee3:subd1:ai-1eee"));
        BList list = root.GetList("list");
        Assert.Equal(3, list.Count);
        Assert.Equal(1, Assert.IsType<BInteger>(list[0]).Value);
        Assert.Equal("spam", Assert.IsType<BString>(list[1]).Text);
        Assert.Empty(Assert.IsType<BList>(list[2]));
        Assert.Equal(-1, root.GetDictionary("sub").GetInteger("a"));
    }

    [Theory]
    [InlineData("i42e")]
    [InlineData("4:spam")]
    [InlineData("le")]
    [InlineData("de")]
    [InlineData("d1:ai1e1:bl3:xyzi-7ed1:ci0eeee")]
    [InlineData("d0:i1e1:\u00ffi2ee")]
    public void Round_trips_byte_for_byte(string input)
    {
        byte[] bytes = B(input);
        Assert.Equal(bytes, Bencode.Encode(Bencode.Decode(bytes)));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("i01e", "leading zero")]
    [InlineData("i-0e", "-0")]
    [InlineData("i-01e", "leading zero")]
    [InlineData("ie", "no digits")]
    [InlineData("i-e", "no digits")]
    [InlineData("i1", "ends")]
    [InlineData("i1x", "unexpected")]
    [InlineData("i+1e", "no digits")]
    [InlineData("i9223372036854775808e", "64 bits")]
    [InlineData("i-9223372036854775809e", "64 bits")]
    [InlineData("i99999999999999999999999e", "64 bits")]
    [InlineData("01:a", "leading zero")]
    [InlineData("-1:a", "negative")]
    [InlineData("5:abc", "remain")]
    [InlineData("99999999999999999999:abc", "longer than the input")]
    [InlineData("3abc", "unexpected")]
    [InlineData("1", "ends")]
    [InlineData("4", "longer than the input")]
    [InlineData("l", "ends")]
    [InlineData("li1e", "ends")]
    [InlineData("d", "ends")]
    [InlineData("d1:a", "ends")]
    [InlineData("d1:ae", "has no value")]
    [InlineData("di1ei2ee", "must be a byte string")]
    [InlineData("dlei2ee", "must be a byte string")]
    [InlineData("d1:bi1e1:ai2ee", "out of order")]
    [InlineData("d1:ai1e1:ai2ee", "duplicate")]
    [InlineData("d2:abi1e1:bi2e1:ai3ee", "out of order")]
    [InlineData("e", "unexpected 'e'")]
    [InlineData("x", "unexpected byte")]
    [InlineData("i1ei2e", "trailing")]
    [InlineData("lee", "trailing")]
    [InlineData("4:spamX", "trailing")]
    public void Rejects_malformed_or_non_canonical_input(string input, string messagePart)
    {
        var e = Assert.Throws<BencodeException>(() => Decode(input));
        Assert.Contains(messagePart, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Keys_compare_as_raw_bytes_not_text()
    {
        // 0xC3 0xA9 ('é' in UTF-8) sorts after 'z' by bytes; a "culture" order would put it before.
        var dict = Assert.IsType<BDictionary>(Decode("d1:zi1e2:\u00c3\u00a9i2ee"));
        Assert.Equal(2, dict.Count);
        Assert.Throws<BencodeException>(() => Decode("d2:\u00c3\u00a9i2e1:zi1ee"));
        // A shorter key that is a prefix sorts first.
        Decode("d1:ai1e2:aai2ee");
        Assert.Throws<BencodeException>(() => Decode("d2:aai2e1:ai1ee"));
    }

    [Fact]
    public void Records_source_ranges_so_the_raw_info_dictionary_can_be_sliced()
    {
        const string Info = "d6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces0:e";
        string whole = "d8:announce3:url4:info" + Info + "7:zzzzzzzi1ee";
        byte[] bytes = B(whole);
        var root = Assert.IsType<BDictionary>(Bencode.Decode(bytes));
        BDictionary info = root.GetDictionary("info");
        Assert.Equal(whole.IndexOf(Info, StringComparison.Ordinal), info.SourceStart);
        Assert.Equal(Info.Length, info.SourceLength);
        Assert.Equal(B(Info), info.SourceBytes.ToArray());
        BString announce = root.GetString("announce");
        Assert.Equal(11, announce.SourceStart);
        Assert.Equal(5, announce.SourceLength);
        Assert.Equal(0, root.SourceStart);
        Assert.Equal(bytes.Length, root.SourceLength);
        Assert.False(new BInteger(1).HasSource);
        Assert.True(root.HasSource);
    }

    [Fact]
    public void Decoded_strings_alias_the_input_without_copying()
    {
        byte[] bytes = B("4:spam");
        var s = Assert.IsType<BString>(Bencode.Decode(bytes));
        bytes[3] = (byte)'P';
        Assert.Equal("sPam", s.Text);
    }

    [Fact]
    public void DecodePrefix_reports_consumed_bytes_and_leaves_the_rest()
    {
        byte[] bytes = B("d8:msg_typei1e5:piecei0ee" + "RAWPAYLOAD");
        var dict = Assert.IsType<BDictionary>(Bencode.DecodePrefix(bytes, out int consumed));
        Assert.Equal(bytes.Length - "RAWPAYLOAD".Length, consumed);
        Assert.Equal(1, dict.GetInteger("msg_type"));
        Assert.Throws<BencodeException>(() => Bencode.Decode(bytes));
        Assert.Throws<BencodeException>(() => Bencode.DecodePrefix(B("d8:msg_typei1e"), out _));
    }

    [Fact]
    public void Depth_limit_is_enforced()
    {
        string ok = new string('l', 64) + new string('e', 64);
        Decode(ok);
        string deep = new string('l', 65) + new string('e', 65);
        var e = Assert.Throws<BencodeException>(() => Decode(deep));
        Assert.Contains("deeper", e.Message, StringComparison.Ordinal);
        Decode(deep, new BencodeLimits { MaxDepth = 65 });
    }

    [Fact]
    public void Hostile_deep_nesting_does_not_overflow_the_stack()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 100_000; i++) sb.Append("d1:xl");
        Assert.Throws<BencodeException>(() => Decode(sb.ToString()));
        // Even with the depth limit lifted the decoder is iterative.
        string lists = new string('l', 90_000) + new string('e', 90_000);
        var value = Decode(lists, new BencodeLimits { MaxDepth = 1_000_000 });
        Assert.IsType<BList>(value);
        // ...and so is the encoder.
        Assert.Equal(B(lists), Bencode.Encode(value));
    }

    [Fact]
    public void Item_limit_is_enforced()
    {
        string list = "l" + string.Concat(Enumerable.Repeat("i1e", 100)) + "e";
        Decode(list, new BencodeLimits { MaxItems = 101 });
        var e = Assert.Throws<BencodeException>(() => Decode(list, new BencodeLimits { MaxItems = 100 }));
        Assert.Contains("more than 100 values", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Input_size_limit_is_enforced()
    {
        Decode("10:0123456789", new BencodeLimits { MaxInputLength = 13 });
        Assert.Throws<BencodeException>(() => Decode("10:0123456789", new BencodeLimits { MaxInputLength = 12 }));
    }

    [Fact]
    public void Limits_reject_non_positive_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BencodeLimits { MaxDepth = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new BencodeLimits { MaxItems = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new BencodeLimits { MaxInputLength = 0 });
    }

    [Fact]
    public void Text_throws_on_invalid_utf8_only_when_asked()
    {
        var s = Assert.IsType<BString>(Bencode.Decode(new byte[] { (byte)'2', (byte)':', 0xC3, 0x28 }));
        Assert.Equal(2, s.Length);
        Assert.False(s.TryGetText(out _));
        Assert.Throws<BencodeException>(() => s.Text);
    }

    [Fact]
    public void Typed_getters_name_the_key_on_wrong_type_or_absence()
    {
        var dict = Assert.IsType<BDictionary>(Decode("d3:inti1e3:str1:xe"));
        var e = Assert.Throws<BencodeException>(() => dict.GetString("int"));
        Assert.Contains("'int'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<BencodeException>(() => dict.GetInteger("str"));
        Assert.Contains("'str'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<BencodeException>(() => dict.GetList("missing"));
        Assert.Contains("'missing'", e.Message, StringComparison.Ordinal);
        Assert.Throws<BencodeException>(() => dict.TryGetDictionary("int", out _));
        Assert.False(dict.TryGetInteger("missing", out _));
        Assert.True(dict.TryGetInteger("int", out long v));
        Assert.Equal(1, v);
        Assert.True(dict.TryGetText("str", out string? text));
        Assert.Equal("x", text);
        Assert.True(dict.TryGetValue("str"u8, out BValue? raw));
        Assert.IsType<BString>(raw);
    }
}
