using Shoal.Metainfo;

namespace Shoal.Tests.Metainfo;

public sealed class MagnetLinkTests
{
    // Same 20 bytes in hex and RFC 4648 base32 (python3: base64.b32encode(bytes.fromhex(Hex))).
    private const string Hex = "442dad80c21eb22d703fdc6ca0da1baa32ad9d7d";
    private const string Base32 = "IQW23AGCD2ZC24B73RWKBWQ3VIZK3HL5";

    [Fact]
    public void Hex_and_base32_of_the_same_hash_are_equal()
    {
        MagnetLink a = MagnetLink.Parse("magnet:?xt=urn:btih:" + Hex);
        MagnetLink b = MagnetLink.Parse("magnet:?xt=urn:btih:" + Base32);
        MagnetLink c = MagnetLink.Parse("magnet:?xt=urn:btih:" + Base32.ToLowerInvariant());
        MagnetLink d = MagnetLink.Parse("MAGNET:?xt=urn:btih:" + Hex.ToUpperInvariant());
        Assert.Equal(Hex, a.InfoHash.ToHex());
        Assert.Equal(a.InfoHash, b.InfoHash);
        Assert.Equal(a.InfoHash, c.InfoHash);
        Assert.Equal(a.InfoHash, d.InfoHash);
        Assert.Equal(Base32, a.InfoHash.ToBase32());
        Assert.Equal(a.InfoHash, InfoHash.Parse(Base32));
    }

    [Fact]
    public void Parses_every_field_with_percent_decoding()
    {
        MagnetLink m = MagnetLink.Parse(
            "magnet:?xt=urn:btih:" + Hex +
            "&dn=My+Film%20%C3%A9" +
            "&tr=http%3A%2F%2Ftracker.example%2Fannounce&tr=udp://t2.example:6969" +
            "&x.pe=10.0.0.1:6881&x.pe=%5B::1%5D:51413" +
            "&so=0,2,4-6" +
            "&xl=12345&unknown=whatever");
        Assert.Equal("My Film é", m.DisplayName);
        Assert.Equal(["http://tracker.example/announce", "udp://t2.example:6969"], m.Trackers);
        Assert.Equal(["10.0.0.1:6881", "[::1]:51413"], m.Peers);
        Assert.Equal([0, 2, 4, 5, 6], m.SelectedFiles);
    }

    [Fact]
    public void So_ranges_are_sorted_deduplicated_and_formatted_compactly()
    {
        MagnetLink m = MagnetLink.Parse("magnet:?xt=urn:btih:" + Hex + "&so=9,1-3,2,7-8");
        Assert.Equal([1, 2, 3, 7, 8, 9], m.SelectedFiles);
        Assert.EndsWith("&so=1-3,7-9", m.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_is_canonical_and_round_trips()
    {
        var m = new MagnetLink(InfoHash.Parse(Hex), "a b/c&d=é", ["http://t/a?x=1&y=2", "udp://u:1"], ["[::1]:1"], [0, 3]);
        string uri = m.ToString();
        Assert.Equal(
            "magnet:?xt=urn:btih:" + Hex + "&dn=a%20b%2Fc%26d%3D%C3%A9&tr=http%3A%2F%2Ft%2Fa%3Fx%3D1%26y%3D2&tr=udp%3A%2F%2Fu%3A1&x.pe=%5B%3A%3A1%5D%3A1&so=0,3",
            uri);
        MagnetLink back = MagnetLink.Parse(uri);
        Assert.Equal(m, back);
        Assert.Equal(m.GetHashCode(), back.GetHashCode());
        Assert.Equal(uri, back.ToString());
        Assert.Equal("magnet:?xt=urn:btih:" + Hex, new MagnetLink(InfoHash.Parse(Hex), null, [], [], []).ToString());
    }

    private const string V2Hex = "caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e";

    [Fact]
    public void Hybrid_link_carries_both_hashes_and_uses_btih_on_the_wire()
    {
        MagnetLink m = MagnetLink.Parse("magnet:?xt=urn:btmh:1220" + V2Hex + "&xt=urn:btih:" + Hex);
        Assert.Equal(Hex, m.InfoHash.ToHex());
        Assert.Equal(V2Hex, m.InfoHashV2?.ToHex());
        Assert.False(m.IsV2Only);
        Assert.Equal("magnet:?xt=urn:btih:" + Hex + "&xt=urn:btmh:1220" + V2Hex, m.ToString());
        Assert.Equal(m, MagnetLink.Parse(m.ToString()));
    }

    [Fact]
    public void V2_only_link_uses_the_truncated_hash_on_the_wire()
    {
        MagnetLink m = MagnetLink.Parse("magnet:?xt=urn:btmh:1220" + V2Hex.ToUpperInvariant() + "&dn=x");
        Assert.Equal(V2Hex, m.InfoHashV2?.ToHex());
        Assert.Equal(V2Hex[..40], m.InfoHash.ToHex());
        Assert.True(m.IsV2Only);
        Assert.Equal("magnet:?xt=urn:btmh:1220" + V2Hex + "&dn=x", m.ToString());
        Assert.Equal(m, MagnetLink.Parse(m.ToString()));
        Assert.NotEqual(m, new MagnetLink(m.InfoHash, "x", [], [], []));
    }

    [Theory]
    [InlineData("xt=urn:btmh:1220abc", "1220")]
    [InlineData("xt=urn:btmh:1114" + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "SHA-256")]
    [InlineData("xt=urn:btmh:1220" + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff&xt=urn:btmh:1220" + "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "two different")]
    public void Bad_btmh_is_refused(string query, string messagePart)
    {
        var e = Assert.Throws<MetainfoException>(() => MagnetLink.Parse("magnet:?" + query));
        Assert.Contains(messagePart, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("http://example.com/?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d", "magnet:?")]
    [InlineData("magnet:?dn=hello", "no xt")]
    [InlineData("magnet:?xt=urn:sha1:ABC", "no xt")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7", "40 hex")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7g", "40 hex")]
    [InlineData("magnet:?xt=urn:btih:IQW23AGCD2ZC24B73RWKBWQ3VIZK3HL1", "base32")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&xt=urn:btih:0000000000000000000000000000000000000000", "two different")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&dn=%zz", "percent")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&dn=%4", "percent")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&dn=%FF", "UTF-8")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&so=a", "so=")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&so=-1", "so=")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&so=5-2", "before it starts")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&so=0-999999999", "more than")]
    [InlineData("magnet:?xt=urn:btih:442dad80c21eb22d703fdc6ca0da1baa32ad9d7d&so=1-2-3", "so=")]
    public void Rejects_bad_links_with_a_clear_message(string uri, string messagePart)
    {
        var e = Assert.Throws<MetainfoException>(() => MagnetLink.Parse(uri));
        Assert.Contains(messagePart, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(MagnetLink.TryParse(uri, out MagnetLink? link));
        Assert.Null(link);
    }

    [Fact]
    public void Oversized_links_are_rejected()
    {
        string uri = "magnet:?xt=urn:btih:" + Hex + string.Concat(Enumerable.Repeat("&tr=x", 1001));
        Assert.Throws<MetainfoException>(() => MagnetLink.Parse(uri));
        Assert.Throws<MetainfoException>(() => MagnetLink.Parse("magnet:?xt=urn:btih:" + Hex + "&dn=" + new string('a', MagnetLink.MaxLength)));
    }

    [Fact]
    public void InfoHash_parse_rejects_wrong_lengths_and_characters()
    {
        Assert.Throws<MetainfoException>(() => InfoHash.Parse(""));
        Assert.Throws<MetainfoException>(() => InfoHash.Parse(Hex + "00"));
        Assert.Throws<MetainfoException>(() => InfoHash.Parse(Base32[..31] + "8"));
        Assert.False(InfoHash.TryParse(null, out _));
        Assert.True(InfoHash.TryParse(Hex.ToUpperInvariant(), out InfoHash h));
        Assert.Equal(Hex, h.ToHex());
    }
}
