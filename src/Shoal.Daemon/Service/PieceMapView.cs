namespace Shoal.Daemon.Service;

/// <summary>GET /api/v1/torrents/{id}/pieces: which pieces are verified and which are being downloaded.</summary>
/// <param name="PieceCount">Pieces in the torrent (0 while the metadata is unknown).</param>
/// <param name="PieceSize">Nominal piece size.</param>
/// <param name="HaveCount">Verified pieces.</param>
/// <param name="Have">The verified pieces as a BEP 3 bitfield (high bit of the first byte is piece 0), base64.</param>
/// <param name="Downloading">Pieces with blocks in flight or received but not verified yet.</param>
/// <param name="Source">Where the map comes from: "engine" (the running torrent), "complete", "resume" (the fast-resume data of a stopped torrent), "none".</param>
public sealed record PieceMapView(int PieceCount, int PieceSize, int HaveCount, string Have, IReadOnlyList<int> Downloading, string Source);
