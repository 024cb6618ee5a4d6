namespace Shoal.Discovery;

/// <summary>
/// Shoal's own extension message ids (BEP 10): the ids peers must use when they send these messages to us,
/// advertised in our handshake's "m" dictionary. Ids the remote peer wants are in its
/// <see cref="ExtensionHandshake.Extensions"/>.
/// </summary>
public static class ExtensionIds
{
    /// <summary>Extended message id 0: the extension handshake itself.</summary>
    public const byte Handshake = 0;

    /// <summary>Our local id for ut_metadata (BEP 9).</summary>
    public const byte Metadata = 1;

    /// <summary>Our local id for ut_pex (BEP 11).</summary>
    public const byte Pex = 2;

    /// <summary>Our local id for ut_holepunch (BEP 55), offered when uTP runs.</summary>
    public const byte Holepunch = 4;

    /// <summary>The extension name of BEP 9 metadata exchange.</summary>
    public const string MetadataName = "ut_metadata";

    /// <summary>The extension name of BEP 11 peer exchange.</summary>
    public const string PexName = "ut_pex";
}
