using System.Net.Sockets;
using Shoal.Transport.Utp;

namespace Shoal.Tests.Transport.Utp;

/// <summary>The uTP state machine over a simulated network in virtual time.</summary>
public sealed class UtpConnectionTests
{
    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public void HandshakeFollowsLibtorrentsSequenceConventions()
    {
        var sim = new UtpSimulation(seed: 1);
        var packets = new List<(UtpPacketType Type, ushort Id, ushort Seq, ushort Ack)>();
        sim.B.OnPacket = p => packets.Add((p.Type, p.ConnectionId, p.SequenceNumber, p.AckNumber));
        sim.A.OnPacket = p => packets.Add((p.Type, p.ConnectionId, p.SequenceNumber, p.AckNumber));
        sim.Connect();

        UtpConnection a = sim.A.Connection!;
        UtpConnection b = sim.B.Connection!;
        Assert.Equal(UtpConnectionState.Connected, a.State);
        Assert.Equal(UtpConnectionState.Connected, b.State);
        Assert.True(b.IsIncoming);
        // The SYN carries the initiator's receive id; every other packet the receiver's id.
        Assert.Equal((ushort)(a.ReceiveId + 1), a.SendId);
        Assert.Equal(a.ReceiveId, b.SendId);
        Assert.Equal(a.SendId, b.ReceiveId);
        var syn = packets[0];
        var synAck = packets[1];
        Assert.Equal(UtpPacketType.Syn, syn.Type);
        Assert.Equal(a.ReceiveId, syn.Id);
        Assert.Equal(UtpPacketType.State, synAck.Type);
        Assert.Equal(b.SendId, synAck.Id);
        Assert.Equal(syn.Seq, synAck.Ack); // the STATE acks the SYN

        // The STATE does not consume a sequence number: the acceptor's first data packet carries the same one.
        sim.B.Write(RandomBytes(100, 2));
        sim.Run(TimeSpan.FromMilliseconds(100));
        var firstData = packets.First(p => p.Type == UtpPacketType.Data);
        Assert.Equal(synAck.Seq, firstData.Seq);
        Assert.Equal(100, sim.A.Stream.ReceivedCount);
    }

    [Fact]
    public void TransfersBothWaysIntactOnACleanLink()
    {
        var sim = new UtpSimulation(seed: 3);
        sim.Connect();
        byte[] up = RandomBytes(3_000_000, 4);
        byte[] down = RandomBytes(1_000_000, 5);
        sim.A.Write(up);
        sim.B.Write(down);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == up.Length && sim.A.Stream.ReceivedCount == down.Length, TimeSpan.FromMinutes(2)));
        Assert.Equal(up, sim.B.Stream.Received.ToArray());
        Assert.Equal(down, sim.A.Stream.Received.ToArray());
        Assert.Equal(0, sim.A.Connection!.Statistics.TimeoutRetransmissions);
        Assert.Equal(0, sim.A.Connection.Statistics.FastRetransmissions);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void SurvivesLossReorderingAndDuplicates(int seed)
    {
        var sim = new UtpSimulation(seed);
        foreach (SimulatedUtpLink link in (SimulatedUtpLink[])[sim.AtoB, sim.BtoA])
        {
            link.LossRate = 0.05;
            link.DuplicateRate = 0.03;
            link.ReorderRate = 0.05;
            link.Jitter = TimeSpan.FromMilliseconds(5);
        }
        sim.Connect(TimeSpan.FromSeconds(30));
        byte[] up = RandomBytes(1_000_000, seed);
        byte[] down = RandomBytes(300_000, seed + 100);
        sim.A.Write(up);
        sim.B.Write(down);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == up.Length && sim.A.Stream.ReceivedCount == down.Length, TimeSpan.FromMinutes(10)),
            $"stalled at {sim.B.Stream.ReceivedCount}/{up.Length} and {sim.A.Stream.ReceivedCount}/{down.Length}");
        Assert.Equal(up, sim.B.Stream.Received.ToArray());
        Assert.Equal(down, sim.A.Stream.Received.ToArray());
        UtpConnectionStatistics stats = sim.A.Connection!.Statistics;
        Assert.True(stats.FastRetransmissions > 0, "losses amid a stream are found by selective and duplicate acks");
        Assert.True(sim.B.Connection!.Statistics.DuplicateOrDroppedPackets > 0, "duplicates were seen and dropped");
    }

    [Fact]
    public void FastRetransmitRepairsASingleLossWithoutATimeout()
    {
        var sim = new UtpSimulation(seed: 21);
        sim.Connect();
        int dataPackets = 0;
        sim.AtoB.Filter = packet => !(packet[0] >> 4 == (int)UtpPacketType.Data && ++dataPackets == 20);
        byte[] data = RandomBytes(200_000, 22);
        sim.A.Write(data);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == data.Length, TimeSpan.FromMinutes(1)));
        Assert.Equal(data, sim.B.Stream.Received.ToArray());
        Assert.Equal(1, sim.A.Connection!.Statistics.FastRetransmissions);
        Assert.Equal(0, sim.A.Connection.Statistics.Timeouts);
    }

    [Fact]
    public void AFullSocketBufferPausesTheSenderInsteadOfLosingPackets()
    {
        var sim = new UtpSimulation(seed: 23);
        sim.Connect();
        int sends = 0;
        // Every 7th send finds the kernel buffer full.
        sim.A.SocketFull = () => ++sends % 7 == 0;
        byte[] data = RandomBytes(500_000, 24);
        sim.A.Write(data);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == data.Length, TimeSpan.FromMinutes(1)));
        Assert.Equal(data, sim.B.Stream.Received.ToArray());
        UtpConnectionStatistics stats = sim.A.Connection!.Statistics;
        Assert.True(stats.SendFailures > 10);
        // The refused packets were sent again at once, not found missing later by the peer or by a timeout.
        Assert.Equal(0, stats.Timeouts);
        Assert.Equal(0, stats.FastRetransmissions);
        Assert.Equal(0, sim.B.Connection!.Statistics.DuplicateOrDroppedPackets);
    }

    [Fact]
    public void ThePacketsOfOneSendRoundLeaveInOneBatch()
    {
        var sim = new UtpSimulation(seed: 27);
        sim.Connect();
        var sequences = new List<ushort>();
        sim.AtoB.Filter = packet =>
        {
            if (packet[0] >> 4 == (int)UtpPacketType.Data) sequences.Add((ushort)(packet[16] << 8 | packet[17]));
            return true;
        };
        byte[] first = RandomBytes(1_000_000, 28);
        sim.A.Write(first);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == first.Length && sim.A.Connection!.BytesInFlight == 0, TimeSpan.FromMinutes(1)));
        sim.Run(TimeSpan.FromSeconds(1)); // idle: the pacer's bucket fills up again
        sim.A.BatchSizes.Clear();

        byte[] second = RandomBytes(1_000_000, 29);
        sim.A.Write(second);

        // The write after the pause opens a round of a whole pacer burst (10 full packets), handed over in one call,
        // not one call per packet; later rounds (a packet or two per ack in this simulation) are batches too.
        Assert.True(sim.A.BatchSizes.Count > 0 && sim.A.BatchSizes[0] >= 8, $"first batch: {string.Join(",", sim.A.BatchSizes)}");
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == first.Length + second.Length, TimeSpan.FromMinutes(1)));
        Assert.Equal([.. first, .. second], sim.B.Stream.Received.ToArray());
        Assert.True(sim.A.BatchSizes.Sum() > sim.A.BatchSizes.Count, $"{sim.A.BatchSizes.Sum()} packets in {sim.A.BatchSizes.Count} batches");
        for (int i = 1; i < sequences.Count; i++) Assert.Equal((ushort)(sequences[i - 1] + 1), sequences[i]); // in order, each once
        Assert.Equal(0, sim.A.Connection!.Statistics.Timeouts);
    }

    [Fact]
    public void ABatchRefusedPartWayHoldsBackOnlyItsTailAndSendsItAgainInOrder()
    {
        var sim = new UtpSimulation(seed: 29);
        sim.Connect();
        int sends = 0;
        // The kernel buffer fills in the middle of batches: the 5th datagram of every 11 is refused.
        sim.A.SocketFull = () => ++sends % 11 == 5;
        byte[] data = RandomBytes(1_000_000, 30);
        sim.A.Write(data);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == data.Length, TimeSpan.FromMinutes(1)));
        Assert.Equal(data, sim.B.Stream.Received.ToArray());
        UtpConnectionStatistics stats = sim.A.Connection!.Statistics;
        Assert.True(stats.SendFailures > 10, $"{stats.SendFailures} refused");
        Assert.Contains(sim.A.BatchSizes, size => size > 5);
        Assert.Equal(0, stats.Timeouts);
        Assert.Equal(0, stats.FastRetransmissions);
        Assert.Equal(0, sim.B.Connection!.Statistics.DuplicateOrDroppedPackets);
    }

    [Fact]
    public void ASendThatKeepsFailingIsRetriedLessAndLessOftenUntilTheConnectionGivesUp()
    {
        var sim = new UtpSimulation(seed: 25);
        sim.Connect();
        int refused = 0;
        sim.A.SocketFull = () =>
        {
            refused++;
            return true; // the route is gone: every send fails from now on
        };
        sim.A.Write(RandomBytes(100_000, 26));
        Assert.True(sim.RunUntil(() => sim.A.Stream.Closed, TimeSpan.FromMinutes(2)));
        Assert.IsType<TimeoutException>(sim.A.Stream.CloseError);
        // Retries double from 1 ms up to the retransmission timeout: a few dozen attempts over half a minute,
        // not thirty thousand.
        Assert.InRange(refused, 5, 200);
    }

    [Fact]
    public void ALostSynIsSentAgain()
    {
        var sim = new UtpSimulation(seed: 31);
        int syns = 0;
        sim.AtoB.Filter = packet => !(packet[0] >> 4 == (int)UtpPacketType.Syn && ++syns == 1);
        sim.Connect();
        Assert.Equal(2, syns);
        Assert.True(sim.Time.GetUtcNow() - new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero) >= TimeSpan.FromSeconds(1),
            "the SYN is resent after the initial 1 s timeout");
    }

    [Fact]
    public void ALostSynAckIsAnsweredAgainWithoutASecondConnection()
    {
        var sim = new UtpSimulation(seed: 32);
        int states = 0;
        sim.BtoA.Filter = packet => !(packet[0] >> 4 == (int)UtpPacketType.State && ++states == 1);
        UtpConnection? first = null;
        sim.B.OnPacket = p => first ??= sim.B.Connection;
        sim.Connect();
        Assert.Equal(2, states);
        Assert.Same(sim.B.Connection, first ?? sim.B.Connection);
        byte[] data = RandomBytes(10_000, 33);
        sim.A.Write(data);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == data.Length, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void DialTimesOutWhenNobodyAnswers()
    {
        var sim = new UtpSimulation(seed: 41);
        sim.AtoB.Up = false;
        sim.A.Connection!.Connect(sim.NowMicros);
        Assert.True(sim.RunUntil(() => sim.A.Stream.Closed, TimeSpan.FromSeconds(10)));
        Assert.IsType<TimeoutException>(sim.A.Stream.CloseError);
        Assert.True(sim.A.ClosedByHost);
        Assert.Equal(2, sim.AtoB.Sent); // the SYN at 0 s and again at 1 s; the 3 s deadline comes before a third
    }

    [Fact]
    public void AResetAnsweringTheSynRefusesTheDial()
    {
        var sim = new UtpSimulation(seed: 42);
        ushort synSeq = 0;
        sim.AtoB.Filter = packet =>
        {
            Assert.True(UtpPacket.TryParse(packet, out UtpPacket syn));
            synSeq = syn.SequenceNumber;
            return false;
        };
        sim.A.Connection!.Connect(sim.NowMicros);
        byte[] reset = new byte[UtpPacket.HeaderLength];
        UtpPacket.WriteHeader(reset, UtpPacketType.Reset, 0, sim.A.Connection.ReceiveId, 1, 0, 0, 500, synSeq);
        sim.A.Deliver(reset);
        Assert.True(sim.A.Stream.Closed);
        var refused = Assert.IsType<SocketException>(sim.A.Stream.CloseError);
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public void AResetEndsAnOpenConnectionButASpoofedOneIsIgnored()
    {
        var sim = new UtpSimulation(seed: 43);
        sim.Connect();
        byte[] data = RandomBytes(50_000, 44);
        sim.A.Write(data);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == data.Length, TimeSpan.FromSeconds(10)));

        // A RESET that acks a packet A never sent is not from B: ignored.
        UtpConnection a = sim.A.Connection!;
        byte[] spoofed = new byte[UtpPacket.HeaderLength];
        UtpPacket.WriteHeader(spoofed, UtpPacketType.Reset, 0, a.ReceiveId, 1, 0, 0, 1, (ushort)(a.Statistics.PacketsSent + 40_000));
        sim.A.Deliver(spoofed);
        Assert.False(sim.A.Stream.Closed);

        sim.B.Connection!.Abort(new IOException("aborted"), sim.NowMicros);
        Assert.True(sim.RunUntil(() => sim.A.Stream.Closed, TimeSpan.FromSeconds(1)));
        Assert.IsType<IOException>(sim.A.Stream.CloseError);
        Assert.Contains("reset", sim.A.Stream.CloseError!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void FinClosesBothSidesAfterEveryByte(double loss)
    {
        var sim = new UtpSimulation(seed: 51);
        sim.AtoB.LossRate = loss;
        sim.BtoA.LossRate = loss;
        sim.Connect(TimeSpan.FromSeconds(30));
        byte[] request = RandomBytes(200_000, 52);
        byte[] reply = RandomBytes(100_000, 53);
        sim.A.Write(request);
        sim.A.Close();
        Assert.True(sim.RunUntil(() => sim.B.Stream.EndOfStream, TimeSpan.FromMinutes(2)));
        Assert.Equal(request, sim.B.Stream.Received.ToArray());
        Assert.False(sim.A.Stream.Closed, "A still reads B's side");

        sim.B.Write(reply);
        sim.B.Close();
        Assert.True(sim.RunUntil(() => sim.A.Stream.Closed && sim.B.Stream.Closed, TimeSpan.FromMinutes(2)));
        Assert.Equal(reply, sim.A.Stream.Received.ToArray());
        Assert.True(sim.A.Stream.EndOfStream);
        Assert.Null(sim.A.Stream.CloseError);
        Assert.Null(sim.B.Stream.CloseError);
    }

    [Fact]
    public void AFinOvertakingTheLastDataWaitsForIt()
    {
        var sim = new UtpSimulation(seed: 54);
        sim.Connect();
        int data = 0;
        // Hold every data packet back so the FIN (sent right after) arrives first.
        sim.AtoB.Filter = packet =>
        {
            if (packet[0] >> 4 == (int)UtpPacketType.Data && data++ < 3)
            {
                byte[] copy = packet;
                sim.Time.Schedule(TimeSpan.FromMilliseconds(50), () => sim.B.Deliver(copy));
                return false;
            }
            return true;
        };
        byte[] bytes = RandomBytes(1500, 55);
        sim.A.Write(bytes);
        sim.A.Close();
        Assert.True(sim.RunUntil(() => sim.B.Stream.EndOfStream, TimeSpan.FromSeconds(10)));
        Assert.Equal(bytes, sim.B.Stream.Received.ToArray());
    }

    [Fact]
    public void APeerThatVanishesTimesOut()
    {
        var sim = new UtpSimulation(seed: 61);
        sim.Connect();
        sim.A.Write(RandomBytes(5_000_000, 62));
        sim.Run(TimeSpan.FromSeconds(1));
        sim.AtoB.Up = false;
        sim.BtoA.Up = false;
        DateTimeOffset vanished = sim.Time.GetUtcNow();
        Assert.True(sim.RunUntil(() => sim.A.Stream.Closed, TimeSpan.FromMinutes(5)));
        Assert.IsType<TimeoutException>(sim.A.Stream.CloseError);
        TimeSpan took = sim.Time.GetUtcNow() - vanished;
        // Six timeouts, doubling from the 500 ms minimum: about 32 s, certainly not minutes.
        Assert.InRange(took, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(90));
        Assert.Equal(7, sim.A.Connection!.Statistics.Timeouts);
    }

    [Fact]
    public void AnIdleConnectionDoesNotTimeOut()
    {
        var sim = new UtpSimulation(seed: 63);
        sim.Connect();
        sim.A.Write(RandomBytes(10_000, 64));
        sim.Run(TimeSpan.FromMinutes(10));
        Assert.False(sim.A.Stream.Closed);
        Assert.False(sim.B.Stream.Closed);
        Assert.Equal(0, sim.A.Connection!.Statistics.Timeouts);
    }

    [Fact]
    public void TheReceiveWindowHoldsTheSenderBackUntilTheApplicationReads()
    {
        const int Buffer = 64 * 1024;
        var sim = new UtpSimulation(seed: 71, new UtpConnectionSettings { ReceiveBufferSize = Buffer });
        sim.B.Stream.ManualConsume = true;
        sim.Connect();
        byte[] data = RandomBytes(1_000_000, 72);
        sim.A.Write(data);
        sim.Run(TimeSpan.FromSeconds(5));
        Assert.InRange(sim.B.Stream.Unread, Buffer - 2 * 1500, Buffer);
        Assert.True(sim.A.Stream.RemainingToSend > 0);
        // The sender kept inside the window: the only packets B dropped are A's probes of the closed window
        // (one per retransmission timeout), which B answers with its window, so A does not give up on it.
        Assert.InRange(sim.B.Connection!.Statistics.DuplicateOrDroppedPackets, 1, 12);
        Assert.False(sim.A.Stream.Closed);
        sim.Run(TimeSpan.FromMinutes(2));
        Assert.False(sim.A.Stream.Closed, "a receiver that does not read for minutes is not a dead one");

        // The application reads in 16 KiB steps; each read that opens the window lets more in.
        Assert.True(sim.RunUntil(() =>
        {
            if (sim.B.Stream.Unread > 0) sim.B.Consume(16 * 1024);
            return sim.B.Stream.ReceivedCount == data.Length;
        }, TimeSpan.FromMinutes(5)));
        Assert.Equal(data, sim.B.Stream.Received.ToArray());
    }

    [Fact]
    public void AClosedWindowIsProbedWhenItsUpdateIsLost()
    {
        const int Buffer = 32 * 1024;
        var sim = new UtpSimulation(seed: 73, new UtpConnectionSettings { ReceiveBufferSize = Buffer });
        sim.B.Stream.ManualConsume = true;
        sim.Connect();
        byte[] data = RandomBytes(200_000, 74);
        sim.A.Write(data);
        sim.Run(TimeSpan.FromSeconds(2));
        Assert.True(sim.A.Connection!.PeerWindow < 1500);

        // Every packet from B is lost for a while, window updates included.
        sim.BtoA.Up = false;
        sim.B.Consume(long.MaxValue);
        sim.Run(TimeSpan.FromMilliseconds(100));
        sim.BtoA.Up = true;
        sim.B.Stream.ManualConsume = false;
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == data.Length, TimeSpan.FromMinutes(2)));
        Assert.Equal(data, sim.B.Stream.Received.ToArray());
    }

    [Fact]
    public void MtuDiscoveryClimbsToThePathMtuAndSurvivesLostProbes()
    {
        var sim = new UtpSimulation(seed: 81);
        sim.AtoB.Mtu = 1200;
        sim.Connect();
        byte[] data = RandomBytes(3_000_000, 82);
        sim.A.Write(data);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == data.Length, TimeSpan.FromMinutes(5)));
        Assert.Equal(data, sim.B.Stream.Received.ToArray());
        UtpConnection a = sim.A.Connection!;
        Assert.InRange(a.PacketSize, 1200 - MtuDiscovery.Resolution, 1200);
        Assert.True(a.PacketSizeCeiling < 1472, "lost probes lowered the ceiling");
        Assert.True(sim.AtoB.Dropped > 0, "probes above the path MTU were lost");
        Assert.Equal(0, a.Statistics.Timeouts);
    }

    [Fact]
    public void MtuDiscoveryReachesTheCeilingOnAnOpenPath()
    {
        var sim = new UtpSimulation(seed: 83);
        sim.Connect();
        sim.A.Write(RandomBytes(2_000_000, 84));
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == 2_000_000, TimeSpan.FromMinutes(2)));
        Assert.InRange(sim.A.Connection!.PacketSize, 1472 - MtuDiscovery.Resolution, 1472);
        Assert.Equal(1472, sim.AtoB.LargestDelivered <= 1472 ? 1472 : sim.AtoB.LargestDelivered);
    }

    [Fact]
    public void PacingSpreadsAWindowOverTheRoundTrip()
    {
        var sim = new UtpSimulation(seed: 91);
        sim.AtoB.Delay = TimeSpan.FromMilliseconds(50);
        sim.BtoA.Delay = TimeSpan.FromMilliseconds(50);
        sim.Connect();
        var sendTimes = new List<long>();
        sim.AtoB.Filter = packet =>
        {
            sendTimes.Add(sim.Time.GetTimestamp());
            return true;
        };
        sim.A.Write(RandomBytes(40_000_000, 92));
        sim.Run(TimeSpan.FromSeconds(3));
        // After slow start, no 100 ms round trip sees its whole window leave within one millisecond.
        var late = sendTimes.Where(t => t > sendTimes[0] + TimeSpan.FromSeconds(2).Ticks).ToList();
        Assert.NotEmpty(late);
        int largestBurst = late.GroupBy(t => t / TimeSpan.TicksPerMillisecond).Max(g => g.Count());
        int window = sim.A.Connection!.CongestionWindow / sim.A.Connection.PacketSize;
        Assert.True(window > 20, $"window {window} packets, burst {largestBurst}, {late.Count} late packets of {sendTimes.Count}");
        Assert.True(largestBurst < window / 2, $"burst of {largestBurst} packets in one millisecond with a window of {window}");
    }

    [Fact]
    public void TheSenderRespectsItsSendRingAndNeverOverrunsTheReorderRing()
    {
        // A fat, long pipe: the congestion window would allow more packets than the rings hold.
        var sim = new UtpSimulation(seed: 93, new UtpConnectionSettings { MaxWindow = 16 * 1024 * 1024, ReceiveBufferSize = 16 * 1024 * 1024 });
        sim.AtoB.Delay = TimeSpan.FromMilliseconds(200);
        sim.BtoA.Delay = TimeSpan.FromMilliseconds(200);
        sim.AtoB.LossRate = 0.001;
        sim.Connect();
        byte[] data = RandomBytes(20_000_000, 94);
        sim.A.Write(data);
        Assert.True(sim.RunUntil(() => sim.B.Stream.ReceivedCount == data.Length, TimeSpan.FromMinutes(10)));
        Assert.Equal(data, sim.B.Stream.Received.ToArray());
    }
}
