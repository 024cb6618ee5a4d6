namespace Shoal.Cli.Demo;

/// <summary>What <c>shoal demo</c> runs.</summary>
/// <param name="Leechers">Number of downloading peers.</param>
/// <param name="Size">Bytes of the generated file.</param>
/// <param name="UploadRate">Upload cap of every peer, bytes per second (0 = unlimited).</param>
/// <param name="PieceLength">Piece length, or null to let the creator choose.</param>
/// <param name="Timeout">Give up when the swarm has not finished by then.</param>
internal sealed record DemoSettings(int Leechers, long Size, long UploadRate, int? PieceLength, TimeSpan Timeout)
{
    /// <summary>Seed of the generator of the file's bytes, so every run shares the same content.</summary>
    public const int ContentSeed = 20_240_601;

    /// <summary>Time one server with the seeder's upload capacity needs to send every leecher a copy; null when uncapped.</summary>
    public TimeSpan? SingleServerTime => UploadRate > 0
        ? TimeSpan.FromSeconds((double)Leechers * Size / UploadRate)
        : null;
}
