using System.Security.Cryptography;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>A temporary folder deleted when the test ends.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "shoal-storage-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Content plus a matching layout, built from file sizes with a fixed seed.</summary>
internal sealed class TestContent
{
    public TestContent(int pieceLength, (string Path, long Length, bool Padding)[] files, int seed = 1)
    {
        var list = new List<StorageFile>();
        long total = 0;
        foreach (var (path, length, padding) in files)
        {
            list.Add(new StorageFile(path.Split('/'), length, padding));
            total += length;
        }
        Data = new byte[total];
        new Random(seed).NextBytes(Data);
        long pos = 0;
        foreach (var f in files)
        {
            if (f.Padding) Array.Clear(Data, (int)pos, (int)f.Length);
            pos += f.Length;
        }
        int pieces = (int)((total + pieceLength - 1) / pieceLength);
        var hashes = new byte[pieces * 20];
        for (int p = 0; p < pieces; p++)
        {
            int start = p * pieceLength;
            int len = (int)Math.Min(pieceLength, total - start);
            SHA1.HashData(Data.AsSpan(start, len), hashes.AsSpan(p * 20, 20));
        }
        Layout = new StorageLayout(list, pieceLength);
        Verifier = new Sha1PieceVerifier(hashes, pieces);
    }

    public byte[] Data { get; }

    public StorageLayout Layout { get; }

    public Sha1PieceVerifier Verifier { get; }

    /// <summary>A verifier for <paramref name="layout"/> whose hashes match nothing (for tests that never verify a piece).</summary>
    public static Sha1PieceVerifier AnyVerifier(StorageLayout layout) =>
        new(new byte[layout.PieceCount * Sha1PieceVerifier.HashSize], layout.PieceCount);

    public ReadOnlyMemory<byte> Block(int piece, int offset, int length) =>
        Data.AsMemory(piece * Layout.PieceLength + offset, length);

    /// <summary>The (offset, length) blocks of a piece.</summary>
    public List<(int Offset, int Length)> Blocks(int piece, int blockSize)
    {
        var blocks = new List<(int, int)>();
        int size = Layout.GetPieceSize(piece);
        for (int o = 0; o < size; o += blockSize) blocks.Add((o, Math.Min(blockSize, size - o)));
        return blocks;
    }

    /// <summary>Writes every block of every piece in order; returns the results.</summary>
    public async Task<List<BlockWriteResult>> WriteAllAsync(TorrentStorage storage, int blockSize)
    {
        var results = new List<BlockWriteResult>();
        for (int p = 0; p < Layout.PieceCount; p++)
            foreach (var (o, l) in Blocks(p, blockSize))
                results.Add(await storage.WriteBlockAsync(p, o, Block(p, o, l), CancellationToken.None));
        return results;
    }

    /// <summary>The expected bytes of non-padding file <paramref name="index"/>.</summary>
    public byte[] FileBytes(int index) =>
        Data.AsSpan((int)Layout.GetFileOffset(index), (int)Layout.Files[index].Length).ToArray();
}
