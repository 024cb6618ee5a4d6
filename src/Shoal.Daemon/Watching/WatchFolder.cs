using Microsoft.Extensions.Logging;
using Shoal.Daemon.Service;
using Shoal.Metainfo;

namespace Shoal.Daemon.Watching;

/// <summary>
/// Adds the .torrent files dropped into a folder: each one whose size and time have stayed the same for one scan
/// (so a file still being copied is left alone) is added to the daemon and renamed <c>NAME.torrent.added</c>; one
/// that is not a valid torrent is renamed <c>NAME.torrent.invalid</c> and the reason logged. A torrent already in
/// the daemon counts as added. One scan every <see cref="Interval"/>, of the folder itself (not its subfolders).
/// </summary>
internal sealed class WatchFolder : IAsyncDisposable
{
    /// <summary>How often the folder is read.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>Files handled per scan at most; more wait for the next.</summary>
    public const int MaxFilesPerScan = 1000;

    /// <summary>Transient failures (the daemon could not store it) retried before a file is given up as invalid.</summary>
    private const int MaxAttempts = 3;

    private readonly string _directory;
    private readonly TorrentService _service;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, (long Length, DateTime Written)> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public WatchFolder(string directory, TorrentService service, TimeProvider time, ILogger log)
    {
        _directory = Path.GetFullPath(directory);
        _service = service;
        _time = time;
        _log = log;
        Directory.CreateDirectory(_directory);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The watched folder.</summary>
    public string Folder => _directory;

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            do
            {
                await ScanAsync(_stop.Token).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One scan of the folder.</summary>
    internal async Task ScanAsync(CancellationToken cancellationToken)
    {
        List<FileInfo> files;
        try
        {
            files = [.. new DirectoryInfo(_directory).EnumerateFiles("*", new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive })
                .Where(f => f.Extension.Equals(".torrent", StringComparison.OrdinalIgnoreCase)).Take(MaxFilesPerScan)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("watch folder {Folder} cannot be read: {Error}", _directory, ex.Message);
            return;
        }
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (FileInfo file in files)
        {
            present.Add(file.FullName);
            var stamp = (file.Length, file.LastWriteTimeUtc);
            // A file must look the same in two scans in a row before it is read: it may still be being written.
            if (!_seen.TryGetValue(file.FullName, out var before) || before != stamp)
            {
                _seen[file.FullName] = stamp;
                continue;
            }
            await HandleAsync(file, cancellationToken).ConfigureAwait(false);
            _seen.Remove(file.FullName);
        }
        foreach (string gone in _seen.Keys.Where(k => !present.Contains(k)).ToList()) _seen.Remove(gone);
    }

    private async Task HandleAsync(FileInfo file, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            if (file.Length > Torrent.MaxTorrentBytes)
            {
                Reject(file, $"{file.Length} bytes is too large for a .torrent");
                return;
            }
            bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("watch folder: cannot read {File}: {Error}", file.FullName, ex.Message);
            return;
        }
        try
        {
            TorrentView added = await _service.AddAsync(new AddTorrentRequest { Metainfo = bytes }, cancellationToken).ConfigureAwait(false);
            _log.LogInformation("watch folder: added {File} as {Id} ({Name})", file.Name, added.Id, added.Name);
            Rename(file, ".added");
        }
        catch (ServiceException ex) when (ex.Kind == ServiceErrorKind.Conflict)
        {
            _log.LogInformation("watch folder: {File}: {Reason}", file.Name, ex.Message);
            Rename(file, ".added");
        }
        catch (ServiceException ex) when (ex.Kind is ServiceErrorKind.BadRequest or ServiceErrorKind.Forbidden or ServiceErrorKind.NotFound)
        {
            Reject(file, ex.Message);
        }
        catch (Exception ex) when (ex is ServiceException or State.StateStoreException)
        {
            int attempts = _attempts.GetValueOrDefault(file.FullName) + 1;
            _attempts[file.FullName] = attempts;
            if (attempts >= MaxAttempts) Reject(file, ex.Message);
            else _log.LogWarning("watch folder: {File} not added yet ({Error}); trying again", file.Name, ex.Message);
        }
    }

    private void Reject(FileInfo file, string reason)
    {
        _log.LogWarning("watch folder: {File} is not a usable torrent: {Reason}; renamed .invalid", file.Name, reason);
        Rename(file, ".invalid");
    }

    private void Rename(FileInfo file, string suffix)
    {
        _attempts.Remove(file.FullName);
        string target = file.FullName + suffix;
        for (int n = 1; File.Exists(target) && n < 1000; n++) target = file.FullName + suffix + "." + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            File.Move(file.FullName, target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.LogError("watch folder: cannot rename {File}: {Error}", file.FullName, ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
