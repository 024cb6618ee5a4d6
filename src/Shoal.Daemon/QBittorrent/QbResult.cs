using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Shoal.Daemon.QBittorrent;

/// <summary>What a Web API call answers: plain text, JSON, raw bytes, or nothing (200 with an empty body).</summary>
internal sealed class QbResult
{
    private QbResult(string? text, Action<Utf8JsonWriter>? json, byte[]? bytes, string? contentType)
    {
        Text = text;
        Json = json;
        Bytes = bytes;
        ContentType = contentType;
    }

    public string? Text { get; }

    public Action<Utf8JsonWriter>? Json { get; }

    public byte[]? Bytes { get; }

    public string? ContentType { get; }

    public static QbResult Empty { get; } = new(null, null, null, null);

    public static QbResult Ok { get; } = OfText("Ok.");

    public static QbResult Fails { get; } = OfText("Fails.");

    public static QbResult OfText(string text) => new(text, null, null, "text/plain; charset=UTF-8");

    public static QbResult OfJson(Action<Utf8JsonWriter> json) => new(null, json, null, "application/json");

    public static QbResult OfBytes(byte[] bytes, string contentType) => new(null, null, bytes, contentType);

    public async Task WriteAsync(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        if (ContentType is { } type) response.ContentType = type;
        if (Text is { } text)
        {
            await response.WriteAsync(text).ConfigureAwait(false);
        }
        else if (Json is { } json)
        {
            using (var writer = new Utf8JsonWriter(response.BodyWriter))
            {
                json(writer);
            }
            await response.BodyWriter.FlushAsync().ConfigureAwait(false);
        }
        else if (Bytes is { } bytes)
        {
            await response.Body.WriteAsync(bytes).ConfigureAwait(false);
        }
    }
}
