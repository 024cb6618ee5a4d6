namespace Shoal.Trackers;

/// <summary>The torrent's numbers at the moment of an announce, read through a callback so they are current.</summary>
/// <param name="Uploaded">Bytes uploaded since the session started.</param>
/// <param name="Downloaded">Bytes downloaded since the session started.</param>
/// <param name="Left">Bytes still missing.</param>
/// <param name="Port">Our listening TCP port.</param>
public readonly record struct AnnounceStats(long Uploaded, long Downloaded, long Left, int Port);
