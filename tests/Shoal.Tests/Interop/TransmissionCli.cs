using System.Globalization;

namespace Shoal.Tests.Interop;

/// <summary>
/// Runs <c>transmission-cli</c> (Transmission 3.00 on Debian) pinned to 127.0.0.1 with DHT, LPD, PEX, uTP and
/// port mapping off, through a private config folder holding its settings.json.
/// </summary>
/// <remarks>
/// transmission-cli has no switch for most of these, but it reads settings.json from its config folder (-g).
/// It never exits on its own: after completing a download it seeds, printing "Seeding, ..." status lines
/// (separated by carriage returns, which the line reader splits on), so callers wait for that line and stop it.
/// </remarks>
public static class TransmissionCli
{
    /// <summary>
    /// Starts <c>transmission-cli -g CONFIG -w DOWNLOADS -p PORT TORRENT</c>; dispose the result to kill it.
    /// <paramref name="downloadDirectory"/> may already hold the data, in which case Transmission verifies it and seeds.
    /// </summary>
    /// <remarks>
    /// <paramref name="encryption"/>: 0 prefer plaintext, 1 prefer encryption (Transmission's default), 2 require it;
    /// <paramref name="utp"/>: uTP on (Transmission's default) or off (the tests' default: TCP only).
    /// </remarks>
    public static ChildProcess Start(string torrent, string downloadDirectory, string configDirectory, int port, int encryption = 1, bool utp = false)
    {
        var environment = InteropEnvironment.Current;
        environment.Require(InteropClients.Transmission);
        Directory.CreateDirectory(configDirectory);
        Directory.CreateDirectory(downloadDirectory);
        File.WriteAllText(Path.Combine(configDirectory, "settings.json"), TransmissionSettings.Json(messageLevel: 2, encryption, utp));
        return ChildProcess.Start(environment.TransmissionCliPath!,
            ["-g", configDirectory, "-w", downloadDirectory, "-p", port.ToString(CultureInfo.InvariantCulture), torrent]);
    }

    /// <summary>True for the status line transmission-cli prints once every piece is verified.</summary>
    public static bool IsSeedingLine(string line) => line.TrimStart().StartsWith("Seeding", StringComparison.Ordinal);
}
