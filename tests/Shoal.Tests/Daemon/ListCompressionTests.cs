using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>
/// The torrent list is compressed for a client that asks, over real HTTP; an answer with a secret (the session's CSRF
/// token) never is.
/// </summary>
public sealed class ListCompressionTests() : DaemonApiTests("shoal-daemon-compression")
{
    [Fact]
    public async Task The_torrent_list_comes_compressed_to_a_client_that_asks_and_decompresses_to_the_same_list()
    {
        for (int i = 0; i < 30; i++)
        {
            (Shoal.Metainfo.Torrent torrent, _) = await TestDaemon.MakeTorrentAsync(Folder, $"item-{i:D2}.bin", 20_000, seed: 100 + i);
            await DaemonApi.AddAsync(Api, torrent.ToBytes(), new { paused = true });
        }

        (byte[] plain, string? plainEncoding) = await GetAsync("/api/v1/torrents", null);
        Assert.Null(plainEncoding);
        foreach (string encoding in new[] { "br", "gzip" })
        {
            (byte[] packed, string? used) = await GetAsync("/api/v1/torrents", encoding);
            Assert.Equal(encoding, used);
            Assert.True(packed.Length * 4 < plain.Length, $"{encoding}: {packed.Length} bytes for a list of {plain.Length}");
            byte[] unpacked = Decompress(packed, encoding);
            Assert.Equal(Names(plain), Names(unpacked));
        }
    }

    [Fact]
    public async Task An_answer_that_carries_the_csrf_token_is_never_compressed()
    {
        (byte[] body, string? encoding) = await GetAsync("/api/v1/session", "br, gzip");
        Assert.Null(encoding);
        using JsonDocument session = JsonDocument.Parse(body);
        Assert.False(string.IsNullOrEmpty(session.RootElement.GetProperty("csrf_token").GetString()));
    }

    private async Task<(byte[] Body, string? Encoding)> GetAsync(string path, string? acceptEncoding)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null) request.Headers.AcceptEncoding.ParseAdd(acceptEncoding);
        using HttpResponseMessage response = await Api.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ICollection<string> encodings = response.Content.Headers.ContentEncoding;
        return (await response.Content.ReadAsByteArrayAsync(), encodings.Count == 0 ? null : string.Join(",", encodings));
    }

    private static byte[] Decompress(byte[] packed, string encoding)
    {
        using var input = new MemoryStream(packed);
        using Stream decoder = encoding == "br" ? new BrotliStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }

    private static string[] Names(byte[] list)
    {
        using JsonDocument document = JsonDocument.Parse(list);
        return [.. document.RootElement.EnumerateArray().Select(t => t.GetProperty("name").GetString()!).Order(StringComparer.Ordinal)];
    }
}
