using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

/// <summary>
/// A test's temporary folder and the real sessions it starts on 127.0.0.1 (any free port, no DHT, no local discovery,
/// no port mapping: nothing leaves the machine). Disposing stops every session still running and deletes the folder.
/// </summary>
internal sealed class LoopbackSessions : IDisposable
{
    /// <summary>The piece length of the torrents <see cref="CreateTorrentAsync"/> makes.</summary>
    public const int PieceLength = 64 * 1024;

    private readonly List<ShoalSession> _sessions = [];

    /// <summary>Creates the folder, named from <paramref name="prefix"/>.</summary>
    public LoopbackSessions(string prefix) => Root = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The folder's full path; everything the test writes goes below it.</summary>
    public string Root { get; }

    /// <summary>Path.Combine(<see cref="Root"/>, parts).</summary>
    public string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>Starts a session on 127.0.0.1 with the quiet options, changed by <paramref name="configure"/>; it is stopped on dispose.</summary>
    public async Task<ShoalSession> StartAsync(Func<SessionOptions, SessionOptions>? configure = null)
    {
        var quiet = new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableLocalDiscovery = false,
            EnableDht = false,
            EnablePortMapping = false,
        };
        ShoalSession session = await ShoalSession.StartAsync(configure?.Invoke(quiet) ?? quiet);
        _sessions.Add(session);
        return session;
    }

    /// <summary>Stops <paramref name="session"/> now (a restart in the middle of a test).</summary>
    public async Task StopAsync(ShoalSession session)
    {
        await session.DisposeAsync();
        _sessions.Remove(session);
    }

    /// <summary>
    /// Writes <paramref name="files"/> of random bytes drawn in order from <c>new Random(<paramref name="seed"/>)</c> under
    /// <see cref="Root"/>/<paramref name="folder"/> and makes a torrent of them in <see cref="PieceLength"/> pieces: one
    /// file stands right in the folder, several (names may hold subfolders) under its "content" folder. Returns the
    /// torrent and the folder, its download directory.
    /// </summary>
    public async Task<(Torrent Torrent, string SeedDir)> CreateTorrentAsync(string folder, int seed, params (string Name, int Length)[] files)
    {
        string dir = Combine(folder);
        string content = files.Length == 1 ? dir : Path.Combine(dir, "content");
        var random = new Random(seed);
        foreach ((string name, int length) in files)
        {
            string path = Path.Combine(content, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            byte[] data = new byte[length];
            random.NextBytes(data);
            await File.WriteAllBytesAsync(path, data);
        }
        string source = files.Length == 1 ? Path.Combine(dir, files[0].Name) : content;
        return (await TorrentCreator.CreateAsync(source, new TorrentCreationOptions { PieceLength = PieceLength }), dir);
    }

    /// <summary>Waits up to 90 seconds for <paramref name="task"/>; fails the test with <paramref name="failure"/> past that.</summary>
    public static async Task WaitAsync(Task task, string failure)
    {
        Task first = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(90)));
        Assert.True(first == task, failure);
        await task;
    }

    public void Dispose()
    {
        foreach (ShoalSession session in _sessions) session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(Root, recursive: true);
    }
}
