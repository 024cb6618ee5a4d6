using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shoal.Bench.Trackers;

/// <summary>
/// Announces per second that `shoal tracker` (a separate process) serves over loopback: UDP (BEP 15, blocking
/// client sockets on their own threads, one request in flight each) and HTTP (HttpClient, keep-alive, N requests
/// in flight). Every announce names one of many info-hashes and a distinct port, so the tracker's tables grow
/// as they would with many torrents and peers.
/// </summary>
internal static class TrackerBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        TrackerOptions options = TrackerOptions.Parse(args);
        string dll = Workspace.ResolveShoal(Workspace.FindRoot(), options.ShoalDll, options.Build);
        Console.WriteLine(Render(await MeasureAsync(options, dll).ConfigureAwait(false)));
        return 0;
    }

    /// <summary>Starts <c>shoal tracker</c> from <paramref name="shoalDll"/>, warms it up, then runs a UDP phase and an HTTP phase.</summary>
    public static async Task<TrackerOutcome> MeasureAsync(TrackerOptions options, string shoalDll)
    {
        (int seconds, int clients, int torrents) = (options.Seconds, options.Clients, options.Torrents);
        string load = Machine.LoadAverage();
        (string file, string[] arguments) = Workspace.ShoalCommand(shoalDll, "tracker", "--bind", "127.0.0.1", "--http-port", "0", "--udp-port", "0", "--max-rate", "0");
        using BenchProcess tracker = BenchProcess.Start("shoal tracker", file, arguments, null);
        try
        {
            string http = (await tracker.WaitForLineAsync(l => l.StartsWith("http: ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the HTTP URL").ConfigureAwait(false))[6..];
            string udp = (await tracker.WaitForLineAsync(l => l.StartsWith("udp: ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the UDP URL").ConfigureAwait(false))[5..];
            var udpUri = new Uri(udp);
            var udpEndPoint = new IPEndPoint(IPAddress.Parse(udpUri.Host), udpUri.Port);

            // A short warm-up so the JIT has compiled the tracker's hot paths before the clock starts.
            RunUdp(udpEndPoint, clients, torrents, TimeSpan.FromSeconds(1), tracker.WorkerPid);
            await RunHttpAsync(http, clients, torrents, TimeSpan.FromSeconds(1), tracker.WorkerPid).ConfigureAwait(false);

            TrackerOutcome.Rate udpResult = RunUdp(udpEndPoint, clients, torrents, TimeSpan.FromSeconds(seconds), tracker.WorkerPid);
            TrackerOutcome.Rate httpResult = await RunHttpAsync(http, clients, torrents, TimeSpan.FromSeconds(seconds), tracker.WorkerPid).ConfigureAwait(false);
            return new TrackerOutcome(options, udpResult, httpResult, load, Machine.LoadAverage());
        }
        finally
        {
            tracker.Terminate();
            try
            {
                await tracker.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (BenchFailedException)
            {
            }
        }
    }

    /// <summary>The markdown table and the line under it.</summary>
    public static string Render(TrackerOutcome outcome)
    {
        var md = new StringBuilder();
        md.AppendLine("| protocol | announces/s | tracker CPU µs per announce | lost or timed out | clients |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach ((string name, TrackerOutcome.Rate r) in (ReadOnlySpan<(string, TrackerOutcome.Rate)>)[("UDP", outcome.Udp), ("HTTP", outcome.Http)])
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {r.PerSecond:0} | {r.CpuMicrosPerAnnounce:0.0} | {r.Lost} | {outcome.Options.Clients} |");
        }
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"load average before: {outcome.LoadBefore}; after: {outcome.LoadAfter}; {Environment.ProcessorCount} cores; {outcome.Options.Torrents} info-hashes; {outcome.Options.Seconds} s per phase");
        return md.ToString();
    }

    private static TrackerOutcome.Rate RunUdp(IPEndPoint tracker, int clients, int torrents, TimeSpan duration, int pid)
    {
        long done = 0, lost = 0;
        double cpuBefore = BenchProcess.Sample(pid)?.CpuSeconds ?? 0;
        var clock = Stopwatch.StartNew();
        var threads = new Thread[clients];
        for (int c = 0; c < clients; c++)
        {
            int client = c;
            threads[c] = new Thread(() =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                socket.Connect(tracker);
                socket.ReceiveTimeout = 1000;
                byte[] request = new byte[98], answer = new byte[2048];
                long connectionId = 0;
                var random = new Random(client);
                int sequence = 0;
                while (clock.Elapsed < duration)
                {
                    int tid = random.Next();
                    if (connectionId == 0)
                    {
                        BinaryPrimitives.WriteInt64BigEndian(request, 0x41727101980);
                        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 0);
                        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(12), tid);
                        if (Exchange(socket, request.AsSpan(0, 16), answer, tid) is not 16) { Interlocked.Increment(ref lost); continue; }
                        connectionId = BinaryPrimitives.ReadInt64BigEndian(answer.AsSpan(8));
                        continue;
                    }
                    sequence++;
                    BinaryPrimitives.WriteInt64BigEndian(request, connectionId);
                    BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 1);
                    BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(12), tid);
                    WriteHash(request.AsSpan(16, 20), random.Next(torrents));
                    WriteHash(request.AsSpan(36, 20), (client << 20) | (sequence & 0xFFFFF));
                    BinaryPrimitives.WriteInt64BigEndian(request.AsSpan(64), sequence % 4 == 0 ? 0 : 1000);
                    BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(92), 50);
                    BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(96), (ushort)(1 + ((client * 4099 + sequence) % 65000)));
                    int got = Exchange(socket, request, answer, tid);
                    if (got >= 20 && BinaryPrimitives.ReadInt32BigEndian(answer) == 1) Interlocked.Increment(ref done);
                    else Interlocked.Increment(ref lost);
                }
            }) { IsBackground = true };
            threads[c].Start();
        }
        foreach (Thread thread in threads) thread.Join();
        double elapsed = clock.Elapsed.TotalSeconds;
        double cpu = (BenchProcess.Sample(pid)?.CpuSeconds ?? 0) - cpuBefore;
        return new TrackerOutcome.Rate(done / elapsed, done == 0 ? 0 : cpu * 1e6 / done, lost);
    }

    private static int Exchange(Socket socket, ReadOnlySpan<byte> request, byte[] answer, int tid)
    {
        socket.Send(request);
        while (true)
        {
            int got;
            try
            {
                got = socket.Receive(answer);
            }
            catch (SocketException)
            {
                return -1; // timed out: counted as lost
            }
            if (got >= 8 && BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(4)) == tid) return got;
        }
    }

    private static async Task<TrackerOutcome.Rate> RunHttpAsync(string announce, int clients, int torrents, TimeSpan duration, int pid)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false };
        using var http = new HttpClient(handler);
        long done = 0, lost = 0;
        double cpuBefore = BenchProcess.Sample(pid)?.CpuSeconds ?? 0;
        var clock = Stopwatch.StartNew();
        var tasks = new Task[clients];
        for (int c = 0; c < clients; c++)
        {
            int client = c;
            tasks[c] = Task.Run(async () =>
            {
                var random = new Random(1000 + client);
                var url = new StringBuilder(256);
                byte[] hash = new byte[20], peer = new byte[20];
                int sequence = 0;
                while (clock.Elapsed < duration)
                {
                    sequence++;
                    WriteHash(hash, random.Next(torrents));
                    WriteHash(peer, (client << 20) | (sequence & 0xFFFFF));
                    url.Clear().Append(announce).Append("?info_hash=");
                    foreach (byte b in hash) url.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
                    url.Append("&peer_id=");
                    foreach (byte b in peer) url.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
                    url.Append(CultureInfo.InvariantCulture, $"&port={1 + ((client * 4099 + sequence) % 65000)}&uploaded=0&downloaded=0&left={(sequence % 4 == 0 ? 0 : 1000)}&compact=1&numwant=50");
                    try
                    {
                        byte[] body = await http.GetByteArrayAsync(url.ToString()).ConfigureAwait(false);
                        if (body.Length > 0 && body[0] == (byte)'d' && body.AsSpan().IndexOf("failure"u8) < 0) Interlocked.Increment(ref done);
                        else Interlocked.Increment(ref lost);
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref lost);
                    }
                }
            });
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        double elapsed = clock.Elapsed.TotalSeconds;
        double cpu = (BenchProcess.Sample(pid)?.CpuSeconds ?? 0) - cpuBefore;
        return new TrackerOutcome.Rate(done / elapsed, done == 0 ? 0 : cpu * 1e6 / done, lost);
    }

    /// <summary>20 bytes from a number: distinct numbers give distinct hashes, spread over the whole key.</summary>
    private static void WriteHash(Span<byte> destination, int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, value);
        for (int i = 4; i < 20; i++) destination[i] = (byte)((value * 2654435761u) >> (i % 4 * 8));
    }
}
