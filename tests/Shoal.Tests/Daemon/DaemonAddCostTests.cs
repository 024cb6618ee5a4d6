using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Shoal.Daemon.Security;
using Shoal.Metainfo;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>What adding many torrents costs the daemon: one durable commit per request, no sort of its lists per torrent.</summary>
public sealed class DaemonAddCostTests() : DaemonApiTests("shoal-daemon-add")
{
    [Fact]
    public async Task A_multipart_add_of_many_torrents_is_one_transaction_and_each_survives_a_restart()
    {
        var torrents = new List<Torrent>();
        for (int i = 0; i < 20; i++) torrents.Add((await TestDaemon.MakeTorrentAsync(Folder, $"many{i}.bin", 20_000, seed: 80 + i)).Torrent);
        using var form = new MultipartFormDataContent();
        foreach (Torrent t in torrents)
        {
            var part = new ByteArrayContent(t.ToBytes());
            part.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
            form.Add(part, "torrents", t.Name + ".torrent");
        }
        // Paused: nothing else of them is written meanwhile (no counters, no resume data).
        form.Add(new StringContent("true"), "paused");
        // The same torrent twice in one request: the second is refused, the rest go in.
        var twice = new ByteArrayContent(torrents[0].ToBytes());
        twice.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
        form.Add(twice, "torrents", "again.torrent");
        long commits = Server.Host.Service.Store.Commits;
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/torrents") { Content = form };
        request.Headers.Add(DaemonSecurity.CsrfHeader, Api.Csrf);
        using HttpResponseMessage response = await Api.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(20, body.RootElement.GetProperty("added").GetArrayLength());
        JsonElement failed = Assert.Single(body.RootElement.GetProperty("failed").EnumerateArray());
        Assert.Equal("again.torrent", failed.GetProperty("source").GetString());
        Assert.Equal(1, Server.Host.Service.Store.Commits - commits);
        Assert.Contains("twice", failed.GetProperty("error").GetString());

        await Server.RestartAsync();
        Assert.Equal(20, Server.Host.Service.List().Count);
        Assert.All(Server.Host.Service.List(), v => Assert.True(v.Paused));
    }

    [Fact]
    public async Task Adding_torrents_one_by_one_sorts_no_list_again()
    {
        // The first add after the start fills the lists (one sort each); later adds go at their ends.
        (Torrent first, _) = await TestDaemon.MakeTorrentAsync(Folder, "one0.bin", 20_000, seed: 100);
        await DaemonApi.AddAsync(Api, first.ToBytes(), new { paused = true });
        Server.Host.Service.List();
        int sorts = Server.Host.Service.Table.Sorts;
        for (int i = 1; i < 15; i++)
        {
            (Torrent t, _) = await TestDaemon.MakeTorrentAsync(Folder, $"one{i}.bin", 20_000, seed: 100 + i);
            await DaemonApi.AddAsync(Api, t.ToBytes(), new { paused = true });
        }
        Assert.Equal(sorts, Server.Host.Service.Table.Sorts);
        Assert.Equal(Enumerable.Range(0, 15).Select(i => $"one{i}.bin"), Server.Host.Service.List().Select(v => v.Name));
        Assert.Equal(Enumerable.Range(0, 15), Server.Host.Service.List().Select(v => (int)v.QueuePosition));
    }
}
