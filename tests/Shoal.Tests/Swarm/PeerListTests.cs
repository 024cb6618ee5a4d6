using System.Net;
using Shoal.Swarm;
using Shoal.Tests.Trackers;

namespace Shoal.Tests.Swarm;

public sealed class PeerListTests
{
    private const long Second = 1000; // timestamp frequency of these tests: milliseconds

    private static PeerList NewList(int capacity = PeerList.DefaultCapacity) =>
        new(Second, new BanList(new ManualTimeProvider()), capacity);

    private static IPEndPoint Ep(int i, int port = 6881) => new(IPAddress.Parse($"10.0.{i / 250}.{i % 250 + 1}"), port);

    [Fact]
    public void Dials_in_the_order_learned_and_never_the_same_address_twice_at_once()
    {
        PeerList list = NewList();
        list.Add(Ep(1), PeerSource.Tracker);
        list.Add(Ep(2), PeerSource.Pex);
        list.Add(Ep(1), PeerSource.Dht); // known: one more source, not a second candidate

        Assert.Equal(2, list.Count);
        Assert.Equal(PeerSource.Tracker | PeerSource.Dht, list.Find(Ep(1))!.Source);
        Assert.True(list.TryTakeNext(0, out IPEndPoint first));
        Assert.True(list.TryTakeNext(0, out IPEndPoint second));
        Assert.False(list.TryTakeNext(0, out _));
        Assert.Equal(Ep(1), first);
        Assert.Equal(Ep(2), second);
    }

    [Fact]
    public void An_ipv4_mapped_address_is_the_same_candidate_and_port_zero_is_no_candidate()
    {
        PeerList list = NewList();
        Assert.True(list.Add(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 5000), PeerSource.Tracker));
        Assert.True(list.Add(new IPEndPoint(IPAddress.Parse("::ffff:10.0.0.2"), 5000), PeerSource.Pex));
        Assert.False(list.Add(new IPEndPoint(IPAddress.Parse("10.0.0.3"), 0), PeerSource.Pex));
        Assert.Equal(1, list.Count);
    }

    [Fact]
    public void A_failed_dial_backs_off_doubling_and_fewer_failures_go_first()
    {
        PeerList list = NewList();
        list.Add(Ep(1), PeerSource.Tracker);
        list.Add(Ep(2), PeerSource.Tracker);
        Assert.True(list.TryTakeNext(0, out IPEndPoint a));
        list.OnDialFailed(a, 0);
        Assert.True(list.TryTakeNext(0, out IPEndPoint b));
        Assert.Equal(Ep(2), b); // Ep(1) waits its back-off

        list.OnDialFailed(b, 0);
        list.OnDialFailed(b, 0); // two failures
        Assert.False(list.TryTakeNext(4 * Second, out _)); // 5 s back-off not over
        Assert.True(list.TryTakeNext(5 * Second, out IPEndPoint again));
        Assert.Equal(Ep(1), again); // one failure beats two

        Assert.Equal(5 * Second, list.Backoff(1));
        Assert.Equal(10 * Second, list.Backoff(2));
        Assert.Equal(600 * Second, list.Backoff(20));
    }

    [Fact]
    public void A_candidate_that_keeps_failing_is_forgotten_unless_the_user_named_it()
    {
        PeerList list = NewList();
        list.Add(Ep(1), PeerSource.Tracker);
        list.Add(Ep(2), PeerSource.Manual);
        for (int i = 0; i < PeerList.MaxFailures; i++)
        {
            list.OnDialFailed(Ep(1), 0);
            list.OnDialFailed(Ep(2), 0);
        }
        Assert.Null(list.Find(Ep(1)));
        Assert.NotNull(list.Find(Ep(2)));

        // Named again by a source: back with a clean record.
        list.Add(Ep(1), PeerSource.Pex);
        Assert.Equal(0, list.Find(Ep(1))!.Failures);
    }

    [Fact]
    public void A_full_list_of_dead_addresses_still_learns_new_ones()
    {
        PeerList list = NewList(capacity: 10);
        for (int i = 0; i < 10; i++) list.Add(Ep(i), PeerSource.Tracker);
        for (int i = 0; i < 10; i++) list.OnDialFailed(Ep(i), 0);
        list.OnDialFailed(Ep(3), 0); // the worst

        Assert.True(list.Add(Ep(100), PeerSource.Pex));
        Assert.Equal(10, list.Count);
        Assert.Null(list.Find(Ep(3)));
        Assert.NotNull(list.Find(Ep(100)));
        Assert.True(list.TryTakeNext(0, out IPEndPoint next));
        Assert.Equal(Ep(100), next); // the fresh one is dialled at once
    }

    [Fact]
    public void A_full_list_of_working_or_connected_addresses_keeps_them()
    {
        PeerList list = NewList(capacity: 3);
        for (int i = 0; i < 3; i++) list.Add(Ep(i), PeerSource.Tracker);
        Assert.True(list.TryTakeNext(0, out IPEndPoint dialled));
        list.OnConnected(dialled, 0);
        Assert.False(list.Add(Ep(50), PeerSource.Pex));
        Assert.Equal(3, list.Count);
    }

    [Fact]
    public void A_connection_that_lasted_clears_the_failures_a_short_one_does_not()
    {
        PeerList list = NewList();
        list.Add(Ep(1), PeerSource.Tracker);
        list.OnDialFailed(Ep(1), 0);
        list.OnDialFailed(Ep(1), 0);
        list.OnConnected(Ep(1), 100 * Second);
        list.OnDisconnected(Ep(1), 110 * Second); // ten seconds: a third failure
        Assert.Equal(3, list.Find(Ep(1))!.Failures);

        list.OnConnected(Ep(1), 200 * Second);
        list.OnDisconnected(Ep(1), 400 * Second); // lasted: it works, only the usual short back-off
        Assert.Equal(1, list.Find(Ep(1))!.Failures);
        Assert.Equal(405 * Second, list.Find(Ep(1))!.NextAttempt);
    }

    [Fact]
    public void Banned_peers_and_ourselves_are_not_dialled_and_a_ban_expires()
    {
        var time = new ManualTimeProvider();
        var list = new PeerList(time.TimestampFrequency, new BanList(time, new BanListOptions { Duration = TimeSpan.FromHours(1) }));
        list.Add(Ep(1), PeerSource.Tracker);
        list.Add(Ep(2), PeerSource.Tracker);
        list.Bans.Ban(Ep(1), null, []);
        Assert.True(list.TryTakeNext(time.GetTimestamp(), out IPEndPoint self));
        Assert.Equal(Ep(2), self);
        list.OnRefused(self, time.GetTimestamp(), isSelf: true);

        time.Advance(TimeSpan.FromMinutes(59));
        Assert.False(list.TryTakeNext(time.GetTimestamp(), out _));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(list.TryTakeNext(time.GetTimestamp(), out IPEndPoint unbanned)); // the hour is over; ourselves never
        Assert.Equal(Ep(1), unbanned);
        time.Advance(TimeSpan.FromDays(1));
        Assert.False(list.TryTakeNext(time.GetTimestamp(), out _));
    }

    [Fact]
    public void A_refused_peer_waits_ten_minutes()
    {
        PeerList list = NewList();
        list.Add(Ep(1), PeerSource.Tracker);
        Assert.True(list.TryTakeNext(0, out _));
        list.OnRefused(Ep(1), 0, isSelf: false);
        Assert.False(list.TryTakeNext(599 * Second, out _));
        Assert.True(list.TryTakeNext(600 * Second, out _));
    }

    [Fact]
    public void An_incoming_peers_listen_address_is_not_dialled_while_connected_and_is_after()
    {
        PeerList list = NewList();
        list.AddConnected(Ep(1), PeerSource.Incoming, 0);
        list.Add(Ep(1), PeerSource.Pex);
        Assert.False(list.TryTakeNext(0, out _));
        list.OnDisconnected(Ep(1), 10 * Second);
        Assert.True(list.TryTakeNext(15 * Second, out IPEndPoint again));
        Assert.Equal(Ep(1), again);
    }
}
