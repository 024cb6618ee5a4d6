namespace Shoal.Trackers;

/// <summary>A tracker answer or request is malformed (not bencode, wrong types, truncated packet...).</summary>
public sealed class TrackerFormatException : ShoalFormatException
{
    /// <summary>Creates the exception.</summary>
    public TrackerFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public TrackerFormatException(string message, Exception inner) : base(message, inner) { }
}
