using System.Text;
using Shoal.Bencoding;
using Shoal.Metainfo;
using static Shoal.Tests.Metainfo.TorrentFixtures;

namespace Shoal.Tests.Metainfo;

public sealed class TorrentParseTests
{
    // Computed with: python3 -c "import hashlib; print(hashlib.sha1(b'd6:lengthi1048576e4:name8:test.bin12:piece lengthi262144e6:pieces80:' + b'a'*20 + b'b'*20 + b'c'*20 + b'd'*20 + b'e').hexdigest())"
    private const string KnownInfo = "d6:lengthi1048576e4:name8:test.bin12:piece lengthi262144e6:pieces80:";
    private const string KnownInfoHash = "442dad80c21eb22d703fdc6ca0da1baa32ad9d7d";

    private static byte[] KnownInfoBytes() =>
        Encoding.ASCII.GetBytes(KnownInfo + new string('a', 20) + new string('b', 20) + new string('c', 20) + new string('d', 20) + "e");

    [Fact]
    public void Info_hash_matches_a_known_vector()
    {
        byte[] info = KnownInfoBytes();
        byte[] torrent = [.. "d8:announce14:http://t/ann/x4:info"u8, .. info, .. "e"u8];
        Torrent t = Torrent.Parse(torrent);
        Assert.Equal(KnownInfoHash, t.InfoHash.ToHex());
        Assert.Equal(info, t.InfoDictionary.ToArray());
        Assert.Equal(4, t.PieceCount);
        Assert.Equal(262144, t.PieceLength);
        Assert.Equal("test.bin", t.Name);
        Assert.Equal(Encoding.ASCII.GetBytes(new string('c', 20)), t.GetPieceHash(2).ToArray());
        Assert.Equal(KnownInfoHash, Torrent.FromInfoDictionary(info).InfoHash.ToHex());
    }

    [Fact]
    public void Parses_a_single_file_torrent()
    {
        BDictionary info = SingleFileInfo("movie.mkv", 40_000);
        info.Set("private", new BInteger(1));
        var root = new BDictionary();
        root.Set("announce", S("http://a/announce"));
        root.Set("comment", S("hello"));
        root.Set("created by", S("test 1.0"));
        root.Set("creation date", new BInteger(1_700_000_000));
        root.Set("info", info);
        Torrent t = Torrent.Parse(Bencode.Encode(root));

        Assert.False(t.IsMultiFile);
        Assert.Equal("movie.mkv", t.Name);
        Assert.Equal(40_000, t.TotalSize);
        Assert.Equal(3, t.PieceCount);
        Assert.Equal(PieceLength, t.GetPieceSize(0));
        Assert.Equal(40_000 - (2 * PieceLength), t.GetPieceSize(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.GetPieceSize(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.GetPieceHash(-1).ToArray());
        TorrentFile file = Assert.Single(t.Files);
        Assert.Equal(["movie.mkv"], file.PathSegments);
        Assert.Equal(0, file.Offset);
        Assert.True(t.IsPrivate);
        Assert.Equal("hello", t.Comment);
        Assert.Equal("test 1.0", t.CreatedBy);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), t.CreationDate);
        Assert.Equal([["http://a/announce"]], t.AnnounceTiers.Select(x => x.ToArray()).ToArray());
        Assert.Equal(Sha1Hex(Bencode.Encode(info)), t.InfoHash.ToHex());
    }

    [Fact]
    public void Parses_a_multi_file_torrent_with_offsets_tiling_the_content()
    {
        Torrent t = Torrent.Parse(SampleMultiFile());
        Assert.True(t.IsMultiFile);
        Assert.Equal("album", t.Name);
        Assert.Equal(50_000, t.TotalSize);
        Assert.Equal(3, t.Files.Count);
        Assert.Equal(["album", "disc1", "01.flac"], t.Files[0].PathSegments);
        Assert.Equal("album/empty.txt", t.Files[1].Path);
        Assert.Equal(20_000, t.Files[1].Offset);
        Assert.Equal(20_000, t.Files[2].Offset);
        long next = 0;
        foreach (TorrentFile f in t.Files)
        {
            Assert.Equal(next, f.Offset);
            next += f.Length;
        }
        Assert.Equal(t.TotalSize, next);
        Assert.Null(t.Comment);
        Assert.Null(t.CreationDate);
        Assert.False(t.IsPrivate);
    }

    [Fact]
    public void Padding_files_are_marked_and_may_share_a_name()
    {
        BDictionary pad1 = FileEntry(PieceLength - 100, ".pad", "16284");
        pad1.Set("attr", S("p"));
        BDictionary pad2 = FileEntry(PieceLength - 100, ".pad", "16284");
        pad2.Set("attr", S("xp"));
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(100, "a"), pad1, FileEntry(100, "b"), pad2, FileEntry(5, "c"))));
        Assert.Equal([false, true, false, true, false], t.Files.Select(f => f.IsPadding).ToArray());
        Assert.Equal((2 * PieceLength) + 5, t.TotalSize);
    }

    [Fact]
    public void Prefers_utf8_variants_of_name_and_path()
    {
        BDictionary file = FileEntry(10, "legacy");
        file.Set("path.utf-8", Path("dir", "naïve.txt"));
        BDictionary info = MultiFileInfo("legacy-name", file);
        info.Set("name.utf-8", S("名前"));
        Torrent t = Torrent.Parse(Wrap(info));
        Assert.Equal("名前", t.Name);
        Assert.Equal(["名前", "dir", "naïve.txt"], t.Files[0].PathSegments);
    }

    [Fact]
    public void Unknown_info_keys_are_kept_in_the_hashed_bytes()
    {
        BDictionary info = SingleFileInfo();
        info.Set("x-custom", new BList([new BInteger(1), S("keep me")]));
        byte[] infoBytes = Bencode.Encode(info);
        Torrent t = Torrent.Parse(Wrap(info));
        Assert.Equal(infoBytes, t.InfoDictionary.ToArray());
        Assert.Equal(Sha1Hex(infoBytes), t.InfoHash.ToHex());
        Assert.NotEqual(Sha1Hex(Bencode.Encode(SingleFileInfo())), t.InfoHash.ToHex());
    }

    [Fact]
    public void Announce_list_takes_precedence_and_keeps_tiers()
    {
        var root = new BDictionary();
        root.Set("announce", S("http://ignored/announce"));
        root.Set("announce-list", new BList([
            new BList([S("http://a/1"), S("udp://a/2")]),
            new BList([]),
            new BList([S("http://b/1"), new BInteger(5)]),
        ]));
        root.Set("info", SingleFileInfo());
        Torrent t = Torrent.Parse(Bencode.Encode(root));
        Assert.Equal(2, t.AnnounceTiers.Count);
        Assert.Equal(["http://a/1", "udp://a/2"], t.AnnounceTiers[0]);
        Assert.Equal(["http://b/1"], t.AnnounceTiers[1]);
        MagnetLink magnet = t.ToMagnetLink();
        Assert.Equal(["http://a/1", "udp://a/2", "http://b/1"], magnet.Trackers);
        Assert.Equal(t.InfoHash, magnet.InfoHash);
        Assert.Equal(t.Name, magnet.DisplayName);
    }

    [Fact]
    public void ToBytes_reproduces_the_file_and_keeps_the_info_hash()
    {
        var root = new BDictionary();
        root.Set("announce", S("http://a/announce"));
        root.Set("url-list", new BList([S("http://seed/")]));
        root.Set("info", SingleFileInfo());
        byte[] original = Bencode.Encode(root);
        Torrent t = Torrent.Parse(original);
        Assert.Equal(original, t.ToBytes());

        Torrent fromInfo = Torrent.FromInfoDictionary(t.InfoDictionary);
        Assert.Empty(fromInfo.AnnounceTiers);
        Torrent again = Torrent.Parse(fromInfo.ToBytes());
        Assert.Equal(t.InfoHash, again.InfoHash);
    }

    [Fact]
    public void Parse_copies_its_input()
    {
        byte[] bytes = SampleMultiFile();
        Torrent t = Torrent.Parse(bytes);
        InfoHash before = t.InfoHash;
        byte[] info = t.InfoDictionary.ToArray();
        Array.Clear(bytes);
        Assert.Equal(info, t.InfoDictionary.ToArray());
        Assert.Equal(before, InfoHash.ComputeV1(t.InfoDictionary.Span));
    }

    public static TheoryData<string, string?> HostileSegments() => new()
    {
        // segment as written in the torrent -> what Shoal makes of it (null: dropped), as libtorrent does
        { "", "_" },
        { ".", null },
        { "..", null },
        { "a/b", "ab" },
        { "a\\b", "ab" },
        { "nul\0byte", "nul_byte" },
        { "C:", "C:" },
        { "CON", "_CON" },
        { "nul.txt", "_nul.txt" },
        { "com1.log", "_com1.log" },
        { "\u202Etxt.exe", "txt.exe" },
        { "esc\u001B[2J", "esc_[2J" },
    };

    [Theory]
    [MemberData(nameof(HostileSegments))]
    public void Hostile_path_segments_are_sanitised_not_refused(string segment, string? expected)
    {
        if (OperatingSystem.IsWindows() && segment.Contains(':')) return; // Windows also replaces ':'
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("ok", FileEntry(10, "dir", segment, "file"))));
        string[] path = expected is null ? ["ok", "dir", "file"] : ["ok", "dir", expected, "file"];
        Assert.Equal(path, t.Files[0].PathSegments);
        Assert.True(t.Files[0].WasRenamed || expected == segment);

        Torrent multi = Torrent.Parse(Wrap(MultiFileInfo(segment, FileEntry(10, "file"))));
        Assert.Equal(expected ?? multi.InfoHash.ToHex(), multi.Name);
        Assert.Equal(multi.Name, multi.Files[0].PathSegments[0]);
    }

    [Theory]
    [InlineData("COM0", "_COM0")]
    [InlineData("CONSOLE", "CONSOLE")]
    [InlineData("a..b", "a..b")]
    [InlineData("...", "...")]
    [InlineData(".hidden", ".hidden")]
    [InlineData("Episode 1: Pilot", "Episode 1: Pilot")]
    [InlineData("名前.txt", "名前.txt")]
    public void Unusual_but_safe_names_are_kept(string segment, string expected)
    {
        if (OperatingSystem.IsWindows() && segment.Contains(':')) return;
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("ok", FileEntry(10, segment))));
        Assert.Equal(expected, t.Files[0].PathSegments[1]);
        Assert.Equal(segment != expected, t.Files[0].WasRenamed);
    }

    [Fact]
    public void Colliding_paths_are_renamed_as_libtorrent_does()
    {
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "a"), FileEntry(10, "a"))));
        Assert.Equal(["x/a", "x/a.1"], t.Files.Select(f => f.Path));
        t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "a"), FileEntry(10, "a", "b"))));
        Assert.Equal(["x/a.1", "x/a/b"], t.Files.Select(f => f.Path));
        t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "a", "b"), FileEntry(10, "a"))));
        Assert.Equal(["x/a/b", "x/a.1"], t.Files.Select(f => f.Path));
        t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "d", "bar.txt"), FileEntry(10, "d", "BAR.txt"), FileEntry(10, "d", "bar.1.txt"))));
        Assert.Equal(["x/d/bar.txt", "x/d/BAR.1.txt", "x/d/bar.1.1.txt"], t.Files.Select(f => f.Path));
        Assert.Equal([false, true, true], t.Files.Select(f => f.WasRenamed));
        t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "a", "b"), FileEntry(10, "a", "c"))));
        Assert.Equal(["x/a/b", "x/a/c"], t.Files.Select(f => f.Path));
    }

    [Fact]
    public void Names_that_one_case_insensitive_file_system_would_merge_are_told_apart()
    {
        // Beyond ASCII too: "Ä" and "ä", and a precomposed "é" against "e" + combining acute.
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(1, "Ä.txt"), FileEntry(2, "ä.txt"), FileEntry(3, "\u00e9"), FileEntry(4, "e\u0301"),
            FileEntry(5, "\uD55C"), FileEntry(6, "\u1112\u1161\u11AB"), FileEntry(7, "\u01C4"), FileEntry(8, "resume"), FileEntry(9, "r\u00e9sum\u00e9"))));
        Assert.Equal(["x/Ä.txt", "x/ä.1.txt", "x/\u00e9", "x/e\u0301.1", "x/\uD55C", "x/\u1112\u1161\u11AB.1", "x/\u01C4", "x/resume", "x/r\u00e9sum\u00e9"],
            t.Files.Select(f => f.Path));
    }

    [Fact]
    public void Many_duplicates_are_renamed_in_linear_time()
    {
        BDictionary[] files = [.. Enumerable.Range(0, 20_000).Select(_ => FileEntry(1, "same.bin"))];
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("x", files)));
        Assert.Equal(20_000, t.Files.Select(f => f.Path).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal("x/same.19999.bin", t.Files[^1].Path);
    }

    [Fact]
    public void Deep_paths_are_accepted()
    {
        string[] deep = Enumerable.Range(0, 200).Select(i => "d" + i).ToArray();
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, deep))));
        Assert.Equal(201, t.Files[0].PathSegments.Count);
    }

    [Fact]
    public void Invalid_utf8_in_names_becomes_underscores()
    {
        BDictionary info = SingleFileInfo();
        info.Set("name", new BString(new byte[] { 0x66, 0xFF, 0x66 }));
        Assert.Equal("f_f", Torrent.Parse(Wrap(info)).Name);

        BDictionary file = FileEntry(10, "ok");
        file.Set("path", new BList([new BString(new byte[] { 0xC0, 0x80 }), new BString(new byte[] { 0xED, 0xA0, 0x80, 0x41 })]));
        Assert.Equal(["x", "_", "_A"], Torrent.Parse(Wrap(MultiFileInfo("x", file))).Files[0].PathSegments);
    }

    [Fact]
    public void Long_names_are_cut_keeping_the_extension()
    {
        string stem = new('é', 200); // 400 bytes of UTF-8
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, stem + ".tar.gz"))));
        string name = t.Files[0].PathSegments[1];
        Assert.EndsWith("é.gz", name, StringComparison.Ordinal);
        Assert.Equal(240 + 3, Encoding.UTF8.GetByteCount(name));
        Assert.True(t.Files[0].WasRenamed);
    }

    public static TheoryData<string, string> BadInfoCases() => new()
    {
        { "piece length zero", "piece length" },
        { "piece length huge", "32767 blocks" },
        { "pieces not multiple", "multiple of 20" },
        { "pieces count wrong", "hashes" },
        { "negative length", "negative" },
        { "zero total", "no data" },
        { "neither", "length" },
        { "empty files", "no files" },
        { "no name", "name" },
        { "name integer", "name" },
        { "file not dict", "file #0" },
        { "empty path", "path" },
        { "length string", "length" },
        { "negative file length", "negative" },
    };

    [Theory]
    [MemberData(nameof(BadInfoCases))]
    public void Invalid_info_dictionaries_are_rejected(string which, string messagePart)
    {
        BDictionary info = SingleFileInfo();
        switch (which)
        {
            case "piece length zero": info.Set("piece length", new BInteger(0)); break;
            case "piece length huge": info.Set("piece length", new BInteger(512L * 1024 * 1024)); break;
            case "pieces not multiple": info.Set("pieces", new BString(new byte[41])); break;
            case "pieces count wrong": info.Set("pieces", new BString(new byte[40])); break;
            case "negative length": info.Set("length", new BInteger(-1)); break;
            case "zero total": info.Set("length", new BInteger(0)); info.Set("pieces", new BString(Array.Empty<byte>())); break;
            case "neither": info.Remove("length"); break;
            case "empty files": info.Remove("length"); info.Set("files", new BList()); break;
            case "no name": info.Remove("name"); break;
            case "name integer": info.Set("name", new BInteger(3)); break;
            case "file not dict": info.Remove("length"); info.Set("files", new BList([new BInteger(1)])); break;
            case "empty path": info.Remove("length"); info.Set("files", new BList([FileEntry(40_000)])); break;
            case "length string": info.Set("length", S("40000")); break;
            case "negative file length": info.Remove("length"); info.Set("files", new BList([FileEntry(-5, "a"), FileEntry(40_005, "b")])); break;
        }
        var e = Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(info)));
        Assert.Contains(messagePart, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Accepts_any_v1_piece_length_up_to_32767_blocks()
    {
        foreach (int pieceLength in new[] { 1, 1000, 20_000, 1 << 14, 1 << 20, 1 << 28, 32_767 * 16 * 1024 })
        {
            Torrent t = Torrent.Parse(Wrap(SingleFileInfo(length: 100_000, pieceLength: pieceLength)));
            Assert.Equal(pieceLength, t.PieceLength);
        }
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(SingleFileInfo(length: 100_000, pieceLength: (32_767 * 16 * 1024) + 1))));
    }

    [Fact]
    public void Structural_errors_are_metainfo_exceptions()
    {
        Assert.Throws<MetainfoException>(() => Torrent.Parse("i1e"u8.ToArray()));
        Assert.Throws<MetainfoException>(() => Torrent.Parse("de"u8.ToArray()));
        Assert.Throws<MetainfoException>(() => Torrent.Parse("d4:infoi1ee"u8.ToArray()));
        Assert.Throws<MetainfoException>(() => Torrent.Parse("d4:info"u8.ToArray()));
        Assert.Throws<MetainfoException>(() => Torrent.Parse(ReadOnlyMemory<byte>.Empty));
        Assert.Throws<MetainfoException>(() => Torrent.FromInfoDictionary("le"u8.ToArray()));
    }

    [Fact]
    public void A_hundred_thousand_files_load()
    {
        // libtorrent has no file-count limit beyond its decoder's token budget (Shoal's decoder item limit plays that part).
        var files = new BList();
        for (int i = 0; i <= 100_000; i++) files.Add(FileEntry(i == 0 ? 1 : 0, "f" + i));
        var info = new BDictionary();
        info.Set("name", S("many"));
        info.Set("files", files);
        info.Set("piece length", new BInteger(PieceLength));
        info.Set("pieces", new BString(new byte[20]));
        Assert.Equal(100_001, Torrent.Parse(Wrap(info)).Files.Count);
    }

    [Fact]
    public void Load_names_the_file_on_io_and_format_errors()
    {
        string dir = Directory.CreateTempSubdirectory("shoal-meta-").FullName;
        try
        {
            string missing = System.IO.Path.Combine(dir, "missing.torrent");
            var e = Assert.Throws<MetainfoException>(() => Torrent.Load(missing));
            Assert.Contains("missing.torrent", e.Message, StringComparison.Ordinal);

            string bad = System.IO.Path.Combine(dir, "bad.torrent");
            File.WriteAllText(bad, "not bencode");
            e = Assert.Throws<MetainfoException>(() => Torrent.Load(bad));
            Assert.Contains("bad.torrent", e.Message, StringComparison.Ordinal);

            e = Assert.Throws<MetainfoException>(() => Torrent.Load(dir));
            Assert.Contains(dir, e.Message, StringComparison.Ordinal);

            string good = System.IO.Path.Combine(dir, "good.torrent");
            File.WriteAllBytes(good, SampleMultiFile());
            Assert.Equal("album", Torrent.Load(good).Name);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
