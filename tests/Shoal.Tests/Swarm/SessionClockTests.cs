using System.Net;
using System.Net.Sockets;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Tests.Trackers;

namespace Shoal.Tests.Swarm;

/// <summary>A session's timeouts follow its <see cref="SessionOptions.Time"/> and its random choices its seed.</summary>
public sealed class SessionClockTests
{
    private static SessionOptions Quiet(TimeProvider time, int? seed = null) => new()
    {
        ListenPort = 0,
        BindAddress = IPAddress.Loopback,
        EnableDht = false,
        EnableLocalDiscovery = false,
        Time = time,
        RandomSeed = seed,
    };

    [Fact]
    public async Task An_incoming_connection_that_never_handshakes_is_closed_when_the_session_clock_says_so()
    {
        var time = new ManualTimeProvider();
        await using ShoalSession session = await ShoalSession.StartAsync(Quiet(time));
        using var client = new TcpClient();
        await client.ConnectAsync(session.ListenEndPoint);

        // The session arms its handshake deadline (ten seconds from now) once it has accepted the connection; the
        // session's own periodic timers (seeding goals, memory) are pending from the start, so look for that one.
        DateTimeOffset deadline = time.GetUtcNow() + SessionContext.HandshakeTimeout;
        for (int i = 0; i < 500 && !time.PendingDueTimes().Contains(deadline); i++) await Task.Delay(10);
        Assert.Contains(deadline, time.PendingDueTimes());

        // Nine virtual seconds: still open (a wall-clock timer would not have fired either, so check both sides).
        time.Advance(TimeSpan.FromSeconds(9));
        NetworkStream stream = client.GetStream();
        var buffer = new byte[1];
        Task<int> read = stream.ReadAsync(buffer).AsTask();
        Assert.False(await Task.WhenAny(read, Task.Delay(300)) == read, "closed before the handshake timeout");

        // Past ten virtual seconds the session gives up at once, long before ten real seconds have passed.
        time.Advance(TimeSpan.FromSeconds(2));
        Task finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5)));
        Assert.True(finished == read, "the handshake deadline did not follow the session's clock");
        try { Assert.Equal(0, await read); }
        catch (IOException) { } // a reset is a close too
    }

    [Fact]
    public async Task A_seeded_session_draws_the_same_peer_id_every_time_and_another_seed_another()
    {
        await using ShoalSession a = await ShoalSession.StartAsync(Quiet(TimeProvider.System, seed: 7));
        await using ShoalSession b = await ShoalSession.StartAsync(Quiet(TimeProvider.System, seed: 7));
        await using ShoalSession c = await ShoalSession.StartAsync(Quiet(TimeProvider.System, seed: 8));
        Assert.Equal(a.PeerId.ToArray(), b.PeerId.ToArray());
        Assert.NotEqual(a.PeerId.ToArray(), c.PeerId.ToArray());
    }

    [Fact]
    public async Task Each_disk_service_keeps_its_own_Linux_io_switches()
    {
        // One file system refusing a hint turns it off for that service only, never process-wide.
        await using var first = new DiskService(1);
        await using var second = new DiskService(1);
        Assert.NotSame(first.FileIo, second.FileIo);
    }
}
