using System.Buffers.Binary;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class ResumeFileTests
{
    private static InfoHash Hash(byte seed)
    {
        var b = new byte[20];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)(seed + i);
        return new InfoHash(b);
    }

    private static ResumeData Sample(byte seed = 1, int pieces = 13)
    {
        var bits = new BitField(pieces);
        for (int i = 0; i < pieces; i += 3) bits[i] = true;
        ResumeFileState[] files = [new(40_000, 638_000_000_000_000_123), ResumeFileState.Absent, new(0, 638_000_000_000_000_999)];
        return new ResumeData(Hash(seed), 32 * 1024, bits, files, capturedUtcTicks: 638_000_000_000_001_000);
    }

    private static void AssertSame(ResumeData expected, ResumeData? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.InfoHash, actual.InfoHash);
        Assert.Equal(expected.PieceCount, actual.PieceCount);
        Assert.Equal(expected.PieceLength, actual.PieceLength);
        Assert.Equal(expected.VerifiedCount, actual.VerifiedCount);
        Assert.Equal(expected.CapturedUtcTicks, actual.CapturedUtcTicks);
        Assert.Equal(expected.VerifiedBytes.ToArray(), actual.VerifiedBytes.ToArray());
        Assert.Equal(expected.Files, actual.Files);
    }

    // Rewrites the trailing checksum so a test can reach the checks behind it.
    private static void Reseal(byte[] bytes) => SHA1.HashData(bytes.AsSpan(0, bytes.Length - 20), bytes.AsSpan(bytes.Length - 20));

    [Fact]
    public void Round_trip_through_a_file()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "sub", "t.resume");
        ResumeData data = Sample();
        ResumeFile.Save(path, data);
        ResumeData? back = ResumeFile.TryLoad(path, data.InfoHash, out string? reason);
        Assert.Null(reason);
        AssertSame(data, back);
        Assert.True(back!.IsVerified(0));
        Assert.False(back.IsVerified(1));
        Assert.Equal(5, back.ToBitField().SetCount);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(9)]
    public void Round_trip_of_edge_piece_counts(int pieces)
    {
        ResumeData data = Sample(pieces: pieces);
        AssertSame(data, ResumeFile.TryParse(ResumeFile.Serialize(data), data.InfoHash, out _));
    }

    [Fact]
    public void Saving_again_replaces_the_file()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "t.resume");
        ResumeFile.Save(path, Sample(pieces: 13));
        ResumeData second = Sample(pieces: 20);
        ResumeFile.Save(path, second);
        AssertSame(second, ResumeFile.TryLoad(path, second.InfoHash, out _));
    }

    [Fact]
    public void Missing_file_is_null_without_a_reason()
    {
        using var dir = new TempDir();
        Assert.Null(ResumeFile.TryLoad(Path.Combine(dir.Path, "nope", "t.resume"), Hash(1), out string? reason));
        Assert.Null(reason);
    }

    [Fact]
    public void Other_info_hash_is_rejected()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "t.resume");
        ResumeFile.Save(path, Sample(seed: 1));
        Assert.Null(ResumeFile.TryLoad(path, Hash(2), out string? reason));
        Assert.Contains("info-hash", reason);
    }

    [Fact]
    public void Every_truncation_is_rejected()
    {
        ResumeData data = Sample();
        byte[] bytes = ResumeFile.Serialize(data);
        for (int n = 0; n < bytes.Length; n++)
        {
            Assert.Null(ResumeFile.TryParse(bytes.AsSpan(0, n), data.InfoHash, out string? reason));
            Assert.NotNull(reason);
        }
    }

    [Fact]
    public void Truncated_file_on_disk_is_rejected()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "t.resume");
        ResumeData data = Sample();
        ResumeFile.Save(path, data);
        using (var f = new FileStream(path, FileMode.Open)) f.SetLength(f.Length - 7); // a torn write
        Assert.Null(ResumeFile.TryLoad(path, data.InfoHash, out string? reason));
        Assert.NotNull(reason);
    }

    [Fact]
    public void Every_flipped_bit_is_rejected()
    {
        ResumeData data = Sample();
        byte[] bytes = ResumeFile.Serialize(data);
        for (int i = 0; i < bytes.Length; i++)
        for (int bit = 0; bit < 8; bit++)
        {
            bytes[i] ^= (byte)(1 << bit);
            Assert.Null(ResumeFile.TryParse(bytes, data.InfoHash, out _));
            bytes[i] ^= (byte)(1 << bit);
        }
        Assert.NotNull(ResumeFile.TryParse(bytes, data.InfoHash, out _));
    }

    [Fact]
    public void Appended_bytes_are_rejected()
    {
        ResumeData data = Sample();
        byte[] bytes = [.. ResumeFile.Serialize(data), 0];
        Assert.Null(ResumeFile.TryParse(bytes, data.InfoHash, out _));
        Reseal(bytes);
        Assert.Null(ResumeFile.TryParse(bytes, data.InfoHash, out string? reason)); // checksum fine, size rule not
        Assert.Contains("size", reason);
    }

    [Fact]
    public void Other_version_spare_bits_and_bad_lengths_are_rejected_behind_a_valid_checksum()
    {
        ResumeData data = Sample(pieces: 13); // 2 bitfield bytes, 3 spare bits
        byte[] good = ResumeFile.Serialize(data);

        byte[] b = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(8), 4); // 1 is plain, 2 carries renamed files, 3 also a v2 hash-tree section
        Reseal(b);
        Assert.Null(ResumeFile.TryParse(b, data.InfoHash, out string? reason));
        Assert.Contains("version", reason);

        const int header = 8 + 4 + 20 + 4 + 4 + 4 + 8;
        b = (byte[])good.Clone();
        b[header + 1] |= 1; // spare bit of piece 15
        Reseal(b);
        Assert.Null(ResumeFile.TryParse(b, data.InfoHash, out reason));
        Assert.Contains("spare", reason);

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(header + 2), -5); // length of file 0
        Reseal(b);
        Assert.Null(ResumeFile.TryParse(b, data.InfoHash, out reason));

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(32), 0); // piece length
        Reseal(b);
        Assert.Null(ResumeFile.TryParse(b, data.InfoHash, out _));

        b = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(40), int.MaxValue); // file count
        Reseal(b);
        Assert.Null(ResumeFile.TryParse(b, data.InfoHash, out _));
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var rng = new Random(4711);
        ResumeData data = Sample();
        byte[] good = ResumeFile.Serialize(data);
        for (int i = 0; i < 3000; i++)
        {
            byte[] b;
            if (i % 2 == 0)
            {
                b = new byte[rng.Next(0, 200)];
                rng.NextBytes(b);
                if (b.Length >= 8) "SHOALRSM"u8.CopyTo(b);
            }
            else
            {
                b = (byte[])good.Clone();
                for (int k = rng.Next(1, 4); k > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                Reseal(b); // let mutations reach the field checks
            }
            ResumeData? parsed = ResumeFile.TryParse(b, data.InfoHash, out string? reason);
            Assert.True(parsed is not null || reason is not null);
        }
    }

    [Fact]
    public void A_failed_save_leaves_the_old_file_intact()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "t.resume");
        ResumeData old = Sample(pieces: 13);
        ResumeFile.Save(path, old);
        Directory.CreateDirectory(path + ".tmp"); // the temporary file cannot be created
        Assert.Throws<StorageException>(() => ResumeFile.Save(path, Sample(pieces: 20)));
        AssertSame(old, ResumeFile.TryLoad(path, old.InfoHash, out _));
        Assert.True(Directory.Exists(path + ".tmp")); // not ours to delete
    }

    [Fact]
    public void A_stale_temp_file_from_a_crash_is_overwritten()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "t.resume");
        File.WriteAllBytes(path + ".tmp", new byte[5000]); // left by a crash between write and rename
        ResumeData data = Sample();
        ResumeFile.Save(path, data);
        AssertSame(data, ResumeFile.TryLoad(path, data.InfoHash, out _));
        Assert.False(File.Exists(path + ".tmp"));
    }
}
