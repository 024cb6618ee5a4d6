using System.Collections.Concurrent;
using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Daemon.Engine;

/// <summary>
/// The engine's fast-resume data in the daemon's database (the <c>resume</c> table), through the library's
/// <see cref="IResumeStore"/>: loaded once at start, served to the engine from memory, and written back in batches on
/// the service's loop (one transaction for every torrent that saved since the last one; at most a second later, and
/// once more when the daemon stops). A save lost to a crash costs a partial check at the next start, never a wrong
/// piece: the engine only saves data whose pieces are already durable, and validates what it loads.
/// </summary>
internal sealed class DaemonResumeStore : IResumeStore
{
    private readonly ConcurrentDictionary<InfoHash, byte[]> _saved = new();
    private readonly ConcurrentDictionary<InfoHash, byte[]?> _pending = new(); // null: delete
    private Action? _requestFlush;

    /// <summary>Called when something waits to be written (the service posts a flush to its loop).</summary>
    public void OnPending(Action requestFlush) => _requestFlush = requestFlush;

    /// <summary>Resume data read from the database at start (before any torrent runs).</summary>
    public void Preload(InfoHash infoHash, byte[] data) => _saved[infoHash] = data;

    /// <inheritdoc />
    public byte[]? Load(InfoHash infoHash, string downloadDirectory) => _saved.TryGetValue(infoHash, out byte[]? data) ? data : null;

    /// <inheritdoc />
    public ValueTask SaveAsync(InfoHash infoHash, string downloadDirectory, byte[] data)
    {
        _saved[infoHash] = data;
        _pending[infoHash] = data;
        _requestFlush?.Invoke();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public void Delete(InfoHash infoHash, string downloadDirectory)
    {
        _saved.TryRemove(infoHash, out _);
        _pending[infoHash] = null;
        _requestFlush?.Invoke();
    }

    /// <summary>Takes what waits to be written (resume data, or null to delete), per torrent. Loop only.</summary>
    public List<(InfoHash InfoHash, byte[]? Data)> TakePending()
    {
        var taken = new List<(InfoHash, byte[]?)>();
        foreach (InfoHash hash in _pending.Keys)
        {
            if (_pending.TryRemove(hash, out byte[]? data)) taken.Add((hash, data));
        }
        return taken;
    }
}
