using System.Net;
using Shoal.Daemon.Service;
using Shoal.Daemon.State;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Daemon.Engine;

/// <summary>
/// The one place the daemon drives the engine: starting a daemon torrent in the <see cref="ShoalSession"/> with the
/// options its record asks for, stopping it, and reading session-wide figures. The service layer never touches the
/// session elsewhere, so the API handlers never reach engine state.
/// </summary>
internal sealed class EngineBridge
{
    private Task _network = Task.CompletedTask;

    public EngineBridge(ShoalSession session, DaemonResumeStore resume)
    {
        Session = session;
        Resume = resume;
    }

    /// <summary>The engine's fast-resume data, kept in the database.</summary>
    public DaemonResumeStore Resume { get; }

    /// <summary>The engine session.</summary>
    public ShoalSession Session { get; }

    /// <summary>The peer port.</summary>
    public int ListenPort => Session.ListenEndPoint.Port;

    /// <summary>Nodes in the DHT routing tables (0 when the DHT is off).</summary>
    public int DhtNodes
    {
        get
        {
            if (Session.Dht is not { } dht) return 0;
            try
            {
                return dht.GetStats().Nodes;
            }
            catch (ObjectDisposedException)
            {
                return 0;
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="record"/>'s torrent in the engine: from its metainfo when known, else from its magnet
    /// link. Skipped files are never requested nor written. With <paramref name="checkWithoutPeers"/> it starts paused
    /// and its data is checked all the same (no peer, no announce, no download; it stays paused afterwards). Throws
    /// <see cref="ServiceException"/> when the engine refuses it (its files cannot live in the save path, or it is
    /// already running).
    /// </summary>
    public async Task<TorrentHandle> StartAsync(TorrentRecord record, Torrent? metainfo, IReadOnlyDictionary<int, string>? renamedFiles = null, bool checkWithoutPeers = false)
    {
        MagnetLink? link = null;
        if (record.Magnet is { } uri && !MagnetLink.TryParse(uri, out link)) link = null;
        // A torrent added from a magnet link keeps the link's trackers and peers after its metadata arrives.
        IReadOnlyList<string> trackers = link is null || metainfo is null ? record.Settings.Trackers
            : [.. record.Settings.Trackers.Union(link.Trackers, StringComparer.Ordinal)];
        var options = new TorrentOptions
        {
            DownloadDirectory = record.SavePath,
            FilePriorities = metainfo is null || record.FilePriorities is null ? null : Priorities(record.FilePriorities, metainfo.Files.Count),
            Sequential = record.Settings.Sequential,
            FirstAndLastPiecesFirst = record.Settings.FirstLastPiecePriority,
            Peers = link is null || metainfo is null ? [] : [.. link.Peers.Select(p => IPEndPoint.TryParse(p, out IPEndPoint? e) && e.Port != 0 ? e : null).OfType<IPEndPoint>()],
            Trackers = trackers,
            MaxDownloadRate = record.Settings.DownloadLimit,
            MaxUploadRate = record.Settings.UploadLimit,
            MaxConnections = record.Settings.MaxConnections,
            UploadSlots = record.Settings.UploadSlots,
            // Known to the service even when the resume data that kept them was forgotten (a recheck).
            RenamedFiles = metainfo is null ? null : renamedFiles,
            StartPaused = checkWithoutPeers,
            CheckWhilePaused = checkWithoutPeers,
        };
        try
        {
            Directory.CreateDirectory(record.SavePath);
            if (metainfo is not null) return await Session.AddTorrentAsync(metainfo, options).ConfigureAwait(false);
            MagnetLink magnet = link ?? new MagnetLink(record.InfoHash, record.Name, [], [], []);
            return await Session.AddMagnetAsync(magnet, options).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or MetainfoException or ArgumentException)
        {
            throw new ServiceException(ServiceErrorKind.Failed, $"cannot start {record.Name}: {ex.Message}", ex);
        }
    }

    /// <summary>Stops a running torrent (its resume data is saved on the way out); data stays on disk.</summary>
    public static Task StopAsync(TorrentHandle handle) => handle.StopAsync();

    /// <summary>Forgets the fast-resume data of <paramref name="infoHash"/>, so its next start checks every piece.</summary>
    public void ForgetResume(InfoHash infoHash) => Resume.Delete(infoHash, "");

    /// <summary>
    /// The verified pieces of a stopped torrent from its fast-resume data (a BEP 3 bitfield), or null when it has none
    /// that is readable (used for a piece map, never to decide what is verified).
    /// </summary>
    public byte[]? LoadVerifiedPieces(InfoHash infoHash, int pieceCount)
    {
        byte[]? saved = Resume.Load(infoHash, "");
        if (saved is null) return null;
        Storage.ResumeData? data = Storage.ResumeFile.TryParse(saved, infoHash, out _);
        return data is not null && data.PieceCount == pieceCount ? data.VerifiedBytes.ToArray() : null;
    }

    /// <summary>
    /// The renamed files kept in a torrent's resume data (see <see cref="Storage.ResumeData.RenamedFiles"/>); null when
    /// there are none. Data without renames is told by its format version, without parsing it.
    /// </summary>
    public static IReadOnlyDictionary<int, string>? RenamedFiles(InfoHash infoHash, byte[]? resume)
    {
        if (resume is null || resume.Length < 12 || System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(resume.AsSpan(8)) == Storage.ResumeFile.FormatVersion) return null;
        return Storage.ResumeFile.TryParse(resume, infoHash, out _)?.RenamedFiles is { Count: > 0 } renamed ? renamed : null;
    }

    /// <summary>The engine's priorities for <paramref name="fileCount"/> files from the stored ones (missing ones are normal).</summary>
    internal static Picking.FilePriority[] Priorities(byte[]? priorities, int fileCount)
    {
        var levels = new Picking.FilePriority[fileCount];
        for (int i = 0; i < fileCount; i++)
        {
            byte p = priorities is not null && i < priorities.Length ? priorities[i] : (byte)FilePriority.Normal;
            levels[i] = Enum.IsDefined((Picking.FilePriority)p) ? (Picking.FilePriority)p : Picking.FilePriority.Normal;
        }
        return levels;
    }

    /// <summary>
    /// Applies the session-wide rate caps the settings ask for now (the alternative ones inside their schedule); a
    /// no-op when they are in force already.
    /// </summary>
    public void ApplyRates(DaemonSettings settings, DateTimeOffset localNow)
    {
        bool alt = settings.IsAltSpeedActive(localNow);
        long down = alt ? settings.AltDownloadLimit : settings.DownloadLimit;
        long up = alt ? settings.AltUploadLimit : settings.UploadLimit;
        if (Session.MaxDownloadRate != down || Session.MaxUploadRate != up) Session.SetRateLimits(down, up);
    }

    /// <summary>The engine's encryption mode for the settings' "prefer", "require" or "disable".</summary>
    internal static Transport.Encryption.EncryptionMode EncryptionOf(DaemonSettings settings) => settings.Encryption switch
    {
        "require" => Transport.Encryption.EncryptionMode.Require,
        "disable" => Transport.Encryption.EncryptionMode.Disable,
        _ => Transport.Encryption.EncryptionMode.Prefer,
    };

    /// <summary>
    /// Applies the network settings that changed between <paramref name="before"/> and <paramref name="after"/> to the
    /// running session (connection limits, upload slots, encryption, DHT, local discovery, peer exchange, SSRF mitigation), in the
    /// background and in the order they were asked; a failure is logged (the setting stays saved and applies at the
    /// next start). Returns the work, for callers that wait.
    /// </summary>
    public Task ApplyNetwork(DaemonSettings before, DaemonSettings after, Action<string> log)
    {
        Task previous = _network;
        _network = Task.Run(async () =>
        {
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                if (after.MaxConnections != before.MaxConnections || after.MaxConnectionsPerTorrent != before.MaxConnectionsPerTorrent)
                    await Session.SetConnectionLimitsAsync(after.MaxConnections, after.MaxConnectionsPerTorrent).ConfigureAwait(false);
                if (after.UploadSlotsPerTorrent != before.UploadSlotsPerTorrent) Session.SetUploadSlots(after.UploadSlotsPerTorrent);
                if (after.Encryption != before.Encryption) Session.SetEncryption(EncryptionOf(after));
                if (after.Pex != before.Pex) Session.SetPexEnabled(after.Pex);
                if (after.SsrfMitigation != before.SsrfMitigation) Session.SetSsrfMitigation(after.SsrfMitigation);
                if (after.Dht != before.Dht) await Session.SetDhtEnabledAsync(after.Dht).ConfigureAwait(false);
                if (after.Lsd != before.Lsd && !await Session.SetLocalDiscoveryEnabledAsync(after.Lsd).ConfigureAwait(false))
                    log("local service discovery cannot run on this machine (no multicast)");
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or System.Net.Sockets.SocketException)
            {
                log("network settings not applied to the running session: " + ex.Message);
            }
        });
        return _network;
    }

    /// <summary>The files to download: every file whose priority is not skip; null when that is all of them.</summary>
    internal static IReadOnlyList<int>? SelectedFiles(byte[]? priorities, int fileCount)
    {
        if (priorities is null) return null;
        var selected = new List<int>(fileCount);
        for (int i = 0; i < fileCount; i++)
        {
            if (i >= priorities.Length || priorities[i] != (byte)FilePriority.Skip) selected.Add(i);
        }
        return selected.Count == fileCount ? null : selected;
    }
}
