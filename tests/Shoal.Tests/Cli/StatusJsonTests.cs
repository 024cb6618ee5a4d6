using System.Text.Json;
using Shoal.Cli;
using Shoal.Cli.Reporting;
using Shoal.Swarm;

namespace Shoal.Tests.Cli;

public sealed class StatusJsonTests
{
    private static TorrentStatus Downloading(long rate) => new(
        TorrentState.Downloading, Progress: 0.25, TotalSize: 4_000_000, VerifiedBytes: 1_000_000, Downloaded: 1_100_000, Uploaded: 300,
        DownloadRate: rate, UploadRate: 42, Peers: 3, Seeds: 1, VerifiedPieces: 4, PieceCount: 16, FailedPieces: 0, Error: null);

    [Fact]
    public void Line_parses_back_with_every_field()
    {
        string line = StatusJson.Format(Downloading(rate: 1_000_000));
        Assert.DoesNotContain('\n', line);

        using JsonDocument doc = JsonDocument.Parse(line);
        JsonElement root = doc.RootElement;
        Assert.Equal("downloading", root.GetProperty("state").GetString());
        Assert.Equal(0.25, root.GetProperty("progress").GetDouble());
        Assert.Equal(1_100_000, root.GetProperty("downloaded").GetInt64());
        Assert.Equal(300, root.GetProperty("uploaded").GetInt64());
        Assert.Equal(1_000_000, root.GetProperty("down_rate").GetInt64());
        Assert.Equal(42, root.GetProperty("up_rate").GetInt64());
        Assert.Equal(3, root.GetProperty("peers").GetInt32());
        Assert.Equal(4, root.GetProperty("verified_pieces").GetInt32());
        Assert.Equal(16, root.GetProperty("piece_count").GetInt32());
        Assert.Equal(4_000_000, root.GetProperty("total_size").GetInt64());
        Assert.Equal(3, root.GetProperty("eta_seconds").GetInt64()); // 3,000,000 bytes left at 1 MB/s
        Assert.False(root.TryGetProperty("error", out _));
    }

    [Fact]
    public void Encrypted_peers_are_counted_in_json_and_in_the_text_line()
    {
        TorrentStatus status = Downloading(0) with { Sources = new PeerSourceCounts(0, 1, 2, 0, 0, 0), EncryptedPeers = 2 };
        using JsonDocument doc = JsonDocument.Parse(StatusJson.Format(status));
        Assert.Equal(2, doc.RootElement.GetProperty("encrypted_peers").GetInt32());
        Assert.Contains("3 peers (tracker 2, incoming 1; 2 encrypted)", StatusDisplay.Describe(status));
        Assert.Contains("3 peers (tracker 2, incoming 1)", StatusDisplay.Describe(status with { EncryptedPeers = 0 }));
    }

    [Fact]
    public void Peers_and_bytes_by_transport_are_in_json_and_the_text_line()
    {
        TorrentStatus status = Downloading(0) with
        {
            Sources = new PeerSourceCounts(0, 1, 2, 0, 0, 0),
            EncryptedPeers = 1,
            Transports = new TransportCounts(TcpPeers: 1, UtpPeers: 2, TcpDownloaded: 100_000, TcpUploaded: 100, UtpDownloaded: 1_000_000, UtpUploaded: 200),
        };
        using JsonDocument doc = JsonDocument.Parse(StatusJson.Format(status));
        JsonElement transports = doc.RootElement.GetProperty("transports");
        Assert.Equal((1, 2), (transports.GetProperty("tcp_peers").GetInt32(), transports.GetProperty("utp_peers").GetInt32()));
        Assert.Equal((100_000L, 100L), (transports.GetProperty("tcp_downloaded").GetInt64(), transports.GetProperty("tcp_uploaded").GetInt64()));
        Assert.Equal((1_000_000L, 200L), (transports.GetProperty("utp_downloaded").GetInt64(), transports.GetProperty("utp_uploaded").GetInt64()));
        Assert.Contains("3 peers (tracker 2, incoming 1; 2 uTP, 1 TCP; 1 encrypted)", StatusDisplay.Describe(status));
        Assert.Contains("3 peers (tracker 2, incoming 1; 3 TCP)",
            StatusDisplay.Describe(status with { EncryptedPeers = 0, Transports = new TransportCounts(3, 0, 0, 0, 0, 0) }));
    }

    [Fact]
    public void Unknown_eta_is_null()
    {
        using JsonDocument doc = JsonDocument.Parse(StatusJson.Format(Downloading(rate: 0)));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("eta_seconds").ValueKind);
    }

    [Fact]
    public void Error_state_carries_the_error_text_escaped()
    {
        TorrentStatus status = Downloading(0) with { State = TorrentState.Error, Error = "disk full: \"/data\"\n" };
        using JsonDocument doc = JsonDocument.Parse(StatusJson.Format(status));
        Assert.Equal("error", doc.RootElement.GetProperty("state").GetString());
        Assert.Equal("disk full: \"/data\"\n", doc.RootElement.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData(TorrentState.Checking, "checking")]
    [InlineData(TorrentState.Seeding, "seeding")]
    [InlineData(TorrentState.Stopped, "stopped")]
    public void State_names_are_lower_case(TorrentState state, string name)
        => Assert.Equal(name, StatusJson.StateName(state));

    [Fact]
    public async Task Json_display_writes_one_object_per_line_and_a_last_one_on_stop()
    {
        var output = new StringWriter();
        using var stop = new CancellationTokenSource();
        int polls = 0;
        TorrentStatus Poll()
        {
            if (Interlocked.Increment(ref polls) == 2) stop.Cancel();
            return Downloading(1000);
        }

        await new JsonStatusDisplay(output, TimeSpan.FromMilliseconds(1)).RunAsync(Poll, stop.Token);

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 2);
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            Assert.Equal("downloading", doc.RootElement.GetProperty("state").GetString());
        }
    }
}
