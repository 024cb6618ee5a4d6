using System.Net;
using Microsoft.Extensions.Logging;
using Shoal.Daemon;
using Shoal.Metainfo;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>
/// A daemon in this process on 127.0.0.1 (HTTP and peer ports picked free), with its data and downloads in a
/// temporary folder, DHT and local discovery off. <see cref="RestartAsync"/> stops it and starts another on the
/// same folders.
/// </summary>
internal sealed class TestDaemon : IAsyncDisposable
{
    private TestDaemon(TempFolder folder, DaemonOptions options, DaemonHost host)
    {
        Folder = folder;
        Options = options;
        Host = host;
    }

    public TempFolder Folder { get; }

    public DaemonOptions Options { get; private set; }

    public DaemonHost Host { get; private set; }

    public Uri Address => Host.WebAddress;

    public string Downloads => Options.DefaultSavePath!;

    public static async Task<TestDaemon> StartAsync(TempFolder folder, Func<DaemonOptions, DaemonOptions>? configure = null)
    {
        var options = new DaemonOptions
        {
            DataDirectory = folder.Combine("data"),
            DefaultSavePath = folder.Combine("downloads"),
            PeerPort = 0,
            PeerBind = IPAddress.Loopback,
            WebPort = 0,
            SettingOverrides = new Dictionary<string, string> { ["dht"] = "false", ["lsd"] = "false" },
            MinimumLogLevel = LogLevel.Warning,
        };
        options = configure?.Invoke(options) ?? options;
        return new TestDaemon(folder, options, await DaemonHost.StartAsync(options));
    }

    /// <summary>Stops the daemon cleanly and starts a new one on the same folders (the same options, without the password to set).</summary>
    public async Task RestartAsync()
    {
        await Host.DisposeAsync();
        Options = Options with { Password = null };
        Host = await DaemonHost.StartAsync(Options);
    }

    public ApiClient Client() => new(Address);

    /// <summary>Writes a file of random bytes and a torrent of it (single file) in the test folder; returns the torrent.</summary>
    public static async Task<(Torrent Torrent, string Content)> MakeTorrentAsync(TempFolder folder, string name, int bytes, int seed, int pieceLength = 16384, string? into = null)
    {
        string content = Path.Combine(into ?? folder.Combine("source"), name);
        TestContent.WriteRandomFile(content, bytes, new Random(seed));
        Torrent torrent = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = pieceLength });
        return (torrent, content);
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
