using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class StoragePathTests
{
    private static StorageLayout LayoutWith(params string[] segments) =>
        new([new StorageFile(segments, 10, false)], 16);

    [Theory]
    [InlineData("t", "..", "x")]
    [InlineData("..")]
    [InlineData("t", ".")]
    [InlineData("t", "")]
    [InlineData("/etc", "passwd")]
    [InlineData("t", "/etc/passwd")]
    [InlineData("t", "a/b")]
    [InlineData("t", "a\\b")]
    [InlineData("t", "x\0y")]
    [InlineData("t", "CON")]
    [InlineData("t", "nul.txt")]
    [InlineData("LPT1", "x")]
    [InlineData("t", "line\nbreak")]
    public async Task Hostile_paths_are_rejected(params string[] segments)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        StorageException e = Assert.Throws<StorageException>(() => TorrentStorage.Create(disk, LayoutWith(segments), TestContent.AnyVerifier(LayoutWith(segments)), dir.Path));
        Assert.Equal(StorageErrorKind.UnsafePath, e.Kind);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task Hostile_padding_path_is_rejected_too()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        var layout = new StorageLayout([new StorageFile(["..", "pad"], 10, true)], 16);
        Assert.Throws<StorageException>(() => TorrentStorage.Create(disk, layout, TestContent.AnyVerifier(layout), dir.Path));
    }

    [Fact]
    public async Task Duplicate_paths_are_rejected()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        var layout = new StorageLayout([new StorageFile(["t", "a"], 10, false), new StorageFile(["t", "a"], 10, false)], 16);
        Assert.Equal(StorageErrorKind.UnsafePath, Assert.Throws<StorageException>(() => TorrentStorage.Create(disk, layout, TestContent.AnyVerifier(layout), dir.Path)).Kind);
    }

    [Fact]
    public async Task Safe_nested_path_resolves_under_the_download_folder()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        await using var storage = TorrentStorage.Create(disk, LayoutWith("name", "sub dir", "file..txt"), TestContent.AnyVerifier(LayoutWith("name")), dir.Path);
        string expected = Path.Combine(dir.Path, "name", "sub dir", "file..txt");
        Assert.Equal(expected, storage.GetFilePath(0));
        Assert.Equal(Path.GetFullPath(dir.Path) + Path.DirectorySeparatorChar, storage.DownloadDirectory);
    }
}
