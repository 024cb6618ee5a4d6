using System.Net;
using System.Net.Sockets;
using System.Text;
using Shoal.Cli;

namespace Shoal.Tests.Dht;

/// <summary>A <c>shoal dht</c> standalone node run in-process (as a user would start it), stopped like Ctrl+C.</summary>
internal sealed class CliDhtNode : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();

    private CliDhtNode(string[] args)
    {
        Run = Program.RunAsync(args, Output, Error, _stop.Token);
    }

    public LineWriter Output { get; } = new();

    public LineWriter Error { get; } = new();

    /// <summary>The command's exit code once it ends.</summary>
    public Task<int> Run { get; }

    /// <summary>Starts <c>shoal dht --port PORT --bind 127.0.0.1 --data-dir DIR</c> plus <paramref name="extra"/>.</summary>
    public static CliDhtNode Start(int port, string dataDir, params string[] extra)
        => new(["dht", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--data-dir", dataDir, .. extra]);

    /// <summary>Waits for the "listening on" line (or the command's end, which fails the wait).</summary>
    public async Task WaitListeningAsync()
    {
        await Eventually.TrueAsync(() => Run.IsCompleted || Output.Text.Contains(" listening on ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), () => "shoal dht never listened: " + Error.Text);
        Assert.False(Run.IsCompleted, "shoal dht ended: " + Output.Text + Error.Text);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await Run.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    /// <summary>A UDP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A text writer other threads may write while a test reads it.</summary>
    internal sealed class LineWriter : TextWriter
    {
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (_text) return _text.ToString();
            }
        }

        public override void Write(char value)
        {
            lock (_text) _text.Append(value);
        }

        public override void Write(string? value)
        {
            lock (_text) _text.Append(value);
        }

        public override void WriteLine(string? value)
        {
            lock (_text) _text.Append(value).Append('\n');
        }
    }
}
