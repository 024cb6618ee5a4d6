using Shoal.Picking;

namespace Shoal.Swarm;

/// <summary>One file of a torrent as its actor sees it now.</summary>
/// <param name="Index">Position in <see cref="Metainfo.Torrent.Files"/>.</param>
/// <param name="Path">Path under the download folder, '/'-separated, the torrent's folder included (its new path when renamed).</param>
/// <param name="Length">Bytes.</param>
/// <param name="VerifiedBytes">Bytes of the file inside verified pieces.</param>
/// <param name="Priority">Its priority.</param>
/// <param name="IsPadding">A BEP 47 padding file (never shown to users, never written).</param>
public sealed record FileStatus(int Index, string Path, long Length, long VerifiedBytes, FilePriority Priority, bool IsPadding)
{
    /// <summary>Verified share of the file, 0..1 (1 for an empty file).</summary>
    public double Progress => Length == 0 ? 1 : (double)VerifiedBytes / Length;
}
