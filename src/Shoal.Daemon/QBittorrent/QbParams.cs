using System.Globalization;
using Microsoft.AspNetCore.Http;
using Shoal.Metainfo;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// The parameters of one Web API call: the query of a GET, the form of a POST (url-encoded or multipart, with its
/// .torrent files), as qBittorrent reads them: booleans "true"/"false", lists of hashes separated by '|'.
/// </summary>
internal sealed class QbParams
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    private QbParams()
    {
    }

    /// <summary>The uploaded files (name and bytes), for torrents/add.</summary>
    public IReadOnlyList<(string Name, byte[] Data)> Files { get; private set; } = [];

    public static async Task<QbParams> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var p = new QbParams();
        foreach (var (key, value) in request.Query) p._values[key] = value.ToString();
        if (!HttpMethods.IsPost(request.Method) || !request.HasFormContentType) return p;
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw QbException.BadParams("malformed form: " + ex.Message);
        }
        foreach (var (key, value) in form) p._values[key] = value.ToString();
        var files = new List<(string, byte[])>(form.Files.Count);
        foreach (IFormFile file in form.Files)
        {
            if (file.Length > Torrent.MaxTorrentBytes) throw new QbException(StatusCodes.Status415UnsupportedMediaType, $"Error: '{file.FileName}' is not a valid torrent file.");
            using var buffer = new MemoryStream((int)file.Length);
            await file.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            files.Add((file.FileName, buffer.ToArray()));
        }
        p.Files = files;
        return p;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? this[string name] => _values.TryGetValue(name, out string? v) ? v : null;

    /// <summary>A parameter qBittorrent requires: 400 when it is missing.</summary>
    public string Required(string name) => _values.TryGetValue(name, out string? v) ? v : throw QbException.BadParams($"Missing parameter: {name}");

    public bool? Bool(string name)
    {
        if (this[name] is not { } text) return null;
        if (text.Equals("true", StringComparison.OrdinalIgnoreCase) || text == "1") return true;
        if (text.Equals("false", StringComparison.OrdinalIgnoreCase) || text == "0") return false;
        return null;
    }

    public long? Long(string name)
    {
        if (this[name] is not { Length: > 0 } text) return null;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? n
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? (long)d
            : throw QbException.BadParams($"'{name}' must be a number");
    }

    public double? Double(string name)
    {
        if (this[name] is not { Length: > 0 } text) return null;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? d
            : throw QbException.BadParams($"'{name}' must be a number");
    }

    /// <summary>A '|'-separated list (hashes, file ids); "all" stays as the single word.</summary>
    public IReadOnlyList<string> List(string name, char separator = '|')
        => Required(name).Split(separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
