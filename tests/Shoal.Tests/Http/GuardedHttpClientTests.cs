using System.Net;
using Shoal.Http;
using Shoal.Tests.WebSeeds;

namespace Shoal.Tests.Http;

/// <summary>
/// The SSRF mitigation's HTTP client on its own, against a real server on 127.0.0.1: the spellings of "this machine"
/// a URL can use, the redirect bound, and the switch.
/// </summary>
public sealed class GuardedHttpClientTests : IAsyncLifetime
{
    private RangeHttpServer _server = null!;
    private bool _enabled = true;
    private GuardedHttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await RangeHttpServer.StartAsync();
        _server.AddFile("x", [1, 2, 3]);
        _client = new GuardedHttpClient(() => new SocketsHttpHandler(), AddressClassifier.Standard, () => _enabled, maxRedirects: 5, "test");
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private int Port => _server.BaseUrl.Port;

    private Task<HttpResponseMessage> WebSeedAsync(string url) => _client.GetAsync(new Uri(url), new Uri(url), HttpRequestPurpose.WebSeed, null, CancellationToken.None);

    [Theory]
    [InlineData("http://0.0.0.0:{0}/x?y=1")] // connecting to 0.0.0.0 reaches this machine
    [InlineData("http://[::ffff:127.0.0.1]:{0}/x?y=1")]
    [InlineData("http://127.1.2.3:{0}/x?y=1")]
    [InlineData("http://[::1]:{0}/x?y=1")]
    public async Task EverySpellingOfThisMachineIsLoopback(string pattern)
    {
        string url = string.Format(System.Globalization.CultureInfo.InvariantCulture, pattern, Port);
        await Assert.ThrowsAsync<RequestRefusedException>(() => WebSeedAsync(url));
        Assert.Equal(0, _server.Requests);
    }

    [Fact]
    public async Task WithoutAQueryStringTheZeroAddressIsConnectedToAsLoopback()
    {
        using HttpResponseMessage response = await WebSeedAsync($"http://0.0.0.0:{Port}/x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([1, 2, 3], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ARedirectLoopEndsAfterTheBoundWithTheLastRedirect()
    {
        _server.RedirectTo = _server.BaseUrl;
        using HttpResponseMessage response = await WebSeedAsync(_server.UrlOf("x"));
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(6, _server.Requests); // the request and five redirects followed
    }

    [Fact]
    public async Task TurnedOffNothingIsRefused()
    {
        _enabled = false;
        using HttpResponseMessage response = await WebSeedAsync($"http://127.0.0.1:{Port}/x?y=1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, _server.Requests);
    }
}
