using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Shoal.Transport.Utp;
using Xunit.Abstractions;

namespace Shoal.Tests.Transport.Utp;

/// <summary>
/// uTP through a real kernel bottleneck: two network namespaces, a veth pair, HTB limiting A→B to a few megabits
/// with a deep queue behind it (and netem adding delay and loss where the kernel has it). Real sockets, real time.
/// </summary>
[Collection(UtpShapedLinkCollection.Name)]
public sealed class UtpShapedLinkTests(ITestOutputHelper output)
{
    private const int LinkMegabits = 16;
    private const double LinkBytesPerSecond = LinkMegabits * 1_000_000 / 8.0;

    [NetworkNamespaceFact]
    public async Task LedbatFillsTheBottleneckThenBacksOffWhenCompetingTrafficRaisesTheDelay()
    {
        if (ShapedRoute.Unsupported is { } reason) Assert.Fail(reason);
        // 800 packets of queue is about 0.6 s at 16 Mbit/s: a bloated modem buffer, which LEDBAT must not fill.
        using var route = ShapedRoute.Create(LinkMegabits, queuePackets: 800, TimeSpan.FromMilliseconds(20), netemLossPercent: 0.2);
        output.WriteLine(route.UsesNetem
            ? "A→R→B: HTB 16 Mbit/s into netem (20 ms, 0.2 % loss, 800 packets); B→R→A: netem 20 ms"
            : "A→R→B: HTB 16 Mbit/s into an 800-packet FIFO (this kernel has no netem: no added delay or loss)");

        UtpMultiplexer server = ShapedRoute.InNamespace(route.NameB, () => UtpMultiplexer.Bind(new IPEndPoint(route.AddressB, 0)));
        UtpMultiplexer client = ShapedRoute.InNamespace(route.NameA, () => UtpMultiplexer.Bind(new IPEndPoint(route.AddressA, 0)));
        await using (server)
        await using (client)
        {
            var (dialled, accepted) = await UtpLoopbackTests.ConnectAsync(server, client);
            Task<(long Length, byte[] Sha256)> read = UtpLoopbackTests.ReadToEndAsync(accepted.Input);
            using var stopWriting = new CancellationTokenSource();
            Task<byte[]> write = WriteUntilStoppedAsync(dialled, stopWriting.Token);

            Phase alone = await MeasureAsync("uTP alone", dialled, accepted, TimeSpan.FromSeconds(10));

            Task blaster = BlastAsync(route, 0.85 * LinkBytesPerSecond, TimeSpan.FromSeconds(12));
            Phase shared = await MeasureAsync("with 85 % cross traffic", dialled, accepted, TimeSpan.FromSeconds(10));
            await blaster;

            Phase after = await MeasureAsync("cross traffic gone", dialled, accepted, TimeSpan.FromSeconds(10));

            await stopWriting.CancelAsync();
            byte[] sent = await write;
            await dialled.Output.CompleteAsync();
            var (length, received) = await read.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(length > 0 && sent.AsSpan().SequenceEqual(received), "the stream arrived intact");
            await accepted.DisposeAsync();
            await dialled.DisposeAsync();

            Assert.True(alone.Throughput > 0.6 * LinkBytesPerSecond, $"alone: {alone}");
            // The queue could add 600 ms; LEDBAT keeps its own contribution near its 100 ms target.
            Assert.True(alone.MeanRtt < TimeSpan.FromMilliseconds(350), $"alone: {alone}");
            Assert.True(shared.Throughput < 0.35 * LinkBytesPerSecond, $"shared: {shared}");
            Assert.True(shared.MeanWindow < alone.MeanWindow / 2, $"alone: {alone}; shared: {shared}");
            Assert.True(after.Throughput > 0.5 * LinkBytesPerSecond, $"after: {after}");
        }
    }

    private readonly record struct Phase(string Name, double Throughput, TimeSpan MeanRtt, double MeanWindow)
    {
        public override string ToString() =>
            $"{Name}: {Throughput / 1000:0} kB/s, RTT {MeanRtt.TotalMilliseconds:0} ms, window {MeanWindow / 1000:0} kB";
    }

    /// <summary>Samples the connection for <paramref name="duration"/>; the figures come from its second half (settled).</summary>
    private async Task<Phase> MeasureAsync(string name, UtpTransport sender, UtpTransport receiver, TimeSpan duration)
    {
        var stopwatch = Stopwatch.StartNew();
        var rtts = new List<double>();
        var windows = new List<double>();
        long startBytes = 0;
        TimeSpan startTime = TimeSpan.Zero;
        while (stopwatch.Elapsed < duration)
        {
            await Task.Delay(250);
            if (stopwatch.Elapsed < duration / 2) continue;
            if (startTime == TimeSpan.Zero)
            {
                startTime = stopwatch.Elapsed;
                startBytes = receiver.Statistics.PayloadBytesReceived;
                continue;
            }
            rtts.Add(sender.RoundTripTime.TotalMilliseconds);
            windows.Add(sender.CongestionWindow);
        }
        double seconds = (stopwatch.Elapsed - startTime).TotalSeconds;
        var phase = new Phase(name, (receiver.Statistics.PayloadBytesReceived - startBytes) / seconds,
            TimeSpan.FromMilliseconds(rtts.Average()), windows.Average());
        output.WriteLine(phase.ToString());
        return phase;
    }

    private static async Task<byte[]> WriteUntilStoppedAsync(UtpTransport transport, CancellationToken stop)
    {
        var random = new Random(77);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        while (!stop.IsCancellationRequested)
        {
            Memory<byte> memory = transport.Output.GetMemory(16 * 1024);
            Span<byte> span = memory.Span[..(16 * 1024)];
            random.NextBytes(span);
            hash.AppendData(span);
            transport.Output.Advance(span.Length);
            await transport.Output.FlushAsync();
        }
        return hash.GetHashAndReset();
    }

    /// <summary>A flow without congestion control from A to B's discard port, through the same bottleneck.</summary>
    private static Task BlastAsync(ShapedRoute route, double bytesPerSecond, TimeSpan duration)
    {
        Socket socket = ShapedRoute.InNamespace(route.NameA, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
            s.Bind(new IPEndPoint(route.AddressA, 0));
            return s;
        });
        var target = new IPEndPoint(route.AddressB, 9);
        return Task.Factory.StartNew(() =>
        {
            using (socket)
            {
                byte[] datagram = new byte[1400];
                var clock = Stopwatch.StartNew();
                long sent = 0;
                while (clock.Elapsed < duration)
                {
                    while (sent < clock.Elapsed.TotalSeconds * bytesPerSecond && clock.Elapsed < duration)
                    {
                        try
                        {
                            socket.SendTo(datagram, target);
                        }
                        catch (SocketException)
                        {
                            // A full buffer: this flow does not care, it sends on.
                        }
                        sent += datagram.Length;
                    }
                    Thread.Sleep(1);
                }
            }
        }, TaskCreationOptions.LongRunning);
    }
}

/// <summary>Timing-sensitive shaped-link tests run alone, not next to the rest of the suite.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UtpShapedLinkCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "uTP shaped link";
}
