using System.Net;
using Shoal.Daemon.Security;

namespace Shoal.Tests.Daemon;

public sealed class SecurityTests
{
    [Fact]
    public void A_password_hash_is_salted_and_verifies_only_its_password()
    {
        string a = PasswordHash.Create("correct horse");
        string b = PasswordHash.Create("correct horse");
        Assert.NotEqual(a, b);
        Assert.DoesNotContain("correct", a);
        Assert.StartsWith("pbkdf2-sha512$210000$", a);
        Assert.True(PasswordHash.Verify("correct horse", a));
        Assert.False(PasswordHash.Verify("correct horsE", a));
        Assert.False(PasswordHash.Verify("x", "not a hash"));
        Assert.False(PasswordHash.IsValid("pbkdf2-sha512$1$AAAA$AAAA"));
    }

    [Fact]
    public void The_throttle_blocks_an_address_after_five_failures_and_doubles()
    {
        var time = new ManualTime();
        var throttle = new LoginThrottle(time);
        var attacker = IPAddress.Parse("10.0.0.1");
        var other = IPAddress.Parse("10.0.0.2");
        for (int i = 0; i < LoginThrottle.FreeFailures - 1; i++) throttle.Failed(attacker);
        Assert.Equal(TimeSpan.Zero, throttle.RetryAfter(attacker));
        throttle.Failed(attacker);
        Assert.Equal(TimeSpan.FromMinutes(1), throttle.RetryAfter(attacker));
        Assert.Equal(TimeSpan.Zero, throttle.RetryAfter(other));
        time.Advance(TimeSpan.FromMinutes(1));
        throttle.Failed(attacker);
        Assert.Equal(TimeSpan.FromMinutes(2), throttle.RetryAfter(attacker));
        throttle.Succeeded(attacker);
        Assert.Equal(TimeSpan.Zero, throttle.RetryAfter(attacker));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("[::1]", true)]
    [InlineData("192.168.1.10", true)]
    [InlineData("localhost", true)]
    [InlineData("box.localhost", true)]
    [InlineData("nas.home", true)]
    [InlineData("NAS.home.", true)]
    [InlineData("evil.example", false)]
    [InlineData("127.0.0.1.nip.io", false)]
    public void The_host_rule_allows_addresses_localhost_and_listed_names(string host, bool allowed)
    {
        var security = new DaemonSecurity(null, TimeProvider.System, () => ["nas.home"]);
        Assert.Equal(allowed, security.IsHostAllowed(host));
    }

    [Fact]
    public void Sessions_end_when_idle_and_stay_bounded()
    {
        var time = new ManualTime();
        var sessions = new LoginSessions(time);
        (string cookie, string csrf) = sessions.Create();
        Assert.Equal(csrf, sessions.Touch(cookie));
        time.Advance(LoginSessions.IdleTimeout + TimeSpan.FromSeconds(1));
        Assert.Null(sessions.Touch(cookie));
        string first = sessions.Create().Cookie;
        for (int i = 0; i < LoginSessions.MaxSessions; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            sessions.Create();
        }
        Assert.Null(sessions.Touch(first));
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
