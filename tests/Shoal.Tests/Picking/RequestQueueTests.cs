using Shoal.Picking;

namespace Shoal.Tests.Picking;

public sealed class RequestQueueTests
{
    [Fact]
    public void Depth_CoversOneSecondOfRate_Clamped()
    {
        Assert.Equal(RequestQueue.MinDepth, RequestQueue.Depth(0));
        Assert.Equal(RequestQueue.MinDepth, RequestQueue.Depth(-5));
        Assert.Equal(RequestQueue.MinDepth, RequestQueue.Depth(10_000));
        Assert.Equal(64, RequestQueue.Depth(64L * PiecePicker.BlockLength));       // 1 MiB/s
        Assert.Equal(65, RequestQueue.Depth(64L * PiecePicker.BlockLength + 1));
        Assert.Equal(RequestQueue.MaxDepth, RequestQueue.Depth(300L * 1024 * 1024)); // 300 MiB/s
        Assert.Equal(RequestQueue.MaxDepth, RequestQueue.Depth(long.MaxValue));
    }

    [Fact]
    public void Depth_IsMonotonic()
    {
        int last = 0;
        for (long rate = 0; rate < 20_000_000; rate += 37_001)
        {
            int d = RequestQueue.Depth(rate);
            Assert.True(d >= last);
            Assert.InRange(d, RequestQueue.MinDepth, RequestQueue.MaxDepth);
            last = d;
        }
    }
}
