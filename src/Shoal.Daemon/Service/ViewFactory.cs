using System.Net;
using Shoal.Swarm;
using Shoal.Trackers;

namespace Shoal.Daemon.Service;

/// <summary>Builds the plain rows clients see from the service's torrents and the engine's snapshots.</summary>
internal static class ViewFactory
{
    public static TorrentView Torrent(ServiceTorrent t)
    {
        TorrentStatus? s = t.Status;
        long wanted = t.WantedSize;
        long done = Math.Min(t.DoneBytes, wanted > 0 ? wanted : long.MaxValue);
        double progress = t.Complete ? 1 : wanted > 0 ? (double)done / wanted : 0;
        long downRate = s?.DownloadRate ?? 0;
        long? eta = t.Activity == TorrentActivity.Downloading && downRate > 0 && wanted > done ? (wanted - done) / downRate : null;
        TorrentSettingsView(t, out long downLimit, out long upLimit, out bool sequential);
        return new TorrentView(
            t.Id,
            t.Record.InfoHash.ToHex(),
            t.Record.Name,
            t.Activity,
            t.Reason,
            Math.Round(progress, 6),
            t.Metainfo?.TotalSize ?? 0,
            wanted,
            done,
            downRate,
            s?.UploadRate ?? 0,
            t.Downloaded,
            t.Uploaded,
            Math.Round(SeedingGoals.Ratio(t.Uploaded, t.Downloaded, done), 4),
            eta,
            s?.Peers ?? 0,
            s?.Seeds ?? 0,
            t.Record.SavePath,
            t.Record.Category,
            t.Record.Tags,
            t.Record.QueuePosition,
            t.Record.AddedAt,
            t.CompletedAt,
            t.SeedingSeconds,
            t.ActiveSeconds,
            t.Error,
            t.Metainfo is not null,
            t.Record.RunMode == State.RunMode.Paused,
            t.Record.RunMode == State.RunMode.Forced,
            sequential,
            t.Record.Settings.FirstLastPiecePriority,
            downLimit,
            upLimit,
            t.Metainfo?.Files.Count ?? 0,
            t.Metainfo?.PieceCount ?? 0,
            t.Metainfo?.PieceLength ?? 0,
            t.LastActivity,
            t.Relocating,
            t.MissingFiles);
    }

    private static void TorrentSettingsView(ServiceTorrent t, out long downLimit, out long upLimit, out bool sequential)
    {
        downLimit = t.Record.Settings.DownloadLimit;
        upLimit = t.Record.Settings.UploadLimit;
        sequential = t.Record.Settings.Sequential;
    }

    public static TorrentDetails Details(ServiceTorrent t)
    {
        Metainfo.Torrent? m = t.Metainfo;
        string magnet = m?.ToMagnetLink().ToString() ?? t.Record.Magnet ?? new Metainfo.MagnetLink(t.Record.InfoHash, t.Record.Name, [], [], []).ToString();
        return new TorrentDetails(
            Torrent(t),
            m?.Comment,
            m?.CreatedBy,
            m?.CreationDate,
            m?.IsPrivate ?? false,
            magnet,
            t.Status?.VerifiedPieces ?? (t.Complete ? m?.PieceCount ?? 0 : 0),
            t.Status?.FailedPieces ?? 0,
            t.Record.Settings);
    }

    /// <summary>
    /// The torrent's files. Bytes done per file are exact for a complete torrent and for files whose pieces are all
    /// verified or none; in between they are the torrent's verified share spread over the wanted files (the engine
    /// does not publish its piece map yet).
    /// </summary>
    public static IReadOnlyList<FileView> Files(ServiceTorrent t)
    {
        if (t.Metainfo is not { } m) return [];
        byte[]? priorities = t.Record.FilePriorities;
        long wanted = t.WantedSize;
        double share = t.Complete ? 1 : wanted > 0 ? Math.Min(1, (double)t.DoneBytes / wanted) : 0;
        var files = new FileView[m.Files.Count];
        for (int i = 0; i < files.Length; i++)
        {
            Metainfo.TorrentFile f = m.Files[i];
            var priority = priorities is not null && i < priorities.Length ? (FilePriority)priorities[i] : FilePriority.Normal;
            double progress = priority == FilePriority.Skip ? 0 : share;
            string path = t.RenamedFiles is { } renamed && renamed.TryGetValue(i, out string? newPath) ? newPath : f.Path;
            files[i] = new FileView(i, path, f.Length, (long)(f.Length * progress), Math.Round(progress, 6), priority);
        }
        return files;
    }

    public static IReadOnlyList<PeerView> Peers(ServiceTorrent t)
    {
        if (t.Handle is not { } handle) return [];
        IReadOnlyList<PeerStatus> peers = handle.GetPeers();
        var views = new PeerView[peers.Count];
        for (int i = 0; i < views.Length; i++)
        {
            PeerStatus p = peers[i];
            views[i] = new PeerView(
                Address(p.EndPoint), p.Client, Flags(p), p.Incoming, Transport.TransportProtocolNames.Name(p.Transport), SourceName(p.Source), Math.Round(p.Progress, 4),
                p.DownloadRate, p.UploadRate, p.Downloaded, p.Uploaded);
        }
        return views;
    }

    public static IReadOnlyList<TrackerView> Trackers(ServiceTorrent t)
    {
        if (t.Handle is { } handle)
        {
            IReadOnlyList<TrackerStatus> trackers = handle.GetTrackers();
            return [.. trackers.Select(s => new TrackerView(
                s.Url.ToString(), s.Tier,
                s.IsWorking ? "working" : s.LastError is not null ? "error" : "not contacted",
                s.LastError, s.WarningMessage, s.LastAnnounce, s.NextAnnounce, s.PeersReceived, s.Seeders, s.Leechers) { LastAttempt = s.LastAttempt })];
        }
        // Not running: the torrent's own tiers and the extra trackers, none contacted in this run.
        var urls = new List<TrackerView>();
        int tier = 0;
        foreach (IReadOnlyList<string> list in t.Metainfo?.AnnounceTiers ?? [])
        {
            foreach (string url in list) urls.Add(Idle(url, tier));
            tier++;
        }
        foreach (string url in t.Record.Settings.Trackers) urls.Add(Idle(url, tier++));
        return urls;
    }

    private static TrackerView Idle(string url, int tier) => new(url, tier, "not contacted", null, null, null, null, 0, null, null);

    private static string Address(IPEndPoint endPoint) => endPoint.ToString();

    private static string Flags(PeerStatus p)
    {
        Span<char> flags = stackalloc char[8];
        int n = 0;
        if (p.AmInterested) flags[n++] = p.PeerChoking ? 'd' : 'D';
        if (p.PeerInterested) flags[n++] = p.AmChoking ? 'u' : 'U';
        if (p.Incoming) flags[n++] = 'I';
        switch (p.Source)
        {
            case PeerSource.Pex: flags[n++] = 'X'; break;
            case PeerSource.Dht: flags[n++] = 'H'; break;
            case PeerSource.Lsd: flags[n++] = 'L'; break;
        }
        // As qBittorrent shows them: E encrypted (RC4), e obfuscated, P uTP.
        if (p.Encryption == Transport.Encryption.PeerEncryption.Rc4) flags[n++] = 'E';
        else if (p.Encryption == Transport.Encryption.PeerEncryption.Obfuscated) flags[n++] = 'e';
        if (p.Transport == Transport.TransportProtocol.Utp) flags[n++] = 'P';
        return new string(flags[..n]);
    }

    private static string SourceName(PeerSource source) => source switch
    {
        PeerSource.Manual => "manual",
        PeerSource.Incoming => "incoming",
        PeerSource.Tracker => "tracker",
        PeerSource.Pex => "pex",
        PeerSource.Lsd => "lsd",
        PeerSource.Dht => "dht",
        _ => source.ToString().ToLowerInvariant(),
    };
}
