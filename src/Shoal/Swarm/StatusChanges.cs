using Shoal.Metainfo;

namespace Shoal.Swarm;

/// <summary>
/// The torrents whose status snapshot changed since the session's last pass: marked by each torrent's actor as it
/// publishes a status, taken by the once-a-second pass, so the pass visits what changed rather than every torrent (a
/// seed with no peers publishes nothing and is not visited). Bounded by the number of torrents: a torrent is marked once
/// until taken. One reader (the pass), which finishes with a taken set before it takes the next.
/// </summary>
internal sealed class StatusChanges
{
    private readonly Lock _gate = new();
    private HashSet<InfoHash> _marked = [];
    private HashSet<InfoHash> _taken = [];

    /// <summary>The torrent's status changed. Any thread; never waits long (a set insert under a lock).</summary>
    public void Mark(InfoHash infoHash)
    {
        lock (_gate) _marked.Add(infoHash);
    }

    /// <summary>The torrents marked since the last call; valid until the next call (the two sets are reused, nothing is allocated).</summary>
    public IReadOnlyCollection<InfoHash> Take()
    {
        lock (_gate)
        {
            HashSet<InfoHash> taken = _marked;
            _taken.Clear();
            _marked = _taken;
            _taken = taken;
            return taken;
        }
    }
}
