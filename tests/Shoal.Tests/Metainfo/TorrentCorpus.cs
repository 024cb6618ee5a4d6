using System.Text.Json;

namespace Shoal.Tests.Metainfo;

/// <summary>
/// The corpus of odd, hostile and broken torrents in tests/Shoal.Tests/Metainfo/Corpus: fixtures/*.torrent and
/// expected.json, both written by Corpus/make_corpus.py (run it again after changing it, and commit both).
/// </summary>
internal static class TorrentCorpus
{
    /// <summary>The corpus folder in the checkout (found from the test binaries by walking up to Shoal.slnx).</summary>
    public static string Directory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shoal.slnx")))
                return Path.Combine(dir.FullName, "tests", "Shoal.Tests", "Metainfo", "Corpus");
        }
        throw new InvalidOperationException("Shoal.slnx not found above " + AppContext.BaseDirectory + "; the torrent corpus lives in the checkout");
    }

    /// <summary>The path of one fixture.</summary>
    public static string Fixture(string file) => Path.Combine(Directory(), "fixtures", file);

    /// <summary>Every entry of expected.json, by fixture file name.</summary>
    public static IReadOnlyDictionary<string, CorpusEntry> Entries { get; } = Load();

    private static Dictionary<string, CorpusEntry> Load()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory(), "expected.json")));
        var entries = new Dictionary<string, CorpusEntry>(StringComparer.Ordinal);
        foreach (JsonElement e in doc.RootElement.EnumerateArray())
        {
            var entry = new CorpusEntry
            {
                File = e.GetProperty("file").GetString()!,
                Note = e.GetProperty("note").GetString()!,
                Loads = e.GetProperty("outcome").GetString() == "loads",
                Error = Text(e, "error"),
                V1 = Text(e, "v1"),
                V2 = Text(e, "v2"),
                Version = Text(e, "version"),
                Name = Text(e, "name"),
                Files = e.TryGetProperty("files", out JsonElement files)
                    ? [.. files.EnumerateArray().Select(f => (f[0].GetString()!, f[1].GetInt64()))]
                    : [],
                Padding = e.TryGetProperty("padding", out JsonElement padding) ? [.. padding.EnumerateArray().Select(p => p.GetInt64())] : null,
                WebSeeds = Strings(e, "web_seeds") ?? [],
                HttpSeeds = Strings(e, "http_seeds") ?? [],
                Trackers = Strings(e, "trackers"),
                Executable = Strings(e, "executable"),
                Hidden = Strings(e, "hidden"),
                Symlinks = e.TryGetProperty("symlinks", out JsonElement links)
                    ? links.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetString())
                    : null,
                PieceLayers = !e.TryGetProperty("piece_layers", out JsonElement layers) || layers.GetBoolean(),
                LibtorrentPathsDiffer = Text(e, "libtorrent_paths_differ"),
            };
            entries.Add(entry.File, entry);
        }
        return entries;
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static List<string>? Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement value) ? [.. value.EnumerateArray().Select(v => v.GetString()!)] : null;
}

/// <summary>One torrent of the corpus and what Shoal (and libtorrent) must make of it.</summary>
internal sealed record CorpusEntry
{
    public required string File { get; init; }
    public required string Note { get; init; }
    public bool Loads { get; init; }
    public string? Error { get; init; }
    public string? V1 { get; init; }
    public string? V2 { get; init; }
    public string? Version { get; init; }
    public string? Name { get; init; }
    public List<(string Path, long Size)> Files { get; init; } = [];
    public List<long>? Padding { get; init; }
    public List<string> WebSeeds { get; init; } = [];
    public List<string> HttpSeeds { get; init; } = [];
    public List<string>? Trackers { get; init; }
    public List<string>? Executable { get; init; }
    public List<string>? Hidden { get; init; }
    public Dictionary<string, string?>? Symlinks { get; init; }
    public bool PieceLayers { get; init; } = true;
    public string? LibtorrentPathsDiffer { get; init; }
}
