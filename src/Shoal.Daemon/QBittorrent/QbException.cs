using Microsoft.AspNetCore.Http;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// A refused qBittorrent Web API call: an HTTP status and a plain-text message, as qBittorrent answers (400 bad
/// parameters, 403 forbidden, 404 not found, 405 wrong method, 409 conflict, 415 not a torrent file).
/// </summary>
internal sealed class QbException : Exception
{
    public QbException(int status, string message) : base(message) => Status = status;

    public QbException() : this(StatusCodes.Status400BadRequest, "Bad Request")
    {
    }

    public QbException(string message) : this(StatusCodes.Status400BadRequest, message)
    {
    }

    public QbException(string message, Exception inner) : base(message, inner) => Status = StatusCodes.Status400BadRequest;

    public int Status { get; }

    public static QbException BadParams(string message = "Bad Request") => new(StatusCodes.Status400BadRequest, message);

    public static QbException NotFound(string message = "Not Found") => new(StatusCodes.Status404NotFound, message);

    public static QbException Conflict(string message) => new(StatusCodes.Status409Conflict, message);
}
