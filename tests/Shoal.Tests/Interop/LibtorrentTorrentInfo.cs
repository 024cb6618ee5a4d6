using System.Text.Json.Serialization;

namespace Shoal.Tests.Interop;

/// <summary>What lt_infohash.py prints: libtorrent's reading of a .torrent file.</summary>
public sealed record LibtorrentTorrentInfo
{
    /// <summary>v1 info-hash, lower-case hex, or null for a v2-only torrent.</summary>
    [JsonPropertyName("v1")] public string? V1 { get; init; }

    /// <summary>v2 info-hash (SHA-256), lower-case hex, or null for a v1-only torrent.</summary>
    [JsonPropertyName("v2")] public string? V2 { get; init; }

    /// <summary>The torrent's name.</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = "";

    /// <summary>Piece length in bytes.</summary>
    [JsonPropertyName("piece_length")] public long PieceLength { get; init; }

    /// <summary>Number of pieces.</summary>
    [JsonPropertyName("num_pieces")] public int PieceCount { get; init; }

    /// <summary>Total size including padding files.</summary>
    [JsonPropertyName("total_size")] public long TotalSize { get; init; }

    /// <summary>The private flag.</summary>
    [JsonPropertyName("private")] public bool IsPrivate { get; init; }

    /// <summary>The comment, empty when none.</summary>
    [JsonPropertyName("comment")] public string Comment { get; init; } = "";

    /// <summary>Tracker URLs in tier order.</summary>
    [JsonPropertyName("trackers")] public IReadOnlyList<string> Trackers { get; init; } = [];

    /// <summary>Files without padding files; paths start with the torrent name for multi-file torrents.</summary>
    [JsonPropertyName("files")] public IReadOnlyList<LibtorrentFileEntry> Files { get; init; } = [];
}

/// <summary>One file of <see cref="LibtorrentTorrentInfo"/>.</summary>
public sealed record LibtorrentFileEntry
{
    /// <summary>Path with '/' separators.</summary>
    [JsonPropertyName("path")] public string Path { get; init; } = "";

    /// <summary>Size in bytes.</summary>
    [JsonPropertyName("size")] public long Size { get; init; }
}
