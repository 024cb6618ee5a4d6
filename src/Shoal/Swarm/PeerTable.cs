namespace Shoal.Swarm;

/// <summary>
/// The connected peers of one torrent by key, and the task running each one's loops (awaited when the torrent
/// stops). Owned by the torrent actor; enumerating <see cref="All"/> allocates nothing.
/// </summary>
internal sealed class PeerTable
{
    private readonly Dictionary<int, PeerConnection> _byKey = [];
    private readonly Dictionary<PeerConnection, Task> _running = [];
    private int _nextKey;

    /// <summary>Connected peers.</summary>
    public int Count => _byKey.Count;

    /// <summary>Every connected peer, in the order they joined.</summary>
    public Dictionary<int, PeerConnection>.ValueCollection All => _byKey.Values;

    /// <summary>A key no peer of this torrent had before.</summary>
    public int NextKey() => _nextKey++;

    /// <summary>Adds a joined peer and the task of its loops.</summary>
    public void Add(PeerConnection peer, Task running)
    {
        _byKey.Add(peer.Key, peer);
        _running[peer] = running;
    }

    public bool TryGet(int key, out PeerConnection peer) => _byKey.TryGetValue(key, out peer!);

    public bool Contains(PeerConnection peer) => _byKey.ContainsKey(peer.Key);

    /// <summary>Forgets a peer whose loops ended; false when it was not (or no longer) connected.</summary>
    public bool Remove(PeerConnection peer)
    {
        _running.Remove(peer);
        return _byKey.Remove(peer.Key);
    }

    /// <summary>Completes when the loops of every peer still listed have ended.</summary>
    public Task AllStopped() => Task.WhenAll(_running.Values);

    /// <summary>Closes every connection (their loops then end and report).</summary>
    public void CloseAll(string reason)
    {
        foreach (PeerConnection peer in _byKey.Values) peer.Close(reason);
    }

    public void Clear()
    {
        _byKey.Clear();
        _running.Clear();
    }
}
