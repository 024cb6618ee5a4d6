namespace Shoal.Swarm;

/// <summary>The limits <see cref="ConnectionAdmission"/> applies to one torrent.</summary>
internal sealed record AdmissionRules
{
    /// <summary>Most connections of the torrent.</summary>
    public int MaxConnections { get; init; } = 60;

    /// <summary>Most connections of the torrent from one address (an IPv6 /64).</summary>
    public int MaxPerAddress { get; init; } = 8;

    /// <summary>Slots our own dialling leaves free, so a peer that finds us still gets in without replacing anyone.</summary>
    public int ReservedForIncoming { get; init; } = 6;

    /// <summary>How long a peer must have been connected, and without payload either way, before a newcomer may replace it.</summary>
    public TimeSpan ReplaceableAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The rules for a session's options.</summary>
    public static AdmissionRules From(SessionOptions options) => From(options, 0);

    /// <summary>The rules for a session's options and a torrent's own connection limit (0: the session's per-torrent limit).</summary>
    public static AdmissionRules From(SessionOptions options, int ownMaxConnections)
    {
        ArgumentNullException.ThrowIfNull(options);
        int max = ownMaxConnections > 0 ? ownMaxConnections : options.MaxConnectionsPerTorrent;
        return new AdmissionRules
        {
            MaxConnections = max,
            MaxPerAddress = options.MaxConnectionsPerAddress,
            ReservedForIncoming = max / 10,
            ReplaceableAfter = options.ReplaceIdlePeersAfter,
        };
    }
}
