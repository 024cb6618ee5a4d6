namespace Shoal.Swarm;

/// <summary>Which pieces of a torrent are verified and which are being downloaded, at one moment.</summary>
/// <param name="PieceCount">Pieces in the torrent.</param>
/// <param name="Have">Verified pieces as a BEP 3 bitfield (the high bit of the first byte is piece 0).</param>
/// <param name="Downloading">Pieces with blocks requested or received but not yet verified, ascending.</param>
public sealed record PieceMap(int PieceCount, byte[] Have, IReadOnlyList<int> Downloading);
