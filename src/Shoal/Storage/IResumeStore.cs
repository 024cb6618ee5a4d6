using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// Where a session keeps its torrents' fast-resume data when the embedder holds it (a database row next to the
/// torrent's other state) instead of files in <see cref="Swarm.SessionOptions.ResumeDirectory"/>. The bytes are
/// <see cref="ResumeFile.Serialize"/>'s format; the engine validates what it loads (a damaged or foreign blob is ignored
/// and the data checked), so a store only keeps bytes. Called from worker threads, never the caller's: implementations
/// must be thread-safe and must not block for long.
/// </summary>
public interface IResumeStore
{
    /// <summary>The bytes saved last for <paramref name="infoHash"/> downloaded into <paramref name="downloadDirectory"/>, or null.</summary>
    byte[]? Load(InfoHash infoHash, string downloadDirectory);

    /// <summary>
    /// Keeps <paramref name="data"/> (replacing what was there). The data it vouches for is already durable when this is
    /// called; losing a save costs a partial check at the next start, never a wrong piece.
    /// </summary>
    ValueTask SaveAsync(InfoHash infoHash, string downloadDirectory, byte[] data);

    /// <summary>Forgets the data (a recheck): the next start checks every piece.</summary>
    void Delete(InfoHash infoHash, string downloadDirectory);
}
