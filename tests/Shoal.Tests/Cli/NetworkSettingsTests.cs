using System.CommandLine;
using System.Net;
using Shoal.Cli.Commands;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Cli;

public sealed class NetworkSettingsTests
{
    private static NetworkSettings Settings(int maxConnections = 0, int uploadSlots = 0) =>
        new(0, IPAddress.Loopback, 0, 0, [], [], Quiet: true, Json: false, NoDht: true, NoLsd: true,
            MaxConnections: maxConnections, UploadSlots: uploadSlots);

    [Fact]
    public void Max_connections_caps_the_torrent_and_the_session()
    {
        SessionOptions options = Settings(maxConnections: 7).ToSessionOptions();
        Assert.Equal(7, options.MaxConnectionsPerTorrent);
        Assert.Equal(7, options.MaxConnections);
    }

    [Fact]
    public void Upload_slots_set_the_regular_unchoke_slots()
    {
        Assert.Equal(9, Settings(uploadSlots: 9).ToSessionOptions().UnchokeSlots);
    }

    [Fact]
    public void Unset_limits_keep_the_session_defaults()
    {
        var defaults = new SessionOptions();
        SessionOptions options = Settings().ToSessionOptions();
        Assert.Equal(defaults.MaxConnections, options.MaxConnections);
        Assert.Equal(defaults.MaxConnectionsPerTorrent, options.MaxConnectionsPerTorrent);
        Assert.Equal(defaults.UnchokeSlots, options.UnchokeSlots);
    }

    private static NetworkSettings Parse(params string[] args)
    {
        var options = new NetworkOptions();
        var command = new Command("get");
        options.AddTo(command);
        ParseResult result = command.Parse(args);
        Assert.Empty(result.Errors);
        return options.Read(result);
    }

    [Theory]
    [InlineData(new string[0], EncryptionMode.Prefer)]
    [InlineData(new[] { "--encryption", "require" }, EncryptionMode.Require)]
    [InlineData(new[] { "--encryption", "DISABLE" }, EncryptionMode.Disable)]
    [InlineData(new[] { "--encryption", "prefer" }, EncryptionMode.Prefer)]
    public void Encryption_sets_the_sessions_mode(string[] args, EncryptionMode expected)
    {
        Assert.Equal(expected, Parse(args).ToSessionOptions().Encryption);
    }

    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "--no-port-mapping" }, false)]
    public void Port_mapping_is_on_unless_turned_off(string[] args, bool expected)
    {
        Assert.Equal(expected, Parse(args).ToSessionOptions().EnablePortMapping);
    }

    [Theory]
    [InlineData(new string[0], true, true)]
    [InlineData(new[] { "--no-utp" }, false, true)]
    [InlineData(new[] { "--utp-only" }, true, false)]
    public void Utp_and_tcp_are_both_on_unless_one_is_turned_off(string[] args, bool utp, bool tcp)
    {
        SessionOptions options = Parse(args).ToSessionOptions();
        Assert.Equal((utp, tcp), (options.EnableUtp, options.EnableTcp));
    }

    [Fact]
    public void No_utp_and_utp_only_together_are_an_error()
    {
        var command = new Command("get");
        new NetworkOptions().AddTo(command);
        ParseResult result = command.Parse(["--no-utp", "--utp-only"]);
        Assert.Contains(result.Errors, e => e.Message.Contains("--no-utp and --utp-only", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new string[0], StorageOptions.DefaultOsCacheWindow)]
    [InlineData(new[] { "--os-cache", "16MiB" }, 16L * 1024 * 1024)]
    [InlineData(new[] { "--os-cache", "0" }, 0L)]
    [InlineData(new[] { "--os-cache", "all" }, null)]
    [InlineData(new[] { "--os-cache", "ALL" }, null)]
    public void Os_cache_sets_the_window_of_every_torrent(string[] args, long? expected)
    {
        Assert.Equal(expected, Parse(args).ToSessionOptions().OsCacheWindow);
    }
}
