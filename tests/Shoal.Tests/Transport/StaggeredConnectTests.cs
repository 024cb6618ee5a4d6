using System.Net;
using System.Net.Sockets;
using Shoal.Tests.Trackers;
using Shoal.Transport;

namespace Shoal.Tests.Transport;

/// <summary>
/// uTP first, TCP after a head start, first connection wins: the dial of a peer that does not answer uTP costs the head
/// start, not uTP's connect timeout, and the loser is cancelled or closed.
/// </summary>
public sealed class StaggeredConnectTests
{
    private static readonly IPEndPoint Peer = new(IPAddress.Loopback, 6881);
    private static readonly TimeSpan HeadStart = TimeSpan.FromMilliseconds(500);

    /// <summary>A connector whose attempts complete when the test says so.</summary>
    private sealed class ScriptedConnector(string name) : IPeerConnector
    {
        public TaskCompletionSource<PeerTransport> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Cancelled { get; private set; }
        public string Name => name;
        public bool CanReach(IPEndPoint endPoint) => true;

        public async ValueTask<PeerTransport> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            using CancellationTokenRegistration registration = cancellationToken.Register(() =>
            {
                Cancelled = true;
                Outcome.TrySetCanceled(cancellationToken);
            });
            return await Outcome.Task;
        }
    }

    /// <summary>Waits for the attempt, then a moment more: the head start's timer is set up beside it, not before.</summary>
    private static async Task StartedAsync(ScriptedConnector connector)
    {
        await connector.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(100);
    }

    private static PeerTransport NewTransport() => InMemoryTransport.CreatePair(Peer, Peer).First;

    [Fact]
    public async Task TheSecondStartsOnlyAfterTheHeadStartAndWinsWhenTheFirstIsSilent()
    {
        var time = new ManualTimeProvider();
        var utp = new ScriptedConnector("utp");
        var tcp = new ScriptedConnector("tcp");
        var dial = StaggeredConnect.ConnectAsync([utp, tcp], Peer, HeadStart, time, CancellationToken.None).AsTask();
        await StartedAsync(utp);
        time.Advance(HeadStart - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.False(tcp.Started.Task.IsCompleted, "TCP went out before uTP's head start was over");

        time.Advance(TimeSpan.FromMilliseconds(1));
        await tcp.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        PeerTransport won = NewTransport();
        tcp.Outcome.SetResult(won);
        (PeerTransport transport, IPeerConnector by) = await dial.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(won, transport);
        Assert.Same(tcp, by);
        await Eventually.TrueAsync(() => utp.Cancelled, TimeSpan.FromSeconds(5), "the uTP attempt was not cancelled");
        await transport.DisposeAsync();
    }

    [Fact]
    public async Task TheFirstWinsWithinItsHeadStartAndTheSecondNeverStarts()
    {
        var time = new ManualTimeProvider();
        var utp = new ScriptedConnector("utp");
        var tcp = new ScriptedConnector("tcp");
        var dial = StaggeredConnect.ConnectAsync([utp, tcp], Peer, HeadStart, time, CancellationToken.None).AsTask();
        await StartedAsync(utp);
        utp.Outcome.SetResult(NewTransport());
        (PeerTransport transport, IPeerConnector by) = await dial.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(utp, by);
        time.Advance(HeadStart * 4);
        await Task.Delay(50);
        Assert.False(tcp.Started.Task.IsCompleted);
        await transport.DisposeAsync();
    }

    [Fact]
    public async Task AFailureHandsTheTurnOnAtOnce()
    {
        var time = new ManualTimeProvider();
        var utp = new ScriptedConnector("utp");
        var tcp = new ScriptedConnector("tcp");
        var dial = StaggeredConnect.ConnectAsync([utp, tcp], Peer, HeadStart, time, CancellationToken.None).AsTask();
        await StartedAsync(utp);
        utp.Outcome.SetException(new SocketException((int)SocketError.ConnectionRefused));
        await tcp.Started.Task.WaitAsync(TimeSpan.FromSeconds(5)); // no time advanced
        tcp.Outcome.SetResult(NewTransport());
        (PeerTransport transport, IPeerConnector by) = await dial.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(tcp, by);
        await transport.DisposeAsync();
    }

    [Fact]
    public async Task ALoserThatConnectsAnywayIsClosed()
    {
        var time = new ManualTimeProvider();
        var utp = new ScriptedConnector("utp");
        var tcp = new ScriptedConnector("tcp");
        var dial = StaggeredConnect.ConnectAsync([utp, tcp], Peer, HeadStart, time, CancellationToken.None).AsTask();
        await StartedAsync(utp);
        time.Advance(HeadStart);
        await tcp.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        // uTP connects in the same instant TCP does (before it sees the cancellation): it must not leak.
        (PeerTransport late, PeerTransport remote) = InMemoryTransport.CreatePair(Peer, Peer);
        utp.Outcome.TrySetResult(late);
        tcp.Outcome.SetResult(NewTransport());
        (PeerTransport transport, IPeerConnector by) = await dial.WaitAsync(TimeSpan.FromSeconds(5));
        if (by == tcp)
        {
            // The late uTP connection is aborted: its peer reads a reset.
            await Assert.ThrowsAsync<IOException>(() => remote.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        }
        await transport.DisposeAsync();
    }

    [Fact]
    public async Task WhenAllFailTheLastFailureIsThrown()
    {
        var time = new ManualTimeProvider();
        var utp = new ScriptedConnector("utp");
        var tcp = new ScriptedConnector("tcp");
        var dial = StaggeredConnect.ConnectAsync([utp, tcp], Peer, HeadStart, time, CancellationToken.None).AsTask();
        await StartedAsync(utp);
        utp.Outcome.SetException(new TimeoutException("utp"));
        await tcp.Started.Task.WaitAsync(TimeSpan.FromSeconds(5));
        tcp.Outcome.SetException(new SocketException((int)SocketError.ConnectionRefused));
        await Assert.ThrowsAsync<SocketException>(() => dial.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
