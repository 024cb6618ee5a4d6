namespace Shoal.Daemon.State;

/// <summary>The daemon's database cannot be opened or written: named, with what to do about it.</summary>
public sealed class StateStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StateStoreException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StateStoreException() : this("the daemon's database failed")
    {
    }

    /// <summary>Creates the exception.</summary>
    public StateStoreException(string message) : this(message, null)
    {
    }
}
