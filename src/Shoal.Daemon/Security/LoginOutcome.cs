namespace Shoal.Daemon.Security;

/// <summary>How a password check went.</summary>
public enum LoginOutcome
{
    /// <summary>The password is right.</summary>
    Accepted,

    /// <summary>The password is wrong.</summary>
    Refused,

    /// <summary>Too many failures from this address: not even checked.</summary>
    Throttled,
}
