using System.Net;
using Shoal.Metainfo;
using Shoal.Transport.Utp;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// Shoal's uTP (BEP 29) against libtorrent's, with libtorrent set to uTP only (TCP off both ways): every byte of
/// these transfers crosses the two uTP stacks.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class UtpInteropTests(ITestOutputHelper output)
{
    private const long PayloadBytes = 12L << 20;

    [InteropFact]
    public async Task ShoalDialsLibtorrentOverUtpAndDownloadsVerifiedPieces()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        string content = temp.Combine("seed", "payload.bin");
        TestContent.WriteRandomFile(content, PayloadBytes, new Random(291));
        string torrentFile = temp.Combine("payload.torrent");
        await LibtorrentScripts.MakeTorrentAsync(content, torrentFile);
        Torrent torrent = Torrent.Load(torrentFile);

        var (seeder, port) = await LibtorrentScripts.StartSeederAsync(torrentFile, temp.Combine("seed"), "--transport", "utp");
        using (seeder)
        {
            await using UtpMultiplexer utp = UtpMultiplexer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            byte[] data;
            try
            {
                await using UtpTransport transport = await utp.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
                data = await WirePeer.DownloadAsync(transport, torrent, timeout.Token);
            }
            finally
            {
                output.WriteLine(seeder.Transcript(20));
            }
            byte[] expected = await File.ReadAllBytesAsync(content);
            Assert.True(data.AsSpan().SequenceEqual(expected), "downloaded bytes differ");
            UtpConnectionStatistics stats = utp.Statistics;
            output.WriteLine($"uTP: {stats.PacketsReceived} packets in, {stats.PacketsSent} out, {stats.PayloadBytesReceived} payload bytes, " +
                $"{stats.FastRetransmissions} fast and {stats.TimeoutRetransmissions} timeout retransmissions");
            Assert.True(stats.PayloadBytesReceived >= PayloadBytes);
        }
    }

    [InteropFact]
    public async Task LibtorrentDialsShoalOverUtpAndDownloads()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder();
        string content = temp.Combine("seed", "payload.bin");
        TestContent.WriteRandomFile(content, PayloadBytes, new Random(292));
        string torrentFile = temp.Combine("payload.torrent");
        await LibtorrentScripts.MakeTorrentAsync(content, torrentFile);
        Torrent torrent = Torrent.Load(torrentFile);
        byte[] bytes = await File.ReadAllBytesAsync(content);

        await using UtpMultiplexer utp = UtpMultiplexer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var served = new List<Task<long>>();
        int largestPacket = 0;
        Task accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                UtpTransport incoming = await utp.AcceptAsync(stop.Token);
                served.Add(Task.Run(async () =>
                {
                    await using (incoming)
                    {
                        long sent = await WirePeer.SeedAsync(incoming, torrent, bytes, stop.Token);
                        Interlocked.Exchange(ref largestPacket, Math.Max(largestPacket, incoming.PacketSize));
                        return sent;
                    }
                }));
            }
        });

        string download = temp.Combine("download");
        var get = await LibtorrentScripts.RunAsync(TimeSpan.FromSeconds(150), "lt_get.py", "--torrent", torrentFile,
            "--save-path", download, "--peer", $"127.0.0.1:{utp.LocalEndPoint.Port}", "--transport", "utp",
            "--timeout", "120", "--quiet");
        output.WriteLine(get.Transcript);
        Assert.True(get.ExitCode == 0, "libtorrent could not download from Shoal over uTP\n" + get.Transcript);
        TestContent.AssertSameTree(content, Path.Combine(download, "payload.bin"));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accepting);
        long uploaded = (await Task.WhenAll(served)).Sum();
        Assert.True(uploaded >= PayloadBytes, $"uploaded {uploaded} bytes");
        Assert.NotEmpty(served);
        UtpConnectionStatistics stats = utp.Statistics;
        output.WriteLine($"uTP: {stats.PacketsSent} packets out, {stats.PacketsReceived} in, {stats.PayloadBytesSent} payload bytes, " +
            $"{stats.FastRetransmissions} fast and {stats.TimeoutRetransmissions} timeout retransmissions, packet size {largestPacket}");
        // MTU discovery's padded probes were accepted (libtorrent skips the unknown extension): packets grew from
        // the 548-byte floor to near the 1472-byte ceiling.
        Assert.True(largestPacket > 1400, $"packet size {largestPacket}");
    }
}
