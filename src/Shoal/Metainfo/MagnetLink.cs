namespace Shoal.Metainfo;

/// <summary>A magnet link (BEP 9): info-hash plus optional name, trackers, peers and file selection.</summary>
/// <param name="InfoHash">From xt=urn:btih: (40 hex or 32 base32 characters).</param>
/// <param name="DisplayName">dn=</param>
/// <param name="Trackers">Every tr= in order.</param>
/// <param name="Peers">Every x.pe= as written (host:port, [v6]:port).</param>
/// <param name="SelectedFiles">BEP 53 so= indices expanded from lists and ranges; empty means all.</param>
public sealed record MagnetLink(
    InfoHash InfoHash,
    string? DisplayName,
    IReadOnlyList<string> Trackers,
    IReadOnlyList<string> Peers,
    IReadOnlyList<int> SelectedFiles)
{
    /// <summary>Parses a magnet URI. Throws <see cref="MetainfoException"/> saying what is wrong.</summary>
    public static MagnetLink Parse(string uri) => throw new NotImplementedException();

    /// <summary>Parses without throwing.</summary>
    public static bool TryParse(string uri, out MagnetLink? link) => throw new NotImplementedException();

    /// <summary>The canonical URI: xt with lower-case hex, then dn, tr, x.pe, so, percent-encoded.</summary>
    public override string ToString() => throw new NotImplementedException();
}
