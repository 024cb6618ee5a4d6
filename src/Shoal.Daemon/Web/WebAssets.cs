using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Shoal.Daemon.Web;

/// <summary>
/// The web page's files (HTML, CSS, JavaScript modules, icons), embedded in the assembly from <c>Web/wwwroot</c> and
/// loaded once at start: no build step, nothing generated on disk, nothing fetched from elsewhere.
/// </summary>
/// <remarks>
/// Every asset is served under <c>/ui/{Version}/</c>, where <see cref="Version"/> is a digest of all the files, so
/// the browser may keep them for a year (a new daemon build has another version, hence other URLs); the JavaScript
/// modules import one another by relative paths, so they stay within one version. Only the page itself
/// (<c>/</c>) is revalidated on every load, and it names the version it needs. Each file is kept as is and,
/// when that is smaller, Brotli- and gzip-compressed (about 150 KB in all).
/// </remarks>
public sealed class WebAssets
{
    /// <summary>The manifest resource prefix the project file gives the embedded files.</summary>
    public const string ResourcePrefix = "shoal-web/";

    /// <summary>The page's file, where <see cref="AssetBasePlaceholder"/> is replaced by the assets' base path.</summary>
    public const string PageName = "index.html";

    /// <summary>Stands in the page for the versioned base path of the assets (e.g. <c>/ui/1a2b3c4d5e6f/</c>).</summary>
    public const string AssetBasePlaceholder = "%ASSETS%";

    private readonly Dictionary<string, WebAsset> _files;

    private WebAssets(Dictionary<string, WebAsset> files, WebAsset page, string version)
    {
        _files = files;
        Page = page;
        Version = version;
    }

    /// <summary>A digest of every file: the path segment that makes asset URLs immutable.</summary>
    public string Version { get; }

    /// <summary>The page served at <c>/</c>, with the versioned asset paths filled in.</summary>
    public WebAsset Page { get; }

    /// <summary>The base path of the assets, with its trailing slash.</summary>
    public string AssetBase => "/ui/" + Version + "/";

    /// <summary>Names of the assets (without the page).</summary>
    public IEnumerable<string> Names => _files.Keys;

    /// <summary>The asset called <paramref name="name"/> (a path under wwwroot, '/'-separated), or null.</summary>
    public WebAsset? Find(string name) => _files.GetValueOrDefault(name);

    /// <summary>Loads the files embedded in <paramref name="assembly"/> (default: the daemon's).</summary>
    public static WebAssets Load(Assembly? assembly = null)
    {
        assembly ??= typeof(WebAssets).Assembly;
        var raw = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            using Stream stream = assembly.GetManifestResourceStream(resource)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            raw[resource[ResourcePrefix.Length..].Replace('\\', '/')] = buffer.ToArray();
        }
        if (!raw.TryGetValue(PageName, out byte[]? pageBytes))
            throw new InvalidOperationException($"the web page ({PageName}) is not embedded in {assembly.GetName().Name}");

        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach ((string name, byte[] bytes) in raw)
        {
            digest.AppendData(Encoding.UTF8.GetBytes(name));
            digest.AppendData(bytes);
        }
        string version = Convert.ToHexStringLower(digest.GetHashAndReset())[..12];
        string assetBase = "/ui/" + version + "/";

        var files = new Dictionary<string, WebAsset>(StringComparer.Ordinal);
        foreach ((string name, byte[] bytes) in raw)
        {
            if (name == PageName) continue;
            files[name] = WebAsset.Create(name, bytes);
        }
        byte[] page = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(pageBytes).Replace(AssetBasePlaceholder, assetBase, StringComparison.Ordinal));
        return new WebAssets(files, WebAsset.Create(PageName, page), version);
    }
}

/// <summary>One file of the page, ready to send: its bytes, compressed forms, type and entity tag.</summary>
/// <param name="Name">Its path under wwwroot.</param>
/// <param name="ContentType">Its media type.</param>
/// <param name="Bytes">Its content.</param>
/// <param name="Brotli">The content Brotli-compressed, when that is smaller.</param>
/// <param name="Gzip">The content gzip-compressed, when that is smaller.</param>
/// <param name="ETag">A strong entity tag (a digest of the content).</param>
public sealed record WebAsset(string Name, string ContentType, byte[] Bytes, byte[]? Brotli, byte[]? Gzip, string ETag)
{
    /// <summary>Builds the asset: type from the extension, compressed forms for text.</summary>
    public static WebAsset Create(string name, byte[] bytes)
    {
        string type = TypeOf(name);
        bool text = type.StartsWith("text/", StringComparison.Ordinal) || type.Contains("javascript", StringComparison.Ordinal)
            || type.Contains("json", StringComparison.Ordinal) || type.Contains("svg", StringComparison.Ordinal);
        byte[]? br = null, gz = null;
        if (text && bytes.Length > 512)
        {
            br = Compress(bytes, s => new BrotliStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
            gz = Compress(bytes, s => new GZipStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
            if (br.Length >= bytes.Length) br = null;
            if (gz.Length >= bytes.Length) gz = null;
        }
        string etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..20] + "\"";
        return new WebAsset(name, type, bytes, br, gz, etag);
    }

    private static byte[] Compress(byte[] bytes, Func<Stream, Stream> wrap)
    {
        using var output = new MemoryStream();
        using (Stream compressor = wrap(output)) compressor.Write(bytes);
        return output.ToArray();
    }

    private static string TypeOf(string name) => Path.GetExtension(name).ToLowerInvariant() switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".json" => "application/json; charset=utf-8",
        ".webmanifest" => "application/manifest+json; charset=utf-8",
        _ => "application/octet-stream",
    };
}
