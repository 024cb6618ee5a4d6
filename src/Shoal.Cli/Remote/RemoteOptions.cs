using System.CommandLine;

namespace Shoal.Cli.Remote;

/// <summary>The options every client verb takes: where the daemon is, and where its password comes from.</summary>
internal sealed class RemoteOptions
{
    private readonly Option<Uri> _remote = new("--remote")
    {
        Description = "The daemon's address",
        HelpName = "URL",
        DefaultValueFactory = _ => DaemonClient.DefaultRemote,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!text.Contains("://", StringComparison.Ordinal)) text = "http://" + text;
            if (Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https")
                return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
            result.AddError($"--remote: '{text}' is not an http(s) URL");
            return DaemonClient.DefaultRemote;
        },
    };

    private readonly Option<string?> _passwordFile = new("--password-file")
    {
        Description = $"File whose first line is the daemon's password (default: ${PasswordSource.EnvironmentVariable})",
        HelpName = "FILE",
    };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(_remote);
        command.Options.Add(_passwordFile);
    }

    /// <summary>Connects to the daemon the options name.</summary>
    public Task<DaemonClient> ConnectAsync(ParseResult result, CancellationToken cancellationToken)
        => DaemonClient.ConnectAsync(result.GetValue(_remote)!, PasswordSource.Read(result.GetValue(_passwordFile)), cancellationToken);
}
