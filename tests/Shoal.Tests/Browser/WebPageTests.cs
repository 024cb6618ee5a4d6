using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Shoal.Metainfo;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shoal.Tests.Browser;

/// <summary>
/// The daemon's web page in headless Chromium, end to end: a user logs in, adds a magnet link whose only seeder is
/// libtorrent on 127.0.0.1, watches it complete, skips a file, pauses, resumes and removes it with its data; drops a
/// .torrent on the page; and keeps working through a daemon restart.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class WebPageTests(ITestOutputHelper output)
{
    private const string Password = "correct horse battery";

    [BrowserFact]
    public async Task A_user_logs_in_adds_a_magnet_from_libtorrent_watches_it_complete_skips_a_file_pauses_resumes_and_removes_it_with_its_data()
    {
        InteropEnvironment.Current.Require(InteropClients.Libtorrent);
        using var temp = new TempFolder("shoal-web-magnet");
        string name = "Shoal web test";
        string content = temp.Combine("seed", name);
        TestContent.WriteRandomFile(Path.Combine(content, "clip.mp4"), 3 << 20, new Random(171));
        TestContent.WriteRandomFile(Path.Combine(content, "notes.txt"), 1 << 20, new Random(172));
        string torrentFile = temp.Combine("web.torrent");
        string hash = await LibtorrentScripts.MakeTorrentAsync(content, torrentFile, pieceSize: 32768);
        (ChildProcess seeder, int port) = await LibtorrentScripts.StartSeederAsync(torrentFile, temp.Combine("seed"), "--quiet");
        using (seeder)
        {
            await using TestDaemon daemon = await TestDaemon.StartAsync(temp, o => o with { Password = Password });
            await using Chromium browser = await Chromium.LaunchAsync();
            var page = new PageModel(await browser.OpenAsync(daemon.Address));

            // The login page: a wrong password is refused with words, the right one opens the list.
            await Expect(page.Page.Locator("#login")).ToBeVisibleAsync();
            await page.LoginAsync("not the password");
            await Expect(page.Page.Locator("#login-error")).ToHaveTextAsync("Wrong password.");
            await page.LoginAsync(Password);
            await page.WaitForAppAsync();

            // Add the magnet link through the add dialog.
            await page.Page.Locator("#add-btn").ClickAsync();
            await page.Dialog.Locator("textarea").FillAsync($"magnet:?xt=urn:btih:{hash}&x.pe=127.0.0.1:{port}");
            await page.Dialog.Locator("button[type=submit]").ClickAsync();
            await Expect(page.Dialog).ToHaveCountAsync(0);

            // It fetches the metadata, downloads and reaches 100 %, live through the event stream.
            ILocator row = page.Row(name);
            await Expect(row).ToHaveCountAsync(1, new() { Timeout = 60_000 });
            await Expect(row.Locator(".pct")).ToHaveTextAsync("100%", new() { Timeout = 120_000 });
            await Expect(row.Locator(".state-text b")).ToHaveTextAsync("Seeding", new() { Timeout = 30_000 });
            TestContent.AssertSameTree(content, Path.Combine(daemon.Downloads, name));

            // Its files: a tree with both files and a play button for the video; notes.txt set to skip.
            await row.DblClickAsync();
            await page.Page.Locator("#details .tab", new() { HasTextString = "Files" }).ClickAsync();
            ILocator notes = page.Page.Locator("#details tr[data-path$='notes.txt']");
            await Expect(notes).ToHaveCountAsync(1);
            await Expect(page.Page.Locator("#details tr[data-path$='clip.mp4'] button.play")).ToHaveCountAsync(1);
            await notes.Locator("select").SelectOptionAsync("skip");
            using var api = daemon.Client();
            Assert.Equal(HttpStatusCode.OK, await api.LoginAsync(Password));
            await Expect(notes).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("skipped"));
            Assert.Equal("skip", FilePriority(await api.GetAsync($"api/v1/torrents/{hash}/files"), "notes.txt"));
            Assert.Equal("normal", FilePriority(await api.GetAsync($"api/v1/torrents/{hash}/files"), "clip.mp4"));

            // Pause and resume from the toolbar.
            await page.Page.Locator("#details button[aria-label='Close details']").ClickAsync();
            await Expect(page.Page.Locator("#details")).ToBeHiddenAsync();
            await row.Locator(".cell.name").ClickAsync();
            await page.ToolAsync("pause");
            await Expect(row.Locator(".state-text b")).ToHaveTextAsync("Paused");
            Assert.Equal("paused", (await api.TorrentAsync(Id(await api.GetAsync($"api/v1/torrents/{hash}")))).GetProperty("state").GetString());
            await page.ToolAsync("resume");
            await Expect(row.Locator(".state-text b")).ToHaveTextAsync("Seeding", new() { Timeout = 60_000 });

            // Remove it with its data.
            await page.ToolAsync("remove");
            await page.Dialog.Locator("#remove-data").CheckAsync();
            await page.Dialog.Locator(".dialog-foot .danger").ClickAsync();
            await Expect(row).ToHaveCountAsync(0);
            await Eventually.TrueAsync(() => !Directory.Exists(Path.Combine(daemon.Downloads, name)), TimeSpan.FromSeconds(30), "the data was not deleted");
            (HttpStatusCode gone, _) = await api.GetAsync($"api/v1/torrents/{hash}");
            Assert.Equal(HttpStatusCode.NotFound, gone);
            await Expect(page.Page.Locator("#list-empty")).ToContainTextAsync("No torrents yet");
            AssertCleanRun(browser, "wrong password"); // the refused login is the one error the page logs
        }
    }

    [BrowserFact]
    public async Task A_torrent_file_dropped_anywhere_on_the_page_is_added_with_the_options_chosen()
    {
        using var temp = new TempFolder("shoal-web-drop");
        await using TestDaemon daemon = await TestDaemon.StartAsync(temp);
        (Torrent torrent, _) = await TestDaemon.MakeTorrentAsync(temp, "dropped.iso", 200_000, seed: 5);
        await using Chromium browser = await Chromium.LaunchAsync();
        var page = new PageModel(await browser.OpenAsync(daemon.Address));
        await page.WaitForAppAsync();

        await DropFileAsync(page.Page, "#list", "dropped.iso.torrent", torrent.ToBytes());
        await Expect(page.Dialog).ToBeVisibleAsync();
        await Expect(page.Dialog.Locator(".torrent-file-head .name")).ToHaveTextAsync("dropped.iso");
        await page.Dialog.Locator("label.check", new() { HasTextString = "Start paused" }).Locator("input").CheckAsync();
        await page.Dialog.Locator("input[aria-label='Tags']").FillAsync("dropped, iso");
        await page.Dialog.Locator("button[type=submit]").ClickAsync();

        ILocator row = page.Row("dropped.iso");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.Locator(".state-text b")).ToHaveTextAsync("Paused");
        await Expect(row.Locator(".cell.tags")).ToHaveTextAsync("dropped, iso");
        using var api = daemon.Client();
        (HttpStatusCode status, JsonElement body) = await api.GetAsync("api/v1/torrents");
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement added = Assert.Single(body.EnumerateArray());
        Assert.Equal(torrent.InfoHash.ToHex(), added.GetProperty("info_hash").GetString());
        Assert.True(added.GetProperty("paused").GetBoolean());
        AssertCleanRun(browser);
    }

    [BrowserFact]
    public async Task The_page_recovers_by_itself_when_the_daemon_restarts()
    {
        using var temp = new TempFolder("shoal-web-restart");
        int port = LoopbackPort.FreePort();
        await using TestDaemon daemon = await TestDaemon.StartAsync(temp, o => o with { WebPort = port });
        (Torrent first, _) = await TestDaemon.MakeTorrentAsync(temp, "before.bin", 100_000, seed: 7);
        (Torrent second, _) = await TestDaemon.MakeTorrentAsync(temp, "after.bin", 100_000, seed: 8);
        using (ApiClient api = daemon.Client())
        {
            await api.FetchCsrfAsync();
            Assert.Equal(HttpStatusCode.OK, (await api.AddAsync(first.ToBytes(), new { paused = true })).Status);
        }
        await using Chromium browser = await Chromium.LaunchAsync();
        var page = new PageModel(await browser.OpenAsync(daemon.Address));
        await page.WaitForAppAsync();
        await Expect(page.Row("before.bin")).ToHaveCountAsync(1);

        await daemon.Host.DisposeAsync();
        await Expect(page.Page.Locator("#conn")).Not.ToHaveAttributeAsync("data-state", "live");
        await daemon.RestartAsync();
        await Expect(page.Page.Locator("#conn")).ToHaveAttributeAsync("data-state", "live", new() { Timeout = 60_000 });

        // Events flow again (a torrent added behind the page's back shows up) and actions work with the new run's
        // CSRF token (the page fetches it again when the daemon refuses the old one).
        using (ApiClient api = daemon.Client())
        {
            await api.FetchCsrfAsync();
            Assert.Equal(HttpStatusCode.OK, (await api.AddAsync(second.ToBytes(), new { paused = true })).Status);
        }
        await Expect(page.Row("after.bin")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        await page.Row("before.bin").Locator(".cell.name").ClickAsync();
        await page.ToolAsync("resume");
        await Expect(page.Row("before.bin").Locator(".state-text b")).Not.ToHaveTextAsync("Paused", new() { Timeout = 30_000 });
        Assert.True(await page.Page.Locator(".toast.error", new() { HasTextString = "Could not" }).CountAsync() == 0, await page.ToastsAsync());
        output.WriteLine(string.Join("\n", browser.Errors));
    }

    [BrowserFact]
    public async Task Events_that_arrive_while_the_list_loads_are_applied_once_it_is_there()
    {
        using var temp = new TempFolder("shoal-web-slow-list");
        await using TestDaemon daemon = await TestDaemon.StartAsync(temp);
        (Torrent early, _) = await TestDaemon.MakeTorrentAsync(temp, "early.bin", 100_000, seed: 21);
        (Torrent late, _) = await TestDaemon.MakeTorrentAsync(temp, "late.bin", 100_000, seed: 22);
        using ApiClient api = daemon.Client();
        await api.FetchCsrfAsync();
        Assert.Equal(HttpStatusCode.OK, (await api.AddAsync(early.ToBytes(), new { paused = true })).Status);
        await using Chromium browser = await Chromium.LaunchAsync();
        IPage tab = browser.Context.Pages.Count > 0 ? browser.Context.Pages[0] : await browser.Context.NewPageAsync();

        // The whole list is held back until a torrent has been added behind the page's back: its events come while
        // the page waits for the list (a busy daemon, a slow link), and are applied once the list is there.
        var added = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var listAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await tab.RouteAsync(new System.Text.RegularExpressions.Regex("/api/v1/torrents$"), async route =>
        {
            listAsked.TrySetResult();
            await added.Task;
            await Task.Delay(1500); // the added event and an update or two reach the page first
            await route.ContinueAsync();
        });
        var page = new PageModel(tab);
        await tab.GotoAsync(daemon.Address.ToString());
        await listAsked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await Expect(tab.Locator("#conn")).ToHaveAttributeAsync("data-state", "live");
        Assert.Equal(HttpStatusCode.OK, (await api.AddAsync(late.ToBytes(), new { paused = true })).Status);
        added.TrySetResult();

        await Expect(page.Row("early.bin")).ToHaveCountAsync(1);
        await Expect(page.Row("late.bin")).ToHaveCountAsync(1);
        await Expect(tab.Locator("#list-summary")).ToContainTextAsync("2 of 2");
        Assert.True(await tab.EvaluateAsync<bool>("() => new Promise(r => requestAnimationFrame(() => r(true)))"), "the page does not draw frames");
        AssertCleanRun(browser);
    }

    /// <summary>Drops a file on an element as a user's drag from the desktop does: dragenter, dragover, drop with a DataTransfer.</summary>
    internal static async Task DropFileAsync(IPage page, string selector, string fileName, byte[] bytes)
    {
        await page.EvaluateAsync(@"([selector, name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: 'application/x-bittorrent' }));
            const target = document.querySelector(selector);
            for (const type of ['dragenter', 'dragover', 'drop'])
                target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
        }", new object[] { selector, fileName, Convert.ToBase64String(bytes) });
    }

    private static string? FilePriority((HttpStatusCode Status, JsonElement Body) files, string suffix)
        => files.Body.EnumerateArray().First(f => f.GetProperty("path").GetString()!.EndsWith(suffix, StringComparison.Ordinal)).GetProperty("priority").GetString();

    private static long Id((HttpStatusCode Status, JsonElement Body) details) => details.Body.GetProperty("torrent").GetProperty("id").GetInt64();

    /// <summary>No uncaught error and no console error but those expected.</summary>
    internal static void AssertCleanRun(Chromium browser, params string[] expected)
    {
        string[] unexpected = [.. browser.Errors.Where(e => !expected.Any(x => e.Contains(x, StringComparison.OrdinalIgnoreCase))
            && !e.Contains("401", StringComparison.Ordinal))];
        Assert.True(unexpected.Length == 0, "the page logged errors:\n" + string.Join("\n", unexpected));
    }
}
