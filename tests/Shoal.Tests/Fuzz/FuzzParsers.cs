using System.Buffers;
using System.Net;
using System.Text;
using Shoal.Bencoding;
using Shoal.Dht;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Trackers;
using Shoal.Trackers.Server;
using Shoal.Transport.Utp;
using Shoal.Tests.Wire;
using Shoal.Wire;

namespace Shoal.Tests.Fuzz;

/// <summary>What a fuzz input did to its target.</summary>
internal enum FuzzOutcome
{
    /// <summary>The parser accepted the input.</summary>
    Accepted,

    /// <summary>The parser rejected it with the format exception family (or, for LSD, returned null).</summary>
    Rejected,
}

/// <summary>An invariant of a parsed value failed (e.g. a round trip); always a finding, never a rejection.</summary>
internal sealed class FuzzInvariantException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The parser entry points under fuzz and the outcomes each may have. The long-running fuzzer
/// (bench/Shoal.Bench, `fuzz`) compiles this same file, so the replay of the regression corpus and the long
/// run always agree on what counts as a finding.
/// </summary>
/// <remarks>
/// <see cref="Run"/> returns the outcome, lets <see cref="ShoalFormatException"/> escape as a rejection for
/// ordinary parsers, and lets anything else escape: the caller treats that as a finding. Targets in
/// <see cref="NeverThrow"/> may not throw at all.
/// </remarks>
internal static class FuzzParsers
{
    /// <summary>Every target name, in the order the fuzzer runs them.</summary>
    public static readonly string[] Names =
    [
        "bencode", "metainfo", "magnet", "wire", "extension", "metadata", "pex", "lsd",
        "tracker-http", "tracker-udp", "tracker-udp-server", "krpc", "utp", "holepunch",
    ];

    /// <summary>Targets whose contract is "no exception at all": LSD (null on junk), the UDP tracker server, uTP.</summary>
    public static bool NeverThrow(string target) => target is "lsd" or "tracker-udp-server" or "utp";

    /// <summary>The connection id the UDP tracker server handed out, written over mutated requests' first 8 bytes.</summary>
    public sealed class ServerState
    {
        /// <summary>Creates a server and connects one client to it.</summary>
        public ServerState()
        {
            Server = new UdpTrackerServer(new SwarmRegistry());
            byte[] request = new byte[16];
            UdpTrackerProtocol.WriteConnectRequest(request, 77);
            int length = Server.HandlePacket(request, Client, Response, Scratch);
            if (length != 16) throw new InvalidOperationException("the UDP tracker server did not answer a connect");
            ConnectionId = UdpTrackerProtocol.ReadConnectResponse(Response.AsSpan(0, length));
        }

        /// <summary>The server under test.</summary>
        public UdpTrackerServer Server { get; }

        /// <summary>The client address the connection id belongs to.</summary>
        public IPEndPoint Client { get; } = IPEndPoint.Parse("10.1.2.3:4000");

        /// <summary>The id the server handed to <see cref="Client"/>.</summary>
        public long ConnectionId { get; }

        /// <summary>Response buffer.</summary>
        public byte[] Response { get; } = new byte[UdpTrackerServer.MaxResponseLength];

        /// <summary>Peer scratch space.</summary>
        public SwarmPeer[] Scratch { get; } = new SwarmPeer[200];
    }

    private static readonly InfoHash[] ScrapeHashes =
        [new(Enumerable.Repeat((byte)1, 20).ToArray()), new(Enumerable.Repeat((byte)2, 20).ToArray()), new(Enumerable.Repeat((byte)3, 20).ToArray())];

    /// <summary>Feeds <paramref name="input"/> to <paramref name="target"/>.</summary>
    public static FuzzOutcome Run(string target, byte[] input, ServerState? server = null) => target switch
    {
        "bencode" => Bencoding(input),
        "metainfo" => Metainfo(input),
        "magnet" => Magnet(input),
        "wire" => Wire(input),
        "extension" => Extension(input),
        "metadata" => Metadata(input),
        "pex" => Pex(input),
        "lsd" => LsdMessage.Parse(input) is null ? FuzzOutcome.Rejected : FuzzOutcome.Accepted,
        "tracker-http" => TrackerHttp(input),
        "tracker-udp" => TrackerUdp(input),
        "tracker-udp-server" => TrackerUdpServer(input, server ?? new ServerState()),
        "krpc" => Krpc(input),
        "utp" => Utp(input),
        "holepunch" => Holepunch(input),
        _ => throw new ArgumentException($"unknown fuzz target '{target}'", nameof(target)),
    };

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new FuzzInvariantException("invariant failed: " + what);
    }

    /// <summary>Runs a step that must not throw at all (re-encoding what was parsed).</summary>
    private static T Must<T>(Func<T> step, string what)
    {
        try
        {
            return step();
        }
        catch (Exception error)
        {
            throw new FuzzInvariantException(what + " threw " + error.GetType().Name, error);
        }
    }

    private static FuzzOutcome Bencoding(byte[] input)
    {
        bool ok = false;
        try
        {
            BValue value = Bencode.Decode(input);
            byte[] encoded = Must(() => Bencode.Encode(value), "re-encoding a decoded value");
            Check(Bencode.Encode(Must(() => Bencode.Decode(encoded), "decoding a re-encoded value")).AsSpan().SequenceEqual(encoded), "bencode round trip is stable");
            ok = true;
        }
        catch (ShoalFormatException)
        {
        }
        try
        {
            Bencode.DecodePrefix(input, out int consumed);
            Check(consumed > 0 && consumed <= input.Length, "DecodePrefix consumed a sane length");
            ok = true;
        }
        catch (ShoalFormatException)
        {
        }
        try
        {
            BValue value = Bencode.DecodeLenient(input, out int consumed);
            Check(consumed > 0 && consumed <= input.Length, "DecodeLenient consumed a sane length");
            byte[] encoded = Must(() => Bencode.Encode(value), "re-encoding a leniently decoded value");
            Check(Must(() => Bencode.Decode(encoded), "strictly decoding a re-encoded lenient value").IsCanonical, "re-encoded lenient value is canonical");
            // IsCanonical must be right: a canonical value re-encodes to exactly the bytes it came from.
            if (value.IsCanonical) Check(encoded.AsSpan().SequenceEqual(input.AsSpan(0, consumed)), "a value marked canonical re-encodes to its source bytes");
            ok = true;
        }
        catch (ShoalFormatException)
        {
        }
        return ok ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    private static FuzzOutcome Metainfo(byte[] input)
    {
        bool ok = false;
        try
        {
            Torrent torrent = Torrent.Parse(input);
            Check(torrent.TotalSize == torrent.Files[^1].Offset + torrent.Files[^1].Length, "total size is the end of the last file");
            Torrent again = Must(() => Torrent.Parse(torrent.ToBytes()), "re-parsing ToBytes()");
            Check(again.InfoHash == torrent.InfoHash && again.InfoHashV2 == torrent.InfoHashV2, "info hashes survive ToBytes()");
            Torrent fromInfo = Must(() => Torrent.FromInfoDictionary(torrent.InfoDictionary), "re-parsing the info dictionary alone");
            Check(fromInfo.InfoHash == torrent.InfoHash && fromInfo.Files.Count == torrent.Files.Count, "the info dictionary alone gives the same torrent");
            CheckPaths(torrent);
            if (torrent.HasV2)
            {
                for (int i = 0; i < torrent.Files.Count; i++) _ = torrent.GetPieceLayer(i);
                _ = torrent.GetPieceHashV2(torrent.PieceCount - 1);
            }
            ok = true;
        }
        catch (ShoalFormatException)
        {
        }
        try
        {
            Torrent.FromInfoDictionary(input);
            ok = true;
        }
        catch (ShoalFormatException)
        {
        }
        return ok ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    /// <summary>Whatever a torrent says, no path may leave the download folder or carry a control character.</summary>
    private static void CheckPaths(Torrent torrent)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (TorrentFile file in torrent.Files)
        {
            foreach (string segment in file.PathSegments)
            {
                Check(segment.Length > 0 && segment != "." && segment != ".." && segment.IndexOfAny(['/', '\\']) < 0, "a path segment is safe");
                Check(!segment.Any(char.IsControl) && Encoding.UTF8.GetByteCount(segment) <= 255, "a path segment is printable and at most 255 bytes");
            }
            Check(file.IsPadding || paths.Add(UnicodeFolding.Key(file.Path)), "no two files share a path, even on a case-insensitive file system");
        }
    }

    private static FuzzOutcome Magnet(byte[] input)
    {
        bool ok = false;
        foreach (string uri in (string[])[Encoding.UTF8.GetString(input), Encoding.Latin1.GetString(input)])
        {
            try
            {
                MagnetLink link = MagnetLink.Parse(uri);
                Check(link.Equals(Must(() => MagnetLink.Parse(link.ToString()), "re-parsing ToString()")), "magnet link round trip");
                ok = true;
            }
            catch (ShoalFormatException)
            {
            }
        }
        return ok ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    private static FuzzOutcome Wire(byte[] input)
    {
        // The same bytes as one segment and as segments whose size the input picks (the receive loop sees both),
        // once behind a handshake and once as a bare message stream, with and without a known piece count.
        int chunk = input.Length == 0 ? 1 : 1 + input[^1] % 13;
        bool ok = false;
        foreach (bool handshake in (bool[])[true, false])
        {
            (ReadOnlySequence<byte> Sequence, int PieceCount)[] variants =
                [(new ReadOnlySequence<byte>(input), 64), (SegmentedSequence.Split(input, chunk), 0), (SegmentedSequence.Split(input, 1 + chunk * 7), 100_000)];
            foreach ((ReadOnlySequence<byte> sequence, int pieceCount) in variants)
            {
                try
                {
                    ok |= Consume(sequence, pieceCount, handshake);
                }
                catch (ShoalFormatException)
                {
                }
            }
        }
        return ok ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    private static bool Consume(ReadOnlySequence<byte> buffer, int pieceCount, bool handshake)
    {
        if (handshake && !Handshake.TryParse(ref buffer, out _)) return false;
        var reader = new PeerMessageReader(pieceCount);
        long before = buffer.Length;
        int messages = 0;
        while (reader.TryRead(ref buffer, out PeerMessage message))
        {
            _ = message.Payload.Length;
            Check(buffer.Length < before || message.Id == MessageId.KeepAlive, "TryRead consumed bytes");
            before = buffer.Length;
            messages++;
        }
        return messages > 0 || handshake;
    }

    private static FuzzOutcome Extension(byte[] input)
    {
        ExtensionHandshake parsed = ExtensionHandshake.Parse(input);
        Check(parsed.Extensions.Count <= ExtensionHandshake.MaxExtensions, "extension count within the limit");
        Must(parsed.Encode, "re-encoding the handshake");
        return FuzzOutcome.Accepted;
    }

    private static FuzzOutcome Metadata(byte[] input)
    {
        MetadataMessage parsed = MetadataMessage.Parse(input);
        Check(parsed.Data.Length <= MetadataMessage.BlockSize, "metadata block within 16 KiB");
        if (parsed.Type != MetadataMessageType.Unknown) Must(parsed.Encode, "re-encoding the message");
        return FuzzOutcome.Accepted;
    }

    private static FuzzOutcome Pex(byte[] input)
    {
        PexMessage parsed = PexMessage.Parse(input);
        Check(parsed.Added.Count <= 2 * PexMessage.MaxEntriesPerList, "added peers within the limit");
        Must(parsed.Encode, "re-encoding the message");
        return FuzzOutcome.Accepted;
    }

    private static FuzzOutcome TrackerHttp(byte[] input)
    {
        bool ok = false;
        try
        {
            AnnounceResponse? announce = HttpTrackerResponseParser.ParseAnnounce(input, 50, out string? failure);
            Check(announce is not null || failure is not null, "an announce answer is a response or a failure");
            Check(announce is null || announce.Peers.Count <= 50, "peer count within maxPeers");
            ok = true;
        }
        catch (ShoalFormatException)
        {
        }
        try
        {
            HttpTrackerResponseParser.ParseScrape(input, out _);
            ok = true;
        }
        catch (ShoalFormatException)
        {
        }
        return ok ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    private static FuzzOutcome TrackerUdp(byte[] input)
    {
        bool ok = UdpTrackerProtocol.TryReadHeader(input, out _, out _);
        Action[] readers =
        [
            () => UdpTrackerProtocol.ReadConnectResponse(input),
            () => Check(UdpTrackerProtocol.ReadAnnounceResponse(input, false, 50).Peers.Count <= 50, "IPv4 peers within maxPeers"),
            () => Check(UdpTrackerProtocol.ReadAnnounceResponse(input, true, 50).Peers.Count <= 50, "IPv6 peers within maxPeers"),
            () => UdpTrackerProtocol.ReadScrapeResponse(input, ScrapeHashes),
            () => UdpTrackerProtocol.ReadErrorMessage(input),
        ];
        foreach (Action read in readers)
        {
            try
            {
                read();
                ok = true;
            }
            catch (ShoalFormatException)
            {
            }
        }
        return ok ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    private static FuzzOutcome TrackerUdpServer(byte[] input, ServerState state)
    {
        byte[] request = input;
        if (input.Length >= 8 && input[0] == 0xC0)
        {
            // A marker byte asks for the live connection id, so announces and scrapes get past the id check.
            request = (byte[])input.Clone();
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(request, state.ConnectionId);
        }
        IPEndPoint from = input.Length > 0 && input[^1] % 10 == 0 ? new IPEndPoint(IPAddress.Parse("2001:db8::7"), 4000) : state.Client;
        int length = state.Server.HandlePacket(request, from, state.Response, state.Scratch);
        Check(length >= 0 && length <= UdpTrackerServer.MaxResponseLength, "response length within the buffer");
        return length > 0 ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    private static FuzzOutcome Krpc(byte[] input)
    {
        KrpcMessage message = KrpcCodec.Decode(input);
        Check(message.TransactionId.Length <= input.Length, "transaction id is a slice of the packet");
        return FuzzOutcome.Accepted;
    }

    private static FuzzOutcome Holepunch(byte[] input)
    {
        HolepunchMessage parsed = HolepunchMessage.Parse(input);
        Check(Must(parsed.Encode, "re-encoding the message").AsSpan().SequenceEqual(input), "ut_holepunch round trip");
        return FuzzOutcome.Accepted;
    }

    /// <summary>
    /// uTP: the input is a run of datagrams, each after its length byte (a 0 length lets 600 ms pass), fed to one
    /// established connection that also has data of its own to send; the packet parser and the whole state machine
    /// must take anything without throwing and keep their bounds.
    /// </summary>
    private static FuzzOutcome Utp(byte[] input)
    {
        var host = new FuzzUtpHost();
        var stream = new FuzzUtpStream();
        var settings = new UtpConnectionSettings { ReceiveBufferSize = 64 * 1024 };
        Span<byte> synBytes = stackalloc byte[UtpPacket.HeaderLength];
        UtpPacket.WriteHeader(synBytes, UtpPacketType.Syn, 0, FuzzUtpSynId, 1, 0, 65536, FuzzUtpPeerSequence, 0);
        Check(UtpPacket.TryParse(synBytes, out UtpPacket syn), "the SYN parses");
        long now = 1_000_000;
        var connection = UtpConnection.CreateIncoming(host, stream, settings, FuzzUtpPeer, syn, FuzzUtpOurSequence, now);
        connection.FlushAck(now);
        connection.TrySend(now);
        bool parsed = false;
        for (int i = 0; i < input.Length;)
        {
            int length = Math.Min(input[i++], input.Length - i);
            if (length == 0)
            {
                now += 600_000;
                connection.Tick(now);
                continue;
            }
            ReadOnlySpan<byte> datagram = input.AsSpan(i, length);
            i += length;
            now += 1_000;
            if (!UtpPacket.TryParse(datagram, out UtpPacket packet)) continue;
            parsed = true;
            Check(UtpPacket.HeaderLength + packet.SelectiveAck.Length + packet.Payload.Length <= datagram.Length, "parts within the datagram");
            if (packet.Type == UtpPacketType.Data) Check(!packet.Payload.IsEmpty, "data packets carry data");
            connection.Receive(packet, now);
            connection.FlushAck(now);
            connection.Tick(now);
        }
        Check(stream.Received <= settings.ReceiveBufferSize + input.Length, "no more delivered than arrived");
        Check(connection.BytesInFlight >= 0 && connection.BytesInFlight <= FuzzUtpStream.Capacity, "bytes in flight within what was written");
        return parsed ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    /// <summary>The SYN's connection id: the connection receives on this plus one and sends on it.</summary>
    public const ushort FuzzUtpSynId = 0x1000;

    /// <summary>The peer's first sequence number (its SYN's).</summary>
    public const ushort FuzzUtpPeerSequence = 5000;

    /// <summary>The fuzzed connection's first sequence number.</summary>
    public const ushort FuzzUtpOurSequence = 100;

    private static readonly IPEndPoint FuzzUtpPeer = IPEndPoint.Parse("10.9.8.7:6881");

    private sealed class FuzzUtpHost : IUtpConnectionHost
    {
        public PacketBufferPool Buffers { get; } = new(2048, maxRetained: 64);

        public bool SendDatagram(ReadOnlySpan<byte> datagram, IPEndPoint remote)
        {
            Check(UtpPacket.TryParse(datagram, out _), "what the connection sends parses");
            return true;
        }

        public void RequestWakeup(UtpConnection connection, long atMicros)
        {
        }

        public void OnConnectionClosed(UtpConnection connection)
        {
        }
    }

    private sealed class FuzzUtpStream : IUtpStream
    {
        public const int Capacity = 200_000;
        private int _sent;

        public long Received { get; private set; }

        public long UnreadBytes => 0;

        public int AvailableToSend => Capacity - _sent;

        public void OnConnected()
        {
        }

        public void OnDataReceived(ReadOnlySpan<byte> data) => Received += data.Length;

        public void OnEndOfStream()
        {
        }

        public void OnClosed(Exception? error)
        {
        }

        public int TakeSendData(Span<byte> destination)
        {
            int n = Math.Min(destination.Length, AvailableToSend);
            destination[..n].Fill(0x5A);
            _sent += n;
            return n;
        }
    }
}
