using System.Buffers;
using System.Text;
using System.Text.Json;
using Shoal.Swarm;

namespace Shoal.Cli;

/// <summary>
/// One torrent status as a single-line JSON object (the <c>--json</c> output):
/// <c>{"state":"downloading","progress":0.42,"downloaded":..,"uploaded":..,"down_rate":..,"up_rate":..,
/// "peers":..,"seeds":..,"encrypted_peers":..,"verified_pieces":..,"piece_count":..,"failed_pieces":..,"total_size":..,
/// "eta_seconds":12|null,"peer_sources":{..},"transports":{"tcp_peers":..,"utp_peers":..,"tcp_downloaded":..,"tcp_uploaded":..,
/// "utp_downloaded":..,"utp_uploaded":..}}</c>, plus <c>"web_seeds":{"total":..,"connected":..,"failing":..,"dropped":..}</c>
/// when the torrent has web seeds and <c>"error"</c> when the torrent stopped on one.
/// </summary>
internal static class StatusJson
{
    /// <summary>The JSON text of <paramref name="status"/>, without a line break.</summary>
    public static string Format(TorrentStatus status)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            Write(writer, status);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the status object to <paramref name="writer"/>.</summary>
    public static void Write(Utf8JsonWriter writer, TorrentStatus status)
    {
        writer.WriteStartObject();
        writer.WriteString("state", StateName(status.State));
        writer.WriteNumber("progress", double.IsFinite(status.Progress) ? Math.Clamp(status.Progress, 0, 1) : 0);
        writer.WriteNumber("downloaded", status.Downloaded);
        writer.WriteNumber("uploaded", status.Uploaded);
        writer.WriteNumber("down_rate", status.DownloadRate);
        writer.WriteNumber("up_rate", status.UploadRate);
        writer.WriteNumber("peers", status.Peers);
        writer.WriteNumber("seeds", status.Seeds);
        writer.WriteNumber("encrypted_peers", status.EncryptedPeers);
        writer.WriteNumber("verified_pieces", status.VerifiedPieces);
        writer.WriteNumber("piece_count", status.PieceCount);
        if (status.State == TorrentState.Checking) writer.WriteNumber("checked_pieces", status.CheckedPieces);
        writer.WriteNumber("failed_pieces", status.FailedPieces);
        writer.WriteNumber("total_size", status.TotalSize);
        if (status.Eta is { } eta && eta.TotalSeconds < long.MaxValue)
        {
            writer.WriteNumber("eta_seconds", (long)Math.Ceiling(eta.TotalSeconds));
        }
        else
        {
            writer.WriteNull("eta_seconds");
        }
        PeerSourceCounts sources = status.Sources ?? PeerSourceCounts.None;
        writer.WriteStartObject("peer_sources");
        writer.WriteNumber("tracker", sources.Tracker);
        writer.WriteNumber("dht", sources.Dht);
        writer.WriteNumber("pex", sources.Pex);
        writer.WriteNumber("lsd", sources.Lsd);
        writer.WriteNumber("manual", sources.Manual);
        writer.WriteNumber("incoming", sources.Incoming);
        writer.WriteEndObject();
        if (status.WebSeeds is { Total: > 0 } webSeeds)
        {
            writer.WriteStartObject("web_seeds");
            writer.WriteNumber("total", webSeeds.Total);
            writer.WriteNumber("connected", webSeeds.Connected);
            writer.WriteNumber("failing", webSeeds.Failing);
            writer.WriteNumber("dropped", webSeeds.Dropped);
            writer.WriteEndObject();
        }
        TransportCounts transports = status.Transports ?? TransportCounts.None;
        writer.WriteStartObject("transports");
        writer.WriteNumber("tcp_peers", transports.TcpPeers);
        writer.WriteNumber("utp_peers", transports.UtpPeers);
        writer.WriteNumber("tcp_downloaded", transports.TcpDownloaded);
        writer.WriteNumber("tcp_uploaded", transports.TcpUploaded);
        writer.WriteNumber("utp_downloaded", transports.UtpDownloaded);
        writer.WriteNumber("utp_uploaded", transports.UtpUploaded);
        writer.WriteEndObject();
        if (status.Error is { } error) writer.WriteString("error", error);
        writer.WriteEndObject();
    }

    /// <summary>The lower-case name used in JSON and plain output.</summary>
    public static string StateName(TorrentState state) => state switch
    {
        TorrentState.FetchingMetadata => "metadata",
        TorrentState.Checking => "checking",
        TorrentState.Downloading => "downloading",
        TorrentState.Seeding => "seeding",
        TorrentState.Paused => "paused",
        TorrentState.Stopped => "stopped",
        TorrentState.Error => "error",
        _ => state.ToString().ToLowerInvariant(),
    };
}
