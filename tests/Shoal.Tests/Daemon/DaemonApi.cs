using System.Net;
using System.Text.Json;

namespace Shoal.Tests.Daemon;

/// <summary>Small waits and reads over an <see cref="ApiClient"/> shared by the daemon tests.</summary>
internal static class DaemonApi
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>Adds a .torrent; asserts success; returns the new id.</summary>
    public static async Task<long> AddAsync(ApiClient client, byte[] metainfo, object? extra = null)
    {
        (HttpStatusCode status, JsonElement body) = await client.AddAsync(metainfo, extra);
        Assert.True(status == HttpStatusCode.OK, $"add failed: {status} {body}");
        return body.GetProperty("added")[0].GetProperty("id").GetInt64();
    }

    public static async Task<long> AddUriAsync(ApiClient client, string uri, object? extra = null)
    {
        var fields = new Dictionary<string, object?> { ["uri"] = uri };
        if (extra is not null)
        {
            foreach (JsonProperty p in JsonSerializer.SerializeToElement(extra).EnumerateObject()) fields[p.Name] = p.Value;
        }
        (HttpStatusCode status, JsonElement body) = await client.PostAsync("api/v1/torrents", fields);
        Assert.True(status == HttpStatusCode.OK, $"add failed: {status} {body}");
        return body.GetProperty("added")[0].GetProperty("id").GetInt64();
    }

    public static async Task<string> StateAsync(ApiClient client, long id) => (await client.TorrentAsync(id)).GetProperty("state").GetString()!;

    /// <summary>Waits until torrent <paramref name="id"/> is in <paramref name="state"/>; fails with its last row.</summary>
    public static async Task<JsonElement> WaitForStateAsync(ApiClient client, long id, string state, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (true)
        {
            JsonElement row = await client.TorrentAsync(id);
            if (row.GetProperty("state").GetString() == state) return row;
            if (DateTime.UtcNow > deadline) Assert.Fail($"torrent {id} never reached {state}: {row}");
            await Task.Delay(100);
        }
    }

    public static async Task ActAsync(ApiClient client, string action, params long[] ids)
    {
        (HttpStatusCode status, JsonElement body) = await client.PostAsync($"api/v1/torrents/{action}", new { ids = ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
        Assert.True(status == HttpStatusCode.OK, $"{action} failed: {status} {body}");
    }

    public static async Task SettingsAsync(ApiClient client, object patch)
    {
        (HttpStatusCode status, JsonElement body) = await client.PostAsync("api/v1/settings", patch);
        Assert.True(status == HttpStatusCode.OK, $"settings failed: {status} {body}");
    }
}
