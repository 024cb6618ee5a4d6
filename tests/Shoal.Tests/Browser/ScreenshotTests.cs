using System.Net;
using System.Text;
using Microsoft.Playwright;
using Shoal.Metainfo;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shoal.Tests.Browser;

/// <summary>
/// Every main view of the page, at desktop and phone sizes, in light and dark, with a daemon doing real work
/// (downloads from rate-limited seeds on loopback, a seeding torrent, queued and paused ones): each must render
/// without a page error. The screenshots go to the test's folder, and to $SHOAL_SCREENSHOTS when set (that is how
/// the pictures in docs/ are made: SHOAL_SCREENSHOTS=$PWD/docs dotnet test --filter ScreenshotTests).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ScreenshotTests(ITestOutputHelper output)
{
    [BrowserFact]
    public async Task Every_main_view_renders_cleanly_at_desktop_and_phone_sizes_in_light_and_dark()
    {
        using var temp = new TempFolder("shoal-web-screens");
        await using TestDaemon daemon = await TestDaemon.StartAsync(temp);
        await using LoopbackSeed film = await LoopbackSeed.StartAsync(temp, "Big Buck Bunny (2008) 1080p.mkv", 24 << 20, seed: 41, uploadRate: 320 * 1024, pieceLength: 65536);
        await using LoopbackSeed iso = await LoopbackSeed.StartAsync(temp, "debian-12.5.0-amd64-netinst.iso", 32 << 20, seed: 42, uploadRate: 640 * 1024, pieceLength: 65536);
        await using LoopbackSeed album = await LoopbackSeed.StartAsync(temp, "Creative Commons Jazz Sampler", 12 << 20, seed: 43, uploadRate: 200 * 1024, files: 6);
        (Torrent done, _) = await TestDaemon.MakeTorrentAsync(temp, "archlinux-2024.06.01-x86_64.iso", 6 << 20, seed: 44, pieceLength: 65536, into: daemon.Downloads);
        using ApiClient api = daemon.Client();
        await api.FetchCsrfAsync();
        foreach (string c in new[] { "films", "linux", "music", "books" })
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync("api/v1/categories", new { name = c, save_path = "" })).Status);
        await DaemonApi.AddAsync(api, done.ToBytes(), new { category = "linux", tags = new[] { "keep" } });
        await DaemonApi.AddAsync(api, film.Torrent.ToBytes(), new { category = "films", tags = new[] { "hd" } });
        await DaemonApi.AddAsync(api, iso.Torrent.ToBytes(), new { category = "linux" });
        long albumId = await DaemonApi.AddAsync(api, album.Torrent.ToBytes(), new { category = "music", tags = new[] { "flac" } });
        var random = new Random(45);
        for (int i = 0; i < Names.Length; i++)
        {
            (string name, string? category, bool running) = Names[i];
            await DaemonApi.AddAsync(api, FakeTorrent(name, random), new { paused = !running, category, tags = i % 4 == 0 ? new[] { "archive" } : null });
        }
        await Task.Delay(TimeSpan.FromSeconds(15)); // rates and the graph fill up

        string shots = temp.Combine("screenshots");
        Directory.CreateDirectory(shots);
        var taken = new List<string>();

        await using (Chromium desktop = await Chromium.LaunchAsync(1440, 900))
        {
            var page = new PageModel(await desktop.OpenAsync(daemon.Address));
            await page.WaitForAppAsync();
            await Expect(page.Row("Big Buck Bunny")).ToHaveCountAsync(1);
            await page.Page.Locator(".head-cell[data-sort='state']").ClickAsync(); // busy torrents first
            await Expect(page.Page.Locator(".head-cell[data-sort='state']")).ToHaveAttributeAsync("aria-sort", "ascending");
            await page.Row("Big Buck Bunny").Locator(".cell.name").ClickAsync();
            await page.Page.Locator("#search").FocusAsync();
            await page.Page.Locator("#list").FocusAsync();
            await page.Page.GotoAsync(daemon.Address + $"#/t/{albumId}/files");
            await Expect(page.Page.Locator("#details tr[data-index]")).ToHaveCountAsync(6);
            taken.Add(await ShotAsync(page.Page, shots, "web-list.png"));

            await page.Page.GotoAsync(daemon.Address + "#/overview");
            await Expect(page.Page.Locator("#overview-view .card .value").First).Not.ToBeEmptyAsync();
            await page.Page.WaitForTimeoutAsync(1500);
            taken.Add(await ShotAsync(page.Page, shots, "web-overview.png"));

            await page.Page.GotoAsync(daemon.Address + "#/settings");
            await Expect(page.Page.Locator("#settings-view .settings-group").First).ToBeVisibleAsync();
            await page.Page.WaitForTimeoutAsync(500);
            taken.Add(await ShotAsync(page.Page, shots, "web-settings.png"));

            await page.Page.GotoAsync(daemon.Address + "#/");
            await WebPageTests.DropFileAsync(page.Page, "#list", "album.torrent", album.Torrent.ToBytes());
            await Expect(page.Dialog.Locator(".torrent-file-files label")).ToHaveCountAsync(6);
            taken.Add(await ShotAsync(page.Page, shots, "web-add.png"));
            WebPageTests.AssertCleanRun(desktop);
        }

        await using (Chromium dark = await Chromium.LaunchAsync(1440, 900, ColorScheme.Dark))
        {
            var page = new PageModel(await dark.OpenAsync(new Uri(daemon.Address + $"#/t/{albumId}/pieces")));
            await page.WaitForAppAsync();
            await Expect(page.Page.Locator("#details canvas.piece-map")).ToBeVisibleAsync();
            await page.Page.WaitForTimeoutAsync(1000);
            taken.Add(await ShotAsync(page.Page, shots, "web-dark.png"));
            WebPageTests.AssertCleanRun(dark);
        }

        await using (Chromium phone = await Chromium.LaunchAsync(390, 844, ColorScheme.Light, phone: true))
        {
            var page = new PageModel(await phone.OpenAsync(daemon.Address));
            await page.WaitForAppAsync();
            await Expect(page.Row("Big Buck Bunny")).ToHaveCountAsync(1);
            await page.Page.WaitForTimeoutAsync(500);
            taken.Add(await ShotAsync(page.Page, shots, "web-phone.png"));
            await page.Row("Big Buck Bunny").Locator(".cell.name").TapAsync();
            await Expect(page.Page.Locator("#details")).ToBeVisibleAsync();
            await Expect(page.Page.Locator("#details .kv dd").First).Not.ToBeEmptyAsync();
            taken.Add(await ShotAsync(page.Page, shots, "web-phone-details.png"));
            await page.Page.Locator("#details button[aria-label='Back to the list']").TapAsync();
            await page.Page.Locator("#menu-btn").TapAsync();
            await Expect(page.Page.Locator("#sidebar")).ToBeInViewportAsync();
            await page.Page.WaitForTimeoutAsync(400);
            taken.Add(await ShotAsync(page.Page, shots, "web-phone-filters.png"));
            WebPageTests.AssertCleanRun(phone);
        }

        foreach (string file in taken)
        {
            long size = new FileInfo(file).Length;
            output.WriteLine($"{Path.GetFileName(file)}: {size / 1024} KiB");
            Assert.True(size > 10_000, $"{file} is nearly empty");
        }
        if (Environment.GetEnvironmentVariable("SHOAL_SCREENSHOTS") is { Length: > 0 } target)
        {
            foreach (string file in taken) File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
    }

    private static async Task<string> ShotAsync(IPage page, string folder, string name)
    {
        string path = Path.Combine(folder, name);
        await page.Mouse.MoveAsync(0, 0); // no hover highlight in the picture
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, Animations = ScreenshotAnimations.Disabled });
        return path;
    }

    private static readonly (string Name, string? Category, bool Running)[] Names =
    [
        ("ubuntu-24.04-desktop-amd64.iso", "linux", true),
        ("Sintel (2010) 4K.mkv", "films", true),
        ("fedora-40-workstation-live.iso", "linux", true),
        ("Tears of Steel (2012) 720p", "films", false),
        ("The Internet Archive - Grateful Dead 1977-05-08", "music", false),
        ("Project Gutenberg Top 100 (EPUB)", "books", false),
        ("Wikipedia dump enwiki-20240601", null, false),
        ("OpenStreetMap Europe 2024-06.osm.pbf", null, false),
        ("Elephants Dream (2006) 1080p", "films", false),
        ("Linux Mint 21.3 Cinnamon", "linux", false),
        ("NASA Apollo 11 Mission Audio", "music", false),
        ("Cosmos Laundromat (2015)", "films", false),
        ("LibreOffice 24.2 Source", null, false),
        ("Kali Linux 2024.2 Installer", "linux", false),
        ("Caminandes Llamigos 4K", "films", false),
        ("Blender Open Movie Collection", "films", false),
    ];

    /// <summary>A .torrent whose data exists nowhere (its tracker is a closed port): it waits, stalls or stays paused.</summary>
    private static byte[] FakeTorrent(string name, Random random)
    {
        const int pieceLength = 1 << 20;
        long length = random.NextInt64(200L << 20, 4L << 30);
        byte[] hashes = new byte[(int)((length + pieceLength - 1) / pieceLength) * 20];
        random.NextBytes(hashes);
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        using var b = new MemoryStream();
        void Text(string s) => b.Write(Encoding.ASCII.GetBytes(s));
        Text("d8:announce26:udp://127.0.0.1:9/announce4:infod6:lengthi" + length + "e4:name" + nameBytes.Length + ":");
        b.Write(nameBytes);
        Text($"12:piece lengthi{pieceLength}e6:pieces{hashes.Length}:");
        b.Write(hashes);
        Text("ee");
        return b.ToArray();
    }
}
