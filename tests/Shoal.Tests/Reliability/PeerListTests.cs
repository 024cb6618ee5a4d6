using System.Net;
using System.Net.Sockets;
using Shoal.Discovery;
using Shoal.Swarm;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// Peer lists from a hostile PEX source (issue 13, item 5): malformed lists are rejected whole, addresses that cannot
/// be peers (or are the seeder itself) are never dialled, and one peer cannot hand over an unbounded number of new
/// addresses. A canary listener on 127.0.0.7 sees every dial the seeder makes to it.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class PeerListTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(20);
    private static readonly IPAddress AttackerAddress = IPAddress.Parse("127.0.0.6");

    /// <summary>ut_pex payloads that each name the canary but are malformed; %C is replaced by its 6 compact bytes.</summary>
    public static TheoryData<string> MalformedPex => ["added with a trailing partial entry", "flags for more entries than added holds", "added6 misaligned"];

    [Theory]
    [MemberData(nameof(MalformedPex))]
    public async Task AMalformedPexListIsRejectedWholeAndNothingInItIsDialled(string malformation)
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 1024 * KiB, 64 * KiB, seed: 501);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        await using var canary = new Canary(IPAddress.Parse("127.0.0.7"));
        byte[] compact = Compact(canary.EndPoint);
        byte[] payload = malformation switch
        {
            // The canary, then one stray byte: a lenient reader takes the canary and drops the rest.
            "added with a trailing partial entry" => [.. "d5:added7:"u8, .. compact, 0x42, (byte)'e'],
            "flags for more entries than added holds" => [.. "d5:added6:"u8, .. compact, .. "7:added.f3:"u8, 0, 0, 0, (byte)'e'],
            // An IPv4 entry followed by 12 bytes in a list of 18-byte IPv6 entries... plus one more byte.
            _ => [.. "d5:added6:"u8, .. compact, .. "6:added619:"u8, .. new byte[19], (byte)'e'],
        };
        await using FaultyConnection attacker = await SendPexAsync(h, seeder, payload);

        await Task.Delay(3000); // six ticks: a dial would have started (a lenient reader dialled the canary within one)
        Assert.Equal(0, canary.Accepted);
        Assert.False(h.LogContains("seeder", $"dial {canary.EndPoint}"), "the seeder tried to dial an address from a malformed list");
        await h.WaitForLogAsync(Bounded, "seeder", "PEX message ignored");
    }

    [Fact]
    public async Task AddressesThatCannotBePeersAreNeverDialledAndOnePeerCannotHandOverMoreThanItsQuota()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 1024 * KiB, 64 * KiB, seed: 502);
        (ShoalSession seeder, _) = await h.StartSeederAsync();
        await using var canary = new Canary(IPAddress.Parse("127.0.0.7"));
        IPEndPoint[] impossible =
        [
            new(IPAddress.Parse("0.0.0.0"), 6881), new(IPAddress.Parse("0.1.2.3"), 6881), new(IPAddress.Parse("224.0.0.1"), 6881),
            new(IPAddress.Parse("239.255.255.250"), 1900), new(IPAddress.Broadcast, 6881), new(IPAddress.Parse("240.0.0.9"), 6881),
            new(IPAddress.Parse("127.0.0.8"), 0), seeder.ListenEndPoint,
        ];
        // 150 more well-formed addresses on a port nothing listens on: new ones beyond the quota (100 at once) are ignored.
        IPEndPoint[] many = [.. Enumerable.Range(0, 150).Select(i => new IPEndPoint(IPAddress.Parse($"127.0.{10 + (i / 8)}.{1 + (i % 8)}"), 9))];
        byte[] added = [.. impossible.Concat([canary.EndPoint]).Concat(many).SelectMany(Compact)];
        await using FaultyConnection attacker = await SendPexAsync(h, seeder, [.. "d5:added"u8, .. System.Text.Encoding.ASCII.GetBytes($"{added.Length}:"), .. added, (byte)'e']);

        await FaultHarness.WaitUntilAsync(() => canary.Accepted > 0, Bounded, "the seeder never dialled the one good address");
        // Every address taken in is dialled within a few seconds (8 at a time, refused at once on loopback).
        int dialled = 0;
        await Eventually.TrueAsync(() =>
        {
            int before = dialled;
            dialled = DialledEndPoints(h).Count;
            return dialled > 0 && dialled == before;
        }, Bounded, () => "dialling did not settle", pollMilliseconds: 2000);
        output.WriteLine($"{dialled} distinct addresses dialled besides the canary");

        foreach (IPEndPoint endPoint in impossible)
            Assert.False(h.LogContains("seeder", $"dial {endPoint} "), $"the seeder dialled {endPoint}");
        Assert.False(h.LogContains("seeder", "connection to ourselves"), "the seeder dialled itself");
        // The quota counts every new address, impossible ones included: at most 100 of the 159 were taken in.
        Assert.InRange(dialled + 1, 2, PexTracker.NewAddressBurst);
        Assert.True(h.LogContains("seeder", "more new addresses than one peer may hand us in a minute"));
    }

    /// <summary>The endpoints the seeder's log says it dialled without success ("dial X failed").</summary>
    private static HashSet<string> DialledEndPoints(FaultHarness h) =>
    [
        .. h.Log.Where(line => line.StartsWith("seeder:", StringComparison.Ordinal))
            .Select(line => line.IndexOf("] dial ", StringComparison.Ordinal) is int at and >= 0 ? line[(at + 7)..].Split(' ')[0] : null)
            .OfType<string>(),
    ];

    private static byte[] Compact(IPEndPoint endPoint)
    {
        byte[] bytes = new byte[CompactEndPoint.V4Length];
        CompactEndPoint.Write(endPoint, bytes);
        return bytes;
    }

    /// <summary>Connects to the seeder from the attacker's address with BEP 10, says it speaks ut_pex, and sends one message.</summary>
    private static async Task<FaultyConnection> SendPexAsync(FaultHarness h, ShoalSession seeder, byte[] payload)
    {
        FaultyConnection c = await FaultyConnection.ConnectAsync(AttackerAddress, seeder.ListenEndPoint, h.Torrent.InfoHash, h.Torrent.PieceCount,
            CancellationToken.None, reserved: ReservedBits.Create(extension: true, fast: true, dht: false));
        await c.InitiateHandshakeAsync(CancellationToken.None);
        byte[] handshake = new ExtensionHandshake { Extensions = new Dictionary<string, byte> { [ExtensionIds.PexName] = 9 } }.Encode();
        await c.SendAsync(w =>
        {
            PeerMessageWriter.WriteHaveNone(w);
            PeerMessageWriter.WriteExtended(w, ExtensionIds.Handshake, handshake);
            PeerMessageWriter.WriteExtended(w, ExtensionIds.Pex, payload);
        }, CancellationToken.None);
        await h.WaitForLogAsync(Bounded, "seeder", $"peer {c.LocalEndPoint} joined");
        return c;
    }

    /// <summary>A listener that counts the connections made to it.</summary>
    private sealed class Canary : IAsyncDisposable
    {
        private readonly Socket _socket;
        private readonly Task _accepting;
        private int _accepted;

        public Canary(IPAddress address)
        {
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _socket.Bind(new IPEndPoint(address, 0));
            _socket.Listen(16);
            EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
            _accepting = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using Socket accepted = await _socket.AcceptAsync();
                        Interlocked.Increment(ref _accepted);
                    }
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
            });
        }

        public IPEndPoint EndPoint { get; }

        public int Accepted => Volatile.Read(ref _accepted);

        public async ValueTask DisposeAsync()
        {
            _socket.Dispose();
            await _accepting;
        }
    }
}
