using Microsoft.Playwright;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Browser;

/// <summary>
/// Headless Chromium (the system's, never a downloaded one) with a fresh profile in a temporary folder, driven by
/// Playwright's own driver from its NuGet package. Console errors and uncaught page errors are collected so a test
/// can require a page that runs cleanly.
/// </summary>
internal sealed class Chromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly TempFolder _profile;
    private readonly List<string> _errors = [];

    private Chromium(IPlaywright playwright, IBrowserContext context, TempFolder profile)
    {
        _playwright = playwright;
        Context = context;
        _profile = profile;
    }

    public IBrowserContext Context { get; }

    /// <summary>Uncaught page errors and console errors so far (resources the test made fail on purpose included).</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors) return [.. _errors];
        }
    }

    public static async Task<Chromium> LaunchAsync(int width = 1280, int height = 800, ColorScheme scheme = ColorScheme.Light, bool phone = false)
    {
        Assertions.SetDefaultExpectTimeout(30_000);
        IPlaywright playwright = await Playwright.CreateAsync();
        var profile = new TempFolder("shoal-chromium");
        try
        {
            IBrowserContext context = await playwright.Chromium.LaunchPersistentContextAsync(profile.Path, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = Arguments,
                ViewportSize = new ViewportSize { Width = width, Height = height },
                ColorScheme = scheme,
                IsMobile = phone,
                HasTouch = phone,
                DeviceScaleFactor = phone ? 2 : 1,
                Timeout = 120_000,
            });
            context.SetDefaultTimeout(30_000);
            var chromium = new Chromium(playwright, context, profile);
            context.Page += (_, page) => chromium.Watch(page);
            foreach (IPage page in context.Pages) chromium.Watch(page);
            return chromium;
        }
        catch
        {
            playwright.Dispose();
            profile.Dispose();
            throw;
        }
    }

    private void Watch(IPage page)
    {
        page.PageError += (_, error) => { lock (_errors) _errors.Add("page error: " + error); };
        page.Console += (_, message) =>
        {
            if (message.Type == "error") lock (_errors) _errors.Add("console: " + message.Text);
        };
    }

    /// <summary>Opens the daemon's page in the profile's first tab.</summary>
    public async Task<IPage> OpenAsync(Uri address)
    {
        IPage page = Context.Pages.Count > 0 ? Context.Pages[0] : await Context.NewPageAsync();
        await page.GotoAsync(address.ToString());
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Context.CloseAsync();
        }
        finally
        {
            _playwright.Dispose();
            _profile.Dispose();
        }
    }
}
