using System.Net;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class TokenAndPeerStoreTests
{
    [Fact]
    public void TokensSurviveOneRotationButNotTwo()
    {
        var time = new VirtualTimeProvider();
        var tokens = new TokenManager(time);
        IPAddress a = IPAddress.Parse("1.2.3.4"), b = IPAddress.Parse("1.2.3.5");
        byte[] token = tokens.Create(a);
        Assert.True(tokens.Validate(token, a));
        Assert.False(tokens.Validate(token, b));
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.True(tokens.Validate(token, a));
        time.Advance(TimeSpan.FromMinutes(2)); // rotated once: previous secret still accepted
        Assert.True(tokens.Validate(token, a));
        time.Advance(TimeSpan.FromMinutes(5)); // rotated twice
        Assert.False(tokens.Validate(token, a));
        Assert.False(tokens.Validate([1, 2, 3], a));
    }

    [Fact]
    public void PeerStoreIsCappedAndExpires()
    {
        var time = new VirtualTimeProvider();
        var store = new PeerStore(time, maxInfoHashes: 3, maxPeersPerInfoHash: 5);
        var random = new Random(1);
        NodeId[] hashes = [.. Enumerable.Range(0, 5).Select(_ => NodeId.CreateRandom(random))];
        for (int h = 0; h < 3; h++) Assert.True(store.Add(hashes[h], new IPEndPoint(IPAddress.Loopback, 1)));
        Assert.False(store.Add(hashes[3], new IPEndPoint(IPAddress.Loopback, 1))); // info-hash cap
        for (int p = 0; p < 20; p++) store.Add(hashes[0], new IPEndPoint(IPAddress.Loopback, 100 + p));
        List<IPEndPoint> peers = store.Get(hashes[0], 100, random);
        Assert.Equal(5, peers.Count);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 119), peers); // newest kept, oldest evicted
        Assert.Equal(3, store.Get(hashes[0], 3, random).Count);

        time.Advance(TimeSpan.FromMinutes(29));
        store.Add(hashes[1], new IPEndPoint(IPAddress.Loopback, 1)); // re-announce refreshes
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(store.Get(hashes[0], 10, random));
        Assert.Single(store.Get(hashes[1], 10, random));
        store.ExpireAll();
        Assert.Equal(1, store.InfoHashCount);
        Assert.True(store.Add(hashes[4], new IPEndPoint(IPAddress.Loopback, 1)));
    }

    [Fact]
    public void RateLimiterAllowsBurstThenRate()
    {
        var time = new VirtualTimeProvider();
        var limiter = new SourceRateLimiter(time, perSecond: 10, burst: 5, maxSources: 2);
        IPAddress a = IPAddress.Parse("1.1.1.1");
        for (int i = 0; i < 5; i++) Assert.True(limiter.TryAcquire(a));
        Assert.False(limiter.TryAcquire(a));
        time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(limiter.TryAcquire(a));
        Assert.False(limiter.TryAcquire(a));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2.2.2.2")));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("3.3.3.3"))); // table full of active sources
    }
}
