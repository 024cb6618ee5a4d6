namespace Shoal.Daemon;

/// <summary>The daemon cannot start as asked, for a reason the user can fix (said in the message).</summary>
public sealed class DaemonStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DaemonStartException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DaemonStartException() : this("the daemon cannot start")
    {
    }

    /// <summary>Creates the exception.</summary>
    public DaemonStartException(string message) : this(message, null)
    {
    }
}
