using System.Collections.Concurrent;
using Shoal.Metainfo;

namespace Shoal.Transport.Encryption;

/// <summary>
/// The session's torrents by HASH('req2', info-hash), the form an encrypted handshake names its torrent in, so an
/// incoming MSE connection finds its torrent with one lookup instead of one SHA-1 per torrent (as libtorrent keeps
/// its obfuscated hashes beside its torrent list). Thread-safe; bounded by the session's torrents.
/// </summary>
public sealed class StreamKeyIndex
{
    // The key is a 20-byte SHA-1 digest; InfoHash is exactly that: 20 bytes compared by content.
    private readonly ConcurrentDictionary<InfoHash, InfoHash> _byStreamKeyHash = new();

    /// <summary>Torrents indexed.</summary>
    public int Count => _byStreamKeyHash.Count;

    /// <summary>Makes <paramref name="infoHash"/> findable by encrypted handshakes.</summary>
    public void Add(InfoHash infoHash) => _byStreamKeyHash[Key(infoHash)] = infoHash;

    /// <summary>Forgets <paramref name="infoHash"/>.</summary>
    public void Remove(InfoHash infoHash) => _byStreamKeyHash.TryRemove(Key(infoHash), out _);

    /// <summary>The info-hash whose HASH('req2', info-hash) is <paramref name="streamKeyHash"/>; null when none.</summary>
    public ReadOnlyMemory<byte>? Find(ReadOnlyMemory<byte> streamKeyHash)
    {
        if (streamKeyHash.Length != InfoHash.Length) return null;
        // Spelled out: "cond ? array : null" would turn a miss into an empty (non-null) ReadOnlyMemory.
        if (!_byStreamKeyHash.TryGetValue(new InfoHash(streamKeyHash.Span), out InfoHash infoHash)) return null;
        return infoHash.Span.ToArray();
    }

    private static InfoHash Key(InfoHash infoHash) => new(MseHashes.StreamKeyHash(infoHash.Span));
}
