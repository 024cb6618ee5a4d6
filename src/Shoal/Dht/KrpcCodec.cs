using System.Buffers;
using System.Net;
using Shoal.Bencoding;

namespace Shoal.Dht;

/// <summary>
/// Encodes and decodes KRPC messages (BEP 5, with BEP 32 "nodes6", BEP 42 "ip", BEP 43 "ro"). Decoding is bounded:
/// packet size, nesting depth, item count, string lengths; every malformed packet raises
/// <see cref="KrpcFormatException"/> (or another <see cref="ShoalFormatException"/>), nothing else.
/// </summary>
public static class KrpcCodec
{
    /// <summary>Largest datagram decoded; real KRPC packets stay under one MTU.</summary>
    public const int MaxPacketLength = 2048;

    /// <summary>Longest transaction id accepted.</summary>
    public const int MaxTransactionIdLength = 16;

    /// <summary>Longest write token accepted.</summary>
    public const int MaxTokenLength = 64;

    /// <summary>Most "values" entries read from one response.</summary>
    public const int MaxValues = 200;

    private static readonly BencodeLimits Limits = new() { MaxDepth = 4, MaxItems = 512, MaxInputLength = MaxPacketLength };

    /// <summary>Decodes one datagram. The result copies what it keeps; <paramref name="packet"/> may be reused after.</summary>
    /// <exception cref="ShoalFormatException">The packet is not a valid KRPC message.</exception>
    public static KrpcMessage Decode(ReadOnlyMemory<byte> packet)
    {
        if (packet.Length > MaxPacketLength) throw new KrpcFormatException($"KRPC packet of {packet.Length} bytes is over the {MaxPacketLength}-byte limit");
        if (packet.Length == 0 || packet.Span[0] != (byte)'d') throw new KrpcFormatException("a KRPC packet is a bencoded dictionary");
        BValue root;
        try
        {
            root = Bencode.Decode(packet, Limits);
        }
        catch (BencodeException ex)
        {
            throw new KrpcFormatException($"bad KRPC bencoding: {ex.Message}", ex);
        }
        if (root is not BDictionary top) throw new KrpcFormatException("a KRPC packet is a bencoded dictionary");

        byte[] tid = RequiredBytes(top, "t", 0, MaxTransactionIdLength);
        byte[] version = top.TryGetValue("v", out BValue? v) && v is BString vs && vs.Length <= 16 ? vs.Bytes.ToArray() : [];
        if (!top.TryGetValue("y", out BValue? y) || y is not BString ys || ys.Length != 1)
        {
            throw new KrpcFormatException("KRPC packet without a one-letter \"y\"");
        }
        return ys.Bytes.Span[0] switch
        {
            (byte)'q' => DecodeQuery(top, tid, version),
            (byte)'r' => DecodeResponse(top, tid, version),
            (byte)'e' => DecodeError(top, tid, version),
            _ => throw new KrpcFormatException($"unknown KRPC message type \"{(char)ys.Bytes.Span[0]}\""),
        };
    }

    private static KrpcQuery DecodeQuery(BDictionary top, byte[] tid, byte[] version)
    {
        if (!top.TryGetValue("q", out BValue? q) || q is not BString qs || qs.Length > 32) throw new KrpcFormatException("KRPC query without a method name");
        if (!top.TryGetValue("a", out BValue? a) || a is not BDictionary args) throw new KrpcFormatException("KRPC query without an \"a\" dictionary");
        KrpcMethod method = qs.Bytes.Span switch
        {
            var s when s.SequenceEqual("ping"u8) => KrpcMethod.Ping,
            var s when s.SequenceEqual("find_node"u8) => KrpcMethod.FindNode,
            var s when s.SequenceEqual("get_peers"u8) => KrpcMethod.GetPeers,
            var s when s.SequenceEqual("announce_peer"u8) => KrpcMethod.AnnouncePeer,
            _ => KrpcMethod.Unknown,
        };
        NodeId sender = RequiredId(args, "id");
        bool readOnly = top.TryGetValue("ro", out BValue? ro) && ro is BInteger { Value: 1 };
        NodeId target = default;
        byte[] token = [];
        int port = 0;
        bool implied = false;
        KrpcWant want = KrpcWant.None;
        switch (method)
        {
            case KrpcMethod.FindNode:
                target = RequiredId(args, "target");
                want = ReadWant(args);
                break;
            case KrpcMethod.GetPeers:
                target = RequiredId(args, "info_hash");
                want = ReadWant(args);
                break;
            case KrpcMethod.AnnouncePeer:
                target = RequiredId(args, "info_hash");
                token = RequiredBytes(args, "token", 1, MaxTokenLength);
                implied = args.TryGetValue("implied_port", out BValue? ip) && ip is BInteger { Value: 1 };
                if (args.TryGetValue("port", out BValue? p) && p is BInteger { Value: >= 1 and <= 65535 } pi) port = (int)pi.Value;
                else if (!implied) throw new KrpcFormatException("announce_peer without a valid \"port\"");
                break;
        }
        return new KrpcQuery
        {
            TransactionId = tid,
            Version = version,
            Method = method,
            SenderId = sender,
            Target = target,
            Token = token,
            Port = port,
            ImpliedPort = implied,
            Want = want,
            ReadOnly = readOnly,
        };
    }

    /// <summary>
    /// BEP 32 "want": a list of strings, of which "n4" and "n6" mean something and any other is ignored (future
    /// extensions). A "want" that is not a list is ignored too: the answer then follows the query's family.
    /// </summary>
    private static KrpcWant ReadWant(BDictionary args)
    {
        if (!args.TryGetValue("want", out BValue? value) || value is not BList list) return KrpcWant.None;
        KrpcWant want = KrpcWant.None;
        foreach (BValue item in list)
        {
            if (item is not BString s || s.Length != 2) continue;
            if (s.Bytes.Span.SequenceEqual("n4"u8)) want |= KrpcWant.N4;
            else if (s.Bytes.Span.SequenceEqual("n6"u8)) want |= KrpcWant.N6;
        }
        return want;
    }

    private static KrpcResponse DecodeResponse(BDictionary top, byte[] tid, byte[] version)
    {
        if (!top.TryGetValue("r", out BValue? r) || r is not BDictionary body) throw new KrpcFormatException("KRPC response without an \"r\" dictionary");
        NodeId sender = RequiredId(body, "id");
        IReadOnlyList<NodeContact> nodes = body.TryGetValue("nodes", out BValue? n) && n is BString ns
            ? CompactAddress.ReadNodes(ns.Bytes.Span, CompactAddress.NodeV4Length) : [];
        IReadOnlyList<NodeContact> nodes6 = body.TryGetValue("nodes6", out BValue? n6) && n6 is BString n6s
            ? CompactAddress.ReadNodes(n6s.Bytes.Span, CompactAddress.NodeV6Length) : [];
        List<IPEndPoint> values = [];
        if (body.TryGetValue("values", out BValue? vals))
        {
            if (vals is not BList list) throw new KrpcFormatException("KRPC \"values\" is not a list");
            foreach (BValue item in list)
            {
                if (values.Count >= MaxValues) break;
                // Entries of another length are skipped rather than failing the whole response: some clients pad.
                if (item is BString s && s.Length is CompactAddress.PeerV4Length or CompactAddress.PeerV6Length)
                {
                    IPEndPoint peer = CompactAddress.ReadPeer(s.Bytes.Span);
                    if (peer.Port != 0) values.Add(peer);
                }
            }
        }
        byte[] token = body.TryGetValue("token", out BValue? t) && t is BString ts && ts.Length is > 0 and <= MaxTokenLength ? ts.Bytes.ToArray() : [];
        return new KrpcResponse
        {
            TransactionId = tid,
            Version = version,
            SenderId = sender,
            Nodes = nodes,
            Nodes6 = nodes6,
            Values = values,
            Token = token,
            RequesterAddress = ReadIp(top),
        };
    }

    private static KrpcError DecodeError(BDictionary top, byte[] tid, byte[] version)
    {
        if (!top.TryGetValue("e", out BValue? e) || e is not BList list || list.Count < 2 || list[0] is not BInteger code || list[1] is not BString text)
        {
            throw new KrpcFormatException("KRPC error without an [code, message] list");
        }
        string message = text.TryGetText(out string? m) ? m : "(binary message)";
        if (message.Length > 200) message = message[..200];
        return new KrpcError
        {
            TransactionId = tid,
            Version = version,
            Code = (int)Math.Clamp(code.Value, 0, 999),
            Message = message,
            RequesterAddress = ReadIp(top),
        };
    }

    private static IPEndPoint? ReadIp(BDictionary top)
        => top.TryGetValue("ip", out BValue? ip) && ip is BString s && s.Length is CompactAddress.PeerV4Length or CompactAddress.PeerV6Length
            ? CompactAddress.ReadPeer(s.Bytes.Span)
            : null;

    private static NodeId RequiredId(BDictionary dict, string key)
    {
        if (!dict.TryGetValue(key, out BValue? value) || value is not BString s || s.Length != NodeId.Length)
        {
            throw new KrpcFormatException($"KRPC \"{key}\" must be a 20-byte string");
        }
        return new NodeId(s.Bytes.Span);
    }

    private static byte[] RequiredBytes(BDictionary dict, string key, int min, int max)
    {
        if (!dict.TryGetValue(key, out BValue? value) || value is not BString s || s.Length < min || s.Length > max)
        {
            throw new KrpcFormatException($"KRPC \"{key}\" must be a string of {min} to {max} bytes");
        }
        return s.Bytes.ToArray();
    }

    /// <summary>Encodes a message into a new array.</summary>
    public static byte[] Encode(KrpcMessage message, IPEndPoint? requester = null, bool readOnly = false)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Encode(message, buffer, requester, readOnly);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Encodes a message. <paramref name="requester"/> becomes the BEP 42 top-level "ip" of responses and errors;
    /// <paramref name="readOnly"/> adds BEP 43 "ro":1 to queries (it also honours <see cref="KrpcQuery.ReadOnly"/>).
    /// </summary>
    public static void Encode(KrpcMessage message, IBufferWriter<byte> output, IPEndPoint? requester = null, bool readOnly = false)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(output);
        var w = new BencodeWriter(output);
        Span<byte> scratch = stackalloc byte[CompactAddress.NodeV6Length];
        w.WriteDictionaryStart();
        switch (message)
        {
            case KrpcQuery query:
                w.WriteString("a"u8);
                WriteQueryArguments(w, query, scratch);
                w.WriteString("q"u8);
                w.WriteString(query.MethodName);
                if (readOnly || query.ReadOnly)
                {
                    w.WriteString("ro"u8);
                    w.WriteInteger(1);
                }
                WriteTail(w, message, "q"u8);
                break;
            case KrpcResponse response:
                WriteIp(w, requester, scratch);
                w.WriteString("r"u8);
                WriteResponseBody(w, response, scratch);
                WriteTail(w, message, "r"u8);
                break;
            case KrpcError error:
                w.WriteString("e"u8);
                w.WriteListStart();
                w.WriteInteger(error.Code);
                w.WriteString(error.Message);
                w.WriteEnd();
                WriteIp(w, requester, scratch);
                WriteTail(w, message, "e"u8);
                break;
            default:
                throw new ArgumentException("unknown KRPC message type", nameof(message));
        }
        w.WriteEnd();
    }

    private static void WriteIp(BencodeWriter w, IPEndPoint? requester, Span<byte> scratch)
    {
        if (requester is null) return;
        w.WriteString("ip"u8);
        w.WriteString(scratch[..CompactAddress.WritePeer(requester, scratch)]);
    }

    private static void WriteResponseBody(BencodeWriter w, KrpcResponse response, Span<byte> scratch)
    {
        w.WriteDictionaryStart();
        w.WriteString("id"u8);
        response.SenderId.CopyTo(scratch);
        w.WriteString(scratch[..NodeId.Length]);
        WriteNodes(w, "nodes"u8, response.Nodes, CompactAddress.NodeV4Length);
        WriteNodes(w, "nodes6"u8, response.Nodes6, CompactAddress.NodeV6Length);
        if (!response.Token.IsEmpty)
        {
            w.WriteString("token"u8);
            w.WriteString(response.Token.Span);
        }
        if (response.Values.Count > 0)
        {
            w.WriteString("values"u8);
            w.WriteListStart();
            foreach (IPEndPoint peer in response.Values)
            {
                w.WriteString(scratch[..CompactAddress.WritePeer(peer, scratch)]);
            }
            w.WriteEnd();
        }
        w.WriteEnd();
    }

    private static void WriteNodes(BencodeWriter w, ReadOnlySpan<byte> key, IReadOnlyList<NodeContact> nodes, int nodeLength)
    {
        if (nodes.Count == 0) return;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(nodes.Count * nodeLength);
        try
        {
            int length = 0;
            foreach (NodeContact node in nodes)
            {
                // A node of the other family does not belong in this key; skip it rather than corrupt the string.
                if (NodeId.Length + CompactAddress.PeerLength(node.EndPoint) != nodeLength) continue;
                length += CompactAddress.WriteNode(node, buffer.AsSpan(length));
            }
            if (length == 0) return;
            w.WriteString(key);
            w.WriteString(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void WriteQueryArguments(BencodeWriter w, KrpcQuery query, Span<byte> scratch)
    {
        w.WriteDictionaryStart();
        w.WriteString("id"u8);
        query.SenderId.CopyTo(scratch);
        w.WriteString(scratch[..NodeId.Length]);
        if (query.Method == KrpcMethod.AnnouncePeer && query.ImpliedPort)
        {
            w.WriteString("implied_port"u8);
            w.WriteInteger(1);
        }
        if (query.Method is KrpcMethod.GetPeers or KrpcMethod.AnnouncePeer)
        {
            w.WriteString("info_hash"u8);
            query.Target.CopyTo(scratch);
            w.WriteString(scratch[..NodeId.Length]);
        }
        if (query.Method == KrpcMethod.AnnouncePeer)
        {
            w.WriteString("port"u8);
            w.WriteInteger(query.Port);
        }
        if (query.Method == KrpcMethod.FindNode)
        {
            w.WriteString("target"u8);
            query.Target.CopyTo(scratch);
            w.WriteString(scratch[..NodeId.Length]);
        }
        if (query.Method == KrpcMethod.AnnouncePeer)
        {
            w.WriteString("token"u8);
            w.WriteString(query.Token.Span);
        }
        if ((query.Method is KrpcMethod.FindNode or KrpcMethod.GetPeers) && query.Want != KrpcWant.None)
        {
            w.WriteString("want"u8);
            w.WriteListStart();
            if ((query.Want & KrpcWant.N4) != 0) w.WriteString("n4"u8);
            if ((query.Want & KrpcWant.N6) != 0) w.WriteString("n6"u8);
            w.WriteEnd();
        }
        w.WriteEnd();
    }

    private static void WriteTail(BencodeWriter w, KrpcMessage message, ReadOnlySpan<byte> type)
    {
        w.WriteString("t"u8);
        w.WriteString(message.TransactionId.Span);
        if (!message.Version.IsEmpty)
        {
            w.WriteString("v"u8);
            w.WriteString(message.Version.Span);
        }
        w.WriteString("y"u8);
        w.WriteString(type);
    }
}
