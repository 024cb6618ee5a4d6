using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>Transmission's session methods over real HTTP: session-get/-set over the daemon's settings, stats, free space, port test and the refusals.</summary>
public sealed class TransmissionSessionTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-tr-session");
    private TestDaemon _daemon = null!;
    private TransmissionClient _rpc = null!;

    public async Task InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(_folder);
        _rpc = new TransmissionClient(_daemon.Address);
    }

    public async Task DisposeAsync()
    {
        _rpc.Dispose();
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Session_get_answers_every_key_with_Transmissions_types()
    {
        JsonElement s = await _rpc.OkAsync("session-get");
        Assert.StartsWith("4.1.0 (Shoal ", s.GetProperty("version").GetString());
        Assert.Equal(18, s.GetProperty("rpc-version").GetInt32());
        Assert.Equal(14, s.GetProperty("rpc-version-minimum").GetInt32());
        Assert.Equal("6.0.0", s.GetProperty("rpc-version-semver").GetString());
        Assert.Equal(_daemon.Downloads, s.GetProperty("download-dir").GetString());
        Assert.Equal(JsonValueKind.Number, s.GetProperty("download-dir-free-space").ValueKind);
        Assert.Equal(2.0, s.GetProperty("seedRatioLimit").GetDouble());
        Assert.False(s.GetProperty("seedRatioLimited").GetBoolean());
        Assert.Equal(30, s.GetProperty("idle-seeding-limit").GetInt32());
        Assert.False(s.GetProperty("idle-seeding-limit-enabled").GetBoolean());
        Assert.False(s.GetProperty("dht-enabled").GetBoolean());
        Assert.Equal(_daemon.Host.PeerPort, s.GetProperty("peer-port").GetInt32());
        Assert.True(s.GetProperty("download-queue-enabled").GetBoolean());
        Assert.Equal(5, s.GetProperty("download-queue-size").GetInt32());
        Assert.False(s.GetProperty("speed-limit-down-enabled").GetBoolean());
        Assert.Equal(1000, s.GetProperty("units").GetProperty("speed-bytes").GetInt32());
        Assert.Equal(_daemon.Options.DataDirectory, s.GetProperty("config-dir").GetString());
        Assert.Equal(JsonValueKind.String, s.GetProperty("session-id").ValueKind);
        foreach (JsonProperty p in s.EnumerateObject()) Assert.DoesNotContain('_', p.Name.Replace("sequential_download", "", StringComparison.Ordinal));

        JsonElement some = await _rpc.OkAsync("session-get", new { fields = new[] { "version", "download-dir", "no-such-key" } });
        Assert.Equal(["version", "download-dir"], some.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Session_set_changes_the_daemon_settings_and_refuses_folders_outside()
    {
        await _rpc.OkAsync("session-set", new Dictionary<string, object>
        {
            ["speed-limit-down"] = 800,
            ["speed-limit-down-enabled"] = true,
            ["speed-limit-up-enabled"] = true,
            ["alt-speed-down"] = 300,
            ["alt-speed-time-enabled"] = true,
            ["alt-speed-time-begin"] = 60,
            ["alt-speed-time-day"] = 65,
            ["seedRatioLimit"] = 3.0,
            ["seedRatioLimited"] = true,
            ["idle-seeding-limit-enabled"] = true,
            ["download-queue-size"] = 7,
            ["seed-queue-enabled"] = true,
            ["peer-limit-per-torrent"] = 80,
            ["download-dir"] = Path.Combine(_daemon.Downloads, "new"),
            ["encryption"] = "required", // not the daemon's to change: ignored, as Transmission ignores unknown keys
        });
        DaemonSettings settings = _daemon.Host.Service.Settings;
        Assert.Equal(800_000, settings.DownloadLimit);
        Assert.Equal(100_000, settings.UploadLimit);
        Assert.Equal(300_000, settings.AltDownloadLimit);
        Assert.True(settings.AltScheduleEnabled);
        Assert.Equal(60, settings.AltScheduleBegin);
        Assert.Equal(65, settings.AltScheduleDays);
        Assert.Equal(3.0, settings.RatioLimit);
        Assert.Equal(30, settings.IdleLimitMinutes);
        Assert.Equal(7, settings.MaxActiveDownloads);
        Assert.Equal(10, settings.MaxActiveSeeds);
        Assert.Equal(80, settings.MaxConnectionsPerTorrent);
        Assert.Equal(Path.Combine(_daemon.Downloads, "new"), settings.DefaultSavePath);
        JsonElement s = await _rpc.OkAsync("session-get", new { fields = new[] { "speed-limit-down", "speed-limit-down-enabled", "seedRatioLimited" } });
        Assert.Equal(800, s.GetProperty("speed-limit-down").GetInt32());
        Assert.True(s.GetProperty("speed-limit-down-enabled").GetBoolean());

        await _rpc.OkAsync("session-set", new Dictionary<string, object> { ["speed-limit-down-enabled"] = false, ["seedRatioLimited"] = false, ["download-queue-enabled"] = false });
        settings = _daemon.Host.Service.Settings;
        Assert.Equal(0, settings.DownloadLimit);
        Assert.Equal(-1, settings.RatioLimit);
        Assert.Equal(-1, settings.MaxActiveDownloads);

        Assert.Contains("outside the folders", await _rpc.FailAsync("session-set", new Dictionary<string, object> { ["download-dir"] = "/etc" }));
        Assert.Contains("0 or more", await _rpc.FailAsync("session-set", new Dictionary<string, object> { ["speed-limit-up"] = -5, ["speed-limit-up-enabled"] = true }));
    }

    [Fact]
    public async Task Stats_free_space_port_test_and_the_methods_Shoal_refuses()
    {
        JsonElement stats = await _rpc.OkAsync("session-stats");
        Assert.Equal(0, stats.GetProperty("torrentCount").GetInt32());
        Assert.Equal(JsonValueKind.Number, stats.GetProperty("downloadSpeed").ValueKind);
        Assert.Equal(1, stats.GetProperty("current-stats").GetProperty("sessionCount").GetInt32());
        Assert.True(stats.GetProperty("cumulative-stats").GetProperty("secondsActive").GetInt64() >= 0);

        JsonElement free = await _rpc.OkAsync("free-space", new { path = _daemon.Downloads });
        Assert.Equal(_daemon.Downloads, free.GetProperty("path").GetString());
        Assert.True(free.GetProperty("size-bytes").GetInt64() > 0);
        Assert.True(free.GetProperty("total_size").GetInt64() >= free.GetProperty("size-bytes").GetInt64());
        // A folder not made yet (Sonarr asks before its first download): the file system it will be made on.
        JsonElement notYet = await _rpc.OkAsync("free-space", new { path = Path.Combine(_daemon.Downloads, "tv", "new show") });
        Assert.True(notYet.GetProperty("total_size").GetInt64() >= notYet.GetProperty("size-bytes").GetInt64());
        Assert.True(notYet.GetProperty("total_size").GetInt64() > 0);
        Assert.Contains("outside the folders", await _rpc.FailAsync("free-space", new { path = "/" }));

        // Nobody from the internet is connected in: Shoal says it cannot tell rather than guessing.
        Assert.Contains("cannot tell", await _rpc.FailAsync("port-test"));
        JsonElement jsonRpc = await _rpc.JsonRpcAsync("port_test", new { ip_protocol = "ipv4" });
        Assert.Equal(8, jsonRpc.GetProperty("error").GetProperty("code").GetInt32());

        Assert.Contains("no blocklist", await _rpc.FailAsync("blocklist-update"));
        Assert.Contains("not stopped through the RPC", await _rpc.FailAsync("session-close"));
        Assert.Equal(0, (await _rpc.OkAsync("group-get")).GetProperty("group").GetArrayLength());
        Assert.Contains("no bandwidth groups", await _rpc.FailAsync("group-set", new { name = "g" }));
    }
}
