namespace Shoal.Daemon.Service;

/// <summary>One file of a torrent.</summary>
/// <param name="Index">Its number in the torrent (what priorities and streaming address it by).</param>
/// <param name="Path">Its path inside the torrent, '/'-separated.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="Done">Bytes of it in verified pieces.</param>
/// <param name="Progress">Done over size, 0..1.</param>
/// <param name="Priority">How much it is wanted.</param>
public sealed record FileView(int Index, string Path, long Size, long Done, double Progress, FilePriority Priority);
