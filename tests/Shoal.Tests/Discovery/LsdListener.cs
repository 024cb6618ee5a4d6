using System.Net;
using System.Threading.Channels;
using Shoal.Discovery;
using Shoal.Metainfo;

namespace Shoal.Tests.Discovery;

/// <summary>
/// Hears the LSD announces sent to a group (<see cref="MulticastLoopback.Lsd"/>) through an LSD instance of its own,
/// which announces nothing: what it hears, in order, is what the others sent.
/// </summary>
internal sealed class LsdListener : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly Channel<(InfoHash Hash, IPEndPoint Peer)> _heard = Channel.CreateUnbounded<(InfoHash, IPEndPoint)>();
    private readonly LocalServiceDiscovery _lsd;

    /// <summary>Joins the group of <paramref name="group"/> (on the real clock, whatever clock the announcers keep).</summary>
    public LsdListener(LsdOptions group) =>
        _lsd = new LocalServiceDiscovery(group with { TimeProvider = TimeProvider.System }, (hash, peer) => _heard.Writer.TryWrite((hash, peer)));

    /// <summary>The next announce heard; fails the test when none comes within 20 seconds.</summary>
    public async Task<(InfoHash Hash, IPEndPoint Peer)> NextAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            return await _heard.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no announce heard in {Patience.TotalSeconds:0} s");
            throw;
        }
    }

    /// <summary>The next announces heard are <paramref name="hashes"/> (in any order), each naming <paramref name="peer"/>.</summary>
    public async Task AssertAnnouncedAsync(IPEndPoint peer, params InfoHash[] hashes)
    {
        var heard = new List<(InfoHash Hash, IPEndPoint Peer)>();
        foreach (InfoHash _ in hashes) heard.Add(await NextAsync());
        Assert.All(heard, a => Assert.Equal(peer, a.Peer));
        Assert.Equal(hashes.Select(h => h.ToHex()).Order(), heard.Select(a => a.Hash.ToHex()).Order());
    }

    /// <summary>Nothing is heard for <paramref name="quiet"/> (an announce over loopback arrives within milliseconds).</summary>
    public async Task AssertSilentAsync(TimeSpan quiet, string when)
    {
        await Task.Delay(quiet);
        Assert.False(_heard.Reader.TryRead(out (InfoHash Hash, IPEndPoint Peer) heard), $"announced {when}: {heard}");
    }

    public ValueTask DisposeAsync() => _lsd.DisposeAsync();
}
