using System.Buffers;
using System.Net;
using Shoal.Tests.Dht;
using Shoal.Transport.Udp;
using Shoal.Transport.Utp;

namespace Shoal.Tests.Transport.Utp;

/// <summary>
/// Two <see cref="UtpConnection"/>s joined by two <see cref="SimulatedUtpLink"/>s, all in virtual time on the test's
/// thread: the initiator A dials, the acceptor B is created by A's SYN. Deterministic for a given seed.
/// </summary>
internal sealed class UtpSimulation
{
    public static readonly IPEndPoint AddressA = new(IPAddress.Parse("10.0.0.1"), 6881);
    public static readonly IPEndPoint AddressB = new(IPAddress.Parse("10.0.0.2"), 6882);

    private readonly ITimer _ticker;

    public UtpSimulation(int seed, UtpConnectionSettings? settings = null, TimeSpan? tick = null)
    {
        Random = new Random(seed);
        Settings = settings ?? new UtpConnectionSettings();
        A = new Peer(this, AddressB);
        B = new Peer(this, AddressA);
        AtoB = new SimulatedUtpLink(Time, Random, datagram => B.Deliver(datagram));
        BtoA = new SimulatedUtpLink(Time, Random, datagram => A.Deliver(datagram));
        A.Link = AtoB;
        B.Link = BtoA;
        A.Connection = UtpConnection.CreateOutgoing(A, A.Stream, Settings, AddressB, (ushort)Random.Next(0x10000), (ushort)Random.Next(0x10000));
        TimeSpan period = tick ?? TimeSpan.FromMilliseconds(10);
        _ticker = Time.CreateTimer(_ => { A.Tick(); B.Tick(); }, null, period, period);
    }

    public VirtualTimeProvider Time { get; } = new();

    public Random Random { get; }

    public UtpConnectionSettings Settings { get; }

    public Peer A { get; }

    public Peer B { get; }

    public SimulatedUtpLink AtoB { get; }

    public SimulatedUtpLink BtoA { get; }

    public long NowMicros => Time.GetTimestamp() / 10;

    /// <summary>Sends A's SYN and runs until both sides are connected (or fails the test).</summary>
    public void Connect(TimeSpan? within = null)
    {
        A.Connection!.Connect(NowMicros);
        Assert.True(RunUntil(() => A.Stream.Connected && B.Connection is not null, within ?? TimeSpan.FromSeconds(10)),
            "the handshake did not complete");
    }

    public bool RunUntil(Func<bool> done, TimeSpan max) => Time.RunUntil(done, max);

    public void Run(TimeSpan duration) => Time.Advance(duration);

    public void StopTicking() => _ticker.Dispose();

    /// <summary>One end: its connection, the application's stream, and the host the connection sends through.</summary>
    internal sealed class Peer(UtpSimulation sim, IPEndPoint remote) : IUtpConnectionHost
    {
        private bool _wakeScheduled;

        public UtpConnection? Connection { get; set; }

        public TestStream Stream { get; } = new();

        public SimulatedUtpLink Link { get; set; } = null!;

        public bool ClosedByHost { get; private set; }

        public long InvalidDatagrams { get; private set; }

        /// <summary>When set, every incoming packet is acked at once; otherwise acks go out once per delivery round.</summary>
        public Action<UtpPacket>? OnPacket { get; set; }

        public void Deliver(byte[] datagram)
        {
            if (!UtpPacket.TryParse(datagram, out UtpPacket packet))
            {
                InvalidDatagrams++;
                return;
            }
            OnPacket?.Invoke(packet);
            long now = sim.NowMicros;
            if (Connection is null)
            {
                if (packet.Type != UtpPacketType.Syn) return;
                Connection = UtpConnection.CreateIncoming(this, Stream, sim.Settings, remote, packet, (ushort)sim.Random.Next(0x10000), now);
            }
            else
            {
                Connection.Receive(packet, now);
            }
            Connection.FlushAck(now);
        }

        public void Tick() => Connection?.Tick(sim.NowMicros);

        /// <summary>The application writes <paramref name="data"/>; the connection sends what its windows allow.</summary>
        public void Write(byte[] data)
        {
            Stream.Write(data);
            Connection!.TrySend(sim.NowMicros);
        }

        /// <summary>The application closes its side: FIN once everything written is out.</summary>
        public void Close() => Connection!.Close(sim.NowMicros);

        /// <summary>The application reads <paramref name="bytes"/> more of what it received.</summary>
        public void Consume(long bytes)
        {
            Stream.Consume(bytes);
            Connection!.OnApplicationConsumed(sim.NowMicros);
        }

        public PacketBufferPool Buffers { get; } = new(2048);

        /// <summary>When set, the socket refuses sends (a full kernel buffer) while it returns true.</summary>
        public Func<bool>? SocketFull { get; set; }

        bool IUtpConnectionHost.SendDatagram(ReadOnlySpan<byte> datagram, IPEndPoint destination)
        {
            Assert.Equal(remote, destination);
            if (SocketFull?.Invoke() == true) return false;
            Link.Send(datagram);
            return true;
        }

        /// <summary>How many datagrams each batch the connection handed over held (batches of one included).</summary>
        public List<int> BatchSizes { get; } = [];

        int IUtpConnectionHost.SendDatagrams(ReadOnlySpan<OutgoingDatagram> datagrams, IPEndPoint destination)
        {
            BatchSizes.Add(datagrams.Length);
            int sent = 0;
            foreach (OutgoingDatagram datagram in datagrams)
            {
                if (!((IUtpConnectionHost)this).SendDatagram(datagram.Span, destination)) break;
                sent++;
            }
            return sent;
        }

        void IUtpConnectionHost.RequestWakeup(UtpConnection connection, long atMicros)
        {
            if (_wakeScheduled) return;
            _wakeScheduled = true;
            sim.Time.Schedule(TimeSpan.FromTicks(Math.Max(0, atMicros - sim.NowMicros) * 10), () =>
            {
                _wakeScheduled = false;
                connection.OnWakeup(sim.NowMicros);
            });
        }

        void IUtpConnectionHost.OnConnectionClosed(UtpConnection connection) => ClosedByHost = true;
    }

    /// <summary>
    /// The application's side in a simulation: bytes queued to send, bytes received (consumed at once unless
    /// <see cref="ManualConsume"/>), and what happened to the connection.
    /// </summary>
    internal sealed class TestStream : IUtpStream
    {
        private readonly ArrayBufferWriter<byte> _received = new();
        private byte[] _toSend = [];
        private int _sendOffset;

        public bool Connected { get; private set; }

        public bool EndOfStream { get; private set; }

        public bool Closed { get; private set; }

        public Exception? CloseError { get; private set; }

        public bool ManualConsume { get; set; }

        public long Unread { get; private set; }

        public ReadOnlySpan<byte> Received => _received.WrittenSpan;

        public int ReceivedCount => _received.WrittenCount;

        public int RemainingToSend => _toSend.Length - _sendOffset;

        public void Write(byte[] data)
        {
            _toSend = [.. _toSend.AsSpan(_sendOffset), .. data];
            _sendOffset = 0;
        }

        /// <summary>The application reads <paramref name="bytes"/> of what it has not read yet.</summary>
        public void Consume(long bytes) => Unread -= Math.Min(bytes, Unread);

        void IUtpStream.OnConnected() => Connected = true;

        void IUtpStream.OnDataReceived(ReadOnlySpan<byte> data)
        {
            Assert.False(EndOfStream, "data after the end of the stream");
            _received.Write(data);
            if (ManualConsume) Unread += data.Length;
        }

        void IUtpStream.OnEndOfStream() => EndOfStream = true;

        void IUtpStream.OnClosed(Exception? error)
        {
            Assert.False(Closed, "closed twice");
            Closed = true;
            CloseError = error;
        }

        long IUtpStream.UnreadBytes => Unread;

        int IUtpStream.AvailableToSend => RemainingToSend;

        int IUtpStream.TakeSendData(Span<byte> destination)
        {
            int n = Math.Min(destination.Length, RemainingToSend);
            _toSend.AsSpan(_sendOffset, n).CopyTo(destination);
            _sendOffset += n;
            return n;
        }
    }
}
