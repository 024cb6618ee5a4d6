using System.Numerics;
using Shoal.Swarm;

namespace Shoal.Daemon.Service;

/// <summary>
/// Reads one torrent's piece map for a details view: from the running torrent's actor, or for a stopped one from
/// its state (complete: every piece) or its fast-resume data. Asked for one torrent at a time, never for the list.
/// </summary>
internal static class PieceMaps
{
    /// <summary>How long the actor may take to answer (it answers between two events; a check delays it).</summary>
    private static readonly TimeSpan ActorWait = TimeSpan.FromSeconds(2);

    public static async Task<PieceMapView> ReadAsync(ServiceTorrent t, Engine.EngineBridge engine, CancellationToken cancellationToken)
    {
        if (t.Metainfo is not { } m) return new PieceMapView(0, 0, 0, "", [], "none");
        int count = m.PieceCount;
        if (t.Handle is { } handle && !t.Complete)
        {
            try
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(ActorWait);
                PieceMap map = await handle.GetPieceMapAsync(wait.Token).ConfigureAwait(false);
                if (map.PieceCount == count) return View(m.PieceLength, count, map.Have, map.Downloading, "engine");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // stopping or checking: fall back to what is on disk
            }
        }
        if (t.Complete)
        {
            var all = new byte[(count + 7) / 8];
            Array.Fill(all, (byte)0xFF);
            if (count % 8 != 0) all[^1] = (byte)(0xFF << (8 - count % 8));
            return View(m.PieceLength, count, all, [], "complete");
        }
        byte[]? verified = engine.LoadVerifiedPieces(t.Record.InfoHash, count);
        return verified is null ? View(m.PieceLength, count, new byte[(count + 7) / 8], [], "none") : View(m.PieceLength, count, verified, [], "resume");
    }

    private static PieceMapView View(int pieceSize, int count, byte[] have, IReadOnlyList<int> downloading, string source)
    {
        int set = 0;
        foreach (byte b in have) set += BitOperations.PopCount(b);
        return new PieceMapView(count, pieceSize, set, Convert.ToBase64String(have), downloading, source);
    }
}
