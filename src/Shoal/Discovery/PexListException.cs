namespace Shoal.Discovery;

/// <summary>
/// A ut_pex message (BEP 11) is well-formed bencode but one of its peer lists is not: a length that is not a whole
/// number of compact entries, flags that do not match their entries, or a list that is not a byte string. The message
/// is rejected whole (no entry of it is trusted); unlike a payload that is not bencode at all, the peer need not be
/// closed for it (libtorrent reads what fits).
/// </summary>
public sealed class PexListException : ShoalFormatException
{
    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    public PexListException(string message) : base(message) { }
}
