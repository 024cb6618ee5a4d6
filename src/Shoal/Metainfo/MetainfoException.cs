namespace Shoal.Metainfo;

/// <summary>A .torrent file or magnet link is malformed or hostile.</summary>
public sealed class MetainfoException : ShoalFormatException
{
    /// <summary>Creates the exception.</summary>
    public MetainfoException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public MetainfoException(string message, Exception inner) : base(message, inner) { }
}
