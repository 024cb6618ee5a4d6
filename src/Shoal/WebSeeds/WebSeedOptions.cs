namespace Shoal.WebSeeds;

/// <summary>
/// How a session uses web seeds (BEP 19 'url-list', BEP 17 'httpseeds'): connections, timeouts, retries. The defaults
/// suit servers on the internet; tests shorten the delays.
/// </summary>
public sealed record WebSeedOptions
{
    /// <summary>False ignores every web seed (the torrent then downloads from peers alone).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Requests in flight at once to one web seed URL (each on its own HTTP connection, kept alive between requests).</summary>
    public int ConnectionsPerServer { get; init; } = 2;

    /// <summary>Most HTTP connections the session keeps to one host (several URLs may share a host).</summary>
    public int MaxConnectionsPerHost { get; init; } = 8;

    /// <summary>Most web seed URLs used per torrent; the rest are ignored (a torrent cannot make us fan out to thousands).</summary>
    public int MaxServersPerTorrent { get; init; } = 16;

    /// <summary>
    /// Most bytes asked of one connection in one run of pieces (a whole piece is never cut unless it is larger). A run
    /// is sized to about <see cref="RunDuration"/> of the server's rate, within this bound and at least one piece.
    /// </summary>
    public int MaxRunBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>How long a run should take at the connection's recent rate (longer runs mean fewer requests, shorter ones a fairer share with peers).</summary>
    public TimeSpan RunDuration { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Time allowed for the response headers, and for each read of the body (a stalled transfer fails after it).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Back-off after the first failure; each further consecutive failure doubles it, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest back-off, also the cap on a busy server's Retry-After.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Consecutive failed attempts after which a server is dropped for the rest of the run (busy replies do not count).</summary>
    public int MaxFailures { get; init; } = 5;

    /// <summary>Redirects followed per request; a longer chain (or a loop) is a failure.</summary>
    public int MaxRedirects { get; init; } = 5;
}
