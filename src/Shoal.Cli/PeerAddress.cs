using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Cli;

/// <summary>
/// A peer given on the command line: <c>1.2.3.4:6881</c>, <c>[2001:db8::1]:6881</c> or <c>host.example:6881</c>.
/// Host names are resolved only when the peer is dialled (<see cref="ResolveAsync"/>).
/// </summary>
/// <param name="Host">An IP address literal (without brackets) or a DNS host name.</param>
/// <param name="Port">1..65535.</param>
internal sealed record PeerAddress(string Host, int Port)
{
    private const int MaxHostLength = 253;

    /// <summary>The address when <see cref="Host"/> is a literal; null for a host name.</summary>
    public IPAddress? Address => IPAddress.TryParse(Host, out IPAddress? address) ? address : null;

    /// <summary>Parses or throws a <see cref="CliException"/> (usage) saying what is wrong.</summary>
    public static PeerAddress Parse(string text)
        => TryParse(text, out PeerAddress? peer, out string? error) ? peer! : throw new CliException(error!);

    /// <summary>Parses without throwing; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string? text, out PeerAddress? peer, out string? error)
    {
        peer = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "a peer address cannot be empty (expected HOST:PORT)";
            return false;
        }
        if (text.Length > MaxHostLength + 10)
        {
            error = $"invalid peer address '{text[..20]}...': too long";
            return false;
        }

        string host;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                error = $"invalid peer address '{text}': missing ']' after the IPv6 address";
                return false;
            }
            host = text[1..close];
            if (!IPAddress.TryParse(host, out IPAddress? v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"invalid peer address '{text}': '{host}' is not an IPv6 address";
                return false;
            }
            if (close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"invalid peer address '{text}': missing port (expected [ADDRESS]:PORT)";
                return false;
            }
            portText = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                error = $"invalid peer address '{text}': missing port (expected HOST:PORT)";
                return false;
            }
            host = text[..colon];
            portText = text[(colon + 1)..];
            if (host.Contains(':'))
            {
                error = $"invalid peer address '{text}': put an IPv6 address in brackets, e.g. [::1]:6881";
                return false;
            }
            if (!IsValidIPv4OrHostName(host, out string? hostError))
            {
                error = $"invalid peer address '{text}': {hostError}";
                return false;
            }
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            error = $"invalid peer address '{text}': the port must be a number from 1 to 65535";
            return false;
        }

        peer = new PeerAddress(host, port);
        return true;
    }

    /// <summary>The address to dial; resolves a host name (IPv4 preferred). Throws <see cref="CliException"/> when it cannot.</summary>
    public async Task<IPEndPoint> ResolveAsync(CancellationToken cancellationToken)
    {
        if (Address is { } literal) return new IPEndPoint(literal, Port);
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(Host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new CliException($"cannot resolve peer host '{Host}': {ex.Message}", ExitCodes.Usage, ex);
        }
        IPAddress? chosen = Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? (addresses.Length > 0 ? addresses[0] : null);
        return chosen is null
            ? throw new CliException($"cannot resolve peer host '{Host}': no addresses", ExitCodes.Usage)
            : new IPEndPoint(chosen, Port);
    }

    /// <inheritdoc />
    public override string ToString()
        => Host.Contains(':') ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    private static bool IsValidIPv4OrHostName(string host, out string? error)
    {
        error = null;
        if (host.Length == 0)
        {
            error = "missing host before ':'";
            return false;
        }

        // IPAddress.TryParse accepts "1" or "1.2.3" as IPv4; a peer written with digits and dots only must be a full dotted quad.
        bool digitsAndDots = true;
        foreach (char c in host)
        {
            if (!char.IsAsciiDigit(c) && c != '.') { digitsAndDots = false; break; }
        }
        if (digitsAndDots)
        {
            bool ok = host.Split('.') is { Length: 4 } parts
                && Array.TrueForAll(parts, p => p.Length is > 0 and <= 3 && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
            if (!ok) error = $"'{host}' is not an IPv4 address";
            return ok;
        }

        if (host.Length > MaxHostLength)
        {
            error = "the host name is too long";
            return false;
        }
        foreach (string label in host.TrimEnd('.').Split('.'))
        {
            bool labelOk = label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-';
            foreach (char c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-') labelOk = false;
            }
            if (!labelOk)
            {
                error = $"'{host}' is not a valid host name";
                return false;
            }
        }
        return true;
    }
}
