using System.Text.Json.Nodes;
using Shoal.Daemon.Service;

namespace Shoal.Tests.Daemon;

public sealed class SettingsBookTests
{
    private static readonly DaemonSettings Defaults = new() { DefaultSavePath = "/downloads" };

    [Fact]
    public void A_patch_changes_only_its_keys()
    {
        DaemonSettings changed = SettingsBook.Apply(Defaults, new JsonObject { ["download_limit"] = 1000, ["dht"] = false, ["seeding_goal_action"] = "remove" });
        Assert.Equal(Defaults with { DownloadLimit = 1000, Dht = false, SeedingGoalAction = SeedingGoalAction.Remove }, changed);
        Assert.Equal(["dht", "download_limit", "seeding_goal_action"], SettingsBook.Changes(Defaults, changed).Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{"no_such_setting": 1}""", "no_such_setting")]
    [InlineData("""{"download_limit": "fast"}""", "download_limit")]
    [InlineData("""{"download_limit": -5}""", "rate limits")]
    [InlineData("""{"alt_schedule_begin": 1440}""", "alt_schedule_begin")]
    [InlineData("""{"default_save_path": ""}""", "default_save_path")]
    [InlineData("""{"dht": null}""", "dht")]
    public void A_bad_patch_is_refused_naming_the_problem(string json, string named)
    {
        var ex = Assert.Throws<ServiceException>(() => SettingsBook.Apply(Defaults, JsonNode.Parse(json)!.AsObject()));
        Assert.Equal(ServiceErrorKind.BadRequest, ex.Kind);
        Assert.Contains(named, ex.Message);
    }

    [Fact]
    public void Stored_settings_that_no_longer_parse_are_skipped_and_reported()
    {
        var skipped = new List<string>();
        DaemonSettings loaded = SettingsBook.Load(new Dictionary<string, string>
        {
            ["upload_limit"] = "500",
            ["removed_in_a_later_version"] = "1",
            ["max_active_downloads"] = "\"lots\"",
            ["security.password_hash"] = "\"x\"",
        }, Defaults, skipped.Add);
        Assert.Equal(500, loaded.UploadLimit);
        Assert.Equal(Defaults.MaxActiveDownloads, loaded.MaxActiveDownloads);
        Assert.Equal(2, skipped.Count);
    }

    [Theory]
    [InlineData(9 * 60, 17 * 60, 127, "2025-06-04T10:00:00", true)]
    [InlineData(9 * 60, 17 * 60, 127, "2025-06-04T17:00:00", false)]
    [InlineData(22 * 60, 6 * 60, 127, "2025-06-04T23:30:00", true)]
    [InlineData(22 * 60, 6 * 60, 127, "2025-06-04T05:59:00", true)]
    [InlineData(22 * 60, 6 * 60, 127, "2025-06-04T12:00:00", false)]
    [InlineData(9 * 60, 17 * 60, 1 | 64, "2025-06-04T10:00:00", false)] // a Wednesday; weekends only
    [InlineData(22 * 60, 6 * 60, 64, "2025-06-08T01:00:00", true)] // Sunday 01:00 belongs to Saturday's night
    public void The_alternative_speed_schedule(int begin, int end, int days, string local, bool active)
    {
        var settings = Defaults with { AltScheduleEnabled = true, AltScheduleBegin = begin, AltScheduleEnd = end, AltScheduleDays = days };
        Assert.Equal(active, settings.IsAltSpeedActive(DateTimeOffset.Parse(local + "+00:00", System.Globalization.CultureInfo.InvariantCulture)));
    }
}
