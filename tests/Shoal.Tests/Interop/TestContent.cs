using System.Security.Cryptography;

namespace Shoal.Tests.Interop;

/// <summary>Deterministic test data on disk and byte-for-byte comparison of folders.</summary>
public static class TestContent
{
    /// <summary>
    /// Writes a folder <paramref name="root"/> of about <paramref name="totalBytes"/> bytes: files of odd sizes
    /// (so pieces straddle file boundaries), one in a sub-folder, one tiny file and one of exactly 64 KiB.
    /// Same seed, same bytes.
    /// </summary>
    public static void WriteMultiFileFolder(string root, long totalBytes, int seed)
    {
        var random = new Random(seed);
        Directory.CreateDirectory(Path.Combine(root, "sub", "deeper"));
        var big = totalBytes * 3 / 5 + 12_345;
        var medium = Math.Max(1, totalBytes - big - 65_536 - 7 - 33_333);
        WriteRandomFile(Path.Combine(root, "alpha.bin"), big, random);
        WriteRandomFile(Path.Combine(root, "sub", "beta.dat"), medium, random);
        WriteRandomFile(Path.Combine(root, "sub", "deeper", "gamma.txt"), 7, random);
        WriteRandomFile(Path.Combine(root, "sub", "aligned-64k.bin"), 65_536, random);
        WriteRandomFile(Path.Combine(root, "zeta.bin"), 33_333, random);
    }

    /// <summary>Writes <paramref name="length"/> pseudo-random bytes from <paramref name="random"/>.</summary>
    public static void WriteRandomFile(string path, long length, Random random)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var buffer = new byte[1 << 20];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        for (var left = length; left > 0;)
        {
            var chunk = (int)Math.Min(buffer.Length, left);
            random.NextBytes(buffer.AsSpan(0, chunk));
            file.Write(buffer, 0, chunk);
            left -= chunk;
        }
    }

    /// <summary>Asserts both trees hold the same relative file paths with identical bytes.</summary>
    public static void AssertSameTree(string expectedRoot, string actualRoot)
    {
        if (File.Exists(expectedRoot))
        {
            Assert.True(File.Exists(actualRoot), $"missing file {actualRoot}");
            AssertSameFile(expectedRoot, actualRoot);
            return;
        }
        Assert.True(Directory.Exists(actualRoot), $"missing folder {actualRoot}");
        var expected = RelativeFiles(expectedRoot);
        var actual = RelativeFiles(actualRoot);
        Assert.Equal(expected, actual);
        foreach (var relative in expected)
        {
            AssertSameFile(Path.Combine(expectedRoot, relative), Path.Combine(actualRoot, relative));
        }
    }

    private static List<string> RelativeFiles(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)];

    private static void AssertSameFile(string expected, string actual)
    {
        var expectedLength = new FileInfo(expected).Length;
        var actualLength = new FileInfo(actual).Length;
        Assert.True(expectedLength == actualLength, $"{actual}: {actualLength} bytes, expected {expectedLength}");
        Assert.True(Sha256(expected).SequenceEqual(Sha256(actual)), $"{actual}: content differs from {expected}");
    }

    private static byte[] Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }
}
