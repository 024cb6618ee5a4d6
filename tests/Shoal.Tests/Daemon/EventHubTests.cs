using Shoal.Daemon.Service;

namespace Shoal.Tests.Daemon;

public sealed class EventHubTests
{
    private static async Task<List<DaemonEvent>> TakeAsync(IAsyncEnumerable<DaemonEvent> events, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var taken = new List<DaemonEvent>();
        await foreach (DaemonEvent e in events.WithCancellation(timeout.Token))
        {
            taken.Add(e);
            if (taken.Count == count) break;
        }
        return taken;
    }

    [Fact]
    public async Task Every_reader_gets_every_event_in_order()
    {
        var hub = new EventHub(TimeProvider.System, "e1");
        IAsyncEnumerator<DaemonEvent> a = hub.ReadAsync().GetAsyncEnumerator();
        IAsyncEnumerator<DaemonEvent> b = hub.ReadAsync().GetAsyncEnumerator();
        Task<bool> aFirst = a.MoveNextAsync().AsTask();
        Task<bool> bFirst = b.MoveNextAsync().AsTask();
        await Eventually.TrueAsync(() => hub.ReaderCount == 2, TimeSpan.FromSeconds(5), "readers registered");
        hub.Publish(DaemonEventKind.Added, 1);
        hub.Publish(DaemonEventKind.Removed, 1);
        Assert.True(await aFirst);
        Assert.True(await bFirst);
        Assert.Equal(DaemonEventKind.Added, a.Current.Kind);
        Assert.Equal(DaemonEventKind.Added, b.Current.Kind);
        Assert.True(await a.MoveNextAsync());
        Assert.Equal(DaemonEventKind.Removed, a.Current.Kind);
        Assert.Equal(2, a.Current.Sequence);
        await a.DisposeAsync();
        await b.DisposeAsync();
        Assert.Equal(0, hub.ReaderCount);
    }

    [Fact]
    public async Task A_reader_that_falls_too_far_behind_gets_a_resync_instead_of_unbounded_memory()
    {
        var hub = new EventHub(TimeProvider.System, "e1");
        IAsyncEnumerator<DaemonEvent> reader = hub.ReadAsync().GetAsyncEnumerator();
        Task<bool> first = reader.MoveNextAsync().AsTask();
        await Eventually.TrueAsync(() => hub.ReaderCount == 1, TimeSpan.FromSeconds(5), "reader registered");
        for (int i = 0; i < EventHub.ReaderCapacity + 100; i++) hub.Publish(DaemonEventKind.Updated);
        Assert.True(await first);
        Assert.Equal(1, reader.Current.Sequence); // taken by the waiting read before the flood
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(DaemonEventKind.Resync, reader.Current.Kind);
        hub.Publish(DaemonEventKind.Added);
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(DaemonEventKind.Added, reader.Current.Kind);
        await reader.DisposeAsync();
    }

    [Fact]
    public async Task A_reconnecting_reader_continues_after_its_last_event_or_resyncs_when_it_is_gone()
    {
        var hub = new EventHub(TimeProvider.System, "e1");
        for (int i = 0; i < 10; i++) hub.Publish(DaemonEventKind.StateChanged, i);
        List<DaemonEvent> resumed = await TakeAsync(hub.ReadAsync(after: 7), 3);
        Assert.Equal([8L, 9L, 10L], resumed.Select(e => e.Sequence));
        for (int i = 0; i < EventHub.HistoryCapacity + 5; i++) hub.Publish(DaemonEventKind.Updated);
        Assert.Equal(DaemonEventKind.Resync, (await TakeAsync(hub.ReadAsync(after: 3), 1))[0].Kind);
        Assert.Equal(DaemonEventKind.Resync, (await TakeAsync(hub.ReadAsync(after: -1), 1))[0].Kind);
    }
}
