using System.Text;
using Shoal.Discovery;
using Shoal.Metainfo;

namespace Shoal.Tests.Discovery;

public sealed class LsdMessageTests
{
    private static readonly InfoHash A = InfoHash.Parse("0123456789abcdef0123456789abcdef01234567");
    private static readonly InfoHash B = InfoHash.Parse("fedcba9876543210fedcba9876543210fedcba98");

    [Fact]
    public void FormatsTheBep14Layout()
    {
        byte[] bytes = LsdMessage.Format("239.192.152.143:6771", 6881, [A, B], "abc123");
        Assert.Equal(
            "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n" +
            "Infohash: 0123456789abcdef0123456789abcdef01234567\r\nInfohash: fedcba9876543210fedcba9876543210fedcba98\r\n" +
            "cookie: abc123\r\n\r\n\r\n",
            Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void RoundTrips()
    {
        LsdAnnounce? parsed = LsdMessage.Parse(LsdMessage.Format("[ff15::efc0:988f]:6771", 51413, [A, B], "c00k1e"));
        Assert.NotNull(parsed);
        Assert.Equal(51413, parsed.Port);
        Assert.Equal([A, B], parsed.InfoHashes);
        Assert.Equal("c00k1e", parsed.Cookie);
    }

    [Fact]
    public void TwentyHashesFitIn1400Bytes()
    {
        var hashes = Enumerable.Range(0, LsdMessage.MaxHashesPerMessage).Select(i => new InfoHash(Enumerable.Repeat((byte)i, 20).ToArray())).ToArray();
        byte[] bytes = LsdMessage.Format("[ff15::efc0:988f]:65535", 65535, hashes, new string('c', LsdMessage.MaxCookieLength));
        Assert.True(bytes.Length <= 1400, $"{bytes.Length} bytes");
        Assert.Equal(hashes, LsdMessage.Parse(bytes)!.InfoHashes);
    }

    [Fact]
    public void IsLenientAboutCaseLineEndsSpacingAndUnknownHeaders()
    {
        string text = "BT-SEARCH * HTTP/1.1\nHOST: x\nX-Whatever: 1\nport:\t 7000 \ninfohash:  0123456789ABCDEF0123456789ABCDEF01234567\n" +
                      "Infohash: not-hex\nInfohash: 0123456789abcdef0123456789abcdef01234567\nno colon line\n\n";
        LsdAnnounce? parsed = LsdMessage.Parse(Encoding.ASCII.GetBytes(text));
        Assert.NotNull(parsed);
        Assert.Equal(7000, parsed.Port);
        Assert.Equal([A], parsed.InfoHashes);
        Assert.Null(parsed.Cookie);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GET / HTTP/1.1\r\nPort: 1\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: -1\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 0123456789abcdef0123456789abcdef0123456\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n")]
    public void IgnoresUnusableDatagrams(string text) => Assert.Null(LsdMessage.Parse(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void IgnoresOversizedAndHeaderFloodedDatagrams()
    {
        string valid = "BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n";
        string padded = valid + "X: " + new string('a', LsdMessage.MaxDatagramLength) + "\r\n\r\n";
        Assert.Null(LsdMessage.Parse(Encoding.ASCII.GetBytes(padded)));
        string flooded = valid + string.Concat(Enumerable.Repeat("X: y\r\n", LsdMessage.MaxHeaders)) + "\r\n";
        Assert.Null(LsdMessage.Parse(Encoding.ASCII.GetBytes(flooded)));
        Assert.NotNull(LsdMessage.Parse(Encoding.ASCII.GetBytes(valid + "\r\n")));
    }

    [Fact]
    public void FormatRefusesBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LsdMessage.Format("h", 0, [A], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Format("h", 1, [], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Format("h", 1, Enumerable.Repeat(A, 21).ToArray(), null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Format("h", 1, [A], "bad\r\ncookie"));
        Assert.Throws<ArgumentException>(() => LsdMessage.Format("h\r\nPort: 1", 1, [A], null));
    }
}
