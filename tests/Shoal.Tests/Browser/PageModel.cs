using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Shoal.Tests.Browser;

/// <summary>What the tests do on the page, named as a user would say it.</summary>
internal sealed class PageModel(IPage page)
{
    public IPage Page => page;

    public ILocator Rows => page.Locator("#list-body .row:not([hidden])");

    public ILocator Row(string name) => page.Locator("#list-body .row:not([hidden])").Filter(new() { Has = page.Locator(".cell.name", new() { HasTextString = name }) });

    public ILocator Dialog => page.Locator("dialog[open]");

    public async Task LoginAsync(string password)
    {
        await page.Locator("#login-password").FillAsync(password);
        await page.Locator("#login button[type=submit]").ClickAsync();
    }

    public async Task WaitForAppAsync()
    {
        await Expect(page.Locator("#app")).ToBeVisibleAsync();
        await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-state", "live");
    }

    public async Task ToolAsync(string action) => await page.Locator($"#toolbar .tool[data-action='{action}']").ClickAsync();

    public async Task<string> StateOfAsync(string name) => await Row(name).Locator(".state-text b").InnerTextAsync();

    /// <summary>Fails with the page's toasts in the message (they say what the daemon refused).</summary>
    public async Task<string> ToastsAsync() => string.Join(" | ", await page.Locator(".toast").AllInnerTextsAsync());
}
