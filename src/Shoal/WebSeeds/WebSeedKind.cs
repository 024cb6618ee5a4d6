namespace Shoal.WebSeeds;

/// <summary>The two ways of seeding over HTTP.</summary>
public enum WebSeedKind
{
    /// <summary>BEP 19 ('url-list', GetRight style): a plain web server holding the files; ranged GETs.</summary>
    UrlList,

    /// <summary>BEP 17 ('httpseeds', Hoffman style): a script that answers <c>?info_hash=..&amp;piece=..</c> with the piece's bytes.</summary>
    HttpSeed,
}
