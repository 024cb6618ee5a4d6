namespace Shoal.Storage;

/// <summary>A part of a torrent byte range that lies in one file.</summary>
/// <param name="FileIndex">Index into <see cref="StorageLayout.Files"/>.</param>
/// <param name="FileOffset">Offset inside that file.</param>
/// <param name="Length">Bytes (always greater than zero).</param>
public readonly record struct FileSlice(int FileIndex, long FileOffset, long Length);
