using Shoal.Bencoding;
using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// Keeps the BEP 52 piece layers a torrent learned from peers (a magnet link's info dictionary has only the roots)
/// beside its resume file, so a restarted v2 download verifies its data at once instead of asking peers again. The
/// file is a bencoded dictionary from each file's pieces root to its piece layer, as in a .torrent's 'piece layers';
/// every layer read back must hash up to its root (<see cref="FileHashTrees.TrySetPieceLayer"/>), so a damaged or
/// foreign file can only be ignored, never trusted.
/// </summary>
internal static class PieceLayerStore
{
    /// <summary>Suffix after the resume file's path.</summary>
    public const string Suffix = ".layers";

    /// <summary>Largest file read back: 32 bytes per piece of the largest torrent, with room to spare.</summary>
    public const int MaxBytes = 160 * 1024 * 1024;

    /// <summary>Writes every known layer of a file of more than one piece, atomically (temporary file, flushed, renamed). Blocking: call it off the actor.</summary>
    public static void Save(string path, FileHashTrees trees)
    {
        var layers = new BDictionary();
        for (int t = 0; t < trees.TreeCount; t++)
        {
            if (trees.GetTreePieceCount(t) > 1 && trees.GetPieceLayer(t) is { } layer)
                layers.Set(new BString(trees.GetRoot(t).Span.ToArray()), new BString(layer));
        }
        if (layers.Count == 0) return;
        byte[] bytes = Bencode.Encode(layers);
        string temporary = path + ".tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw StorageException.From(e, "save piece layers to", path);
        }
    }

    /// <summary>
    /// Sets the layers stored at <paramref name="path"/> that prove up to their roots; returns how many were set, or
    /// -1 with a <paramref name="reason"/> when the file exists but cannot be used. Never throws for bad content.
    /// </summary>
    public static int Load(string path, FileHashTrees trees, out string? reason)
    {
        reason = null;
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return 0;
            if (info.Length > MaxBytes) { reason = $"{info.Length} bytes, more than {MaxBytes}"; return -1; }
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = e.Message;
            return -1;
        }
        BDictionary layers;
        try
        {
            if (Bencode.Decode(bytes) is not BDictionary dictionary) { reason = "not a dictionary"; return -1; }
            layers = dictionary;
        }
        catch (BencodeException e)
        {
            reason = e.Message;
            return -1;
        }
        int set = 0;
        foreach (KeyValuePair<BString, BValue> entry in layers)
        {
            if (entry.Key.Bytes.Length != Sha256Hash.Length || entry.Value is not BString layer) continue;
            int tree = trees.FindTree(new Sha256Hash(entry.Key.Bytes.Span));
            if (tree >= 0 && trees.GetPieceLayer(tree) is null && trees.TrySetPieceLayer(tree, layer.Bytes.Span)) set++;
        }
        return set;
    }
}
