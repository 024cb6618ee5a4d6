namespace Shoal.Tests.Dht;

/// <summary>
/// A manual clock for simulations: time moves only when the test advances it, and every due timer (and every
/// scheduled action, such as a datagram delivery) runs on the test's thread, in due-time order, deterministically.
/// </summary>
internal sealed class VirtualTimeProvider : TimeProvider
{
    private readonly PriorityQueue<Entry, (long Due, long Seq)> _queue = new();
    private long _seq;
    private long _nowTicks = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(_nowTicks, TimeSpan.Zero);

    public override long GetTimestamp() => _nowTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public int Pending => _queue.Count;

    public long EventsRun { get; private set; }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Runs <paramref name="action"/> after <paramref name="delay"/> of virtual time.</summary>
    public void Schedule(TimeSpan delay, Action action)
        => Enqueue(new Entry(action, null, 0), _nowTicks + Math.Max(0, delay.Ticks));

    /// <summary>Runs everything due within <paramref name="duration"/>, then sets the clock to its end.</summary>
    public void Advance(TimeSpan duration) => RunUntil(() => false, duration);

    /// <summary>Runs due events in order until <paramref name="done"/> holds or <paramref name="max"/> virtual time passes.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan max)
    {
        long end = _nowTicks + max.Ticks;
        while (!done())
        {
            if (!_queue.TryPeek(out Entry? entry, out (long Due, long Seq) key) || key.Due > end)
            {
                _nowTicks = end;
                return done();
            }
            _queue.Dequeue();
            _nowTicks = Math.Max(_nowTicks, key.Due);
            if (entry.Timer is { } timer)
            {
                if (timer.Version != entry.Version) continue; // changed or disposed since
                timer.Fire();
            }
            else
            {
                entry.Action!();
            }
            EventsRun++;
        }
        return true;
    }

    private void Enqueue(Entry entry, long due) => _queue.Enqueue(entry, (due, _seq++));

    private sealed record Entry(Action? Action, VirtualTimer? Timer, long Version);

    private sealed class VirtualTimer(VirtualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private long _periodTicks;

        public long Version { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Version++;
            _periodTicks = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            if (dueTime != Timeout.InfiniteTimeSpan) owner.Enqueue(new Entry(null, this, Version), owner._nowTicks + Math.Max(0, dueTime.Ticks));
            return true;
        }

        public void Fire()
        {
            long version = Version;
            if (_periodTicks > 0) owner.Enqueue(new Entry(null, this, version), owner._nowTicks + _periodTicks);
            callback(state);
        }

        public void Dispose() => Version++;

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
