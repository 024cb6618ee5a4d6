using System.Text.Json;
using Shoal.Daemon.Security;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Transmission;

/// <summary>Writes the properties of a successful call's answer (inside <c>arguments</c> or <c>result</c>).</summary>
internal delegate void ArgumentsWriter(Utf8JsonWriter writer);

/// <summary>
/// Transmission's RPC methods over the daemon's service layer: one call in, the properties of its answer (or an
/// <see cref="RpcException"/>) out. Method names are accepted in every spelling ("torrent-get", "torrent_get").
/// </summary>
internal sealed class TransmissionRpc : IAsyncDisposable
{
    private readonly TorrentService _service;
    private readonly TorrentMethods _torrents;
    private readonly SessionMethods _session;

    public TransmissionRpc(TorrentService service, TimeProvider time, string configDir)
    {
        _service = service;
        Recent = new RecentActivity(service.Events, time);
        SessionId = LoginSessions.NewToken();
        _torrents = new TorrentMethods(service, Recent, time);
        _session = new SessionMethods(service, Recent, SessionId, configDir, service.GetStats());
    }

    /// <summary>The value of the X-Transmission-Session-Id header this daemon run expects (the CSRF token).</summary>
    public string SessionId { get; }

    public RecentActivity Recent { get; }

    /// <summary>Runs one call. Throws <see cref="RpcException"/> for every refusal (service refusals included).</summary>
    public async Task<ArgumentsWriter?> CallAsync(string method, RpcArgs args, RpcStyle style, CancellationToken cancellationToken)
    {
        try
        {
            return await DispatchAsync(RpcNames.ToSnake(method), method, args, style, cancellationToken).ConfigureAwait(false);
        }
        catch (ServiceException ex)
        {
            throw new RpcException(ex.Kind switch
            {
                ServiceErrorKind.Failed => RpcErrorCode.HttpError,
                ServiceErrorKind.Forbidden => RpcErrorCode.SystemError,
                _ => RpcErrorCode.InvalidParams,
            }, ex.Message);
        }
        catch (ObjectDisposedException)
        {
            throw new RpcException(RpcErrorCode.InternalError, "the daemon is stopping");
        }
    }

    private async Task<ArgumentsWriter?> DispatchAsync(string name, string asked, RpcArgs args, RpcStyle style, CancellationToken cancellationToken)
    {
        switch (name)
        {
            case "torrent_get":
                return _torrents.Get(args, style);
            case "torrent_add":
                return await _torrents.AddAsync(args, style, cancellationToken).ConfigureAwait(false);
            case "torrent_set":
                await _torrents.SetAsync(args).ConfigureAwait(false);
                return null;
            case "torrent_remove":
                await _torrents.RemoveAsync(args).ConfigureAwait(false);
                return null;
            case "torrent_start":
                await _torrents.ActAsync(args, _service.ResumeAsync).ConfigureAwait(false);
                return null;
            case "torrent_start_now":
                await _torrents.ActAsync(args, _service.ForceStartAsync).ConfigureAwait(false);
                return null;
            case "torrent_stop":
                await _torrents.ActAsync(args, _service.PauseAsync).ConfigureAwait(false);
                return null;
            case "torrent_verify":
                await _torrents.ActAsync(args, _service.RecheckAsync).ConfigureAwait(false);
                return null;
            case "torrent_reannounce":
                await _torrents.ActAsync(args, _service.ReannounceAsync).ConfigureAwait(false);
                return null;
            case "torrent_set_location":
                await _torrents.SetLocationAsync(args).ConfigureAwait(false);
                return null;
            case "torrent_rename_path":
                return await _torrents.RenamePathAsync(args).ConfigureAwait(false);
            case "queue_move_top":
                await _torrents.ActAsync(args, r => _service.MoveInQueueAsync(r, QueueMove.Top)).ConfigureAwait(false);
                return null;
            case "queue_move_up":
                await _torrents.ActAsync(args, r => _service.MoveInQueueAsync(r, QueueMove.Up)).ConfigureAwait(false);
                return null;
            case "queue_move_down":
                await _torrents.ActAsync(args, r => _service.MoveInQueueAsync(r, QueueMove.Down)).ConfigureAwait(false);
                return null;
            case "queue_move_bottom":
                await _torrents.ActAsync(args, r => _service.MoveInQueueAsync(r, QueueMove.Bottom)).ConfigureAwait(false);
                return null;
            case "session_get":
                return _session.Get(args, style);
            case "session_set":
                await _session.SetAsync(args).ConfigureAwait(false);
                return null;
            case "session_stats":
                return _session.Stats(style);
            case "free_space":
                return _session.FreeSpace(args, style);
            case "port_test":
                return _session.PortTest(args, style);
            case "blocklist_update":
                throw new RpcException(RpcErrorCode.SystemError, "Shoal has no blocklist");
            case "session_close":
                throw new RpcException(RpcErrorCode.SystemError, "the daemon is not stopped through the RPC: stop it with Ctrl+C, SIGTERM or its service manager");
            case "group_get":
                return w =>
                {
                    w.WritePropertyName("group");
                    w.WriteStartArray();
                    w.WriteEndArray();
                };
            case "group_set":
                throw new RpcException(RpcErrorCode.SystemError, "Shoal has no bandwidth groups");
            default:
                throw new RpcException(RpcErrorCode.MethodNotFound, $"method name not recognized: {asked}");
        }
    }

    public ValueTask DisposeAsync() => Recent.DisposeAsync();
}
