using Shoal.Metainfo;

namespace Shoal.Swarm;

/// <summary>
/// Which files are complete: per file, the pieces it touches that are not verified yet, so a verified piece costs a
/// decrement per file it touches (not a scan of the file's pieces) and says which files it completed. Padding and empty
/// files never complete (nothing to report). Owned by the torrent's actor.
/// </summary>
internal sealed class FileCompletion
{
    private readonly Torrent _torrent;
    private readonly int[] _missing;
    private readonly long[] _starts;

    /// <summary>Counts the missing pieces of every file of <paramref name="torrent"/> given the verified <paramref name="have"/>.</summary>
    public FileCompletion(Torrent torrent, BitField have)
    {
        _torrent = torrent;
        _missing = new int[torrent.Files.Count];
        _starts = new long[torrent.Files.Count];
        for (int f = 0; f < _missing.Length; f++)
        {
            TorrentFile file = torrent.Files[f];
            _starts[f] = file.Offset;
            if (file.IsPadding || file.Length == 0) { _missing[f] = -1; continue; }
            (int first, int last) = PieceRange(f);
            for (int p = first; p <= last; p++) if (!have[p]) _missing[f]++;
        }
    }

    /// <summary>The pieces file <paramref name="file"/> touches (first and last, inclusive).</summary>
    public (int First, int Last) PieceRange(int file)
    {
        TorrentFile f = _torrent.Files[file];
        int first = (int)(f.Offset / _torrent.PieceLength);
        int last = (int)((f.Offset + Math.Max(f.Length, 1) - 1) / _torrent.PieceLength);
        return (first, last);
    }

    /// <summary>True when every piece of file <paramref name="file"/> is verified.</summary>
    public bool IsComplete(int file) => _missing[file] == 0;

    /// <summary>A piece was verified (once per piece): calls <paramref name="completed"/> for each file it completed.</summary>
    public void OnPieceVerified(int piece, Action<int> completed)
    {
        long start = (long)piece * _torrent.PieceLength;
        long end = start + _torrent.GetPieceSize(piece);
        // First file ending after the piece's start, then every file starting before its end.
        int lo = 0, hi = _starts.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_starts[mid] + _torrent.Files[mid].Length <= start) lo = mid + 1; else hi = mid;
        }
        for (int f = lo; f < _starts.Length && _starts[f] < end; f++)
        {
            if (_missing[f] <= 0) continue;
            if (--_missing[f] == 0) completed(f);
        }
    }
}
