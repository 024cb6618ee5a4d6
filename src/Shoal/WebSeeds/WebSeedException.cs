namespace Shoal.WebSeeds;

/// <summary>What went wrong with a web seed request.</summary>
public enum WebSeedFailureKind
{
    /// <summary>The connection could not be made or broke (refused, reset, DNS, TLS).</summary>
    Connection,
    /// <summary>No headers, or no body bytes, within the request timeout.</summary>
    Timeout,
    /// <summary>An error status (4xx, 5xx other than busy).</summary>
    HttpStatus,
    /// <summary>503 or 429: the server is busy; retried after its Retry-After, never dropped for it.</summary>
    Busy,
    /// <summary>More redirects than allowed, or a redirect loop.</summary>
    Redirects,
    /// <summary>The server ignores byte ranges (200 with the whole file to a ranged GET): it cannot serve us.</summary>
    NoRanges,
    /// <summary>A 206 whose Content-Range is missing or is not the range asked for.</summary>
    ContentRange,
    /// <summary>The server's file is not the torrent's (another total length): it cannot serve us.</summary>
    WrongFile,
    /// <summary>A Content-Length other than the bytes asked for.</summary>
    WrongLength,
    /// <summary>The body ended before the bytes asked for.</summary>
    ShortBody,
    /// <summary>The body went on past the bytes asked for.</summary>
    LongBody,
    /// <summary>The SSRF mitigation refused the URL or a redirect (a query string on a local server, a redirect to a local address).</summary>
    Refused,
}

/// <summary>A web seed request that failed, with why and, for a busy server, when to come back.</summary>
public sealed class WebSeedException : Exception
{
    /// <summary>Creates the failure.</summary>
    public WebSeedException(WebSeedFailureKind kind, string message, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        RetryAfter = retryAfter;
    }

    /// <summary>What went wrong.</summary>
    public WebSeedFailureKind Kind { get; }

    /// <summary>For <see cref="WebSeedFailureKind.Busy"/>: how long the server asked us to wait, when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>True when retrying cannot help (the server ignores ranges, holds another file, or is refused): the server is dropped at once.</summary>
    public bool IsPermanent => Kind is WebSeedFailureKind.NoRanges or WebSeedFailureKind.WrongFile or WebSeedFailureKind.Refused;
}
