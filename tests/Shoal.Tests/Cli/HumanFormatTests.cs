using Shoal.Cli;

namespace Shoal.Tests.Cli;

public sealed class HumanFormatTests
{
    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(1024L, "1.00 KiB")]
    [InlineData(1536L, "1.50 KiB")]
    [InlineData(67_108_864L, "64.0 MiB")]
    [InlineData(1_073_741_824L, "1.00 GiB")]
    [InlineData(1_048_575L, "1.00 MiB")]
    [InlineData(500L * 1024 * 1024, "500 MiB")]
    public void Sizes(long bytes, string expected) => Assert.Equal(expected, HumanFormat.Size(bytes));

    [Fact]
    public void Size_with_bytes_shows_both()
        => Assert.Equal("64.0 MiB (67108864 bytes)", HumanFormat.SizeWithBytes(67_108_864));

    [Fact]
    public void Rate_adds_per_second() => Assert.Equal("4.00 KiB/s", HumanFormat.Rate(4096));

    [Fact]
    public void Durations()
    {
        Assert.Equal("0:07", HumanFormat.Duration(TimeSpan.FromSeconds(7)));
        Assert.Equal("12:34", HumanFormat.Duration(TimeSpan.FromSeconds(754)));
        Assert.Equal("1:02:03", HumanFormat.Duration(TimeSpan.FromSeconds(3723)));
        Assert.Equal("--:--", HumanFormat.Duration(null));
    }

    [Fact]
    public void Percent_clamps()
    {
        Assert.Equal("42.5%", HumanFormat.Percent(0.425));
        Assert.Equal("100.0%", HumanFormat.Percent(1.5));
        Assert.Equal("0.0%", HumanFormat.Percent(double.NaN));
    }
}
