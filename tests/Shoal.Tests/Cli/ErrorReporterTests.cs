using System.Net;
using System.Net.Sockets;
using Shoal.Cli;
using Shoal.Cli.Commands;
using Shoal.Metainfo;

namespace Shoal.Tests.Cli;

public sealed class ErrorReporterTests
{
    [Fact]
    public void Corrupt_torrent_is_a_usage_error_with_its_message()
    {
        (string message, int code) = ErrorReporter.Describe(new MetainfoException("x.torrent: 'pieces' is not a multiple of 20"));
        Assert.Equal(2, code);
        Assert.Equal("x.torrent: 'pieces' is not a multiple of 20", message);
    }

    [Fact]
    public void Cli_exception_keeps_its_exit_code()
    {
        Assert.Equal(("boom", 1), ErrorReporter.Describe(new CliException("boom", ExitCodes.Failure)));
        Assert.Equal(("bad", 2), ErrorReporter.Describe(new CliException("bad")));
    }

    [Fact]
    public void Programming_errors_are_one_line_and_exit_1()
    {
        (string message, int code) = ErrorReporter.Describe(new InvalidOperationException("first\nsecond\r\nthird"));
        Assert.Equal(1, code);
        Assert.Contains("InvalidOperationException", message);
        Assert.Contains("first second third", message);
        Assert.DoesNotContain('\n', message);
        Assert.Contains("--verbose", message);
    }

    [Fact]
    public void Aggregate_with_one_inner_is_unwrapped()
    {
        (_, int code) = ErrorReporter.Describe(new AggregateException(new MetainfoException("bad")));
        Assert.Equal(2, code);
    }

    [Fact]
    public void Port_in_use_names_the_port()
    {
        using var first = new TcpListener(IPAddress.Loopback, 0);
        first.Start();
        int port = ((IPEndPoint)first.LocalEndpoint).Port;
        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        SocketException thrown = Assert.Throws<SocketException>(() => second.Bind(new IPEndPoint(IPAddress.Loopback, port)));

        CliException described = NetworkSettings.DescribeBindFailure(thrown, IPAddress.Loopback, port);

        Assert.Equal($"port {port} is already in use", described.Message);
        Assert.Equal(1, described.ExitCode);
        Assert.Equal(($"port {port} is already in use", 1), ErrorReporter.Describe(described));
    }

    [Fact]
    public void Error_line_has_the_prefix()
        => Assert.Equal("shoal: error: what is wrong", ErrorReporter.Line("what is wrong\n"));
}
