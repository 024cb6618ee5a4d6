namespace Shoal.WebSeeds;

/// <summary>Where a web seed stands.</summary>
public enum WebSeedState
{
    /// <summary>Not asked yet (nothing to fetch, or the download has not started).</summary>
    Waiting,
    /// <summary>Serving: its last request succeeded, or data is flowing.</summary>
    Connected,
    /// <summary>Its last request failed (or it said it is busy): it is retried after a back-off.</summary>
    Failing,
    /// <summary>Given up for this run: too many failures, a server that cannot serve ranges or holds another file, or data that failed the hash check.</summary>
    Dropped,
}

/// <summary>A snapshot of one web seed of a torrent.</summary>
/// <param name="Url">The URL as the torrent (or the user) gave it.</param>
/// <param name="Kind">BEP 19 or BEP 17.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Requests">Requests in flight (one per connection).</param>
/// <param name="Downloaded">Payload bytes received from it this run.</param>
/// <param name="DownloadRate">Bytes per second from it, smoothed.</param>
/// <param name="Failures">Consecutive failed attempts (reset by a success).</param>
/// <param name="LastError">Why the last attempt failed, or why it was dropped.</param>
public sealed record WebSeedStatus(string Url, WebSeedKind Kind, WebSeedState State, int Requests, long Downloaded, long DownloadRate,
    int Failures, string? LastError);

/// <summary>How a torrent's web seeds stand, counted (for the status line and <c>--json</c>).</summary>
/// <param name="Total">Web seeds in use (URLs of other protocols are not counted).</param>
/// <param name="Connected">Serving.</param>
/// <param name="Failing">Failing and waiting to be retried.</param>
/// <param name="Dropped">Given up.</param>
public sealed record WebSeedCounts(int Total, int Connected, int Failing, int Dropped)
{
    /// <summary>No web seed.</summary>
    public static WebSeedCounts None { get; } = new(0, 0, 0, 0);

    /// <summary>"1/2 connected, 1 failing" — or "none".</summary>
    public override string ToString()
    {
        if (Total == 0) return "none";
        string text = $"{Connected}/{Total} connected";
        if (Failing > 0) text += $", {Failing} failing";
        if (Dropped > 0) text += $", {Dropped} dropped";
        return text;
    }
}
