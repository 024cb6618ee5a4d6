using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Shoal.Cli.Commands;
using Shoal.Metainfo;
using Shoal.Swarm;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Shoal.Cli.Demo;

/// <summary>
/// One seeder and N leechers in this process on 127.0.0.1, sharing a generated file: shows live progress,
/// then how much the leechers traded among themselves and how long one server would have needed.
/// </summary>
internal sealed class DemoSwarm
{
    private const string FileName = "shoal-demo.bin";
    private const int WriteChunk = 1 << 20;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(2);

    private readonly CliContext _context;
    private readonly DemoSettings _settings;
    private readonly TextWriter _out;
    private readonly List<ShoalSession> _sessions = [];
    private readonly string _root;

    private ShoalSession? _seeder;
    private TorrentHandle? _seederHandle;
    private TorrentHandle[] _leechers = [];
    private ByteSourceTracker[] _trackers = [];
    private TorrentStatus?[] _statuses = [];
    private TimeSpan?[] _finishedAt = [];
    private long _startTimestamp;

    /// <summary>Creates the demo; nothing runs until <see cref="RunAsync"/>.</summary>
    public DemoSwarm(CliContext context, DemoSettings settings)
    {
        _context = context;
        _settings = settings;
        _out = context.Out;
        _root = Path.Combine(Path.GetTempPath(), "shoal-demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
    }

    /// <summary>Runs the demo; returns the exit code (0 when every copy arrived intact).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        CheckFreeSpace();
        try
        {
            string seedDirectory = Path.Combine(_root, "seed");
            Directory.CreateDirectory(seedDirectory);
            string source = Path.Combine(seedDirectory, FileName);
            byte[] sourceHash = await WriteRandomFileAsync(source, _settings.Size, cancellationToken).ConfigureAwait(false);
            Torrent torrent = await TorrentCreator.CreateAsync(source, new TorrentCreationOptions
            {
                PieceLength = _settings.PieceLength,
                Comment = "shoal demo",
            }, null, cancellationToken).ConfigureAwait(false);

            await _out.WriteLineAsync(
                $"shoal demo: 1 seeder and {_settings.Leechers} leechers on 127.0.0.1, a {HumanFormat.Size(_settings.Size)} file " +
                $"in {torrent.PieceCount} pieces of {HumanFormat.Size(torrent.PieceLength)}, upload cap " +
                $"{(_settings.UploadRate > 0 ? HumanFormat.Rate(_settings.UploadRate) : "unlimited")} per peer").ConfigureAwait(false);

            string? failure;
            TimeSpan elapsed;
            try
            {
                await StartSwarmAsync(torrent, seedDirectory, cancellationToken).ConfigureAwait(false);
                failure = await WatchAsync(cancellationToken).ConfigureAwait(false);
                elapsed = Elapsed;
                PollAll(); // last counters before the sessions go away
            }
            finally
            {
                await DisposeSessionsAsync().ConfigureAwait(false);
            }

            if (failure is not null)
            {
                _context.WriteError($"demo failed: {failure}");
                return ExitCodes.Failure;
            }
            return await ReportAsync(torrent, sourceHash, elapsed, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DeleteTemporaryFolder();
        }
    }

    private TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTimestamp);

    private async Task StartSwarmAsync(Torrent torrent, string seedDirectory, CancellationToken cancellationToken)
    {
        // The demo hands every peer its addresses: no DHT or multicast traffic, nothing leaves 127.0.0.1.
        var options = new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            MaxUploadRate = _settings.UploadRate,
            EnableDht = false,
            EnableLocalDiscovery = false,
            // Every peer of the demo shares 127.0.0.1: the per-address limit must let the whole swarm in at once.
            MaxConnectionsPerAddress = _settings.Leechers + 8,
        };

        _seeder = await StartSessionAsync(options, cancellationToken).ConfigureAwait(false);
        _seederHandle = await _seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDirectory }, cancellationToken).ConfigureAwait(false);
        await WaitForSeedingAsync(_seederHandle, cancellationToken).ConfigureAwait(false);

        int n = _settings.Leechers;
        var leecherSessions = new ShoalSession[n];
        for (int i = 0; i < n; i++) leecherSessions[i] = await StartSessionAsync(options, cancellationToken).ConfigureAwait(false);

        _leechers = new TorrentHandle[n];
        _trackers = new ByteSourceTracker[n];
        _statuses = new TorrentStatus?[n];
        _finishedAt = new TimeSpan?[n];
        _startTimestamp = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            // The seeder first, then every other leecher: leechers must be able to trade from the start.
            var peers = new List<IPEndPoint>(n) { _seeder.ListenEndPoint };
            for (int j = 0; j < n; j++)
            {
                if (j != i) peers.Add(leecherSessions[j].ListenEndPoint);
            }
            _trackers[i] = new ByteSourceTracker();
            _leechers[i] = await leecherSessions[i].AddTorrentAsync(torrent, new TorrentOptions
            {
                DownloadDirectory = LeecherDirectory(i),
                Peers = peers,
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ShoalSession> StartSessionAsync(SessionOptions options, CancellationToken cancellationToken)
    {
        ShoalSession session = await NetworkSettings.StartSessionAsync(options, cancellationToken).ConfigureAwait(false);
        _sessions.Add(session);
        return session;
    }

    private async Task WaitForSeedingAsync(TorrentHandle seeder, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            TorrentStatus status = seeder.GetStatus();
            if (status.State == TorrentState.Seeding) return;
            if (status.State is TorrentState.Error or TorrentState.Stopped)
            {
                throw new CliException($"the seeder stopped: {status.Error ?? "its data did not verify"}", ExitCodes.Failure);
            }
            if (Stopwatch.GetElapsedTime(start) > _settings.Timeout)
            {
                throw new CliException("the seeder did not finish checking its data in time", ExitCodes.Failure);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Polls until every leecher is done; returns why it failed, or null.</summary>
    private async Task<string?> WatchAsync(CancellationToken cancellationToken)
    {
        if (_context.CreateOutputConsole() is { } console)
        {
            string? failure = null;
            await console.Live(BuildTable()).AutoClear(false).StartAsync(async ctx =>
            {
                while (true)
                {
                    failure = PollAll();
                    ctx.UpdateTarget(BuildTable());
                    if (failure is not null || AllFinished) return;
                    await Task.Delay(Tick, cancellationToken).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
            return failure;
        }

        TimeSpan nextLine = TimeSpan.Zero;
        while (true)
        {
            string? failure = PollAll();
            if (failure is not null) return failure;
            if (AllFinished) return null;
            if (Elapsed >= nextLine)
            {
                await _out.WriteLineAsync(PlainProgressLine()).ConfigureAwait(false);
                nextLine = Elapsed + PlainInterval;
            }
            await Task.Delay(Tick, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool AllFinished => Array.TrueForAll(_finishedAt, t => t is not null);

    /// <summary>Takes one snapshot of every leecher; returns a failure reason, or null.</summary>
    private string? PollAll()
    {
        ReadOnlySpan<byte> seederId = _seeder!.PeerId.Span;
        string? failure = null;
        for (int i = 0; i < _leechers.Length; i++)
        {
            TorrentHandle handle = _leechers[i];
            TorrentStatus status = handle.GetStatus();
            _statuses[i] = status;
            _trackers[i].Observe(handle.GetPeers(), seederId);
            if (_finishedAt[i] is null && handle.Completion.IsCompletedSuccessfully)
            {
                _finishedAt[i] = Elapsed;
                if (!_context.OutputIsTerminal) _out.WriteLine($"leecher {i + 1} finished at {HumanFormat.Seconds(Elapsed)}");
            }
            if (status.State == TorrentState.Error || handle.Completion.IsFaulted)
            {
                failure ??= $"leecher {i + 1} stopped: {status.Error ?? handle.Completion.Exception?.GetBaseException().Message ?? "unknown error"}";
            }
        }
        if (failure is null && !AllFinished && Elapsed > _settings.Timeout)
        {
            failure = $"the swarm did not finish within {HumanFormat.Seconds(_settings.Timeout)} (see --timeout)";
        }
        return failure;
    }

    private string PlainProgressLine()
    {
        double sum = 0;
        long down = 0;
        foreach (TorrentStatus? s in _statuses)
        {
            sum += s?.Progress ?? 0;
            down += s?.DownloadRate ?? 0;
        }
        int done = Array.FindAll(_finishedAt, t => t is not null).Length;
        return $"[{HumanFormat.Seconds(Elapsed),8}] {done}/{_leechers.Length} done, average {HumanFormat.Percent(sum / Math.Max(1, _leechers.Length))}, " +
               $"swarm download {HumanFormat.Rate(down)}";
    }

    private Table BuildTable()
    {
        TorrentStatus? seeder = _seederHandle?.GetStatus();
        var rows = new List<DemoRow>(_leechers.Length + 1)
        {
            new("seeder", seeder?.Progress ?? 1, seeder?.DownloadRate ?? 0, seeder?.UploadRate ?? 0, seeder?.Peers ?? 0, null, null),
        };
        for (int i = 0; i < _leechers.Length; i++)
        {
            TorrentStatus? s = _statuses[i];
            rows.Add(new DemoRow($"leecher {i + 1}", s?.Progress ?? 0, s?.DownloadRate ?? 0, s?.UploadRate ?? 0, s?.Peers ?? 0,
                _trackers[i].PeerShare, _finishedAt[i]));
        }
        return DemoTable.Build(_startTimestamp == 0 ? TimeSpan.Zero : Elapsed, rows);
    }

    private async Task<int> ReportAsync(Torrent torrent, byte[] sourceHash, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        await _out.WriteLineAsync($"done in {HumanFormat.Seconds(elapsed)}").ConfigureAwait(false);
        long fromPeers = 0;
        long fromSeeder = 0;
        for (int i = 0; i < _leechers.Length; i++)
        {
            ByteSourceTracker t = _trackers[i];
            fromPeers += t.FromPeers;
            fromSeeder += t.FromSeeder;
            await _out.WriteLineAsync(
                $"  leecher {i + 1}: {HumanFormat.Percent(t.PeerShare)} of its bytes came from other leechers " +
                $"({HumanFormat.Size(t.FromPeers)} of {HumanFormat.Size(t.FromPeers + t.FromSeeder)}), finished at {HumanFormat.Seconds(_finishedAt[i] ?? elapsed)}").ConfigureAwait(false);
        }
        double overall = fromPeers + fromSeeder == 0 ? 0 : (double)fromPeers / (fromPeers + fromSeeder);
        await _out.WriteLineAsync($"overall: {HumanFormat.Percent(overall)} of the bytes the leechers received came from other leechers, not the seeder").ConfigureAwait(false);
        if (_settings.SingleServerTime is { } single)
        {
            string speedup = elapsed > TimeSpan.Zero ? (single / elapsed).ToString("0.0", CultureInfo.InvariantCulture) + "x" : "n/a";
            await _out.WriteLineAsync(
                $"one server uploading at {HumanFormat.Rate(_settings.UploadRate)} would need {HumanFormat.Seconds(single)} for {_settings.Leechers} copies; " +
                $"the swarm took {HumanFormat.Seconds(elapsed)} ({speedup} faster)").ConfigureAwait(false);
        }

        int bad = 0;
        for (int i = 0; i < _leechers.Length; i++)
        {
            string copy = Path.Combine(LeecherDirectory(i), torrent.Name);
            byte[]? hash = await HashFileAsync(copy, cancellationToken).ConfigureAwait(false);
            if (hash is null || !CryptographicOperations.FixedTimeEquals(hash, sourceHash))
            {
                bad++;
                await _out.WriteLineAsync($"  leecher {i + 1}: {(hash is null ? "no file" : "the copy differs from the source")}").ConfigureAwait(false);
            }
        }
        if (bad > 0)
        {
            _context.WriteError($"demo failed: {bad} of {_leechers.Length} copies are not identical to the source");
            return ExitCodes.Failure;
        }
        await _out.WriteLineAsync(
            $"verified: all {_leechers.Length} copies are byte-identical to the source (sha256 {Convert.ToHexStringLower(sourceHash)[..16]}...)").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    private string LeecherDirectory(int index) => Path.Combine(_root, "leecher-" + (index + 1).ToString(CultureInfo.InvariantCulture));

    private static async Task<byte[]> WriteRandomFileAsync(string path, long size, CancellationToken cancellationToken)
    {
        var random = new Random(DemoSettings.ContentSeed);
        byte[] buffer = new byte[(int)Math.Min(WriteChunk, Math.Max(1, size))];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
        long left = size;
        while (left > 0)
        {
            int n = (int)Math.Min(buffer.Length, left);
            random.NextBytes(buffer.AsSpan(0, n));
            sha.AppendData(buffer, 0, n);
            await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            left -= n;
        }
        return sha.GetHashAndReset();
    }

    private static async Task<byte[]?> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) return null;
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    private void CheckFreeSpace()
    {
        long needed = (_settings.Leechers + 1L) * _settings.Size;
        long available;
        try
        {
            available = new DriveInfo(Path.GetPathRoot(Path.GetFullPath(Path.GetTempPath()))!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return; // cannot tell; writing will fail with its own error if space runs out
        }
        if (needed > available)
        {
            throw new CliException(
                $"the demo needs {HumanFormat.Size(needed)} of free space in {Path.GetTempPath()} but only {HumanFormat.Size(available)} is free; use a smaller --size or fewer --leechers",
                ExitCodes.Failure);
        }
    }

    private async Task DisposeSessionsAsync()
    {
        for (int i = _sessions.Count - 1; i >= 0; i--)
        {
            try
            {
                await _sessions[i].DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _context.Error.WriteLine($"shoal: note: closing a demo session failed: {ErrorReporter.OneLine(ex.Message)}");
            }
        }
        _sessions.Clear();
    }

    private void DeleteTemporaryFolder()
    {
        try
        {
            if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _context.Error.WriteLine($"shoal: note: could not delete {_root}: {ErrorReporter.OneLine(ex.Message)}");
        }
    }
}
