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

    public static TheoryData<string> HostileSegments() =>
    [
        "", ".", "..", "a/b", "a\\b", "nul\0byte", "C:", "c:evil", "CON", "con", "nul.txt", "Aux", "PRN", "COM1", "lpt9", "com1.log",
    ];

    [Theory]
    [MemberData(nameof(HostileSegments))]
    public void Hostile_path_segments_are_rejected(string segment)
    {
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(MultiFileInfo("ok", FileEntry(10, "dir", segment)))));
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(MultiFileInfo("ok", FileEntry(10, segment, "file")))));
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(SingleFileInfo(segment))));
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(MultiFileInfo(segment, FileEntry(10, "file")))));
    }

    [Theory]
    [InlineData("COM0")]
    [InlineData("CONSOLE")]
    [InlineData("a..b")]
    [InlineData("...")]
    [InlineData(".hidden")]
    [InlineData("Episode 1: Pilot")]
    public void Unusual_but_safe_names_are_accepted(string segment)
    {
        Torrent t = Torrent.Parse(Wrap(MultiFileInfo("ok", FileEntry(10, segment))));
        Assert.Equal(segment, t.Files[0].PathSegments[1]);
    }

    [Fact]
    public void Colliding_paths_are_rejected()
    {
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "a"), FileEntry(10, "a")))));
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "a"), FileEntry(10, "a", "b")))));
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "a", "b"), FileEntry(10, "a")))));
        Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, "a", "b"), FileEntry(10, "a", "c"))));
    }

    [Fact]
    public void Path_depth_is_bounded()
    {
        string[] deep = Enumerable.Range(0, 65).Select(i => "d" + i).ToArray();
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, deep)))));
        Torrent.Parse(Wrap(MultiFileInfo("x", FileEntry(10, deep[..64]))));
    }

    [Fact]
    public void Invalid_utf8_in_names_is_rejected()
    {
        BDictionary info = SingleFileInfo();
        info.Set("name", new BString(new byte[] { 0x66, 0xFF, 0x66 }));
        var e = Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(info)));
        Assert.Contains("UTF-8", e.Message, StringComparison.Ordinal);

        BDictionary file = FileEntry(10, "ok");
        file.Set("path", new BList([new BString(new byte[] { 0xC0, 0x80 })]));
        Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(MultiFileInfo("x", file))));
    }

    public static TheoryData<string, string> BadInfoCases() => new()
    {
        { "piece length", "power of two" },
        { "piece length small", "power of two" },
        { "piece length huge", "power of two" },
        { "pieces not multiple", "multiple of 20" },
        { "pieces count wrong", "hashes" },
        { "negative length", "negative" },
        { "zero total", "no data" },
        { "both length and files", "both" },
        { "neither", "neither" },
        { "empty files", "empty" },
        { "no name", "name" },
        { "name integer", "name" },
        { "file not dict", "file #0" },
        { "empty path", "empty" },
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
            case "piece length": info.Set("piece length", new BInteger(20_000)); break;
            case "piece length small": info.Set("piece length", new BInteger(8192)); break;
            case "piece length huge": info.Set("piece length", new BInteger(512L * 1024 * 1024)); break;
            case "pieces not multiple": info.Set("pieces", new BString(new byte[41])); break;
            case "pieces count wrong": info.Set("pieces", new BString(new byte[40])); break;
            case "negative length": info.Set("length", new BInteger(-1)); break;
            case "zero total": info.Set("length", new BInteger(0)); info.Set("pieces", new BString(Array.Empty<byte>())); break;
            case "both length and files": info.Set("files", new BList([FileEntry(1, "a")])); break;
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
    public void Accepts_any_power_of_two_piece_length_up_to_256_MiB()
    {
        foreach (int shift in new[] { 14, 15, 20, 24, 28 })
        {
            int pieceLength = 1 << shift;
            Torrent t = Torrent.Parse(Wrap(SingleFileInfo(length: 100_000, pieceLength: pieceLength)));
            Assert.Equal(pieceLength, t.PieceLength);
        }
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
    public void Too_many_files_are_rejected()
    {
        var files = new BList();
        for (int i = 0; i <= Torrent.MaxFileCount; i++) files.Add(FileEntry(0, "f" + i));
        ((BDictionary)files[0]).Set("length", new BInteger(1));
        var info = new BDictionary();
        info.Set("name", S("many"));
        info.Set("files", files);
        info.Set("piece length", new BInteger(PieceLength));
        info.Set("pieces", new BString(new byte[20]));
        var e = Assert.Throws<MetainfoException>(() => Torrent.Parse(Wrap(info)));
        Assert.Contains("files", e.Message, StringComparison.Ordinal);
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
