using System.Threading.Channels;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>
/// The actor's mailbox: bounded (writers wait for room, and learn when it closes), in order, and its reader queued on the
/// thread pool once per burst, never twice at a time.
/// </summary>
public sealed class TorrentMailboxTests
{
    private static TorrentEvent Event(int index) => new() { Kind = TorrentEventKind.Tick, Index = index };

    [Fact]
    public async Task A_full_mailbox_refuses_a_post_and_makes_a_writer_wait_for_room()
    {
        var mailbox = new TorrentMailbox(2, new CountingReader());
        Assert.True(mailbox.TryWrite(Event(1)));
        Assert.True(mailbox.TryWrite(Event(2)));
        Assert.False(mailbox.TryWrite(Event(3)));

        ValueTask waiting = mailbox.WriteAsync(Event(3));
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        Assert.True(mailbox.TryRead(out TorrentEvent first));
        await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, first.Index);
        Assert.True(mailbox.TryRead(out TorrentEvent second));
        Assert.True(mailbox.TryRead(out TorrentEvent third));
        Assert.Equal((2, 3), (second.Index, third.Index));
        Assert.False(mailbox.TryRead(out _));
    }

    [Fact]
    public async Task Completing_tells_waiting_writers_it_closed_and_refuses_posts()
    {
        var mailbox = new TorrentMailbox(1, new CountingReader());
        Assert.True(mailbox.TryWrite(Event(1)));
        ValueTask waiting = mailbox.WriteAsync(Event(2));
        Task read = mailbox.WaitToReadAsync();
        Assert.True(read.IsCompleted); // one event waits
        Assert.True(mailbox.TryComplete());
        await Assert.ThrowsAsync<ChannelClosedException>(() => waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(mailbox.TryWrite(Event(3)));
        Assert.True(mailbox.TryRead(out TorrentEvent left)); // what was posted before is still read (the shutdown discards it)
        Assert.Equal(1, left.Index);
    }

    [Fact]
    public async Task The_shutdown_s_wait_wakes_on_the_next_post()
    {
        var mailbox = new TorrentMailbox(8, new CountingReader());
        Task read = mailbox.WaitToReadAsync();
        Assert.False(read.IsCompleted);
        Assert.True(mailbox.TryWrite(Event(1)));
        await read.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_reader_is_queued_once_per_burst_and_only_once_started()
    {
        var reader = new CountingReader();
        var mailbox = new TorrentMailbox(1000, reader);
        reader.Mailbox = mailbox;
        for (int i = 0; i < 10; i++) Assert.True(mailbox.TryWrite(Event(i)));
        await Task.Delay(50);
        Assert.Equal(0, reader.Turns); // not started: posts wait (a simulation reads them itself)

        reader.Hold.Reset();
        mailbox.Start(runNow: false);
        for (int i = 10; i < 100; i++) Assert.True(mailbox.TryWrite(Event(i))); // while the first turn is held
        reader.Hold.Set();
        await Eventually.TrueAsync(() => reader.Read.Count == 100, TimeSpan.FromSeconds(10), $"{reader.Read.Count} read");
        Assert.Equal(Enumerable.Range(0, 100), reader.Read);
        Assert.Equal(1, reader.MaxConcurrent);
        int turns = reader.Turns;
        Assert.InRange(turns, 1, 2); // the held turn read everything (a second may find the mailbox empty)

        Assert.True(mailbox.TryWrite(Event(100)));
        await Eventually.TrueAsync(() => reader.Read.Count == 101, TimeSpan.FromSeconds(10), "the next burst was never read");
        Assert.True(reader.Turns > turns);

        mailbox.Detach();
        int detached = reader.Turns;
        Assert.True(mailbox.TryWrite(Event(101)));
        await Task.Delay(50);
        Assert.Equal(detached, reader.Turns); // the shutdown reads what is left itself
    }

    private sealed class CountingReader : IThreadPoolWorkItem
    {
        private int _running;

        public TorrentMailbox? Mailbox { get; set; }

        public ManualResetEventSlim Hold { get; } = new(true);

        public List<int> Read { get; } = [];

        public int Turns;

        public int MaxConcurrent;

        public void Execute()
        {
            int now = Interlocked.Increment(ref _running);
            if (now > MaxConcurrent) MaxConcurrent = now;
            Interlocked.Increment(ref Turns);
            Hold.Wait(TimeSpan.FromSeconds(10));
            while (true)
            {
                while (Mailbox!.TryRead(out TorrentEvent item)) lock (Read) Read.Add(item.Index);
                if (Mailbox.TryFinishDrain()) break;
            }
            Interlocked.Decrement(ref _running);
        }
    }
}
