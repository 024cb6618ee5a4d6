using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>
/// Names the file system cannot hold are refused when the torrent is added (before anything is written), and
/// storage errors say whether retrying can help (<see cref="StorageException.IsPermanent"/>).
/// </summary>
public sealed class FileSystemLimitTests
{
    [Fact]
    public void The_download_folders_file_system_reports_its_limits()
    {
        using var dir = new TempDir();
        FileSystemLimits limits = FileSystemLimits.For(Path.Combine(dir.Path, "not", "created", "yet"));
        if (OperatingSystem.IsLinux())
        {
            Assert.InRange(limits.MaxNameBytes, 14, 1024); // 255 on ext4, btrfs, xfs, tmpfs, overlayfs
            Assert.InRange(limits.MaxPathBytes, 1024, 1 << 20);
        }
    }

    [Fact]
    public async Task A_name_longer_than_the_file_system_allows_is_refused_when_adding()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        FileSystemLimits limits = FileSystemLimits.For(dir.Path);
        string tooLong = new('x', limits.MaxNameBytes + 1);
        var layout = new StorageLayout([new StorageFile(["t", tooLong], 10, false)], 16);
        StorageException e = Assert.Throws<StorageException>(() => TorrentStorage.Create(disk, layout, TestContent.AnyVerifier(layout), dir.Path));
        Assert.Equal(StorageErrorKind.NameTooLong, e.Kind);
        Assert.True(e.IsPermanent);
        Assert.Contains($"the file system allows {limits.MaxNameBytes}", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Length < 300, e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task A_path_longer_than_the_file_system_allows_is_refused_when_adding()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(1);
        FileSystemLimits limits = FileSystemLimits.For(dir.Path);
        string[] segments = [.. Enumerable.Range(0, (limits.MaxPathBytes / 200) + 1).Select(i => new string((char)('a' + (i % 26)), 200))];
        var layout = new StorageLayout([new StorageFile(segments, 10, false)], 16);
        StorageException e = Assert.Throws<StorageException>(() => TorrentStorage.Create(disk, layout, TestContent.AnyVerifier(layout), dir.Path));
        Assert.Equal(StorageErrorKind.NameTooLong, e.Kind);
        Assert.Contains("the path is", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));

        // The same layout is fine when that file is not downloaded (skipped files and padding are never created).
        await using TorrentStorage skipped = TorrentStorage.Create(disk, layout, TestContent.AnyVerifier(layout), dir.Path, new StorageOptions { SkippedFiles = new HashSet<int> { 0 } });
        Assert.Null(skipped.GetFilePath(0));
    }

    [Theory]
    [InlineData(36, StorageErrorKind.NameTooLong, true)]  // ENAMETOOLONG
    [InlineData(84, StorageErrorKind.InvalidName, true)]  // EILSEQ
    [InlineData(30, StorageErrorKind.ReadOnly, true)]     // EROFS
    [InlineData(13, StorageErrorKind.AccessDenied, true)] // EACCES
    [InlineData(28, StorageErrorKind.DiskFull, false)]    // ENOSPC: space may come back
    [InlineData(122, StorageErrorKind.DiskFull, false)]   // EDQUOT
    [InlineData(2, StorageErrorKind.NotFound, false)]     // ENOENT: a folder may come back (a remounted drive)
    [InlineData(5, StorageErrorKind.IOError, false)]      // EIO
    public void Errno_values_are_classified_permanent_or_transient(int errno, StorageErrorKind kind, bool permanent)
    {
        if (OperatingSystem.IsWindows()) return; // HResult carries Win32 codes there
        StorageException e = StorageException.From(new IOException("boom", errno), "write", "/x/y");
        Assert.Equal(kind, e.Kind);
        Assert.Equal(permanent, e.IsPermanent);
        Assert.Contains("/x/y", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsafe_paths_and_denied_access_are_permanent()
    {
        Assert.True(StorageException.IsPermanentKind(StorageErrorKind.UnsafePath));
        Assert.True(StorageException.From(new UnauthorizedAccessException("no"), "open", "/x").IsPermanent);
        Assert.Equal(StorageErrorKind.NameTooLong, StorageException.From(new PathTooLongException("long"), "open", "/x").Kind);
    }
}
