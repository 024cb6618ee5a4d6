using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Shoal.Daemon.Security;

/// <summary>
/// The HTTP interface's security state: the password hash (none means no login is asked, which the daemon allows
/// only on a loopback address), login sessions, the failed-login throttle, the CSRF token of clients without a
/// session, and the Host-header rule against DNS rebinding. The native API, the dialects and the web page all use it.
/// </summary>
public sealed class DaemonSecurity
{
    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "shoal_session";

    /// <summary>The request header that carries the CSRF token on every state-changing call of the native API.</summary>
    public const string CsrfHeader = "X-Shoal-Csrf";

    /// <summary>How long a password verified once (HTTP Basic) is trusted without running the slow hash again.</summary>
    private static readonly TimeSpan CredentialCacheLifetime = TimeSpan.FromMinutes(10);

    private readonly TimeProvider _time;
    private readonly Func<IReadOnlyList<string>> _allowedHosts;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _verified = new(StringComparer.Ordinal);
    private string? _passwordHash;

    /// <summary>Creates the state; <paramref name="allowedHosts"/> reads the setting each time (it changes at run time).</summary>
    public DaemonSecurity(string? passwordHash, TimeProvider time, Func<IReadOnlyList<string>> allowedHosts)
    {
        _passwordHash = passwordHash;
        _time = time;
        _allowedHosts = allowedHosts;
        Sessions = new LoginSessions(time);
        Throttle = new LoginThrottle(time);
    }

    /// <summary>Logged-in sessions.</summary>
    public LoginSessions Sessions { get; }

    /// <summary>The failed-login throttle.</summary>
    public LoginThrottle Throttle { get; }

    /// <summary>The CSRF token of clients that have no session (no password set, or HTTP Basic).</summary>
    public string SharedCsrfToken { get; } = LoginSessions.NewToken();

    /// <summary>A password is set: every request must be logged in.</summary>
    public bool PasswordRequired => Volatile.Read(ref _passwordHash) is not null;

    /// <summary>Replaces the password hash (null: no password); every session and remembered credential ends.</summary>
    public void SetPasswordHash(string? hash)
    {
        Volatile.Write(ref _passwordHash, hash);
        Sessions.EndAll();
        lock (_gate) _verified.Clear();
    }

    /// <summary>
    /// Checks a password from <paramref name="remote"/>, counting failures in the throttle. A password accepted in the
    /// last minutes is accepted again without the slow hash (HTTP Basic clients send it with every request).
    /// </summary>
    public LoginOutcome CheckPassword(IPAddress remote, string password)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(password);
        string? hash = Volatile.Read(ref _passwordHash);
        if (hash is null) return LoginOutcome.Accepted;
        if (Throttle.RetryAfter(remote) > TimeSpan.Zero) return LoginOutcome.Throttled;
        string key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(hash + "\n" + password)));
        DateTimeOffset now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_verified.TryGetValue(key, out DateTimeOffset until) && until > now) return LoginOutcome.Accepted;
        }
        if (!PasswordHash.Verify(password, hash))
        {
            Throttle.Failed(remote);
            return LoginOutcome.Refused;
        }
        Throttle.Succeeded(remote);
        lock (_gate)
        {
            if (_verified.Count >= 64) _verified.Clear();
            _verified[key] = now + CredentialCacheLifetime;
        }
        return LoginOutcome.Accepted;
    }

    /// <summary>
    /// True when a request for host <paramref name="host"/> (the Host header's name, without port) may be answered:
    /// an IP address, "localhost" (or a name under .localhost), or a name in the allowed-hosts setting. A browser page
    /// from another name, even one that resolves to this machine (DNS rebinding), is refused.
    /// </summary>
    public bool IsHostAllowed(string? host)
    {
        if (string.IsNullOrEmpty(host)) return true; // HTTP/1.0 without Host: no browser sends that
        string name = host.TrimEnd('.');
        if (name.StartsWith('[') && name.EndsWith(']')) name = name[1..^1];
        if (IPAddress.TryParse(name, out _)) return true;
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return true;
        foreach (string allowed in _allowedHosts())
        {
            if (name.Equals(allowed.TrimEnd('.'), StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>Constant-time comparison of two tokens.</summary>
    public static bool TokensEqual(string? a, string? b)
        => a is not null && b is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
