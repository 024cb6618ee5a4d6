using Microsoft.Extensions.Logging;
using Shoal.Daemon.Engine;
using Shoal.Daemon.State;

namespace Shoal.Daemon.Service;

/// <summary>What the parts of the service share: the store, the engine, the loop, the table, the events, the settings.</summary>
internal sealed class ServiceContext
{
    private DaemonSettings _settings;

    public ServiceContext(StateStore store, EngineBridge engine, FolderPolicy folders, DaemonSettings settings, TimeProvider time, ILogger log)
    {
        Store = store;
        Engine = engine;
        Folders = folders;
        _settings = settings;
        Time = time;
        Log = log;
        Loop = new ServiceLoop(log);
        Events = new EventHub(time, time.GetUtcNow().UtcTicks.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        StartedAt = time.GetTimestamp();
    }

    public StateStore Store { get; }

    public EngineBridge Engine { get; }

    public FolderPolicy Folders { get; }

    public TimeProvider Time { get; }

    public ILogger Log { get; }

    public ServiceLoop Loop { get; }

    public EventHub Events { get; }

    public TorrentTable Torrents { get; } = new();

    /// <summary>Categories and their folders (written on the loop, read anywhere: replaced whole).</summary>
    public IReadOnlyDictionary<string, string> Categories { get; set; } = new Dictionary<string, string>();

    /// <summary>Tags (written on the loop, read anywhere: replaced whole).</summary>
    public IReadOnlyList<string> Tags { get; set; } = [];

    /// <summary>The settings in force (written on the loop, read anywhere: replaced whole).</summary>
    public DaemonSettings Settings
    {
        get => Volatile.Read(ref _settings);
        set => Volatile.Write(ref _settings, value);
    }

    /// <summary>The service's start, for the uptime.</summary>
    public long StartedAt { get; }

    /// <summary>
    /// Something the queue plan reads changed outside a command (an engine start or stop ended, a torrent held for missing
    /// data): the status pass plans again at its next tick. Loop only.
    /// </summary>
    public bool PlanRequested { get; set; }

    /// <summary>Set when the daemon stops: no more engine starts.</summary>
    public bool Stopping { get; set; }

    public DateTimeOffset Now => Time.GetUtcNow();
}
