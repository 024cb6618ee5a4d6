using System.Net;
using Shoal.Swarm;
using Shoal.Tests.Trackers;

namespace Shoal.Tests.Swarm;

/// <summary>
/// After a burst of work, once quiet, the session gives the memory the burst left committed back to the system: once,
/// and not while busy, after small work, or when the collector kept little.
/// </summary>
public sealed class IdleMemoryReleaseTests
{
    private const long MiB = 1L << 20;
    private const long Second = TimeSpan.TicksPerSecond;

    private static ManagedMemoryReading Reading(long allocatedMiB, long heapMiB = 100, long committedMiB = 200) =>
        new(allocatedMiB * MiB, heapMiB * MiB, committedMiB * MiB);

    [Fact]
    public void A_burst_then_a_quiet_interval_gives_back_once()
    {
        var release = new IdleMemoryRelease(TimeSpan.TicksPerSecond, allocatedAtStart: 10 * MiB);
        Assert.False(release.Observe(Reading(150), 5 * Second)); // the first look: nothing to compare with
        Assert.False(release.Observe(Reading(300), 10 * Second)); // still busy: 150 MiB in five seconds
        Assert.True(release.Observe(Reading(300), 15 * Second)); // quiet after 290 MiB: give back
        release.Released(300 * MiB, 15 * Second);
        for (int i = 4; i < 100; i++) Assert.False(release.Observe(Reading(300, committedMiB: 120), i * 5 * Second));
    }

    [Fact]
    public void Small_work_busy_work_and_a_small_surplus_give_nothing_back()
    {
        var small = new IdleMemoryRelease(TimeSpan.TicksPerSecond, allocatedAtStart: 0);
        small.Observe(Reading(20), 5 * Second);
        Assert.False(small.Observe(Reading(20), 10 * Second)); // 20 MiB is no burst

        var busy = new IdleMemoryRelease(TimeSpan.TicksPerSecond, allocatedAtStart: 0);
        for (int i = 1; i < 50; i++) Assert.False(busy.Observe(Reading(100 + 10 * i), i * 5 * Second)); // 2 MiB/s, never quiet

        var kept = new IdleMemoryRelease(TimeSpan.TicksPerSecond, allocatedAtStart: 0);
        kept.Observe(Reading(500, heapMiB: 100, committedMiB: 120), 5 * Second);
        Assert.False(kept.Observe(Reading(500, heapMiB: 100, committedMiB: 120), 10 * Second)); // 20 MiB surplus: not worth a pause
        // That burst is settled: a surplus that appears later needs a burst of its own.
        Assert.False(kept.Observe(Reading(500), 15 * Second));
        kept.Observe(Reading(600), 20 * Second);
        Assert.True(kept.Observe(Reading(600), 25 * Second));
    }

    [Fact]
    public void Two_bursts_in_a_row_are_given_back_at_most_once_a_minute()
    {
        var release = new IdleMemoryRelease(TimeSpan.TicksPerSecond, allocatedAtStart: 0);
        release.Observe(Reading(100), 5 * Second);
        Assert.True(release.Observe(Reading(100), 10 * Second));
        release.Released(100 * MiB, 10 * Second);
        release.Observe(Reading(300), 15 * Second);
        Assert.False(release.Observe(Reading(300), 20 * Second)); // a second burst, but 10 s after the last release
        Assert.False(release.Observe(Reading(300), 65 * Second));
        Assert.True(release.Observe(Reading(300), 70 * Second));
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public async Task A_session_gives_back_after_a_burst_only_when_allowed(bool allowed, int expected)
    {
        var time = new ManualTimeProvider();
        var memory = new ScriptedMemory();
        await using ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            ListenPort = 0,
            BindAddress = IPAddress.Loopback,
            EnableDht = false,
            EnableLocalDiscovery = false,
            EnablePortMapping = false,
            Time = time,
            ManagedMemory = memory,
            ReturnMemoryWhenIdle = allowed,
        });
        await Task.Delay(100); // the loop reads its starting point
        memory.Allocated = 400 * MiB; // a burst of adds and checks
        for (int i = 0; i < 24; i++)
        {
            time.Advance(IdleMemoryRelease.SampleInterval);
            await Task.Delay(20);
        }
        await Eventually.TrueAsync(() => session.MemoryReleases == expected, TimeSpan.FromSeconds(10), $"{session.MemoryReleases} releases");
        Assert.Equal(expected, memory.GiveBacks);
    }

    private sealed class ScriptedMemory : IManagedMemory
    {
        public long Allocated { get; set; } = 10 * MiB;

        public int GiveBacks { get; private set; }

        public ManagedMemoryReading Read() => new(Allocated, 100 * MiB, GiveBacks == 0 ? 200 * MiB : 100 * MiB);

        public long GiveBack()
        {
            GiveBacks++;
            return 100 * MiB;
        }
    }
}
