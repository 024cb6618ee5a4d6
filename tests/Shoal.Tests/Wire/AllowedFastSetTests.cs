using System.Net;
using Shoal.Metainfo;
using Shoal.Wire;

namespace Shoal.Tests.Wire;

public sealed class AllowedFastSetTests
{
    private static readonly InfoHash AllAa = new(Enumerable.Repeat((byte)0xAA, 20).ToArray());

    [Fact]
    public void MatchesBep6TestVectors()
    {
        var ip = IPAddress.Parse("80.4.4.200");
        Assert.Equal(new[] { 1059, 431, 808, 1217, 287, 376, 1188 }, AllowedFastSet.Compute(ip, AllAa, 1313, 7));
        Assert.Equal(new[] { 1059, 431, 808, 1217, 287, 376, 1188, 353, 508 }, AllowedFastSet.Compute(ip, AllAa, 1313, 9));
    }

    [Fact]
    public void UsesOnlyTheSlash24AndAcceptsMappedAddresses()
    {
        int[] expected = AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), AllAa, 1313, 9);
        Assert.Equal(expected, AllowedFastSet.Compute(IPAddress.Parse("80.4.4.1"), AllAa, 1313, 9));
        Assert.Equal(expected, AllowedFastSet.Compute(IPAddress.Parse("::ffff:80.4.4.7"), AllAa, 1313, 9));
        Assert.NotEqual(expected, AllowedFastSet.Compute(IPAddress.Parse("80.4.5.200"), AllAa, 1313, 9));
    }

    [Fact]
    public void CountIsClampedToPieceCountAndIndicesAreDistinct()
    {
        int[] set = AllowedFastSet.Compute(IPAddress.Parse("10.0.0.1"), AllAa, 3, 10);
        Assert.Equal(new[] { 0, 1, 2 }, set.Order().ToArray());
        int[] v6 = AllowedFastSet.Compute(IPAddress.Parse("2001:db8::1"), AllAa, 50, 10);
        Assert.Equal(10, v6.Distinct().Count());
        Assert.All(v6, i => Assert.InRange(i, 0, 49));
    }
}
