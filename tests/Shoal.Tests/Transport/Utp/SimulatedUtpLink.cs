using Shoal.Tests.Dht;

namespace Shoal.Tests.Transport.Utp;

/// <summary>
/// One direction of a simulated path in virtual time: a bottleneck of limited bandwidth with a tail-drop queue (so
/// sending faster than the link builds queuing delay, as a DSL modem's buffer does), then a propagation delay with
/// jitter, random loss, duplication and reordering, and optionally an MTU. Everything is drawn from a seeded random.
/// </summary>
internal sealed class SimulatedUtpLink(VirtualTimeProvider time, Random random, Action<byte[]> deliver)
{
    private long _queueFreeAtTicks;

    /// <summary>One-way propagation delay.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Extra delay added on top (a competing flow filling a queue elsewhere); may change during a run.</summary>
    public TimeSpan ExtraDelay { get; set; }

    /// <summary>Uniform jitter added to the delay (0..Jitter).</summary>
    public TimeSpan Jitter { get; set; }

    /// <summary>Fraction of packets lost.</summary>
    public double LossRate { get; set; }

    /// <summary>Fraction of packets delivered twice.</summary>
    public double DuplicateRate { get; set; }

    /// <summary>Fraction of packets held back by <see cref="ReorderDelay"/>, so later ones overtake them.</summary>
    public double ReorderRate { get; set; }

    /// <summary>How long a reordered packet is held back.</summary>
    public TimeSpan ReorderDelay { get; set; } = TimeSpan.FromMilliseconds(15);

    /// <summary>Bottleneck bandwidth in bytes per second (0: unlimited, no queue).</summary>
    public long BytesPerSecond { get; set; }

    /// <summary>Most queued bytes before the bottleneck drops arrivals.</summary>
    public int QueueLimitBytes { get; set; } = 256 * 1024;

    /// <summary>Packets above this size are dropped (0: no limit), as a router would drop a too-big packet marked DF.</summary>
    public int Mtu { get; set; }

    /// <summary>When false, nothing gets through (the peer vanished).</summary>
    public bool Up { get; set; } = true;

    /// <summary>Optional filter: packets for which it returns false are dropped.</summary>
    public Func<byte[], bool>? Filter { get; set; }

    public long Sent { get; private set; }

    public long Dropped { get; private set; }

    public long LargestDelivered { get; private set; }

    /// <summary>Queuing delay a packet entering the bottleneck now would see.</summary>
    public TimeSpan QueuingDelay => TimeSpan.FromTicks(Math.Max(0, _queueFreeAtTicks - time.GetTimestamp()));

    /// <summary>
    /// Starts a competing flow that pushes <paramref name="bytesPerSecond"/> through the same bottleneck (a video
    /// call, a TCP upload), without congestion control, for <paramref name="duration"/>.
    /// </summary>
    public void StartCrossTraffic(long bytesPerSecond, TimeSpan duration)
    {
        long end = time.GetTimestamp() + duration.Ticks;
        long perMillisecond = bytesPerSecond / 1000;
        void Tick()
        {
            long now = time.GetTimestamp();
            if (now >= end) return;
            long start = Math.Max(now, _queueFreeAtTicks);
            long backlogBytes = (start - now) * BytesPerSecond / TimeSpan.TicksPerSecond;
            if (backlogBytes + perMillisecond <= QueueLimitBytes)
                _queueFreeAtTicks = start + perMillisecond * TimeSpan.TicksPerSecond / BytesPerSecond;
            time.Schedule(TimeSpan.FromMilliseconds(1), Tick);
        }
        Tick();
    }

    public void Send(ReadOnlySpan<byte> datagram)
    {
        Sent++;
        if (!Up || (Mtu > 0 && datagram.Length > Mtu) || random.NextDouble() < LossRate)
        {
            Dropped++;
            return;
        }
        byte[] copy = datagram.ToArray();
        if (Filter is not null && !Filter(copy))
        {
            Dropped++;
            return;
        }

        long now = time.GetTimestamp();
        TimeSpan queuing = TimeSpan.Zero;
        if (BytesPerSecond > 0)
        {
            long start = Math.Max(now, _queueFreeAtTicks);
            long backlogBytes = (start - now) * BytesPerSecond / TimeSpan.TicksPerSecond;
            if (backlogBytes + copy.Length > QueueLimitBytes)
            {
                Dropped++;
                return;
            }
            _queueFreeAtTicks = start + copy.Length * TimeSpan.TicksPerSecond / BytesPerSecond;
            queuing = TimeSpan.FromTicks(_queueFreeAtTicks - now);
        }

        TimeSpan delay = queuing + Delay + ExtraDelay + TimeSpan.FromTicks((long)(Jitter.Ticks * random.NextDouble()));
        if (random.NextDouble() < ReorderRate) delay += ReorderDelay;
        Schedule(copy, delay);
        if (random.NextDouble() < DuplicateRate) Schedule(copy, delay + TimeSpan.FromMilliseconds(1));
    }

    private void Schedule(byte[] datagram, TimeSpan delay)
    {
        time.Schedule(delay, () =>
        {
            if (!Up) return;
            LargestDelivered = Math.Max(LargestDelivered, datagram.Length);
            deliver(datagram);
        });
    }
}
