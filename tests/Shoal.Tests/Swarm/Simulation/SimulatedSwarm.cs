using System.IO.Pipelines;
using System.Net;
using Shoal.Bencoding;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Tests.Dht;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Tests.Swarm.Simulation;

/// <summary>
/// A whole swarm in one thread and in virtual time: real torrent actors (their dispatch, picker, choker, requesting,
/// availability, all of it) joined by a simulated network that carries their messages with per-link latency and
/// bandwidth, and in-memory disks that verify with the real verifier. Nothing runs on another thread and every
/// random choice comes from the seed, so a run replays exactly.
/// </summary>
internal sealed class SimulatedSwarm
{
    private const int PieceLength = 64 * 1024;

    private readonly VirtualTimeProvider _clock = new();
    private readonly List<Member> _members = [];
    private readonly Dictionary<(int Member, IPEndPoint Remote), LinkEnd> _ends = [];
    private readonly long _start;

    /// <summary>What happened, in order: (virtual milliseconds since the start, member, what).</summary>
    public List<(long Ms, int Member, string What)> Timeline { get; } = [];

    public SimulatedSwarm(int seed, int leechers, int size)
    {
        _start = _clock.GetTimestamp();
        var random = new Random(seed);
        byte[] content = new byte[size];
        random.NextBytes(content);
        Torrent = MakeTorrent(content);
        var layout = StorageLayout.FromTorrent(Torrent);
        var verifier = Sha1PieceVerifier.For(Torrent);
        Content = content;
        for (int i = 0; i <= leechers; i++)
        {
            var session = new SessionContext(new SessionOptions
            {
                Time = _clock,
                RandomSeed = random.Next(),
                EnableDht = false,
                EnableLocalDiscovery = false,
            })
            {
                RunPeer = RunPeerOf(i),
                ListenPort = 7000 + i,
            };
            var disk = new SimulatedDisk(layout, verifier, _clock, i == 0 ? content : null);
            int member = i;
            disk.OnVerdict = (piece, ok) => Record(member, ok ? $"verified {piece}" : $"failed {piece}");
            var actor = new TorrentActor(session, Torrent.InfoHash, Torrent.Name, Torrent, disk,
                new TorrentOptions { DownloadDirectory = $"/simulated/{i}" }, _ => throw new InvalidOperationException("the disk is given"));
            _members.Add(new Member(session, actor, disk, new IPEndPoint(IPAddress.Parse($"10.0.0.{i + 1}"), 7000 + i)));
        }
    }

    public Torrent Torrent { get; }

    public byte[] Content { get; }

    public IReadOnlyList<SimulatedDisk> Disks => [.. _members.Select(m => m.Disk)];

    public IReadOnlyList<TorrentStatus> Statuses => [.. _members.Select(m => m.Actor.Status)];

    /// <summary>
    /// Starts every member, connects each pair once (the lower index dials), and runs until every leecher completed or
    /// <paramref name="limit"/> of virtual time passed. Returns true when all completed.
    /// </summary>
    public bool Run(TimeSpan limit)
    {
        foreach (Member m in _members)
        {
            m.Actor.BeginSimulated();
            m.Actor.CheckCompletion.Wait(TimeSpan.FromSeconds(30)); // the check job posts its outcome, then ends
        }
        for (int a = 0; a < _members.Count; a++)
            for (int b = a + 1; b < _members.Count; b++) Connect(a, b);

        long end = _clock.GetTimestamp() + limit.Ticks;
        while (true)
        {
            PumpAll();
            if (_members.Skip(1).All(m => m.Actor.Completion.IsCompleted)) return true;
            long before = _clock.EventsRun;
            if (!_clock.RunUntil(() => _clock.EventsRun > before, TimeSpan.FromTicks(Math.Max(0, end - _clock.GetTimestamp())))) return false;
        }
    }

    private void Record(int member, string what) => Timeline.Add(((_clock.GetTimestamp() - _start) / TimeSpan.TicksPerMillisecond, member, what));

    /// <summary>Hands every mailbox its events and every outbound queue to the network until all is quiet.</summary>
    private void PumpAll()
    {
        bool busy = true;
        while (busy)
        {
            busy = false;
            for (int i = 0; i < _members.Count; i++)
            {
                if (_members[i].Actor.RunPending() > 0) busy = true;
                foreach (LinkEnd end in _members[i].Ends) Drain(end);
            }
        }
    }

    private void Connect(int a, int b)
    {
        Member dialer = _members[a], acceptor = _members[b];
        var dialerSide = new IPEndPoint(dialer.Address.Address, 40000 + b); // the dialer's ephemeral port towards b
        var link = new Link(LatencyBetween(a, b), BytesPerSecond: 250_000);
        _ends[(a, acceptor.Address)] = new LinkEnd(link, a, b);
        _ends[(b, dialerSide)] = new LinkEnd(link, b, a);
        _ends[(a, acceptor.Address)].Other = _ends[(b, dialerSide)];
        _ends[(b, dialerSide)].Other = _ends[(a, acceptor.Address)];
        ReservedBits reserved = ReservedBits.Create(extension: true, fast: true, dht: false);
        dialer.Session.TryReserveConnection();
        acceptor.Session.TryReserveConnection();
        dialer.Actor.TryPost(new TorrentEvent
        {
            Kind = TorrentEventKind.PeerJoined,
            Payload = new PendingPeer(new SimulatedTransport(acceptor.Address), new Handshake(Torrent.InfoHash, acceptor.Session.PeerId, reserved), false, acceptor.Address) { Connector = "sim" },
        });
        acceptor.Actor.TryPost(new TorrentEvent
        {
            Kind = TorrentEventKind.PeerJoined,
            Payload = new PendingPeer(new SimulatedTransport(dialerSide), new Handshake(Torrent.InfoHash, dialer.Session.PeerId, reserved), true, null) { Connector = "sim" },
        });
        Record(a, $"connect {b}");
    }

    private static TimeSpan LatencyBetween(int a, int b) => TimeSpan.FromMilliseconds(5 + ((a * 7) + (b * 13)) % 40);

    private Func<PeerConnection, PeerLoopContext, Task> RunPeerOf(int member) => (peer, _) =>
    {
        LinkEnd end = _ends[(member, peer.EndPoint)];
        end.Peer = peer;
        _members[member].Ends.Add(end);
        return end.Closed.Task;
    };

    /// <summary>Sends what the actor queued on one connection (as its send loop would), and notices a close.</summary>
    private void Drain(LinkEnd end)
    {
        if (end.Peer is not { } peer || end.Done) return;
        long now = _clock.GetTimestamp();
        while (peer.TryTakeOutbound(out OutboundMessage message))
        {
            if (peer.CloseReason is not null) continue;
            OutboundMessage sent = message;
            int payload = 0;
            if (message.Id == MessageId.Piece)
            {
                if (message.ChokeEpoch != peer.ChokeEpoch)
                {
                    // Choked since it asked: the request is void; with the fast extension it is rejected.
                    if (!peer.SupportsFast) continue;
                    sent = message with { Id = MessageId.Reject };
                }
                else
                {
                    payload = message.Length;
                    sent = message with { Data = _members[end.Member].Disk.Read(message.Index, message.Begin, message.Length) };
                }
            }
            peer.NoteTraffic(now, received: false, sent: true, payload);
            Deliver(end, sent);
        }
        if (peer.CloseReason is not null) Close(end, peer.CloseReason);
    }

    private void Deliver(LinkEnd from, OutboundMessage message)
    {
        int bytes = WireSize(message);
        long now = _clock.GetTimestamp();
        long startSending = Math.Max(now, from.BusyUntil);
        from.BusyUntil = startSending + (long)(bytes * (double)TimeSpan.TicksPerSecond / from.Link.BytesPerSecond);
        TimeSpan due = TimeSpan.FromTicks(from.BusyUntil - now) + from.Link.Latency;
        LinkEnd to = from.Other!;
        _clock.Schedule(due, () =>
        {
            if (to.Done || to.Peer is not { } peer || peer.CloseReason is not null) return;
            Member member = _members[to.Member];
            peer.NoteTraffic(_clock.GetTimestamp(), received: true, sent: false, 0);
            if (message.Id == MessageId.KeepAlive) return;
            byte[]? buffer = null;
            object? payload = null;
            if (message.Id == MessageId.Piece)
            {
                buffer = member.Session.Blocks.Rent(message.Length);
                message.Data.AsSpan().CopyTo(buffer);
            }
            else if (message.Id is MessageId.Bitfield or MessageId.Extended)
            {
                payload = message.Data;
                peer.NoteUnhandled(message.Data!.Length); // as the receive loop counts it, until the actor has handled it
            }
            member.Actor.TryPost(new TorrentEvent
            {
                Kind = TorrentEventKind.Message,
                Peer = peer,
                MessageId = message.Id,
                Index = message.Index,
                Begin = message.Begin,
                Length = message.Length,
                Buffer = buffer,
                Payload = payload,
            });
        });
    }

    private void Close(LinkEnd end, string reason)
    {
        if (end.Done) return;
        end.Done = true;
        Record(end.Member, $"closed {end.Remote}: {reason}");
        Member member = _members[end.Member];
        member.Session.ReleaseConnection();
        member.Actor.TryPost(new TorrentEvent { Kind = TorrentEventKind.PeerClosed, Peer = end.Peer });
        end.Closed.TrySetResult();
        // The other side sees the connection end one latency later.
        LinkEnd other = end.Other!;
        _clock.Schedule(end.Link.Latency, () =>
        {
            other.Peer?.Close("connection closed");
            if (other.Peer is not null) Drain(other);
        });
    }

    private static int WireSize(OutboundMessage m) => m.Id switch
    {
        MessageId.Piece => 13 + m.Length,
        MessageId.Request or MessageId.Cancel or MessageId.Reject => 17,
        MessageId.Have or MessageId.AllowedFast => 9,
        MessageId.Bitfield => 5 + (m.Data?.Length ?? 0),
        MessageId.Extended => 6 + (m.Data?.Length ?? 0),
        MessageId.KeepAlive => 4,
        MessageId.Port => 7,
        _ => 5,
    };

    private static Torrent MakeTorrent(byte[] content)
    {
        int pieces = (content.Length + PieceLength - 1) / PieceLength;
        byte[] hashes = new byte[pieces * 20];
        for (int p = 0; p < pieces; p++)
            System.Security.Cryptography.SHA1.HashData(content.AsSpan(p * PieceLength, Math.Min(PieceLength, content.Length - p * PieceLength)), hashes.AsSpan(p * 20, 20));
        var info = new BDictionary();
        info.Set("name", new BString("simulated.bin"));
        info.Set("length", new BInteger(content.Length));
        info.Set("piece length", new BInteger(PieceLength));
        info.Set("pieces", new BString(hashes));
        info.Set("private", new BInteger(1)); // no PEX: every member is connected to every other from the start
        var root = new BDictionary();
        root.Set("info", info);
        return Torrent.Parse(Bencode.Encode(root));
    }

    private sealed record Member(SessionContext Session, TorrentActor Actor, SimulatedDisk Disk, IPEndPoint Address)
    {
        public List<LinkEnd> Ends { get; } = [];
    }

    private sealed record Link(TimeSpan Latency, long BytesPerSecond);

    /// <summary>One side of a connection: its peer in its member's actor, and the time its sending is busy until.</summary>
    private sealed class LinkEnd(Link link, int member, int remote)
    {
        public Link Link { get; } = link;
        public int Member { get; } = member;
        public int Remote { get; } = remote;
        public LinkEnd? Other { get; set; }
        public PeerConnection? Peer { get; set; }
        public long BusyUntil { get; set; }
        public bool Done { get; set; }
        public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A transport whose bytes never flow: the swarm moves the messages itself.</summary>
    private sealed class SimulatedTransport(IPEndPoint remote) : PeerTransport
    {
        private readonly Pipe _in = new();
        private readonly Pipe _out = new();
        public override PipeReader Input => _in.Reader;
        public override PipeWriter Output => _out.Writer;
        public override IPEndPoint RemoteEndPoint => remote;
        public override void Abort() { }
        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
