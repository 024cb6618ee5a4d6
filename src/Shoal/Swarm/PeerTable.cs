namespace Shoal.Swarm;

/// <summary>
/// The connected peers of one torrent by key, and the task running each one's loops (awaited when the torrent
/// stops). Owned by the torrent actor; enumerating <see cref="All"/> allocates nothing. The tables exist only while
/// peers are connected: most torrents of a large session have none, and an empty table still costs 160 bytes.
/// </summary>
internal sealed class PeerTable
{
    private static readonly Dictionary<int, PeerConnection> NoPeers = []; // never written: what All shows with no peer
    private Dictionary<int, PeerConnection>? _byKey;
    private Dictionary<PeerConnection, Task>? _running;
    private int _nextKey;

    /// <summary>Connected peers.</summary>
    public int Count => _byKey?.Count ?? 0;

    /// <summary>Every connected peer, in the order they joined.</summary>
    public Dictionary<int, PeerConnection>.ValueCollection All => (_byKey ?? NoPeers).Values;

    /// <summary>A key no peer of this torrent had before.</summary>
    public int NextKey() => _nextKey++;

    /// <summary>Adds a joined peer and the task of its loops.</summary>
    public void Add(PeerConnection peer, Task running)
    {
        (_byKey ??= []).Add(peer.Key, peer);
        (_running ??= [])[peer] = running;
    }

    public bool TryGet(int key, out PeerConnection peer)
    {
        peer = null!;
        return _byKey?.TryGetValue(key, out peer!) == true;
    }

    public bool Contains(PeerConnection peer) => _byKey?.ContainsKey(peer.Key) == true;

    /// <summary>Forgets a peer whose loops ended; false when it was not (or no longer) connected.</summary>
    public bool Remove(PeerConnection peer)
    {
        _running?.Remove(peer);
        bool removed = _byKey?.Remove(peer.Key) == true;
        if (_byKey is { Count: 0 } && _running is not { Count: > 0 })
        {
            _byKey = null;
            _running = null;
        }
        return removed;
    }

    /// <summary>Completes when the loops of every peer still listed have ended.</summary>
    public Task AllStopped() => _running is { Count: > 0 } running ? Task.WhenAll(running.Values) : Task.CompletedTask;

    /// <summary>Closes every connection (their loops then end and report).</summary>
    public void CloseAll(string reason)
    {
        if (_byKey is null) return;
        foreach (PeerConnection peer in _byKey.Values) peer.Close(reason);
    }

    public void Clear()
    {
        _byKey = null;
        _running = null;
    }
}
