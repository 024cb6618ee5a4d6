using System.Text.Json;
using Shoal.Metainfo;
using Shoal.Tests.Metainfo;
using Xunit.Abstractions;

namespace Shoal.Tests.Interop;

/// <summary>
/// Shoal and libtorrent reach the same verdict on every torrent of the corpus (tests/Shoal.Tests/Metainfo/Corpus):
/// both open it or both refuse it, and when it opens they agree on the info-hashes, the name, the files (sanitised
/// paths, sizes, padding) and the web seeds. libtorrent's verdict includes adding the torrent to a session, which
/// is where it refuses a v2 torrent whose piece layers do not match their roots.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class TorrentCorpusInteropTests(ITestOutputHelper output)
{
    [InteropFact]
    public async Task Libtorrent_and_Shoal_open_and_refuse_the_same_torrents()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder("shoal-corpus");
        string[] files = [.. TorrentCorpus.Entries.Keys.Order(StringComparer.Ordinal)];
        ProcessResult result = await LibtorrentScripts.RunAsync(TimeSpan.FromMinutes(5), "lt_verdict.py",
            ["--save-path", temp.Path, .. files.Select(TorrentCorpus.Fixture)]);
        Assert.True(result.ExitCode == 0, result.Transcript);

        var verdicts = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (string line in result.StandardOutput.Where(l => l.StartsWith('{')))
        {
            JsonElement verdict = JsonDocument.Parse(line).RootElement.Clone();
            verdicts[verdict.GetProperty("file").GetString()!] = verdict;
        }
        var disagreements = new List<string>();
        foreach (string file in files)
        {
            Assert.True(verdicts.TryGetValue(file, out JsonElement lt), $"libtorrent printed nothing for {file}\n{result.Transcript}");
            string? problem = Compare(TorrentCorpus.Entries[file], lt, File.ReadAllBytes(TorrentCorpus.Fixture(file)));
            output.WriteLine($"{file}: {(problem ?? "agree")} (libtorrent: {lt.GetProperty("outcome").GetString()}{(lt.TryGetProperty("error", out JsonElement e) ? ", " + e.GetString() : "")})");
            if (problem is not null) disagreements.Add($"{file}: {problem}");
        }
        Assert.True(disagreements.Count == 0, string.Join('\n', disagreements));
    }

    private static string? Compare(CorpusEntry entry, JsonElement lt, byte[] bytes)
    {
        bool ltLoads = lt.GetProperty("outcome").GetString() == "loads";
        Torrent? shoal = null;
        string? shoalError = null;
        try
        {
            shoal = Torrent.Parse(bytes);
        }
        catch (MetainfoException e)
        {
            shoalError = e.Message;
        }
        if (ltLoads != (shoal is not null))
            return ltLoads ? $"libtorrent opens it, Shoal refuses: {shoalError}" : $"libtorrent refuses it ({lt.GetProperty("error").GetString()}), Shoal opens it";
        if (shoal is null) return null;

        string? v1 = lt.GetProperty("v1").GetString(), v2 = lt.GetProperty("v2").GetString();
        if (v1 != shoal.InfoHashV1?.ToHex() || v2 != shoal.InfoHashV2?.ToHex())
            return $"info-hashes: libtorrent v1={v1} v2={v2}, Shoal v1={shoal.InfoHashV1?.ToHex()} v2={shoal.InfoHashV2?.ToHex()}";
        if (lt.GetProperty("name").GetString() != shoal.Name) return $"name: libtorrent '{lt.GetProperty("name").GetString()}', Shoal '{shoal.Name}'";
        var ltFiles = lt.GetProperty("files").EnumerateArray().Select(f => (f[0].GetString()!, f[1].GetInt64())).ToList();
        var shoalFiles = shoal.Files.Where(f => !f.IsPadding).Select(f => (f.Path, f.Length)).ToList();
        if (entry.LibtorrentPathsDiffer is null ? !ltFiles.SequenceEqual(shoalFiles) : !ltFiles.Select(f => f.Item2).SequenceEqual(shoalFiles.Select(f => f.Length)))
            return $"files: libtorrent [{string.Join(", ", ltFiles)}], Shoal [{string.Join(", ", shoalFiles)}]";
        var ltPadding = lt.GetProperty("padding").EnumerateArray().Select(p => p.GetInt64());
        if (!ltPadding.SequenceEqual(shoal.Files.Where(f => f.IsPadding).Select(f => f.Length))) return "padding files differ";
        var ltSeeds = lt.GetProperty("web_seeds").EnumerateArray().Select(s => s.GetString());
        if (!ltSeeds.SequenceEqual(shoal.WebSeeds)) return $"web seeds: libtorrent [{string.Join(", ", ltSeeds)}], Shoal [{string.Join(", ", shoal.WebSeeds)}]";
        var ltHttpSeeds = lt.GetProperty("http_seeds").EnumerateArray().Select(s => s.GetString());
        if (!ltHttpSeeds.SequenceEqual(shoal.HttpSeeds)) return "http seeds differ";
        return null;
    }
}
