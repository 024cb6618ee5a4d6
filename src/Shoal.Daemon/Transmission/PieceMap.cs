using Shoal.Daemon.Service;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// Which pieces a torrent has, as both dialects show them. Exact for a complete torrent and one with nothing
/// verified; in between the engine does not publish its piece map yet, so the verified count is shown as the
/// first pieces (the count, and with it every progress figure, is exact).
/// </summary>
internal static class PieceMap
{
    /// <summary>Pieces verified: all when complete, else the verified bytes over the piece size.</summary>
    public static int Verified(TorrentView v)
    {
        if (v.PieceCount == 0 || v.PieceSize == 0) return 0;
        if (v.Progress >= 1 && v.WantedSize == v.TotalSize) return v.PieceCount;
        return (int)Math.Min(v.PieceCount, v.DoneBytes / v.PieceSize);
    }

    /// <summary>The bitfield (BEP 3 order: piece 0 is the high bit of the first byte).</summary>
    public static byte[] Have(TorrentView v)
    {
        var bits = new byte[(v.PieceCount + 7) / 8];
        int have = Verified(v);
        for (int i = 0; i < have; i++) bits[i >> 3] |= (byte)(0x80 >> (i & 7));
        return bits;
    }
}
