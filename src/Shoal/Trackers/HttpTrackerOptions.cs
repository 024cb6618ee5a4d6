namespace Shoal.Trackers;

/// <summary>Limits of the HTTP tracker client.</summary>
public sealed record HttpTrackerOptions
{
    /// <summary>Time allowed for one request, connection included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest answer read; a longer one is an error rather than unbounded memory.</summary>
    public int MaxResponseBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>Most peers kept from one answer.</summary>
    public int MaxPeers { get; init; } = 2000;
}
