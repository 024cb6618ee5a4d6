using System.Collections.Concurrent;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>The torrent actor's way of writing: queued on the disk service, verdicts as events, watermarks.</summary>
public sealed class QueuedWriteTests
{
    private sealed class Events : IDiskEvents
    {
        public readonly ConcurrentQueue<(int Piece, bool Verified)> Hashed = new();
        public readonly ConcurrentQueue<(int Piece, Exception Error)> Failed = new();
        public int Drained;

        public void OnPieceHashed(int piece, bool verified) => Hashed.Enqueue((piece, verified));
        public void OnWriteFailed(int piece, Exception error) => Failed.Enqueue((piece, error));
        public void OnWriteBacklogDrained() => Interlocked.Increment(ref Drained);
    }

    private static void EnqueueAll(ITorrentDisk disk, TestContent c, BlockBufferPool pool, int blockSize, Func<int, bool>? corrupt = null)
    {
        for (int p = 0; p < c.Layout.PieceCount; p++)
        {
            foreach (var (o, l) in c.Blocks(p, blockSize))
            {
                byte[] buffer = pool.Rent(l);
                c.Block(p, o, l).Span.CopyTo(buffer);
                if (corrupt?.Invoke(p) == true) buffer[0] ^= 0xff;
                disk.EnqueueWrite(p, o, buffer, l);
            }
        }
    }

    [Fact]
    public async Task Every_piece_is_reported_once_verified_or_failed_and_written_only_when_verified()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(2);
        TestContent c = new(32 * 1024, [("t/a", 200_000, false), ("t/b", 70_000, false)], seed: 3);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        var events = new Events();
        ITorrentDisk queued = s;
        queued.Attach(events, new BlockBufferPool());
        EnqueueAll(queued, c, new BlockBufferPool(), 16 * 1024, corrupt: p => p == 3);

        for (int i = 0; i < 500 && events.Hashed.Count < c.Layout.PieceCount; i++) await Task.Delay(10);
        Assert.Empty(events.Failed);
        Assert.Equal(c.Layout.PieceCount, events.Hashed.Count);
        Assert.Equal(Enumerable.Range(0, c.Layout.PieceCount).Select(p => p != 3), events.Hashed.OrderBy(h => h.Piece).Select(h => h.Verified));
        Assert.False(s.IsPieceVerified(3));
        Assert.Equal(0, s.WriteCacheBytes);
        Assert.False(queued.IsBacklogged);
    }

    [Fact]
    public async Task A_slow_disk_raises_the_backlog_and_its_drain_is_announced_once()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        // 600 blocks of 1 KiB pieces: more than the torrent's high-water mark.
        TestContent c = new(1024, [("t/a", 600 * 1024, false)], seed: 4);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        var events = new Events();
        ITorrentDisk queued = s;
        queued.Attach(events, new BlockBufferPool());
        using var gate = new ManualResetEventSlim(false);
        Task<bool> blocker = disk.RunAsync(() => gate.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);

        EnqueueAll(queued, c, new BlockBufferPool(), 1024);
        Assert.True(queued.IsBacklogged); // the only worker is held: nothing has drained
        gate.Set();
        await blocker;
        for (int i = 0; i < 500 && events.Hashed.Count < c.Layout.PieceCount; i++) await Task.Delay(10);
        Assert.Equal(c.Layout.PieceCount, events.Hashed.Count(h => h.Verified));
        Assert.Equal(1, Volatile.Read(ref events.Drained));
        Assert.False(queued.IsBacklogged);
    }

    [Fact]
    public async Task Stopping_drops_the_writes_not_started_and_waits_for_the_running_one()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        TestContent c = new(1024, [("t/a", 50 * 1024, false)], seed: 5);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        var events = new Events();
        ITorrentDisk queued = s;
        queued.Attach(events, new BlockBufferPool());
        using var gate = new ManualResetEventSlim(false);
        Task<bool> blocker = disk.RunAsync(() => gate.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);
        EnqueueAll(queued, c, new BlockBufferPool(), 1024);

        Task stopped = queued.StopWritesAsync();
        Assert.False(stopped.IsCompleted);
        gate.Set();
        await blocker;
        await stopped.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(events.Hashed);
        Assert.Empty(events.Failed);
        Assert.False(File.Exists(s.GetFilePath(0)));
    }
}
