using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>GET /stream/{hash}/{file}: byte ranges of a file served while it is still downloading, over real HTTP.</summary>
public sealed class DaemonStreamTests() : DaemonApiTests("shoal-daemon-stream")
{
    [Fact]
    public async Task A_range_near_the_end_of_a_file_still_downloading_comes_back_right_before_the_download_ends()
    {
        // 6 MiB at 600 KiB/s: about ten seconds of download; the range is asked for at once.
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "film.mp4", 6 << 20, seed: 11, uploadRate: 600 * 1024);
        long id = await DaemonApi.AddAsync(Api, seed.Torrent.ToBytes());
        string hash = seed.Torrent.InfoHash.ToHex();
        await DaemonApi.WaitForStateAsync(Api, id, "downloading");

        byte[] source = await File.ReadAllBytesAsync(seed.Content);
        const long first = 5_000_000, last = 5_300_000;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/stream/{hash}/0");
        request.Headers.Range = new RangeHeaderValue(first, last);
        using HttpResponseMessage response = await Api.Http.SendAsync(request).WaitAsync(TimeSpan.FromSeconds(60));
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        double progressAtAnswer = (await Api.TorrentAsync(id)).GetProperty("progress").GetDouble();

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {first}-{last}/{source.Length}", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal("video/mp4", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(source.AsSpan((int)first, (int)(last - first + 1)).ToArray(), body);
        Assert.True(progressAtAnswer < 1, "the whole file had arrived before the range was served");

        // Past the end: unsatisfiable, with the length; a file the torrent does not have: not found.
        using var beyond = new HttpRequestMessage(HttpMethod.Get, $"/stream/{hash}/0");
        beyond.Headers.Range = new RangeHeaderValue(source.Length + 10, null);
        using HttpResponseMessage refused = await Api.Http.SendAsync(beyond);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, refused.StatusCode);
        Assert.Equal($"bytes */{source.Length}", refused.Content.Headers.ContentRange!.ToString());
        (HttpStatusCode missing, JsonElement error) = await Api.GetAsync($"/stream/{hash}/3");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Contains("no file 3", error.GetProperty("error").GetString());

        // The whole file, without a range, once it is complete.
        await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        using HttpResponseMessage whole = await Api.Http.GetAsync($"/stream/{hash}/0");
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("bytes", whole.Headers.AcceptRanges.Single());
        Assert.Equal(source, await whole.Content.ReadAsByteArrayAsync());
    }
}
