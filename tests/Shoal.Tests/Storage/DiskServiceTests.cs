using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class DiskServiceTests
{
    [Fact]
    public async Task Writes_and_reads_never_run_on_the_callers_thread()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        TestContent c = new(16 * 1024, [("t/a", 20_000, false)]);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        using var gate = new ManualResetEventSlim(false);
        Task<bool> blocker = disk.RunAsync(() => gate.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);

        // The only worker is busy: if anything ran inline these would already be complete.
        ValueTask<BlockWriteResult> write = s.WriteBlockAsync(0, 0, c.Block(0, 0, 16 * 1024));
        ValueTask read = s.ReadBlockAsync(1, 0, new byte[10]);
        Assert.False(write.IsCompleted);
        Assert.False(read.IsCompleted);
        Assert.False(File.Exists(s.GetFilePath(0)));

        gate.Set();
        Assert.True(await blocker);
        Assert.Equal(BlockWriteResult.PieceVerified, await write);
        await Assert.ThrowsAsync<StorageException>(async () => await read); // piece 1's bytes were never written
    }

    [Fact]
    public async Task Concurrent_duplicates_are_accepted_once()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(4);
        TestContent c = new(64 * 1024, [("t/a", 64 * 1024 * 5 + 123, false), ("t/b", 50_000, false)], seed: 17);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = 100_000 });
        var all = new List<(int Piece, int Offset, int Length)>();
        for (int p = 0; p < c.Layout.PieceCount; p++)
            foreach (var (o, l) in c.Blocks(p, 8192)) { all.Add((p, o, l)); all.Add((p, o, l)); }
        new Random(17).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
        var tasks = all.Select(b => s.WriteBlockAsync(b.Piece, b.Offset, c.Block(b.Piece, b.Offset, b.Length)).AsTask()).ToList();
        BlockWriteResult[] results = await Task.WhenAll(tasks);
        Assert.Equal(all.Count / 2, results.Count(r => r == BlockWriteResult.Ignored));
        Assert.Equal(c.Layout.PieceCount, results.Count(r => r == BlockWriteResult.PieceVerified));
        Assert.Equal(0, s.WriteCacheBytes);
        Assert.True((await s.CheckExistingAsync(null, CancellationToken.None)).AllSet);
    }

    [Fact]
    public async Task Never_runs_more_than_Concurrency_jobs_at_once_and_runs_them_all()
    {
        await using var disk = new DiskService(2);
        int current = 0, max = 0, done = 0;
        var tasks = new List<Task<bool>>();
        for (int i = 0; i < 300; i++)
        {
            tasks.Add(disk.RunAsync(() =>
            {
                int now = Interlocked.Increment(ref current);
                int seen;
                while (now > (seen = Volatile.Read(ref max)) && Interlocked.CompareExchange(ref max, now, seen) != seen) { }
                Thread.SpinWait(2000);
                Interlocked.Decrement(ref current);
                Interlocked.Increment(ref done);
                return true;
            }, CancellationToken.None));
        }
        Assert.All(await Task.WhenAll(tasks), Assert.True);
        Assert.Equal(300, done);
        Assert.InRange(max, 1, 2);
    }

    [Fact]
    public async Task Dispose_runs_the_queued_jobs_then_refuses_new_ones()
    {
        var disk = new DiskService(1);
        using var gate = new ManualResetEventSlim(false);
        Task<bool> blocker = disk.RunAsync(() => gate.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);
        int ran = 0;
        var queued = Enumerable.Range(0, 10).Select(_ => disk.RunAsync(() => Interlocked.Increment(ref ran), CancellationToken.None)).ToList();
        ValueTask disposing = disk.DisposeAsync();
        Assert.False(disposing.IsCompleted); // the runner is still busy
        gate.Set();
        await disposing;
        Assert.True(await blocker);
        await Task.WhenAll(queued);
        Assert.Equal(10, ran);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => disk.RunAsync(() => 1, CancellationToken.None));
    }

    [Fact]
    public async Task Jobs_past_the_queue_capacity_wait_in_line_and_run_in_the_order_they_came()
    {
        await using var disk = new DiskService(1);
        using var gate = new ManualResetEventSlim(false);
        Task<bool> blocker = disk.RunAsync(() => gate.Wait(TimeSpan.FromSeconds(30)), CancellationToken.None);
        int count = DiskService.QueueCapacity * 3;
        var order = new List<int>(count);
        var tasks = new Task<int>[count];
        for (int i = 0; i < count; i++)
        {
            int n = i;
            tasks[i] = disk.RunAsync(() => { lock (order) order.Add(n); return n; }, CancellationToken.None);
        }
        Assert.DoesNotContain(tasks, t => t.IsCompleted);
        gate.Set();
        Assert.True(await blocker);
        await Task.WhenAll(tasks);
        Assert.Equal(Enumerable.Range(0, count), order);
    }
}
