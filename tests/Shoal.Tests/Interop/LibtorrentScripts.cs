using System.Text.Json;

namespace Shoal.Tests.Interop;

/// <summary>Runs the python/libtorrent scripts in tests/Shoal.Tests/Interop/scripts.</summary>
public static class LibtorrentScripts
{
    /// <summary>Starts <c>python3 scripts/NAME args</c>; dispose the result to kill it.</summary>
    public static ChildProcess Start(string script, params string[] arguments)
    {
        var environment = InteropEnvironment.Current;
        environment.Require(InteropClients.Libtorrent);
        return ChildProcess.Start(environment.PythonPath!, [Path.Combine(environment.ScriptsDirectory, script), .. arguments]);
    }

    /// <summary>Runs a script to the end, bounded by <paramref name="timeout"/>.</summary>
    public static Task<ProcessResult> RunAsync(TimeSpan timeout, string script, params string[] arguments)
    {
        var environment = InteropEnvironment.Current;
        environment.Require(InteropClients.Libtorrent);
        return ChildProcess.RunAsync(environment.PythonPath!, [Path.Combine(environment.ScriptsDirectory, script), .. arguments], timeout);
    }

    /// <summary>Makes a torrent of <paramref name="path"/> with libtorrent (mode v1, hybrid or v2) and returns its info-hash.</summary>
    public static async Task<string> MakeTorrentAsync(string path, string torrentFile, string mode = "v1", int pieceSize = 0, params string[] webSeeds)
    {
        var result = await RunAsync(TimeSpan.FromSeconds(120), "lt_make.py", [path, "-o", torrentFile, "--mode", mode,
            "--piece-size", pieceSize.ToString(System.Globalization.CultureInfo.InvariantCulture), .. webSeeds.SelectMany(url => new[] { "--web-seed", url })]).ConfigureAwait(false);
        if (result.ExitCode != 0 || result.StandardOutput.Count == 0) throw new InteropException("lt_make.py failed\n" + result.Transcript);
        return result.StandardOutput[^1].Trim();
    }

    /// <summary>What libtorrent reads from <paramref name="torrentFile"/> (info-hashes, layout, flags).</summary>
    public static async Task<LibtorrentTorrentInfo> ReadTorrentAsync(string torrentFile)
    {
        var result = await RunAsync(TimeSpan.FromSeconds(60), "lt_infohash.py", torrentFile).ConfigureAwait(false);
        if (result.ExitCode != 0 || result.StandardOutput.Count == 0) throw new InteropException("libtorrent cannot read the torrent\n" + result.Transcript);
        return JsonSerializer.Deserialize<LibtorrentTorrentInfo>(result.StandardOutput[^1])
            ?? throw new InteropException("lt_infohash.py printed null\n" + result.Transcript);
    }

    /// <summary>
    /// Starts a libtorrent seeder for <paramref name="torrentFile"/> with data under <paramref name="savePath"/> and
    /// waits until it has checked the data and seeds; returns the process and its listen port.
    /// </summary>
    public static async Task<(ChildProcess Seeder, int Port)> StartSeederAsync(string torrentFile, string savePath, params string[] extra)
    {
        var seeder = Start("lt_seed.py", ["--torrent", torrentFile, "--save-path", savePath, "--timeout", "900", .. extra]);
        try
        {
            var ready = await seeder.WaitForLineAsync(l => l.StartsWith("READY ", StringComparison.Ordinal), TimeSpan.FromSeconds(120), "libtorrent seeder READY").ConfigureAwait(false);
            return (seeder, int.Parse(ready.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture));
        }
        catch
        {
            seeder.Dispose();
            throw;
        }
    }
}
