using System.Text.Json;
using System.Text.Json.Nodes;

namespace Shoal.Daemon.Service;

/// <summary>
/// Reads, patches and writes <see cref="DaemonSettings"/> as JSON objects: a patch names only the keys it changes
/// (JSON merge-patch style), an unknown key or a wrong type is refused with its name, and only the keys whose value
/// changed are written back.
/// </summary>
internal static class SettingsBook
{
    /// <summary>Keys of the settings table that are not <see cref="DaemonSettings"/> and never shown (the password hash).</summary>
    public const string SecretPrefix = "security.";

    /// <summary>The key of the password hash.</summary>
    public const string PasswordHashKey = SecretPrefix + "password_hash";

    /// <summary>
    /// The settings a daemon starts with: <paramref name="defaults"/>, overlaid with the stored keys, overlaid with the
    /// command line's <paramref name="overrides"/> (which are stored, so they stay).
    /// </summary>
    public static DaemonSettings Resolve(State.StateStore store, DaemonSettings defaults, IReadOnlyDictionary<string, string> overrides, Action<string> skipped)
    {
        DaemonSettings settings = Load(store.LoadSettings(), defaults, skipped);
        if (overrides.Count == 0) return settings;
        var patch = new JsonObject();
        foreach ((string key, string json) in overrides) patch[key] = JsonNode.Parse(json);
        DaemonSettings overridden = Apply(settings, patch);
        IReadOnlyDictionary<string, string> changes = Changes(settings, overridden);
        if (changes.Count > 0) store.Write(w => { foreach ((string key, string json) in changes) w.PutSetting(key, json); });
        return overridden;
    }

    /// <summary>The settings as a JSON object (snake_case keys).</summary>
    public static JsonObject ToJson(DaemonSettings settings)
        => JsonSerializer.SerializeToNode(settings, ServiceJson.Default.DaemonSettings)!.AsObject();

    /// <summary>
    /// <paramref name="defaults"/> overlaid with the stored keys; a stored key this version does not know, or whose
    /// value no longer parses or validates, is skipped and reported through <paramref name="skipped"/>.
    /// </summary>
    public static DaemonSettings Load(IReadOnlyDictionary<string, string> stored, DaemonSettings defaults, Action<string> skipped)
    {
        DaemonSettings settings = defaults;
        foreach ((string key, string value) in stored.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (key.StartsWith(SecretPrefix, StringComparison.Ordinal)) continue;
            try
            {
                var patch = new JsonObject { [key] = JsonNode.Parse(value) };
                settings = Apply(settings, patch);
            }
            catch (Exception ex) when (ex is JsonException or ServiceException)
            {
                skipped($"stored setting '{key}' ignored: {ex.Message}");
            }
        }
        return settings;
    }

    /// <summary>
    /// <paramref name="current"/> with <paramref name="patch"/>'s keys replaced. Throws <see cref="ServiceException"/>
    /// (bad request) naming the unknown key, the value of the wrong type, or the rule a value breaks.
    /// </summary>
    public static DaemonSettings Apply(DaemonSettings current, JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        JsonObject merged = ToJson(current);
        foreach ((string key, JsonNode? value) in patch)
        {
            if (!merged.ContainsKey(key)) throw ServiceException.Bad($"unknown setting '{key}'");
            if (value is null) throw ServiceException.Bad($"setting '{key}' cannot be null");
            merged[key] = value.DeepClone();
        }
        DaemonSettings result;
        try
        {
            result = merged.Deserialize(ServiceJson.Default.DaemonSettings)
                ?? throw ServiceException.Bad("settings cannot be null");
        }
        catch (JsonException ex)
        {
            string where = ex.Path is { Length: > 2 } path ? path[2..] : "a setting";
            throw ServiceException.Bad($"'{where}' has a value of the wrong type");
        }
        catch (InvalidOperationException ex)
        {
            throw ServiceException.Bad($"settings: {ex.Message}");
        }
        if (result.Validate() is { } problem) throw ServiceException.Bad(problem);
        return result;
    }

    /// <summary>The keys whose values differ, with the new values as JSON text.</summary>
    public static IReadOnlyDictionary<string, string> Changes(DaemonSettings before, DaemonSettings after)
    {
        JsonObject old = ToJson(before);
        JsonObject now = ToJson(after);
        var changes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string key, JsonNode? value) in now)
        {
            string text = value?.ToJsonString() ?? "null";
            if (!old.TryGetPropertyValue(key, out JsonNode? was) || (was?.ToJsonString() ?? "null") != text) changes[key] = text;
        }
        return changes;
    }
}
