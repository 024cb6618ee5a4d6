using Shoal.Metainfo;

namespace Shoal.Tests.Metainfo;

/// <summary>
/// Shoal against the corpus of odd and broken torrents (Corpus/make_corpus.py): each loads or is refused as
/// expected.json says, with the info-hashes of its bytes exactly as written, the sanitised names, padding,
/// attributes and web seeds. The interop twin (Interop/TorrentCorpusInteropTests) holds libtorrent to the same files.
/// </summary>
public sealed class TorrentCorpusTests
{
    public static TheoryData<string> Files() => [.. TorrentCorpus.Entries.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Files))]
    public void Corpus_torrent_loads_or_is_refused_as_expected(string file)
    {
        CorpusEntry expected = TorrentCorpus.Entries[file];
        byte[] bytes = File.ReadAllBytes(TorrentCorpus.Fixture(file));
        if (!expected.Loads)
        {
            var error = Assert.Throws<MetainfoException>(() => Torrent.Parse(bytes));
            Assert.Contains(expected.Error!, error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain('\n', error.Message);
            return;
        }

        Torrent t = Torrent.Parse(bytes);
        AssertMatches(expected, t);

        // The info-hashes survive a round trip through ToBytes (which sorts the root's keys and drops trailing bytes).
        Torrent again = Torrent.Parse(t.ToBytes());
        Assert.Equal(t.InfoHash, again.InfoHash);
        Assert.Equal(t.InfoHashV2, again.InfoHashV2);
        // The metadata alone (BEP 9) gives the same torrent, without trackers or piece layers.
        Torrent fromInfo = Torrent.FromInfoDictionary(t.InfoDictionary);
        Assert.Equal(t.InfoHash, fromInfo.InfoHash);
        Assert.Equal(t.Files.Select(f => f.Path), fromInfo.Files.Select(f => f.Path));
    }

    internal static void AssertMatches(CorpusEntry expected, Torrent t)
    {
        Assert.Equal(expected.V1, t.InfoHashV1?.ToHex());
        Assert.Equal(expected.V2, t.InfoHashV2?.ToHex());
        Assert.Equal(expected.Version, t.Version switch { TorrentVersion.V1 => "v1", TorrentVersion.V2 => "v2", _ => "hybrid" });
        Assert.Equal(expected.V1 ?? expected.V2![..40], t.InfoHash.ToHex());
        Assert.Equal(expected.Name, t.Name);
        Assert.Equal(expected.Files, t.Files.Where(f => !f.IsPadding).Select(f => (f.Path, f.Length)).ToList());
        if (expected.Padding is { } padding) Assert.Equal(padding, t.Files.Where(f => f.IsPadding).Select(f => f.Length).ToList());
        Assert.Equal(expected.WebSeeds, t.WebSeeds);
        Assert.Equal(expected.HttpSeeds, t.HttpSeeds);
        if (expected.Trackers is { } trackers) Assert.Equal(trackers, t.AnnounceTiers.SelectMany(tier => tier));
        if (expected.Executable is { } executable) Assert.Equal(executable, t.Files.Where(f => f.IsExecutable).Select(f => f.Path));
        if (expected.Hidden is { } hidden) Assert.Equal(hidden, t.Files.Where(f => f.IsHidden).Select(f => f.Path));
        if (expected.Symlinks is { } links)
        {
            foreach ((string link, string? target) in links)
            {
                TorrentFile file = Assert.Single(t.Files, f => f.Path == link);
                Assert.True(file.IsSymlink);
                Assert.Equal(0, file.Length);
                Assert.Equal(target, file.SymlinkTarget is null ? null : string.Join('/', file.SymlinkTarget));
            }
        }
        if (t.HasV2) Assert.Equal(expected.PieceLayers, t.HasPieceLayers);

        // Whatever the torrent said, every path stays inside the download folder.
        foreach (TorrentFile file in t.Files)
        {
            foreach (string segment in file.PathSegments)
            {
                Assert.False(segment is "" or "." or "..", $"segment '{segment}' of {file.Path}");
                Assert.DoesNotContain('/', segment);
                Assert.DoesNotContain('\\', segment);
                Assert.True(System.Text.Encoding.UTF8.GetByteCount(segment) <= 255, $"{segment.Length} chars in {file.Path}");
                Assert.False(segment.Any(char.IsControl), $"control character in {file.Path}");
            }
        }
        long offset = 0;
        foreach (TorrentFile file in t.Files)
        {
            Assert.Equal(offset, file.Offset);
            offset += file.Length;
        }
        Assert.Equal(t.TotalSize, offset);
    }
}
