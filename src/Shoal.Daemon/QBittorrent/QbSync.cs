using System.Globalization;
using System.Net;
using System.Text.Json;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// sync/maindata and sync/torrentPeers: the first answer (rid 0) is everything with <c>full_update</c>; an answer to
/// a rid the client got last (or before that) carries only what changed since: changed fields of changed torrents,
/// new torrents in full, removed ones in <c>torrents_removed</c>, likewise categories, tags, trackers and
/// server_state. State is kept per client (login session, API key or address), for at most
/// <see cref="MaxClients"/> clients; a client forgotten gets a full update, which is always correct.
/// </summary>
internal sealed class QbSync(TorrentService service) : IDisposable
{
    public const int MaxClients = 256;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClientState> _clients = new(StringComparer.Ordinal);
    private long _clock;

    private sealed record Snapshot(
        Dictionary<string, QbRowSource> Torrents,
        Dictionary<string, string> Categories,
        string[] Tags,
        Dictionary<string, string[]> Trackers,
        (string Name, QbValue Value)[] Server);

    private sealed class ClientState
    {
        public long LastUsed;
        public int SentId;
        public Snapshot? Sent;
        public int AcceptedId;
        public Snapshot? Accepted;
        public string? PeersHash;
        public int PeersSentId;
        public Dictionary<string, PeerView>? PeersSent;
        public int PeersAcceptedId;
        public Dictionary<string, PeerView>? PeersAccepted;
    }

    public Task<QbResult> MainData(QbCall call)
    {
        int rid = (int)Math.Clamp(call.Params.Long("rid") ?? 0, 0, int.MaxValue);
        Snapshot now = Build();
        ClientState state = State(call.ClientKey);
        Snapshot? baseline;
        int id;
        lock (state)
        {
            baseline = Baseline(rid, ref state.SentId, ref state.Sent, ref state.AcceptedId, ref state.Accepted);
            id = state.SentId % 1_000_000 + 1;
            state.SentId = id;
            state.Sent = now;
        }
        return Task.FromResult(QbResult.OfJson(w => WriteMainData(w, id, baseline, now)));
    }

    /// <summary>qBittorrent's rule: the client's rid accepts the answer it names; a diff is made against the last accepted one.</summary>
    private static T? Baseline<T>(int rid, ref int sentId, ref T? sent, ref int acceptedId, ref T? accepted) where T : class
    {
        if (rid <= 0 || sentId <= 0) return null;
        if (sentId == rid)
        {
            accepted = sent;
            acceptedId = rid;
        }
        return acceptedId == rid ? accepted : null;
    }

    private Snapshot Build()
    {
        IReadOnlyList<TorrentView> views = service.List();
        DaemonSettings settings = service.Settings;
        Dictionary<long, int> priorities = QbRowSource.Priorities(views, settings);
        var torrents = new Dictionary<string, QbRowSource>(views.Count, StringComparer.Ordinal);
        var trackers = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (TorrentView v in views)
        {
            if (QbRowSource.Load(service, v, priorities[v.Id]) is not { } row) continue;
            torrents[v.InfoHash] = row;
            try
            {
                foreach (TrackerView t in service.GetTrackers(v.InfoHash))
                {
                    if (!trackers.TryGetValue(t.Url, out List<string>? hashes)) trackers[t.Url] = hashes = [];
                    hashes.Add(v.InfoHash);
                }
            }
            catch (ServiceException)
            {
            }
        }
        SessionStatsView stats = service.GetStats();
        var server = QbTransferActions.Values(stats, QbTransferActions.ConnectionStatus(service)).ToList();
        server.Add(("alltime_dl", stats.Downloaded));
        server.Add(("alltime_ul", stats.Uploaded));
        server.Add(("average_time_queue", 0));
        server.Add(("free_space_on_disk", stats.FreeSpace));
        server.Add(("global_ratio", stats.Downloaded > 0 && stats.Uploaded > 0 ? ((double)stats.Uploaded / stats.Downloaded).ToString("0.00", CultureInfo.InvariantCulture) : "-"));
        server.Add(("queued_io_jobs", 0));
        server.Add(("queueing", settings.QueueingEnabled));
        server.Add(("read_cache_hits", "0"));
        server.Add(("read_cache_overload", "0"));
        server.Add(("refresh_interval", 1500));
        server.Add(("total_buffers_size", 0));
        server.Add(("total_peer_connections", stats.Peers));
        server.Add(("total_queued_size", 0));
        server.Add(("total_wasted_session", 0));
        server.Add(("use_alt_speed_limits", stats.AltSpeedActive));
        server.Add(("use_subcategories", false));
        server.Add(("write_cache_overload", "0"));
        return new Snapshot(
            torrents,
            service.GetCategories().ToDictionary(c => c.Name, c => c.SavePath, StringComparer.Ordinal),
            [.. service.GetTags()],
            trackers.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal),
            [.. server]);
    }

    private static void WriteMainData(Utf8JsonWriter w, int rid, Snapshot? before, Snapshot now)
    {
        w.WriteStartObject();
        w.WriteNumber("rid", rid);
        if (before is null) w.WriteBoolean("full_update", true);

        // Torrents: new ones whole, changed ones by their changed fields, removed ones by hash.
        bool opened = false;
        foreach ((string hash, QbRowSource row) in now.Torrents)
        {
            if (before is null || !before.Torrents.TryGetValue(hash, out QbRowSource? old))
            {
                Open(w, "torrents", ref opened);
                w.WritePropertyName(hash);
                QbTorrentRow.Write(w, row);
                continue;
            }
            if (old.Equals(row)) continue;
            bool fieldOpened = false;
            foreach ((string name, Func<QbRowSource, QbValue> value) in QbTorrentRow.Fields)
            {
                QbValue next = value(row);
                if (next == value(old)) continue;
                if (!fieldOpened)
                {
                    Open(w, "torrents", ref opened);
                    w.WriteStartObject(hash);
                    fieldOpened = true;
                }
                w.WritePropertyName(name);
                next.WriteTo(w);
            }
            if (fieldOpened) w.WriteEndObject();
        }
        if (opened) w.WriteEndObject();
        Removed(w, "torrents_removed", before?.Torrents.Keys.Where(h => !now.Torrents.ContainsKey(h)));

        opened = false;
        foreach ((string name, string path) in now.Categories)
        {
            if (before is not null && before.Categories.TryGetValue(name, out string? oldPath) && oldPath == path) continue;
            Open(w, "categories", ref opened);
            QbTorrentReads.WriteCategory(w, new CategoryView(name, path));
        }
        if (opened) w.WriteEndObject();
        Removed(w, "categories_removed", before?.Categories.Keys.Where(c => !now.Categories.ContainsKey(c)));

        string[] newTags = before is null ? now.Tags : [.. now.Tags.Except(before.Tags, StringComparer.Ordinal)];
        if (before is null || newTags.Length > 0)
        {
            w.WriteStartArray("tags");
            foreach (string tag in newTags) w.WriteStringValue(tag);
            w.WriteEndArray();
        }
        Removed(w, "tags_removed", before?.Tags.Except(now.Tags, StringComparer.Ordinal));

        opened = false;
        foreach ((string url, string[] hashes) in now.Trackers)
        {
            if (before is not null && before.Trackers.TryGetValue(url, out string[]? oldHashes) && oldHashes.SequenceEqual(hashes)) continue;
            Open(w, "trackers", ref opened);
            w.WriteStartArray(url);
            foreach (string hash in hashes) w.WriteStringValue(hash);
            w.WriteEndArray();
        }
        if (opened) w.WriteEndObject();
        Removed(w, "trackers_removed", before?.Trackers.Keys.Where(u => !now.Trackers.ContainsKey(u)));

        opened = false;
        for (int i = 0; i < now.Server.Length; i++)
        {
            (string name, QbValue value) = now.Server[i];
            if (before is not null && i < before.Server.Length && before.Server[i].Value == value) continue;
            Open(w, "server_state", ref opened);
            w.WritePropertyName(name);
            value.WriteTo(w);
        }
        if (opened) w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Open(Utf8JsonWriter w, string name, ref bool opened)
    {
        if (opened) return;
        w.WriteStartObject(name);
        opened = true;
    }

    private static void Removed(Utf8JsonWriter w, string name, IEnumerable<string>? removed)
    {
        if (removed is null) return;
        bool any = false;
        foreach (string item in removed)
        {
            if (!any) w.WriteStartArray(name);
            any = true;
            w.WriteStringValue(item);
        }
        if (any) w.WriteEndArray();
    }

    /// <summary>sync/torrentPeers: one torrent's peers by "ip:port", full or changed since the client's rid.</summary>
    public Task<QbResult> TorrentPeers(QbCall call)
    {
        TorrentView view = QbTorrents.Find(service, call.Params.Required("hash")) ?? throw QbException.NotFound();
        int rid = (int)Math.Clamp(call.Params.Long("rid") ?? 0, 0, int.MaxValue);
        Dictionary<string, PeerView> now;
        try
        {
            now = service.GetPeers(view.InfoHash).GroupBy(p => p.Address).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        }
        catch (ServiceException ex) when (ex.Kind == ServiceErrorKind.NotFound)
        {
            throw QbException.NotFound();
        }
        ClientState state = State(call.ClientKey);
        Dictionary<string, PeerView>? before;
        int id;
        lock (state)
        {
            if (state.PeersHash != view.InfoHash)
            {
                state.PeersHash = view.InfoHash;
                state.PeersSentId = state.PeersAcceptedId = 0;
                state.PeersSent = state.PeersAccepted = null;
            }
            before = Baseline(rid, ref state.PeersSentId, ref state.PeersSent, ref state.PeersAcceptedId, ref state.PeersAccepted);
            id = state.PeersSentId % 1_000_000 + 1;
            state.PeersSentId = id;
            state.PeersSent = now;
        }
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("rid", id);
            if (before is null) w.WriteBoolean("full_update", true);
            w.WriteBoolean("show_flags", true);
            w.WriteStartObject("peers");
            foreach ((string address, PeerView peer) in now)
            {
                if (before is not null && before.TryGetValue(address, out PeerView? old) && old.Equals(peer)) continue;
                WritePeer(w, address, peer);
            }
            w.WriteEndObject();
            Removed(w, "peers_removed", before?.Keys.Where(a => !now.ContainsKey(a)));
            w.WriteEndObject();
        }));
    }

    private static void WritePeer(Utf8JsonWriter w, string address, PeerView p)
    {
        IPEndPoint.TryParse(address, out IPEndPoint? endPoint);
        w.WriteStartObject(address);
        w.WriteString("client", p.Client);
        w.WriteString("connection", p.Transport == "utp" ? "μTP" : "BT");
        w.WriteString("country", "");
        w.WriteString("country_code", "");
        w.WriteNumber("dl_speed", p.DownRate);
        w.WriteNumber("downloaded", p.Downloaded);
        w.WriteString("files", "");
        w.WriteString("flags", p.Flags);
        w.WriteString("flags_desc", "");
        w.WriteString("ip", endPoint?.Address.ToString() ?? address);
        w.WriteString("peer_id_client", "");
        w.WriteNumber("port", endPoint?.Port ?? 0);
        w.WriteNumber("progress", p.Progress);
        w.WriteNumber("relevance", p.Progress);
        w.WriteNumber("up_speed", p.UpRate);
        w.WriteNumber("uploaded", p.Uploaded);
        w.WriteEndObject();
    }

    /// <summary>The client's state, made when new; past <see cref="MaxClients"/> the least recently used is forgotten.</summary>
    private ClientState State(string key)
    {
        lock (_gate)
        {
            long now = ++_clock;
            if (!_clients.TryGetValue(key, out ClientState? state))
            {
                if (_clients.Count >= MaxClients) _clients.Remove(_clients.MinBy(p => p.Value.LastUsed).Key);
                _clients[key] = state = new ClientState();
            }
            state.LastUsed = now;
            return state;
        }
    }

    public void Dispose()
    {
        lock (_gate) _clients.Clear();
    }
}
