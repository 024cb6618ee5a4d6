using System.Text;
using Shoal.Metainfo;

namespace Shoal.Tests.Metainfo;

/// <summary>
/// Path elements sanitised as libtorrent's sanitize_append_path_element does (vectors worked out from its rules;
/// the corpus interop test checks whole torrents against libtorrent itself).
/// </summary>
public sealed class PathSanitizerTests
{
    private static string? Clean(byte[] element) => PathSanitizer.Sanitize(element, out _);

    [Theory]
    [InlineData("plain.txt", "plain.txt")]
    [InlineData("", "_")]
    [InlineData(".", null)]
    [InlineData("..", null)]
    [InlineData("...", "...")]
    [InlineData("/", null)]
    [InlineData("/..", null)]
    [InlineData("./.", null)]
    [InlineData("a/b\\c", "abc")]
    [InlineData("tab\there", "tab_here")]
    [InlineData("del\u007Fete", "del_ete")]
    [InlineData("c1\u0085ctl", "c1_ctl")]
    [InlineData("evil\u202Egpj.exe", "evilgpj.exe")]
    [InlineData("iso\u2066late\u2069", "isolate")]
    [InlineData("lrm\u200Emark\u200F", "lrmmark")]
    [InlineData("Ünïcödé", "Ünïcödé")]
    [InlineData("PRN.txt", "_PRN.txt")]
    [InlineData("lpt1", "_lpt1")]
    [InlineData("conscious", "conscious")]
    public void Sanitises_text(string element, string? expected)
    {
        Assert.Equal(expected, Clean(Encoding.UTF8.GetBytes(element)));
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 }, "a_b")]             // invalid lead byte: one '_' for one byte
    [InlineData(new byte[] { 0xC3 }, "_")]                           // truncated two-byte sequence
    [InlineData(new byte[] { 0xE2, 0x82, 0x41 }, "_")]               // bad continuation: the whole 3-byte sequence
    [InlineData(new byte[] { 0xC0, 0xAF, 0x41 }, "_A")]              // overlong '/' is not a separator, just invalid
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "_")]               // a surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, "_")]         // beyond U+10FFFF
    [InlineData(new byte[] { 0xF8, 0x88, 0x80, 0x80, 0x80, 0x41 }, "_A")] // a 5-byte form is skipped whole
    [InlineData(new byte[] { 0x41, 0xF8, 0x88 }, "A_")]              // ... even when the input ends early
    public void Replaces_each_invalid_utf8_sequence_with_one_underscore(byte[] element, string expected)
    {
        Assert.Equal(expected, Clean(element));
    }

    [Fact]
    public void Cuts_at_240_bytes_and_keeps_an_extension_found_in_the_last_10_bytes()
    {
        Assert.Equal(new string('a', 240) + ".mkv", Clean(Encoding.UTF8.GetBytes(new string('a', 300) + ".mkv")));
        Assert.Equal(new string('a', 240), Clean(Encoding.UTF8.GetBytes(new string('a', 300) + ".toolongext")));
        Assert.Equal(new string('a', 240), Clean(Encoding.UTF8.GetBytes(new string('a', 300))));
        Assert.Equal(new string('a', 239), Clean(Encoding.UTF8.GetBytes(new string('a', 239))));
        // Multi-byte characters are copied whole: the cut lands after the character that reaches 240 bytes.
        string cut = Clean(Encoding.UTF8.GetBytes(new string('€', 100) + ".txt"))!; // 300 bytes of 3-byte characters
        Assert.Equal(new string('€', 80) + ".txt", cut);
        Assert.True(Encoding.UTF8.GetByteCount(cut) <= 255);
    }

    [Fact]
    public void Reports_whether_anything_changed()
    {
        PathSanitizer.Sanitize("same.txt", out bool changed);
        Assert.False(changed);
        PathSanitizer.Sanitize("über.txt", out changed);
        Assert.False(changed);
        PathSanitizer.Sanitize("a/b", out changed);
        Assert.True(changed);
        PathSanitizer.Sanitize("CON", out changed);
        Assert.True(changed);
    }
}
