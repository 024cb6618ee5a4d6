namespace Shoal.Daemon.Service;

/// <summary>What kind of refusal a <see cref="ServiceException"/> is (each API maps it to its own error form).</summary>
public enum ServiceErrorKind
{
    /// <summary>The request is malformed or names something impossible (HTTP 400).</summary>
    BadRequest,

    /// <summary>No such torrent, file, category or tag (HTTP 404).</summary>
    NotFound,

    /// <summary>It clashes with the daemon's state, e.g. the torrent is already there (HTTP 409).</summary>
    Conflict,

    /// <summary>A path outside the folders the daemon may use (HTTP 403).</summary>
    Forbidden,

    /// <summary>Fetching or reading something failed (HTTP 502 for a URL, 500 otherwise).</summary>
    Failed,
}

/// <summary>A request the service refuses, with a message meant for the user.</summary>
public sealed class ServiceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServiceException(ServiceErrorKind kind, string message, Exception? inner = null) : base(message, inner) => Kind = kind;

    /// <summary>Creates the exception.</summary>
    public ServiceException() : this(ServiceErrorKind.Failed, "the request failed")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ServiceException(string message) : this(ServiceErrorKind.BadRequest, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ServiceException(string message, Exception inner) : this(ServiceErrorKind.Failed, message, inner)
    {
    }

    /// <summary>What kind of refusal it is.</summary>
    public ServiceErrorKind Kind { get; }

    /// <summary>The torrent the request clashed with, when it is one already in the daemon (an add of a duplicate).</summary>
    public TorrentView? Torrent { get; init; }

    internal static ServiceException NotFound(string message) => new(ServiceErrorKind.NotFound, message);

    internal static ServiceException Bad(string message) => new(ServiceErrorKind.BadRequest, message);
}
