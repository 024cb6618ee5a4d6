using Shoal.Cli;
using Shoal.Cli.Commands;

namespace Shoal.Tests.Cli;

public sealed class ShoalDataDirectoryTests
{
    private static string Resolve(string? option, params (string Key, string Value)[] environment)
    {
        var variables = environment.ToDictionary(e => e.Key, e => e.Value);
        return ShoalDataDirectory.Resolve(option, key => variables.GetValueOrDefault(key), "/home/u");
    }

    [Fact]
    public void Option_wins_over_the_environment()
        => Assert.Equal("/srv/shoal", Resolve("/srv/shoal", ("SHOAL_DATA_DIR", "/env"), ("XDG_DATA_HOME", "/xdg")));

    [Fact]
    public void Shoal_data_dir_wins_over_xdg()
        => Assert.Equal("/env", Resolve(null, ("SHOAL_DATA_DIR", "/env"), ("XDG_DATA_HOME", "/xdg")));

    [Fact]
    public void Xdg_data_home_is_followed()
        => Assert.Equal("/xdg/shoal", Resolve(null, ("XDG_DATA_HOME", "/xdg")));

    [Fact]
    public void A_relative_xdg_data_home_is_ignored_as_the_spec_says()
        => Assert.Equal("/home/u/.local/share/shoal", Resolve(null, ("XDG_DATA_HOME", "relative/path")));

    [Fact]
    public void Default_is_local_share_under_home()
        => Assert.Equal("/home/u/.local/share/shoal", Resolve(null));

    [Fact]
    public void Resume_and_dht_live_under_the_data_folder()
    {
        Assert.Equal("/d/resume", ShoalDataDirectory.Resume("/d"));
        Assert.Equal("/d/dht", ShoalDataDirectory.Dht("/d"));
    }

    [Fact]
    public void The_cli_session_keeps_resume_and_dht_state_in_the_data_folder()
    {
        var settings = new NetworkSettings(6881, System.Net.IPAddress.Loopback, 0, 0, [], [], Quiet: true, Json: false, DataDirectory: "/d");
        Shoal.Swarm.SessionOptions options = settings.ToSessionOptions();
        Assert.Equal("/d/resume", options.ResumeDirectory);
        Assert.Equal("/d/dht/port-6881", options.Dht!.DataDirectory);
    }

    [Fact]
    public void Tests_run_with_a_temporary_data_folder()
    {
        // The module initializer's safety net: nothing the suite runs falls back to the user's home.
        string resolved = ShoalDataDirectory.Resolve(null);
        Assert.Equal(TestDataDirectory.Path, resolved);
        Assert.StartsWith(Path.GetTempPath(), resolved, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("~", "")]
    [InlineData("~/Downloads", "Downloads")]
    public void Tilde_expands_to_home(string path, string under)
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(under.Length == 0 ? home : Path.Combine(home, under), PathArguments.ExpandHome(path));
    }

    [Theory]
    [InlineData("~user/x")]
    [InlineData("a/~/b")]
    [InlineData("/abs")]
    public void Other_tildes_are_left_alone(string path) => Assert.Equal(path, PathArguments.ExpandHome(path));
}
