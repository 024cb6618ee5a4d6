using Shoal.Cli;

namespace Shoal.Tests.Cli;

public sealed class SizeParserTests
{
    [Theory]
    [InlineData("100000", 100_000L)]
    [InlineData("0", 0L)]
    [InlineData("5MB", 5_000_000L)]
    [InlineData("5mb", 5_000_000L)]
    [InlineData("500kB", 500_000L)]
    [InlineData("500KB", 500_000L)]
    [InlineData("1KiB", 1024L)]
    [InlineData("1.5MiB", 1_572_864L)]
    [InlineData("1.5mib", 1_572_864L)]
    [InlineData("64MiB", 67_108_864L)]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("1GiB", 1_073_741_824L)]
    [InlineData("4K", 4096L)]
    [InlineData("4k", 4096L)]
    [InlineData("4M", 4_194_304L)]
    [InlineData("1G", 1_073_741_824L)]
    [InlineData("1T", 1_099_511_627_776L)]
    [InlineData("12B", 12L)]
    [InlineData(" 5 MB ", 5_000_000L)]
    [InlineData("4MB/s", 4_000_000L)]
    [InlineData("0.5kB", 500L)]
    [InlineData(".5KiB", 512L)]
    public void Parses_valid_sizes(string text, long expected)
    {
        Assert.True(SizeParser.TryParse(text, out long bytes, out string? error), error);
        Assert.Equal(expected, bytes);
        Assert.Equal(expected, SizeParser.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("MB")]
    [InlineData("-5MB")]
    [InlineData("5XB")]
    [InlineData("5 mega")]
    [InlineData("1.5")]
    [InlineData("1..5MB")]
    [InlineData("1.2.3kB")]
    [InlineData("5MBB")]
    [InlineData("9999999999999999999999")]
    [InlineData("99999999999TiB")]
    [InlineData("0x10")]
    [InlineData("1e6")]
    [InlineData("1,000")]
    [InlineData("5 MB extra")]
    public void Rejects_invalid_sizes_with_a_message(string text)
    {
        Assert.False(SizeParser.TryParse(text, out _, out string? error));
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.DoesNotContain('\n', error);
        CliException ex = Assert.Throws<CliException>(() => SizeParser.Parse(text));
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void Null_and_very_long_input_are_rejected()
    {
        Assert.False(SizeParser.TryParse(null, out _, out _));
        Assert.False(SizeParser.TryParse(new string('9', 10_000), out _, out string? error));
        Assert.Contains("too long", error);
    }

    [Fact]
    public void Fuzzed_input_never_throws()
    {
        var random = new Random(1234);
        const string alphabet = "0123456789.kKmMgGtTiIbB /s-+eE,x";
        for (int i = 0; i < 3000; i++)
        {
            char[] chars = new char[random.Next(0, 20)];
            for (int j = 0; j < chars.Length; j++) chars[j] = alphabet[random.Next(alphabet.Length)];
            string text = new(chars);
            bool ok = SizeParser.TryParse(text, out long bytes, out string? error);
            Assert.True(ok ? bytes >= 0 && error is null : error is not null, text);
        }
    }
}
