namespace Shoal.Tests.Interop;

/// <summary>
/// The settings.json every Shoal run of transmission-cli uses (interop tests and the benchmark, which compiles
/// this file too): loopback only, with DHT, LPD, PEX, uTP, port mapping, the blocklist and every limit off.
/// </summary>
public static class TransmissionSettings
{
    /// <summary>
    /// The file's text; <paramref name="messageLevel"/> is how much transmission-cli logs (0 none .. 3 debug),
    /// <paramref name="encryption"/> its peer encryption (0 prefer plaintext, 1 prefer encryption, 2 require it),
    /// <paramref name="utp"/> whether it speaks uTP (off unless a test is about uTP).
    /// </summary>
    public static string Json(int messageLevel, int encryption = 1, bool utp = false) => $$"""
        {
          "dht-enabled": false,
          "lpd-enabled": false,
          "pex-enabled": false,
          "utp-enabled": {{(utp ? "true" : "false")}},
          "port-forwarding-enabled": false,
          "blocklist-enabled": false,
          "bind-address-ipv4": "127.0.0.1",
          "bind-address-ipv6": "::1",
          "encryption": {{encryption}},
          "message-level": {{messageLevel}},
          "ratio-limit-enabled": false,
          "speed-limit-up-enabled": false,
          "speed-limit-down-enabled": false
        }
        """;
}
