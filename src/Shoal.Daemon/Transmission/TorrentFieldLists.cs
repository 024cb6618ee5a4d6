using System.Net;
using System.Text;
using System.Text.Json;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Transmission;

/// <summary>The torrent-get fields that are lists of objects (files, peers, trackers), with their keys in both spellings.</summary>
internal static class TorrentFieldLists
{
    public static void Files(Utf8JsonWriter w, TorrentFacts t)
    {
        RpcStyle s = t.Style;
        int pieceSize = Math.Max(1, t.View.PieceSize);
        long offset = 0;
        w.WriteStartArray();
        foreach (FileView file in t.Files)
        {
            w.WriteStartObject();
            w.Key(s, "bytes_completed", "bytesCompleted");
            w.WriteNumberValue(file.Done);
            w.WriteNumber("length", file.Size);
            w.WriteString("name", file.Path);
            // Pieces the file touches, the end one past the last (an empty file touches none).
            long begin = offset / pieceSize;
            long end = file.Size == 0 ? begin : (offset + file.Size - 1) / pieceSize + 1;
            w.WriteNumber("begin_piece", begin);
            w.WriteNumber("end_piece", end);
            w.WriteEndObject();
            offset += file.Size;
        }
        w.WriteEndArray();
    }

    public static void FileStats(Utf8JsonWriter w, TorrentFacts t)
    {
        RpcStyle s = t.Style;
        w.WriteStartArray();
        foreach (FileView file in t.Files)
        {
            w.WriteStartObject();
            w.Key(s, "bytes_completed", "bytesCompleted");
            w.WriteNumberValue(file.Done);
            w.WriteBoolean("wanted", file.Priority != FilePriority.Skip);
            w.WriteNumber("priority", TorrentFields.Priority(file.Priority));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Per piece: -1 when we have it, else the connected peers known to have it (those that have everything).</summary>
    public static void Availability(Utf8JsonWriter w, TorrentFacts t)
    {
        int have = PieceMap.Verified(t.View);
        w.WriteStartArray();
        for (int i = 0; i < t.View.PieceCount; i++) w.WriteNumberValue(i < have ? -1 : t.View.Seeds);
        w.WriteEndArray();
    }

    public static void Peers(Utf8JsonWriter w, TorrentFacts t)
    {
        RpcStyle s = t.Style;
        w.WriteStartArray();
        foreach (PeerView p in t.Peers)
        {
            bool downloading = p.Flags.Contains('D', StringComparison.Ordinal);
            bool uploading = p.Flags.Contains('U', StringComparison.Ordinal);
            bool interested = downloading || p.Flags.Contains('d', StringComparison.Ordinal);
            bool peerInterested = uploading || p.Flags.Contains('u', StringComparison.Ordinal);
            IPEndPoint.TryParse(p.Address, out IPEndPoint? endPoint);
            w.WriteStartObject();
            w.WriteString("address", endPoint?.Address.ToString() ?? p.Address);
            w.Key(s, "bytes_to_client", "bytesToClient");
            w.WriteNumberValue(p.Downloaded);
            w.Key(s, "bytes_to_peer", "bytesToPeer");
            w.WriteNumberValue(p.Uploaded);
            w.Key(s, "client_is_choked", "clientIsChoked");
            w.WriteBooleanValue(!downloading);
            w.Key(s, "client_is_interested", "clientIsInterested");
            w.WriteBooleanValue(interested);
            w.Key(s, "client_name", "clientName");
            w.WriteStringValue(p.Client);
            w.Key(s, "flag_str", "flagStr");
            w.WriteStringValue(p.Flags);
            w.Key(s, "is_downloading_from", "isDownloadingFrom");
            w.WriteBooleanValue(downloading);
            w.Key(s, "is_encrypted", "isEncrypted");
            w.WriteBooleanValue(false);
            w.Key(s, "is_incoming", "isIncoming");
            w.WriteBooleanValue(p.Incoming);
            w.Key(s, "is_uploading_to", "isUploadingTo");
            w.WriteBooleanValue(uploading);
            w.Key(s, "is_utp", "isUTP");
            w.WriteBooleanValue(p.Transport == "utp");
            w.Key(s, "peer_is_choked", "peerIsChoked");
            w.WriteBooleanValue(!uploading);
            w.Key(s, "peer_is_interested", "peerIsInterested");
            w.WriteBooleanValue(peerInterested);
            w.WriteNumber("port", endPoint?.Port ?? 0);
            w.WriteNumber("progress", p.Progress);
            w.Key(s, "rate_to_client", "rateToClient");
            w.WriteNumberValue(p.DownRate);
            w.Key(s, "rate_to_peer", "rateToPeer");
            w.WriteNumberValue(p.UpRate);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void PeersFrom(Utf8JsonWriter w, TorrentFacts t)
    {
        int cache = 0, dht = 0, incoming = 0, lpd = 0, pex = 0, tracker = 0;
        foreach (PeerView p in t.Peers)
        {
            switch (p.Source)
            {
                case "dht": dht++; break;
                case "incoming": incoming++; break;
                case "lsd": lpd++; break;
                case "pex": pex++; break;
                case "tracker": tracker++; break;
                default: cache++; break;
            }
        }
        RpcStyle s = t.Style;
        w.WriteStartObject();
        w.Key(s, "from_cache", "fromCache");
        w.WriteNumberValue(cache);
        w.Key(s, "from_dht", "fromDht");
        w.WriteNumberValue(dht);
        w.Key(s, "from_incoming", "fromIncoming");
        w.WriteNumberValue(incoming);
        w.Key(s, "from_lpd", "fromLpd");
        w.WriteNumberValue(lpd);
        w.Key(s, "from_ltep", "fromLtep");
        w.WriteNumberValue(0);
        w.Key(s, "from_pex", "fromPex");
        w.WriteNumberValue(pex);
        w.Key(s, "from_tracker", "fromTracker");
        w.WriteNumberValue(tracker);
        w.WriteEndObject();
    }

    public static void Trackers(Utf8JsonWriter w, TorrentFacts t)
    {
        w.WriteStartArray();
        for (int i = 0; i < t.Trackers.Count; i++)
        {
            TrackerView tracker = t.Trackers[i];
            w.WriteStartObject();
            w.WriteString("announce", tracker.Url);
            w.WriteNumber("id", i);
            w.WriteString("scrape", ScrapeUrl(tracker.Url));
            w.WriteString("sitename", SiteName(tracker.Url));
            w.WriteNumber("tier", tracker.Tier);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static void TrackerStats(Utf8JsonWriter w, TorrentFacts t)
    {
        RpcStyle s = t.Style;
        bool running = t.View.State is TorrentActivity.Downloading or TorrentActivity.Seeding or TorrentActivity.FetchingMetadata;
        w.WriteStartArray();
        for (int i = 0; i < t.Trackers.Count; i++)
        {
            TrackerView tracker = t.Trackers[i];
            bool working = tracker.Status == "working";
            w.WriteStartObject();
            w.WriteString("announce", tracker.Url);
            w.Key(s, "announce_state", "announceState");
            w.WriteNumberValue(running ? 1 : 0); // 1: waiting for the next announce; 0: inactive
            w.Key(s, "download_count", "downloadCount");
            w.WriteNumberValue(-1);
            w.Key(s, "downloader_count", "downloaderCount");
            w.WriteNumberValue(-1);
            w.Key(s, "has_announced", "hasAnnounced");
            w.WriteBooleanValue(tracker.LastAttempt is not null);
            w.Key(s, "has_scraped", "hasScraped");
            w.WriteBooleanValue(false);
            w.WriteString("host", Host(tracker.Url));
            w.WriteNumber("id", i);
            w.Key(s, "is_backup", "isBackup");
            w.WriteBooleanValue(false);
            w.Key(s, "last_announce_peer_count", "lastAnnouncePeerCount");
            w.WriteNumberValue(tracker.Peers);
            w.Key(s, "last_announce_result", "lastAnnounceResult");
            w.WriteStringValue(tracker.LastError ?? tracker.Message ?? (working ? "Success" : ""));
            w.Key(s, "last_announce_start_time", "lastAnnounceStartTime");
            w.WriteNumberValue(TorrentFacts.Unix(tracker.LastAttempt));
            w.Key(s, "last_announce_succeeded", "lastAnnounceSucceeded");
            w.WriteBooleanValue(working);
            // When the last announce ended, answered or not: clients print "got an error N minutes ago" from it.
            w.Key(s, "last_announce_time", "lastAnnounceTime");
            w.WriteNumberValue(TorrentFacts.Unix(tracker.LastAttempt));
            w.Key(s, "last_announce_timed_out", "lastAnnounceTimedOut");
            w.WriteBooleanValue(false);
            w.Key(s, "last_scrape_result", "lastScrapeResult");
            w.WriteStringValue("");
            w.Key(s, "last_scrape_start_time", "lastScrapeStartTime");
            w.WriteNumberValue(0);
            w.Key(s, "last_scrape_succeeded", "lastScrapeSucceeded");
            w.WriteBooleanValue(false);
            w.Key(s, "last_scrape_time", "lastScrapeTime");
            w.WriteNumberValue(0);
            w.Key(s, "last_scrape_timed_out", "lastScrapeTimedOut");
            w.WriteBooleanValue(false);
            w.Key(s, "leecher_count", "leecherCount");
            w.WriteNumberValue(tracker.Leechers ?? -1);
            w.Key(s, "next_announce_time", "nextAnnounceTime");
            w.WriteNumberValue(TorrentFacts.Unix(tracker.NextAnnounce));
            w.Key(s, "next_scrape_time", "nextScrapeTime");
            w.WriteNumberValue(0);
            w.WriteString("scrape", ScrapeUrl(tracker.Url));
            w.Key(s, "scrape_state", "scrapeState");
            w.WriteNumberValue(0);
            w.Key(s, "seeder_count", "seederCount");
            w.WriteNumberValue(tracker.Seeds ?? -1);
            w.WriteString("sitename", SiteName(tracker.Url));
            w.WriteNumber("tier", tracker.Tier);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Announce URLs one per line, a blank line between tiers (rpc-spec.md's tracker_list).</summary>
    public static string TrackerList(IReadOnlyList<TrackerView> trackers)
    {
        var text = new StringBuilder();
        int? tier = null;
        foreach (TrackerView t in trackers.OrderBy(t => t.Tier))
        {
            if (tier is not null && tier != t.Tier) text.Append('\n');
            text.Append(t.Url).Append('\n');
            tier = t.Tier;
        }
        return text.ToString();
    }

    /// <summary>The scrape URL by BEP 48's convention (the last path segment "announce" becomes "scrape"); "" when there is none.</summary>
    public static string ScrapeUrl(string announce)
    {
        int slash = announce.LastIndexOf('/');
        if (slash < 0 || string.CompareOrdinal(announce, slash + 1, "announce", 0, 8) != 0) return "";
        return string.Concat(announce.AsSpan(0, slash + 1), "scrape", announce.AsSpan(slash + 9));
    }

    private static string Host(string url)
        => Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) ? $"{uri.Scheme}://{uri.Host}:{uri.Port}" : url;

    /// <summary>The tracker's site: the host's last two labels ("tracker.example.org" gives "example"), or its address.</summary>
    private static string SiteName(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri)) return "";
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6) return uri.Host;
        string[] labels = uri.Host.Split('.');
        return labels.Length >= 2 ? labels[^2] : uri.Host;
    }
}
