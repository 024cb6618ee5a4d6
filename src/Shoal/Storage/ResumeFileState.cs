namespace Shoal.Storage;

/// <summary>
/// What one file of a torrent looked like on disk when resume data was captured: its length and last-write time.
/// A later check trusts the verified pieces of a file only if both are still exactly the same.
/// </summary>
/// <param name="Length">Bytes on disk, or -1 when the file was absent, skipped, or a padding file (see <see cref="IsAbsent"/>).</param>
/// <param name="LastWriteUtcTicks">Last-write time in UTC <see cref="DateTime.Ticks"/> (100 ns units); 0 when absent.</param>
public readonly record struct ResumeFileState(long Length, long LastWriteUtcTicks)
{
    /// <summary>The state of a file that was not on disk (missing, skipped, or padding): nothing in it is trusted.</summary>
    public static ResumeFileState Absent => new(-1, 0);

    /// <summary>True when the file was not on disk at capture time.</summary>
    public bool IsAbsent => Length < 0;
}
