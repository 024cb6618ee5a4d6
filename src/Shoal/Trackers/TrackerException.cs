namespace Shoal.Trackers;

/// <summary>
/// A tracker could not be used: it answered with a <c>failure reason</c>, an HTTP error or a BEP 15 error, or
/// it did not answer in time. The message names the tracker URL so the user can tell trackers apart.
/// </summary>
public sealed class TrackerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrackerException(Uri tracker, string message, string? failureReason = null, Exception? inner = null)
        : base($"tracker {tracker}: {message}", inner)
    {
        Tracker = tracker;
        FailureReason = failureReason;
    }

    /// <summary>The tracker that failed.</summary>
    public Uri Tracker { get; }

    /// <summary>
    /// The SSRF mitigation refused the tracker's URL or its redirect: nothing was sent, and retrying cannot help while
    /// the URL and the setting stay (the announcer logs it once and retries it rarely).
    /// </summary>
    internal bool IsRefused { get; init; }

    /// <summary>The tracker's own text (<c>failure reason</c> or a BEP 15 error message), when it sent one.</summary>
    public string? FailureReason { get; }
}
