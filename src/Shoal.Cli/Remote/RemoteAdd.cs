using System.Globalization;
using System.Net.Http.Headers;
using Shoal.Daemon.Http;
using Shoal.Daemon.Service;

namespace Shoal.Cli.Remote;

/// <summary>
/// <c>shoal add</c> of several sources: multipart requests of many torrents each, which the daemon adds in one
/// transaction (one durable commit and one queue plan per request, not per torrent). A request refused whole (every
/// source in it refused, or the daemon failed) is sent again source by source, so each refused source gets its line.
/// </summary>
internal sealed class RemoteAdd(CliContext context, DaemonClient client, RemoteAdd.Options options)
{
    /// <summary>Most sources in one request.</summary>
    public const int MaxSourcesPerRequest = 250;

    /// <summary>Most .torrent bytes in one request (the daemon takes up to 64 MiB).</summary>
    public const long MaxBytesPerRequest = 32L * 1024 * 1024;

    /// <summary>The options every source of the command shares.</summary>
    public sealed record Options(string? SavePath, bool Paused, bool Sequential, string? Category, string[] Tags, bool FirstLastPiecePriority);

    /// <summary>One source as given on the command line: a .torrent's bytes, or a magnet link, info-hash or URL.</summary>
    public sealed record Source(string Item, byte[]? Metainfo);

    /// <summary>Sources refused so far.</summary>
    public int Failures { get; private set; }

    /// <summary>The exit code of the last refusal.</summary>
    public int LastExitCode { get; private set; }

    /// <summary>Adds every source, printing a line per torrent added and per source refused.</summary>
    public async Task AddAsync(IReadOnlyList<Source> sources, CancellationToken cancellationToken)
    {
        if (sources.Count == 1)
        {
            // One source: its refusal is the command's error.
            await AddAloneAsync(sources[0], single: true, cancellationToken).ConfigureAwait(false);
            return;
        }
        var chunk = new List<Source>();
        long bytes = 0;
        foreach (Source source in sources)
        {
            long size = source.Metainfo?.Length ?? source.Item.Length;
            if (chunk.Count > 0 && (chunk.Count == MaxSourcesPerRequest || bytes + size > MaxBytesPerRequest))
            {
                await AddChunkAsync(chunk, cancellationToken).ConfigureAwait(false);
                chunk.Clear();
                bytes = 0;
            }
            chunk.Add(source);
            bytes += size;
        }
        if (chunk.Count > 0) await AddChunkAsync(chunk, cancellationToken).ConfigureAwait(false);
    }

    private async Task AddChunkAsync(List<Source> chunk, CancellationToken cancellationToken)
    {
        // Parts are named by their place in the chunk, so a refusal names the source as the user gave it.
        var form = new MultipartFormDataContent();
        var urls = new List<string>();
        for (int i = 0; i < chunk.Count; i++)
        {
            if (chunk[i].Metainfo is { } metainfo)
            {
                var part = new ByteArrayContent(metainfo);
                part.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
                form.Add(part, "torrents", i.ToString(CultureInfo.InvariantCulture) + ".torrent");
            }
            else
            {
                urls.Add(chunk[i].Item);
            }
        }
        if (urls.Count > 0) form.Add(new StringContent(string.Join('\n', urls)), "urls");
        if (options.SavePath is { } path) form.Add(new StringContent(path), "save_path");
        if (options.Paused) form.Add(new StringContent("true"), "paused");
        if (options.Sequential) form.Add(new StringContent("true"), "sequential");
        if (options.FirstLastPiecePriority) form.Add(new StringContent("true"), "first_last_piece_priority");
        if (options.Category is { } category) form.Add(new StringContent(category), "category");
        if (options.Tags.Length > 0) form.Add(new StringContent(string.Join(',', options.Tags)), "tags");
        AddResult result;
        try
        {
            result = await client.PostFormAsync("api/v1/torrents", form, ApiJson.Default.AddResult, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException)
        {
            // Nothing of the chunk was added: each source alone says why.
            foreach (Source source in chunk) await AddAloneAsync(source, single: false, cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (TorrentView t in result.Added) await PrintAsync(t).ConfigureAwait(false);
        foreach (AddFailure failure in result.Failed)
        {
            string item = failure.Source.EndsWith(".torrent", StringComparison.Ordinal)
                && int.TryParse(failure.Source.AsSpan(0, failure.Source.Length - 8), NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < chunk.Count
                ? chunk[index].Item : failure.Source;
            Refused(item, failure.Error, DaemonClient.ExitCodeOf(failure.Status));
        }
    }

    private async Task AddAloneAsync(Source source, bool single, CancellationToken cancellationToken)
    {
        var request = new AddRequest(
            Uri: source.Metainfo is null ? source.Item : null,
            Metainfo: source.Metainfo is { } bytes ? Convert.ToBase64String(bytes) : null,
            SavePath: options.SavePath,
            Paused: options.Paused,
            Sequential: options.Sequential,
            Category: options.Category,
            Tags: options.Tags,
            FirstLastPiecePriority: options.FirstLastPiecePriority);
        AddResult added;
        try
        {
            added = await client.PostAsync("api/v1/torrents", request, ApiJson.Default.AddRequest, ApiJson.Default.AddResult, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException ex) when (!single)
        {
            Refused(source.Item, ex.Message, ex.ExitCode);
            return;
        }
        foreach (TorrentView t in added.Added) await PrintAsync(t).ConfigureAwait(false);
    }

    private void Refused(string item, string message, int exitCode)
    {
        Failures++;
        LastExitCode = exitCode;
        context.WriteError($"{item}: {message}");
    }

    private Task PrintAsync(TorrentView t) => context.Out.WriteLineAsync($"added {t.Id}: {t.Name} ({t.InfoHash}), {ServiceJson.Name(t.State)}");
}
