using Shoal.Daemon.Service;
using Shoal.Daemon.State;

namespace Shoal.Daemon.Transmission;

/// <summary>What a field of torrent-get needs besides the torrent's list row.</summary>
[Flags]
internal enum FactNeeds
{
    None = 0,
    Settings = 1,
    Details = 2,
    Files = 4,
    Peers = 8,
    Trackers = 16,
}

/// <summary>
/// One torrent as torrent-get reads it: its list row, and what the requested fields need of its details, files,
/// peers and trackers, all loaded before anything is written (a torrent removed meanwhile is then left out whole).
/// </summary>
internal sealed class TorrentFacts
{
    private TorrentSettings? _settings;
    private TorrentDetails? _details;
    private IReadOnlyList<FileView>? _files;
    private IReadOnlyList<PeerView>? _peers;
    private IReadOnlyList<TrackerView>? _trackers;

    public TorrentFacts(TorrentService service, TorrentView view, RpcStyle style, DateTimeOffset now)
    {
        Service = service;
        View = view;
        Style = style;
        Now = now;
        Session = service.Settings;
    }

    public TorrentService Service { get; }

    public TorrentView View { get; }

    public RpcStyle Style { get; }

    public DateTimeOffset Now { get; }

    public DaemonSettings Session { get; }

    public TorrentSettings Settings => _settings ??= Service.GetSettings(View.InfoHash);

    public TorrentDetails Details => _details ??= Service.GetDetails(View.InfoHash);

    public IReadOnlyList<FileView> Files => _files ??= Service.GetFiles(View.InfoHash);

    public IReadOnlyList<PeerView> Peers => _peers ??= Service.GetPeers(View.InfoHash);

    public IReadOnlyList<TrackerView> Trackers => _trackers ??= Service.GetTrackers(View.InfoHash);

    /// <summary>Loads what <paramref name="needs"/> names; false when the torrent was removed meanwhile.</summary>
    public bool TryLoad(FactNeeds needs)
    {
        try
        {
            if (needs.HasFlag(FactNeeds.Settings)) _ = Settings;
            if (needs.HasFlag(FactNeeds.Details)) _ = Details;
            if (needs.HasFlag(FactNeeds.Files)) _ = Files;
            if (needs.HasFlag(FactNeeds.Peers)) _ = Peers;
            if (needs.HasFlag(FactNeeds.Trackers)) _ = Trackers;
            return true;
        }
        catch (ServiceException ex) when (ex.Kind == ServiceErrorKind.NotFound)
        {
            return false;
        }
    }

    /// <summary>Paused because a seeding goal was reached (Transmission's "finished").</summary>
    public bool GoalReached => View.Paused && View.StateReason.StartsWith(GoalPrefix, StringComparison.Ordinal);

    /// <summary>How the service words a pause by a seeding goal.</summary>
    public const string GoalPrefix = "seeding goal reached";

    /// <summary>Bytes still to download of the wanted data.</summary>
    public long LeftUntilDone => Math.Max(0, View.WantedSize - View.DoneBytes);

    /// <summary>Seconds since 1970 of a time, 0 for none (Transmission's convention).</summary>
    public static long Unix(DateTimeOffset? time) => time is { } t ? Math.Max(0, t.ToUnixTimeSeconds()) : 0;
}
