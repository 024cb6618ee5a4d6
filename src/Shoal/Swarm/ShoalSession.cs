using System.Net;
using Shoal.Metainfo;

namespace Shoal.Swarm;

/// <summary>
/// One BitTorrent node: owns the listen socket, the disk service, the global limits and every torrent.
/// Several sessions can live in one process.
/// </summary>
public sealed class ShoalSession : IAsyncDisposable
{
    /// <summary>Binds the listener and starts the session. Throws <see cref="System.Net.Sockets.SocketException"/> when the port is taken.</summary>
    public static Task<ShoalSession> StartAsync(SessionOptions options, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    /// <summary>Where the session accepts peers.</summary>
    public IPEndPoint ListenEndPoint => throw new NotImplementedException();

    /// <summary>Our 20-byte peer id.</summary>
    public ReadOnlyMemory<byte> PeerId => throw new NotImplementedException();

    /// <summary>Torrents currently in the session.</summary>
    public IReadOnlyList<TorrentHandle> Torrents => throw new NotImplementedException();

    /// <summary>
    /// Adds a torrent: checks the data already in <see cref="TorrentOptions.DownloadDirectory"/>, then
    /// downloads what is missing and uploads what it has. Returns once the torrent is registered.
    /// </summary>
    public Task<TorrentHandle> AddTorrentAsync(Torrent torrent, TorrentOptions options, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    /// <summary>Stops every torrent, closes every connection and the listener.</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
