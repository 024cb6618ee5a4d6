using System.Security.Cryptography;

namespace Shoal.Daemon.Security;

/// <summary>
/// Logged-in browser and CLI sessions: an unguessable cookie value, each with its own CSRF token. Kept in memory
/// (a restart logs everyone out), bounded (the least recently used is dropped past <see cref="MaxSessions"/>), and
/// forgotten after <see cref="IdleTimeout"/> unused. Tokens come from the OS's cryptographic generator: they are
/// secrets, not simulation choices, so the seeded Random of the engine does not apply.
/// </summary>
public sealed class LoginSessions(TimeProvider time)
{
    /// <summary>Sessions kept at most.</summary>
    public const int MaxSessions = 1024;

    /// <summary>An unused session ends after this long.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromDays(7);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>Starts a session; returns its cookie value and CSRF token.</summary>
    public (string Cookie, string Csrf) Create()
    {
        string cookie = NewToken();
        string csrf = NewToken();
        DateTimeOffset now = time.GetUtcNow();
        lock (_gate)
        {
            if (_sessions.Count >= MaxSessions)
            {
                foreach (string stale in _sessions.Where(p => now - p.Value.LastUsed > IdleTimeout).Select(p => p.Key).ToList()) _sessions.Remove(stale);
                if (_sessions.Count >= MaxSessions) _sessions.Remove(_sessions.MinBy(p => p.Value.LastUsed).Key);
            }
            _sessions[cookie] = new Session(csrf) { LastUsed = now };
        }
        return (cookie, csrf);
    }

    /// <summary>The CSRF token of a live session (and marks it used); null when the cookie is unknown or expired.</summary>
    public string? Touch(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie)) return null;
        DateTimeOffset now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_sessions.TryGetValue(cookie, out Session? session)) return null;
            if (now - session.LastUsed > IdleTimeout)
            {
                _sessions.Remove(cookie);
                return null;
            }
            session.LastUsed = now;
            return session.Csrf;
        }
    }

    /// <summary>Ends a session.</summary>
    public void End(string? cookie)
    {
        if (cookie is null) return;
        lock (_gate) _sessions.Remove(cookie);
    }

    /// <summary>Ends every session (after a password change).</summary>
    public void EndAll()
    {
        lock (_gate) _sessions.Clear();
    }

    /// <summary>A fresh 256-bit token, base64url.</summary>
    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed class Session(string csrf)
    {
        public string Csrf { get; } = csrf;
        public DateTimeOffset LastUsed { get; set; }
    }
}
