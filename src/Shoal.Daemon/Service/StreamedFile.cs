using Shoal.Swarm;

namespace Shoal.Daemon.Service;

/// <summary>
/// One file of a running torrent opened for streaming (<see cref="TorrentService.OpenStream"/>): reads wait until the
/// pieces holding the bytes are verified, and give those pieces deadlines in the engine, so a player reading from the
/// start of a file that is still downloading gets what it reads next first.
/// </summary>
public sealed class StreamedFile
{
    private readonly TorrentHandle _handle;

    internal StreamedFile(TorrentHandle handle, int index, string path, long length)
    {
        _handle = handle;
        Index = index;
        Path = path;
        Length = length;
    }

    /// <summary>The file's index in the torrent.</summary>
    public int Index { get; }

    /// <summary>Its path inside the torrent, '/'-separated.</summary>
    public string Path { get; }

    /// <summary>Its length in bytes.</summary>
    public long Length { get; }

    /// <summary>
    /// Reads up to <paramref name="destination"/>'s length at <paramref name="offset"/>, once verified. Throws
    /// <see cref="ServiceException"/> (conflict) when the torrent stops or the file cannot be streamed any more.
    /// </summary>
    public async Task<int> ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        try
        {
            return await _handle.ReadAsync(Index, offset, destination, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            throw new ServiceException(ServiceErrorKind.Conflict, $"{Path}: {ex.Message}", ex);
        }
        catch (Shoal.Storage.StorageException ex)
        {
            throw new ServiceException(ServiceErrorKind.Failed, $"{Path}: {ex.Message}", ex);
        }
    }
}
