using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.Daemon.Engine;
using Shoal.Daemon.Http;
using Shoal.Daemon.QBittorrent;
using Shoal.Daemon.Security;
using Shoal.Daemon.Service;
using Shoal.Daemon.State;
using Shoal.Daemon.Transmission;
using Shoal.Daemon.Watching;
using Shoal.Daemon.Web;
using Shoal.Dht;
using Shoal.Swarm;

namespace Shoal.Daemon;

/// <summary>
/// A running <c>shoal daemon</c>: the database, the engine session, the torrent service, the HTTP interface and the
/// watch folder, started in that order and stopped in the reverse one (the HTTP interface first, so no request
/// arrives while torrents stop; the database last, after every counter is written).
/// </summary>
public sealed class DaemonHost : IAsyncDisposable
{
    private readonly StateStore _store;
    private readonly ShoalSession _session;
    private readonly WebApplication _web;
    private readonly WatchFolder? _watch;
    private readonly ILoggerFactory _logs;
    private int _disposed;

    private DaemonHost(StateStore store, ShoalSession session, TorrentService service, DaemonSecurity security, WebApplication web,
        WatchFolder? watch, Uri address, ILoggerFactory logs)
    {
        _store = store;
        _session = session;
        Service = service;
        Security = security;
        _web = web;
        _watch = watch;
        WebAddress = address;
        _logs = logs;
    }

    /// <summary>The daemon's torrents.</summary>
    public TorrentService Service { get; }

    /// <summary>The HTTP interface's security state.</summary>
    public DaemonSecurity Security { get; }

    /// <summary>Where the HTTP interface answers, e.g. http://127.0.0.1:9091/.</summary>
    public Uri WebAddress { get; }

    /// <summary>The peer port.</summary>
    public int PeerPort => _session.ListenEndPoint.Port;

    /// <summary>
    /// Starts the daemon. Throws <see cref="DaemonStartException"/> (and <see cref="System.Net.Sockets.SocketException"/>
    /// for the peer port) with what to change when it cannot.
    /// </summary>
    public static async Task<DaemonHost> StartAsync(DaemonOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ILoggerFactory logs = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(options.MinimumLogLevel);
            b.AddFilter("Microsoft", options.MinimumLogLevel > LogLevel.Warning ? options.MinimumLogLevel : LogLevel.Warning);
            // The generic host logs a failed start (a busy --web-port) with its whole stack trace before the exception
            // reaches us; StartAsync turns that exception into one line that says what to change, which is all a user sees.
            b.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
            if (options.LoggerProvider is { } provider) b.AddProvider(provider);
            else b.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss "; }).AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
        });
        ILogger log = logs.CreateLogger("Shoal.Daemon");
        StateStore store;
        try
        {
            store = StateStore.Open(DaemonPaths.Database(options.DataDirectory));
        }
        catch (StateStoreException ex)
        {
            logs.Dispose();
            throw new DaemonStartException(ex.Message, ex);
        }
        ShoalSession? session = null;
        TorrentService? service = null;
        try
        {
            var defaults = new DaemonSettings { DefaultSavePath = Path.GetFullPath(options.DefaultSavePath ?? DaemonPaths.DefaultDownloads()) };
            var overrides = new Dictionary<string, string>(options.SettingOverrides, StringComparer.Ordinal);
            if (options.DefaultSavePath is not null) overrides["default_save_path"] = JsonValue.Create(defaults.DefaultSavePath).ToJsonString();
            DaemonSettings settings;
            try
            {
                settings = SettingsBook.Resolve(store, defaults, overrides, message => log.LogWarning("{Message}", message));
            }
            catch (ServiceException ex)
            {
                throw new DaemonStartException("bad setting: " + ex.Message, ex);
            }
            var folders = new FolderPolicy(options.DownloadRoots.Count > 0 ? options.DownloadRoots : [settings.DefaultSavePath]);
            if (!folders.Contains(settings.DefaultSavePath))
                throw new DaemonStartException($"the default download folder {settings.DefaultSavePath} is outside the --download-root folders ({string.Join(", ", folders.Roots)})");

            string? hash = await ResolvePasswordAsync(store, options).ConfigureAwait(false);
            if (hash is null && !IPAddress.IsLoopback(options.WebBind))
                throw new DaemonStartException($"the HTTP interface on {options.WebBind} would be open to the network without a password: set one (SHOAL_PASSWORD or --password-file) or bind it to 127.0.0.1");

            ILogger engineLog = logs.CreateLogger("Shoal.Engine");
            var resume = new DaemonResumeStore();
            session = await ShoalSession.StartAsync(SessionOptionsFor(options, settings, resume, message => engineLog.LogDebug("{Message}", message)), cancellationToken).ConfigureAwait(false);
            var engine = new EngineBridge(session, resume);
            service = await TorrentService.StartAsync(store, engine, folders, settings, options.Time, log).ConfigureAwait(false);
            var security = new DaemonSecurity(hash, options.Time, () => service.Settings.AllowedHosts);

            WebApplication web = BuildWeb(options, service, security, StoredSecret(store, QbApiKeys.HashSetting), logs);
            try
            {
                await web.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                await web.DisposeAsync().ConfigureAwait(false);
                throw new DaemonStartException($"cannot serve HTTP on {new IPEndPoint(options.WebBind, options.WebPort)}: {ex.Message}", ex);
            }
            Uri address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                .Select(a => new Uri(a.Replace("//[::]", "//[::1]", StringComparison.Ordinal).Replace("//0.0.0.0", "//127.0.0.1", StringComparison.Ordinal)))
                .First();
            WatchFolder? watch = options.WatchDirectory is { } dir ? new WatchFolder(dir, service, options.Time, logs.CreateLogger("Shoal.Watch")) : null;
            log.LogInformation("peer port {Port}, HTTP interface {Address}, data in {Folder}", session.ListenEndPoint.Port, address, options.DataDirectory);
            return new DaemonHost(store, session, service, security, web, watch, address, logs);
        }
        catch
        {
            if (service is not null) await service.DisposeAsync().ConfigureAwait(false);
            if (session is not null) await session.DisposeAsync().ConfigureAwait(false);
            store.Dispose();
            logs.Dispose();
            throw;
        }
    }

    private static async Task<string?> ResolvePasswordAsync(StateStore store, DaemonOptions options)
    {
        if (options.Password is { } password)
        {
            if (password.Length < 8) throw new DaemonStartException("the password must have at least 8 characters");
            string hash = PasswordHash.Create(password);
            store.Write(w => w.PutSetting(SettingsBook.PasswordHashKey, JsonValue.Create(hash).ToJsonString()));
            return await Task.FromResult(hash).ConfigureAwait(false);
        }
        if (!store.LoadSettings().TryGetValue(SettingsBook.PasswordHashKey, out string? stored)) return null;
        string? existing = JsonNode.Parse(stored)?.GetValue<string>();
        return PasswordHash.IsValid(existing) ? existing
            : throw new DaemonStartException("the stored password hash is damaged: set the password again (SHOAL_PASSWORD or --password-file)");
    }

    /// <summary>A secret kept in the settings table (a JSON string), or null.</summary>
    private static string? StoredSecret(StateStore store, string key)
        => store.LoadSettings().TryGetValue(key, out string? json) ? JsonNode.Parse(json)?.GetValue<string>() : null;

    private static Swarm.SessionOptions SessionOptionsFor(DaemonOptions options, DaemonSettings settings, DaemonResumeStore resume, Action<string> log) => new()
    {
        BindAddress = options.PeerBind,
        ListenPort = options.PeerPort,
        MaxDownloadRate = settings.DownloadLimit,
        MaxUploadRate = settings.UploadLimit,
        MaxConnections = settings.MaxConnections,
        MaxConnectionsPerTorrent = settings.MaxConnectionsPerTorrent,
        UnchokeSlots = settings.UploadSlotsPerTorrent,
        EnableDht = settings.Dht,
        // Given even with the DHT off: the settings may turn it on at runtime, with the daemon's bootstrap and state folder.
        Dht = new DhtNodeOptions
        {
            Port = options.PeerPort,
            BindAddress = options.PeerBind,
            DataDirectory = options.PeerPort == 0 ? null : DaemonPaths.Dht(options.DataDirectory),
            BootstrapNodes = options.DhtBootstrap.Count > 0 ? options.DhtBootstrap : DhtNodeOptions.DefaultBootstrapNodes,
        },
        EnableLocalDiscovery = settings.Lsd,
        EnablePex = settings.Pex,
        EnablePortMapping = settings.PortMapping && !IPAddress.IsLoopback(options.PeerBind),
        Encryption = EngineBridge.EncryptionOf(settings),
        SsrfMitigation = settings.SsrfMitigation,
        // Fast-resume data lives in the database, beside the torrent it vouches for.
        ResumeStore = resume,
        Time = options.Time,
        Log = log,
    };

    private static WebApplication BuildWeb(DaemonOptions options, TorrentService service, DaemonSecurity security, string? apiKeyHash, ILoggerFactory logs)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "Shoal.Daemon",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(logs);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.WebBind, options.WebPort);
            kestrel.Limits.MaxRequestBodySize = NativeTorrentEndpoints.MaxAddBodyBytes;
        });
        builder.Services.AddSingleton(service);
        builder.Services.AddSingleton(security);
        builder.Services.AddListCompression();
        builder.Services.AddSingleton(options.Time);
        // The dialects are created by the container (which disposes them when the interface stops) and resolved at once below.
        builder.Services.AddSingleton(_ => new TransmissionRpc(service, options.Time, options.DataDirectory));
        builder.Services.AddSingleton(_ => new QbApi(service, security, apiKeyHash, options.WebBind.ToString()));
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            // Request bodies are read with these options (the contexts' own naming applies only to their own options).
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, ServiceJson.Default);
        });
        WebApplication app = builder.Build();
        _ = app.Services.GetRequiredService<TransmissionRpc>();
        _ = app.Services.GetRequiredService<QbApi>();
        app.UseMiddleware<HostCheckMiddleware>();
        app.UseMiddleware<NativeAuthMiddleware>();
        app.UseListCompression();
        NativeTorrentEndpoints.Map(app);
        TransmissionEndpoint.Map(app);
        QbEndpoint.Map(app);
        StreamEndpoint.Map(app);
        NativeAdminEndpoints.Map(app,
            hash => service.PutSecretAsync(SettingsBook.PasswordHashKey, hash is null ? null : JsonValue.Create(hash).ToJsonString()),
            loopbackOnly: IPAddress.IsLoopback(options.WebBind));
        WebPageEndpoints.Map(app, WebAssets.Load());
        return app;
    }

    /// <summary>Stops the HTTP interface, the watch folder, every torrent (saving counters and resume data), the session and the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _web.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _web.DisposeAsync().ConfigureAwait(false);
        }
        if (_watch is not null) await _watch.DisposeAsync().ConfigureAwait(false);
        await Service.DisposeAsync().ConfigureAwait(false);
        await _session.DisposeAsync().ConfigureAwait(false);
        _store.Dispose();
        _logs.Dispose();
    }
}
