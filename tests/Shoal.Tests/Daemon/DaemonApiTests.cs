using System.Net;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>
/// What the daemon's API tests begin with: a daemon started in a temporary folder of its own (<see cref="Folder"/>,
/// <see cref="Server"/>) and an API client that already holds the CSRF token (<see cref="Api"/>); all three are
/// disposed after each test.
/// </summary>
public abstract class DaemonApiTests(string folderName) : IAsyncLifetime
{
    private TestDaemon? _server;
    private ApiClient? _api;

    private protected TempFolder Folder { get; } = new(folderName);

    private protected TestDaemon Server => _server ?? throw new InvalidOperationException("the daemon has not started");

    private protected ApiClient Api => _api ?? throw new InvalidOperationException("the daemon has not started");

    public async Task InitializeAsync()
    {
        _server = await TestDaemon.StartAsync(Folder);
        _api = _server.Client();
        Assert.Equal(HttpStatusCode.OK, await _api.FetchCsrfAsync());
    }

    public async Task DisposeAsync()
    {
        _api?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        Folder.Dispose();
    }
}
