using Microsoft.Extensions.Logging;

namespace Shoal.Swarm;

/// <summary>The engine's log line through <see cref="ILogger"/> (a source-generated call: nothing is formatted when the level is off).</summary>
internal static partial class SessionLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Message}")]
    public static partial void Message(ILogger logger, string message);
}
