using System.Collections.Concurrent;
using Shoal.Metainfo;

namespace Shoal.Daemon.Service;

/// <summary>
/// The daemon's torrents by id and by info-hash. Written only on the service loop; read from any thread (the
/// maps are concurrent, the ordered list is an immutable array rebuilt after an add or remove).
/// </summary>
internal sealed class TorrentTable
{
    private readonly ConcurrentDictionary<long, ServiceTorrent> _byId = new();
    private readonly ConcurrentDictionary<InfoHash, ServiceTorrent> _byHash = new();
    private ServiceTorrent[]? _ordered;
    private ServiceTorrent[]? _queue;

    /// <summary>Number of torrents.</summary>
    public int Count => _byId.Count;

    /// <summary>Every torrent by id (the array is shared: never modify it).</summary>
    public ServiceTorrent[] All
    {
        get
        {
            ServiceTorrent[]? ordered = Volatile.Read(ref _ordered);
            if (ordered is not null) return ordered;
            ordered = [.. _byId.Values.OrderBy(t => t.Id)];
            Interlocked.Increment(ref _sorts);
            Volatile.Write(ref _ordered, ordered);
            return ordered;
        }
    }

    /// <summary>Every torrent in queue order (kept until a torrent comes, goes or moves; loop only; never modify it).</summary>
    public ServiceTorrent[] InQueueOrder()
    {
        if (_queue is { } queue) return queue;
        Interlocked.Increment(ref _sorts);
        return _queue = [.. All.OrderBy(t => t.Record.QueuePosition).ThenBy(t => t.Id)];
    }

    /// <summary>A queue position changed: the queue order is computed again when next asked for.</summary>
    public void QueueChanged() => _queue = null;

    /// <summary>Full sorts of the lists since the table was made (adds at the end need none; tests read it).</summary>
    public int Sorts => Volatile.Read(ref _sorts);

    private int _sorts;

    /// <summary>
    /// Adds a torrent. One that goes at the end of both orders (a new id, the last queue position: every add) extends
    /// the lists with a copy rather than a sort, so adding n torrents one by one does not sort n times.
    /// </summary>
    public void Add(ServiceTorrent torrent)
    {
        _byId[torrent.Id] = torrent;
        _byHash[torrent.Record.InfoHash] = torrent;
        ServiceTorrent[]? ordered = Volatile.Read(ref _ordered);
        Volatile.Write(ref _ordered, ordered is not null && (ordered.Length == 0 || ordered[^1].Id < torrent.Id) ? [.. ordered, torrent] : null);
        _queue = _queue is { } queue && (queue.Length == 0 || Before(queue[^1], torrent)) ? [.. queue, torrent] : null;
    }

    private static bool Before(ServiceTorrent a, ServiceTorrent b)
        => a.Record.QueuePosition < b.Record.QueuePosition || a.Record.QueuePosition == b.Record.QueuePosition && a.Id < b.Id;

    public void Remove(ServiceTorrent torrent)
    {
        _byId.TryRemove(torrent.Id, out _);
        _byHash.TryRemove(torrent.Record.InfoHash, out _);
        Volatile.Write(ref _ordered, null);
        _queue = null;
    }

    public ServiceTorrent? Find(long id) => _byId.TryGetValue(id, out ServiceTorrent? t) ? t : null;

    public ServiceTorrent? Find(InfoHash infoHash) => _byHash.TryGetValue(infoHash, out ServiceTorrent? t) ? t : null;

    /// <summary>
    /// The torrent a user means by <paramref name="reference"/>: its id, its info-hash (40 hex or 32 base32
    /// characters), or a unique prefix of the hex info-hash (at least 4 digits). Throws <see cref="ServiceException"/>
    /// when none or several match.
    /// </summary>
    public ServiceTorrent Resolve(string reference)
    {
        string text = reference?.Trim() ?? "";
        if (text.Length == 0) throw ServiceException.Bad("a torrent is named by its id, its info-hash or a prefix of it");
        if (text.Length < 40 && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long id))
        {
            if (Find(id) is { } byId) return byId;
            if (text.Length < 4) throw ServiceException.NotFound($"no torrent with id {id}");
        }
        if (InfoHash.TryParse(text, out InfoHash hash))
        {
            return Find(hash) ?? throw ServiceException.NotFound($"no torrent with info-hash {hash.ToHex()}");
        }
        if (text.Length < 4 || !text.All(char.IsAsciiHexDigit)) throw ServiceException.NotFound($"no torrent '{text}' (an id, an info-hash or at least 4 of its first hex digits)");
        string prefix = text.ToLowerInvariant();
        ServiceTorrent? found = null;
        foreach (ServiceTorrent t in All)
        {
            if (!t.View.InfoHash.StartsWith(prefix, StringComparison.Ordinal)) continue;
            if (found is not null) throw ServiceException.Bad($"'{text}' matches several torrents: give more of the info-hash");
            found = t;
        }
        return found ?? throw ServiceException.NotFound($"no torrent whose info-hash starts with {prefix}");
    }

    /// <summary>Resolves several references; "all" means every torrent. Duplicates are dropped.</summary>
    public IReadOnlyList<ServiceTorrent> Resolve(IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(references);
        if (references.Count == 0) throw ServiceException.Bad("no torrent named");
        if (references.Any(r => string.Equals(r?.Trim(), "all", StringComparison.OrdinalIgnoreCase))) return All;
        var seen = new HashSet<long>();
        var result = new List<ServiceTorrent>(references.Count);
        foreach (string reference in references)
        {
            ServiceTorrent t = Resolve(reference);
            if (seen.Add(t.Id)) result.Add(t);
        }
        return result;
    }
}
