namespace Shoal.Tests.Core;

public sealed class BitFieldTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(1000)]
    public void SetBitsEnumeratesExactlyTheSetIndicesInOrder(int length)
    {
        var random = new Random(length);
        var field = new BitField(length);
        var expected = new List<int>();
        for (int i = 0; i < length; i++)
        {
            if (random.Next(3) != 0) continue;
            field[i] = true;
            expected.Add(i);
        }
        var seen = new List<int>();
        foreach (int index in field.SetBits) seen.Add(index);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public void SetFractionIsTheShareOfBitsSet()
    {
        Assert.Equal(0, new BitField(0).SetFraction);
        var field = new BitField(8);
        Assert.Equal(0, field.SetFraction);
        field[1] = true;
        field[6] = true;
        Assert.Equal(0.25, field.SetFraction);
    }

    [Fact]
    public void SetBitsOfAFullFieldIgnoresTheSpareBits()
    {
        var field = new BitField(13);
        field.SetAll();
        var seen = new List<int>();
        foreach (int index in field.SetBits) seen.Add(index);
        Assert.Equal(Enumerable.Range(0, 13), seen);
    }
}
