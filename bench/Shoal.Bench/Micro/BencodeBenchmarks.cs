using BenchmarkDotNet.Attributes;
using Shoal.Bencoding;
using Shoal.Metainfo;

namespace Shoal.Bench.Micro;

/// <summary>
/// Parsing a ~1 MB .torrent made by <see cref="TorrentCreator"/>: the strict bencode decoder alone
/// (<see cref="Bencode.Decode"/>), and the whole metainfo load (<see cref="Torrent.Parse"/>: decode, validate every
/// field and file path, build the file list, SHA-1 of the info dictionary for the info-hash).
/// </summary>
public class BencodeBenchmarks
{
    private byte[] _torrent = [];

    /// <summary>Which ~1 MB torrent: one file with 51,200 pieces, or 10,000 files.</summary>
    [Params(TorrentShape.SingleFile, TorrentShape.MultiFile)]
    public TorrentShape Shape { get; set; }

    /// <summary>Size of the .torrent being parsed, for the MB/s column.</summary>
    public static long BytesPerOperation(TorrentShape shape) => TorrentInputs.Get(shape).Length;

    [GlobalSetup]
    public void Setup() => _torrent = TorrentInputs.Get(Shape);

    /// <summary>Decodes the whole file into a value tree.</summary>
    [Benchmark]
    public BValue Decode() => Bencode.Decode(_torrent);

    /// <summary>Loads the file as the CLI and the session do.</summary>
    [Benchmark]
    public Torrent ParseTorrent() => Torrent.Parse(_torrent);
}
