namespace Shoal.Http;

/// <summary>What an HTTP request fetches, which decides the rule it is held to.</summary>
internal enum HttpRequestPurpose
{
    /// <summary>A web seed's file or piece (BEP 19, BEP 17).</summary>
    WebSeed,

    /// <summary>An HTTP tracker's announce or scrape.</summary>
    Tracker,
}

/// <summary>
/// The SSRF mitigation (libtorrent's <c>ssrf_mitigation</c>): a torrent, a magnet link or a server's redirect must not
/// make us send requests of the attacker's choosing to services of this machine or its network (a router's admin
/// page, a daemon's RPC on 127.0.0.1). A web seed on a local or loopback address is used only without a query string
/// (a file server on the LAN is fine; <c>http://127.0.0.1:9091/transmission/rpc?...</c> is not); a tracker on a loopback
/// address only when its path ends in <c>/announce</c> (or its BEP 48 <c>/scrape</c>); a redirect never leads to a
/// more local scope than the server that sent it (global to local or loopback, local to loopback). Pure: the scopes
/// come from the <see cref="IAddressClassifier"/> applied to the address actually connected to.
/// </summary>
internal static class SsrfRules
{
    /// <summary>Why a request for <paramref name="purpose"/> to <paramref name="given"/> (the URL as the torrent names it), at an address of <paramref name="scope"/>, is refused; null when it is not.</summary>
    public static string? WhyRefused(HttpRequestPurpose purpose, Uri given, AddressScope scope)
    {
        ArgumentNullException.ThrowIfNull(given);
        switch (purpose)
        {
            case HttpRequestPurpose.WebSeed when scope != AddressScope.Global && given.Query.Length > 0:
                return $"refused (SSRF mitigation): a web seed on {Describe(scope)} may not have a query string";
            case HttpRequestPurpose.Tracker when scope == AddressScope.Loopback && !IsAnnouncePath(given.AbsolutePath):
                return $"refused (SSRF mitigation): a tracker on {Describe(scope)} must have a path ending in /announce, not '{given.AbsolutePath}'";
            default:
                return null;
        }
    }

    /// <summary>Why a redirect from a server at <paramref name="from"/> to <paramref name="target"/> at <paramref name="to"/> is refused; null when it is not.</summary>
    public static string? WhyRefusedRedirect(AddressScope from, AddressScope to, Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return to > from
            ? $"refused (SSRF mitigation): a server on {Describe(from)} redirected to {Describe(to)} ({target.GetLeftPart(UriPartial.Path)})"
            : null;
    }

    private static bool IsAnnouncePath(string path)
        => path.EndsWith("/announce", StringComparison.Ordinal) || path.EndsWith("/scrape", StringComparison.Ordinal);

    private static string Describe(AddressScope scope) => scope switch
    {
        AddressScope.Loopback => "this machine's loopback address",
        AddressScope.Local => "a local network address",
        _ => "a global address",
    };
}
