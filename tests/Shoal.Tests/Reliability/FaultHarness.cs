using System.Collections.Concurrent;
using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// One small torrent on disk, the sessions of a test (all on 127.0.0.1, no DHT, no LSD), and every engine log
/// line, both echoed to the test output and kept for assertions.
/// </summary>
internal sealed class FaultHarness : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly List<ShoalSession> _sessions = [];
    private readonly ConcurrentQueue<string> _log = new();
    private int _leechers;

    private FaultHarness(ITestOutputHelper output, string root, string seedDir, byte[] content, Torrent torrent)
    {
        _output = output;
        Root = root;
        SeedDirectory = seedDir;
        Content = content;
        Torrent = torrent;
    }

    public string Root { get; }

    public string SeedDirectory { get; }

    /// <summary>The torrent's single file, as the seeder has it.</summary>
    public byte[] Content { get; }

    public Torrent Torrent { get; }

    public IReadOnlyCollection<string> Log => _log;

    public static async Task<FaultHarness> CreateAsync(ITestOutputHelper output, int size, int pieceLength, int seed, TorrentVersion version = TorrentVersion.V1)
    {
        string root = Directory.CreateTempSubdirectory("shoal-faults-").FullName;
        string seedDir = Path.Combine(root, "seed");
        Directory.CreateDirectory(seedDir);
        byte[] content = new byte[size];
        new Random(seed).NextBytes(content);
        string file = Path.Combine(seedDir, "data.bin");
        await File.WriteAllBytesAsync(file, content);
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = pieceLength, Version = version });
        return new FaultHarness(output, root, seedDir, content, torrent);
    }

    public Task<ShoalSession> StartSessionAsync(string name, long maxUpload = 0, int maxConnections = 200)
        => StartSessionAsync(name, options => options with { MaxUploadRate = maxUpload, MaxConnections = maxConnections });

    /// <summary>Starts a session of the test with the harness's options as changed by <paramref name="configure"/>.</summary>
    public async Task<ShoalSession> StartSessionAsync(string name, Func<SessionOptions, SessionOptions> configure)
    {
        ShoalSession session = await ShoalSession.StartAsync(configure(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableLocalDiscovery = false,
            EnableDht = false,
            // The faulty peers are TCP fakes: over uTP the honest seeder would be reached first (TCP waits out uTP's
            // head start) and finish the download before a fault had its turn. uTP's own faults have their own tests.
            EnableUtp = false,
            Log = line => Write($"{name}: {line}"),
        }));
        lock (_sessions) _sessions.Add(session);
        return session;
    }

    /// <summary>Starts a session seeding the torrent from <see cref="SeedDirectory"/>.</summary>
    public async Task<(ShoalSession Session, TorrentHandle Handle)> StartSeederAsync(long maxUpload = 0, int maxConnections = 200)
    {
        ShoalSession session = await StartSessionAsync("seeder", maxUpload, maxConnections);
        TorrentHandle handle = await session.AddTorrentAsync(Torrent, new TorrentOptions { DownloadDirectory = SeedDirectory });
        await WaitUntilAsync(() => handle.GetStatus().State == TorrentState.Seeding, TimeSpan.FromSeconds(10), "seeder did not start seeding");
        return (session, handle);
    }

    /// <summary>Starts a session downloading the torrent into a fresh folder from <paramref name="peers"/>.</summary>
    public async Task<Leecher> StartLeecherAsync(params IPEndPoint[] peers)
    {
        string name = $"leecher{Interlocked.Increment(ref _leechers)}";
        ShoalSession session = await StartSessionAsync(name);
        string directory = Path.Combine(Root, name);
        TorrentHandle handle = await session.AddTorrentAsync(Torrent, new TorrentOptions { DownloadDirectory = directory, Peers = peers });
        return new Leecher(session, handle, Path.Combine(directory, "data.bin"));
    }

    /// <summary>Waits for the leecher to finish and checks its file is byte-identical to the seeder's.</summary>
    public async Task AssertCompletesAsync(Leecher leecher, TimeSpan timeout)
    {
        Task done = await Task.WhenAny(leecher.Handle.Completion, Task.Delay(timeout));
        TorrentStatus status = leecher.Handle.GetStatus();
        Assert.True(done == leecher.Handle.Completion,
            $"download did not complete in {timeout.TotalSeconds} s: {status.State}, {status.VerifiedPieces}/{status.PieceCount} pieces");
        await leecher.Handle.Completion;
        // Completion fires once the last piece is verified; the data is on disk by then (pieces are hashed after writing).
        Assert.Equal(Content, await File.ReadAllBytesAsync(leecher.FilePath));
    }

    public bool LogContains(params string[] parts) => FindLog(parts) is not null;

    public string? FindLog(params string[] parts)
    {
        foreach (string line in _log)
        {
            bool all = true;
            foreach (string part in parts) all &= line.Contains(part, StringComparison.Ordinal);
            if (all) return line;
        }
        return null;
    }

    public Task WaitForLogAsync(TimeSpan timeout, params string[] parts) =>
        WaitUntilAsync(() => LogContains(parts), timeout, "no log line with: " + string.Join(" + ", parts));

    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string failure)
        => Eventually.TrueAsync(condition, timeout, failure);

    public void Write(string line)
    {
        _log.Enqueue(line);
        try { _output.WriteLine(line); }
        catch (InvalidOperationException) { } // a late engine line after the test ended
    }

    public async ValueTask DisposeAsync()
    {
        ShoalSession[] sessions;
        lock (_sessions) sessions = [.. _sessions];
        foreach (ShoalSession session in sessions) await session.DisposeAsync();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A downloading session of a test.</summary>
internal sealed record Leecher(ShoalSession Session, TorrentHandle Handle, string FilePath);
