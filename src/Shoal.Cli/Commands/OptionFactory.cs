using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Shoal.Transport.Encryption;

namespace Shoal.Cli.Commands;

/// <summary>Builds options whose values are parsed by the CLI's own parsers, so bad values are parse errors (exit 2).</summary>
internal static class OptionFactory
{
    /// <summary>
    /// A size or rate option (see <see cref="SizeParser"/>); 0 when absent unless a default is given. With
    /// <paramref name="unlimitedWord"/> it also takes that word, read as <see cref="Unlimited"/> (a null from a custom
    /// parser is not a value to System.CommandLine, hence the sentinel); such an option has no default, the caller
    /// tells "absent" by <see cref="ParseResult.GetResult(Option)"/> and names its default in the description.
    /// </summary>
    public static Option<long> Size(string name, string description, long? defaultValue = null, string? unlimitedWord = null)
    {
        var option = new Option<long>(name)
        {
            Description = description,
            HelpName = unlimitedWord is null ? "SIZE" : "SIZE|" + unlimitedWord,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (unlimitedWord is not null && text.Equals(unlimitedWord, StringComparison.OrdinalIgnoreCase)) return Unlimited;
                if (SizeParser.TryParse(text, out long value, out string? error)) return value;
                result.AddError(unlimitedWord is null ? $"{name}: {error}" : $"{name}: {error} or '{unlimitedWord}'");
                return 0;
            },
        };
        if (defaultValue is { } d) option.DefaultValueFactory = _ => d;
        return option;
    }

    /// <summary>What <see cref="Size"/> reads its unlimited word as.</summary>
    public const long Unlimited = -1;

    /// <summary>A TCP port option, 0..65535 (0 picks a free port).</summary>
    public static Option<int> Port(int defaultValue)
    {
        var option = new Option<int>("--port")
        {
            Description = "TCP port to listen on (0 picks a free port)",
            HelpName = "N",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= 65535) return port;
                result.AddError($"--port: '{text}' is not a port number (0 to 65535)");
                return 0;
            },
        };
        return option;
    }

    /// <summary>A positive integer option within [min, max].</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min, int max)
    {
        return new Option<int>(name)
        {
            Description = description,
            HelpName = "N",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max) return value;
                result.AddError($"{name}: '{text}' must be a whole number from {min} to {max}");
                return defaultValue;
            },
        };
    }

    /// <summary><c>--encryption prefer|require|disable</c> (MSE/PE); prefer when absent.</summary>
    public static Option<EncryptionMode> Encryption()
    {
        return new Option<EncryptionMode>("--encryption")
        {
            Description = "Message stream encryption (MSE/PE): 'prefer' dials encrypted first and falls back to plain, accepting both; " +
                          "'require' makes and accepts only encrypted connections; 'disable' only plain ones (default: prefer)",
            HelpName = "prefer|require|disable",
            DefaultValueFactory = _ => EncryptionMode.Prefer,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                switch (text.ToLowerInvariant())
                {
                    case "prefer": return EncryptionMode.Prefer;
                    case "require": return EncryptionMode.Require;
                    case "disable": return EncryptionMode.Disable;
                }
                result.AddError($"--encryption: '{text}' is not one of prefer, require, disable");
                return EncryptionMode.Prefer;
            },
        };
    }

    /// <summary>An IP address option (the listener's bind address).</summary>
    public static Option<IPAddress?> Address(string name, string description)
    {
        return new Option<IPAddress?>(name)
        {
            Description = description,
            HelpName = "ADDRESS",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (IPAddress.TryParse(text, out IPAddress? address) && (text.Contains(':') || text.Count(c => c == '.') == 3)) return address;
                result.AddError($"{name}: '{text}' is not an IP address");
                return null;
            },
        };
    }

    /// <summary>A repeatable HOST:PORT option.</summary>
    public static Option<PeerAddress[]> Peers()
    {
        return new Option<PeerAddress[]>("--peer")
        {
            Description = "Peer to connect to, HOST:PORT or [IPv6]:PORT (repeatable)",
            HelpName = "HOST:PORT",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
            DefaultValueFactory = _ => [],
            CustomParser = result =>
            {
                var peers = new List<PeerAddress>(result.Tokens.Count);
                foreach (Token token in result.Tokens)
                {
                    if (PeerAddress.TryParse(token.Value, out PeerAddress? peer, out string? error))
                    {
                        peers.Add(peer!);
                    }
                    else
                    {
                        result.AddError($"--peer: {error}");
                        return [];
                    }
                }
                return [.. peers];
            },
        };
    }

    /// <summary>A repeatable tracker URL option (http, https or udp).</summary>
    public static Option<string[]> Trackers(string description) =>
        Urls("--tracker", description, ["http", "https", "udp"], "an http://, https:// or udp:// tracker URL");

    /// <summary>A repeatable web seed URL option (BEP 19 'url-list': http or https).</summary>
    public static Option<string[]> WebSeeds(string description) =>
        Urls("--web-seed", description, ["http", "https"], "an http:// or https:// URL");

    /// <summary>A repeatable absolute URL option whose scheme is one of <paramref name="schemes"/> and which names a host.</summary>
    private static Option<string[]> Urls(string name, string description, string[] schemes, string expected)
    {
        return new Option<string[]>(name)
        {
            Description = description,
            HelpName = "URL",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
            DefaultValueFactory = _ => [],
            CustomParser = result =>
            {
                var urls = new List<string>(result.Tokens.Count);
                foreach (Token token in result.Tokens)
                {
                    if (!Uri.TryCreate(token.Value, UriKind.Absolute, out Uri? uri)
                        || !schemes.Contains(uri.Scheme)
                        || string.IsNullOrEmpty(uri.Host))
                    {
                        result.AddError($"{name}: '{token.Value}' is not {expected}");
                        return [];
                    }
                    urls.Add(token.Value);
                }
                return [.. urls];
            },
        };
    }

    /// <summary>
    /// --data-dir: shoal's own state (fast-resume files in resume/, DHT ids and routing tables in dht/). See
    /// <see cref="ShoalDataDirectory"/> for the default.
    /// </summary>
    public static Option<string?> DataDirectory() => new("--data-dir")
    {
        Description = "Folder for shoal's own state: resume/ and dht/ (default: $SHOAL_DATA_DIR, else $XDG_DATA_HOME/shoal, else ~/.local/share/shoal)",
        HelpName = "DIR",
    };

    /// <summary>A duration option (see <see cref="DurationParser"/>); null when absent.</summary>
    public static Option<TimeSpan?> Duration(string name, string description)
    {
        return new Option<TimeSpan?>(name)
        {
            Description = description,
            HelpName = "DURATION",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (DurationParser.TryParse(text, out TimeSpan value, out string? error)) return value;
                result.AddError($"{name}: {error}");
                return null;
            },
        };
    }
}
