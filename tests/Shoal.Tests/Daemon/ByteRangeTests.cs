using Shoal.Daemon.Http;

namespace Shoal.Tests.Daemon;

public sealed class ByteRangeTests
{
    [Theory]
    [InlineData(null, 0L, 999L, false)]
    [InlineData("bytes=0-", 0L, 999L, true)]
    [InlineData("bytes=100-199", 100L, 199L, true)]
    [InlineData("bytes=900-5000", 900L, 999L, true)]
    [InlineData("bytes=-100", 900L, 999L, true)]
    [InlineData("bytes=-5000", 0L, 999L, true)]
    [InlineData("bytes=10-20, 30-40", 10L, 20L, true)]
    [InlineData("items=0-5", 0L, 999L, false)]
    [InlineData("bytes=abc", 0L, 999L, false)]
    [InlineData("bytes=20-10", 0L, 999L, false)]
    public void Ranges_of_a_1000_byte_file(string? header, long start, long end, bool partial)
    {
        (ByteRange? range, bool isPartial) = ByteRange.Parse(header, 1000);
        Assert.Equal(new ByteRange(start, end), range);
        Assert.Equal(partial, isPartial);
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=5000-6000")]
    [InlineData("bytes=-0")]
    public void A_range_past_the_end_is_unsatisfiable(string header)
    {
        (ByteRange? range, bool partial) = ByteRange.Parse(header, 1000);
        Assert.Null(range);
        Assert.True(partial);
    }
}
