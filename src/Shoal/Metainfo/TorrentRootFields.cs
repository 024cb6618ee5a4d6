using System.Text;
using Shoal.Bencoding;

namespace Shoal.Metainfo;

/// <summary>
/// Reads the fields outside the info dictionary. They are not covered by the info-hash, so they are read
/// leniently, as libtorrent does: entries of the wrong type, empty or not UTF-8 are skipped rather than refused.
/// </summary>
internal static class TorrentRootFields
{
    /// <summary>Announce URLs in tiers (BEP 12); a lone 'announce' is one tier of one.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> ReadTiers(BDictionary root)
    {
        var tiers = new List<IReadOnlyList<string>>();
        if (root.TryGetValue("announce-list", out BValue? listValue) && listValue is BList list)
        {
            // BEP 12: when announce-list is present, announce is ignored.
            foreach (BValue tierValue in list)
            {
                if (tierValue is not BList tierList) continue;
                var tier = new List<string>();
                foreach (BValue urlValue in tierList)
                {
                    if (TextOf(urlValue) is { } text && !tier.Contains(text)) tier.Add(text);
                }
                if (tier.Count > 0) tiers.Add(tier);
            }
        }
        if (tiers.Count == 0 && root.TryGetValue("announce", out BValue? announce) && TextOf(announce) is { } single)
        {
            tiers.Add([single]);
        }
        return tiers;
    }

    /// <summary>
    /// BEP 19 'url-list' or BEP 17 'httpseeds': one URL or a list of them, each once, in order. For 'url-list' of a
    /// torrent with several files the URL names a folder, so it gets a trailing '/' (as libtorrent adds one).
    /// </summary>
    public static IReadOnlyList<string> ReadSeeds(BDictionary root, string key, bool folderUrls)
    {
        if (!root.TryGetValue(key, out BValue? value)) return [];
        var urls = new List<string>();
        IEnumerable<BValue> items = value is BList list ? list : [value];
        foreach (BValue item in items)
        {
            if (TextOf(item) is not { } url) continue;
            if (folderUrls && !url.EndsWith('/')) url += "/";
            if (!urls.Contains(url)) urls.Add(url);
        }
        return urls;
    }

    /// <summary>'KEY.utf-8' if it is UTF-8 text, else 'KEY'; legacy code pages are shown as Latin-1 rather than refused.</summary>
    public static string? ReadText(BDictionary root, string key)
    {
        if (root.TryGetValue(key + ".utf-8", out BValue? preferred) && preferred is BString p && p.TryGetText(out string? pText)) return pText;
        if (!root.TryGetValue(key, out BValue? value) || value is not BString s) return null;
        return s.TryGetText(out string? text) ? text : Encoding.Latin1.GetString(s.Bytes.Span);
    }

    /// <summary>'creation date' when it is an integer a <see cref="DateTimeOffset"/> can hold.</summary>
    public static DateTimeOffset? ReadDate(BDictionary root) =>
        root.TryGetValue("creation date", out BValue? date) && date is BInteger seconds
        && seconds.Value >= DateTimeOffset.MinValue.ToUnixTimeSeconds() && seconds.Value <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? DateTimeOffset.FromUnixTimeSeconds(seconds.Value)
            : null;

    /// <summary>
    /// The BEP 52 'piece layers' of each file (indexed like <paramref name="files"/>; empty where absent or not needed).
    /// A torrent may leave them out (libtorrent loads such a file like a magnet link and fetches them from peers), but
    /// a layer that is present must be well formed, have one hash per piece and hash up to the file's root.
    /// </summary>
    public static ReadOnlyMemory<byte>[] ReadPieceLayers(BDictionary root, IReadOnlyList<TorrentFile> files, int pieceLength)
    {
        var layers = new ReadOnlyMemory<byte>[files.Count];
        if (!root.TryGetValue("piece layers", out BValue? value) || value is not BDictionary dict) return layers;
        foreach (KeyValuePair<BString, BValue> entry in dict)
        {
            if (entry.Key.Length != Sha256Hash.Length || entry.Value is not BString hashes || hashes.Length % Sha256Hash.Length != 0)
                throw new MetainfoException($"'piece layers' has a malformed entry (key {entry.Key.Length} bytes, value {BDictionary.KindOf(entry.Value)})");
        }
        var verified = new Dictionary<Sha256Hash, ReadOnlyMemory<byte>>();
        for (int i = 0; i < files.Count; i++)
        {
            TorrentFile file = files[i];
            if (file.PiecesRoot is not { } fileRoot || file.Length <= pieceLength) continue;
            if (verified.TryGetValue(fileRoot, out ReadOnlyMemory<byte> known))
            {
                layers[i] = known; // identical files share a root and a layer
                continue;
            }
            if (!dict.TryGetValue(fileRoot.Span, out BValue? layerValue)) continue;
            var layer = (BString)layerValue;
            long pieces = ((file.Length - 1) / pieceLength) + 1;
            string what = $"the piece layer of '{TorrentPathRules.Printable(file.Path)}'";
            if (layer.Length != pieces * Sha256Hash.Length)
                throw new MetainfoException($"{what} holds {layer.Length / Sha256Hash.Length} hashes, the file has {pieces} pieces");
            if (MerkleTree.RootFromPieceLayer(layer.Bytes.Span, pieceLength) != fileRoot)
                throw new MetainfoException($"{what} does not hash to the file's 'pieces root'");
            layers[i] = layer.Bytes;
            verified[fileRoot] = layer.Bytes;
        }
        return layers;
    }

    private static string? TextOf(BValue value) =>
        value is BString { Length: > 0 } s && s.TryGetText(out string? text) && text.Trim().Length > 0 ? text.Trim() : null;
}
