using System.Security.Cryptography;
using Shoal.Bencoding;

namespace Shoal.Tests.Metainfo;

/// <summary>Builds .torrent bytes for tests.</summary>
internal static class TorrentFixtures
{
    public const int PieceLength = 16 * 1024;

    public static BString S(string s) => new(s);

    public static BList Path(params string[] segments) => new(segments.Select(s => (BValue)new BString(s)));

    public static BDictionary FileEntry(long length, params string[] path)
    {
        var d = new BDictionary();
        d.Set("length", new BInteger(length));
        d.Set("path", Path(path));
        return d;
    }

    public static byte[] Pieces(long totalSize, int pieceLength = PieceLength)
    {
        long count = (totalSize + pieceLength - 1) / pieceLength;
        byte[] pieces = new byte[count * 20];
        for (int i = 0; i < pieces.Length; i++) pieces[i] = (byte)(i * 7);
        return pieces;
    }

    public static BDictionary SingleFileInfo(string name = "file.bin", long length = 40_000, int pieceLength = PieceLength)
    {
        var info = new BDictionary();
        info.Set("name", S(name));
        info.Set("length", new BInteger(length));
        info.Set("piece length", new BInteger(pieceLength));
        info.Set("pieces", new BString(Pieces(length, pieceLength)));
        return info;
    }

    public static BDictionary MultiFileInfo(string name, params BDictionary[] files)
    {
        long total = files.Sum(f => f.GetInteger("length"));
        var info = new BDictionary();
        info.Set("name", S(name));
        info.Set("files", new BList(files));
        info.Set("piece length", new BInteger(PieceLength));
        info.Set("pieces", new BString(Pieces(total)));
        return info;
    }

    public static byte[] Wrap(BDictionary info, string? announce = "http://tracker.example/announce")
    {
        var root = new BDictionary();
        if (announce is not null) root.Set("announce", S(announce));
        root.Set("info", info);
        return Bencode.Encode(root);
    }

    public static byte[] SampleMultiFile() => Wrap(MultiFileInfo("album",
        FileEntry(20_000, "disc1", "01.flac"),
        FileEntry(0, "empty.txt"),
        FileEntry(30_000, "disc2", "02.flac")));

    public static string Sha1Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA1.HashData(data));
}
