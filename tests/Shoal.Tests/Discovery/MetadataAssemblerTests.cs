using System.Security.Cryptography;
using Shoal.Discovery;
using Shoal.Metainfo;

namespace Shoal.Tests.Discovery;

public sealed class MetadataAssemblerTests
{
    private const int Block = MetadataMessage.BlockSize;

    private static (byte[] Metadata, InfoHash Hash) RandomMetadata(int size, int seed)
    {
        byte[] metadata = new byte[size];
        new Random(seed).NextBytes(metadata);
        return (metadata, InfoHash.ComputeV1(metadata));
    }

    private static ReadOnlySpan<byte> PieceOf(byte[] metadata, int piece) =>
        metadata.AsSpan(piece * Block, Math.Min(Block, metadata.Length - (piece * Block)));

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(MetadataMessage.MaxMetadataSize + 1L)]
    [InlineData(long.MaxValue)]
    public void RejectsAnOutOfRangeSize(long size)
    {
        Assert.False(MetadataAssembler.TryCreate(default, size, out _));
        Assert.Throws<ExtensionMessageException>(() => new MetadataAssembler(default, size));
    }

    [Fact]
    public void HandsOutEachPieceOnceAndReleasesOnRejectAndPeerGone()
    {
        var assembler = new MetadataAssembler(default, (3 * Block) + 10);
        Assert.Equal(4, assembler.PieceCount);
        Assert.Equal(10, assembler.PieceLength(3));
        Assert.Equal(0, assembler.NextPieceToRequest(1));
        Assert.Equal(1, assembler.NextPieceToRequest(2));
        Assert.Equal(2, assembler.NextPieceToRequest(1));
        Assert.Equal(3, assembler.NextPieceToRequest(2));
        Assert.Null(assembler.NextPieceToRequest(3));

        assembler.OnRejected(2, 0); // not requested from peer 2: no change
        Assert.Null(assembler.NextPieceToRequest(3));
        assembler.OnRejected(1, 0);
        Assert.Equal(0, assembler.NextPieceToRequest(3));
        assembler.OnPeerGone(2);
        Assert.Equal(1, assembler.NextPieceToRequest(3));
        Assert.Equal(3, assembler.NextPieceToRequest(3));
        Assert.Null(assembler.NextPieceToRequest(3));
    }

    [Fact]
    public void CompletesOutOfOrderWithTheExactBytes()
    {
        (byte[] metadata, InfoHash hash) = RandomMetadata((4 * Block) + 123, 1);
        var assembler = new MetadataAssembler(hash, metadata.Length);
        int[] order = [4, 1, 3, 0, 2];
        for (int i = 0; i < order.Length; i++)
        {
            MetadataPieceResult result = assembler.OnData(peerKey: i, order[i], PieceOf(metadata, order[i]));
            Assert.Equal(i == order.Length - 1 ? MetadataPieceResult.Completed : MetadataPieceResult.Accepted, result);
        }
        Assert.True(assembler.IsComplete);
        Assert.Equal(metadata, assembler.InfoDictionary.ToArray());
        Assert.Null(assembler.NextPieceToRequest(0));
        Assert.Equal(MetadataPieceResult.Duplicate, assembler.OnData(0, 0, PieceOf(metadata, 0)));
    }

    [Fact]
    public void RejectsWrongSizesAndOutOfRangePiecesAndIgnoresDuplicates()
    {
        (byte[] metadata, InfoHash hash) = RandomMetadata((2 * Block) + 7, 2);
        var assembler = new MetadataAssembler(hash, metadata.Length);
        Assert.Equal(MetadataPieceResult.Invalid, assembler.OnData(1, 0, metadata.AsSpan(0, Block - 1)));
        Assert.Equal(MetadataPieceResult.Invalid, assembler.OnData(1, 0, metadata.AsSpan(0, Block + 1)));
        Assert.Equal(MetadataPieceResult.Invalid, assembler.OnData(1, 2, metadata.AsSpan(2 * Block, 6)));
        Assert.Equal(MetadataPieceResult.Invalid, assembler.OnData(1, 2, new byte[Block]));
        Assert.Equal(MetadataPieceResult.Invalid, assembler.OnData(1, 3, metadata.AsSpan(0, 7)));
        Assert.Equal(MetadataPieceResult.Invalid, assembler.OnData(1, -1, metadata.AsSpan(0, Block)));
        Assert.Equal(3, assembler.RemainingPieces);
        Assert.Equal(MetadataPieceResult.Accepted, assembler.OnData(1, 0, PieceOf(metadata, 0)));
        Assert.Equal(MetadataPieceResult.Duplicate, assembler.OnData(1, 0, PieceOf(metadata, 0)));
        Assert.Equal(2, assembler.RemainingPieces);
        Assert.False(assembler.IsComplete);
        Assert.True(assembler.InfoDictionary.IsEmpty);
    }

    [Fact]
    public void HashMismatchResetsAndNamesTheContributors()
    {
        (byte[] metadata, InfoHash hash) = RandomMetadata((2 * Block) + 50, 3);
        var assembler = new MetadataAssembler(hash, metadata.Length);
        Assert.Equal(0, assembler.NextPieceToRequest(7));
        Assert.Equal(MetadataPieceResult.Accepted, assembler.OnData(7, 0, PieceOf(metadata, 0)));
        byte[] bad = PieceOf(metadata, 1).ToArray();
        bad[100] ^= 1;
        Assert.Equal(MetadataPieceResult.Accepted, assembler.OnData(8, 1, bad));
        Assert.Equal(MetadataPieceResult.HashMismatch, assembler.OnData(7, 2, PieceOf(metadata, 2)));

        Assert.False(assembler.IsComplete);
        Assert.Equal(1, assembler.FailedAttempts);
        Assert.Equal([7, 8], assembler.LastFailureContributors.Order().ToArray());
        Assert.Equal(assembler.PieceCount, assembler.RemainingPieces);
        Assert.Equal(0, assembler.NextPieceToRequest(9));

        for (int piece = 0; piece < assembler.PieceCount; piece++)
            assembler.OnData(9, piece, PieceOf(metadata, piece));
        Assert.True(assembler.IsComplete);
        Assert.Equal(metadata, assembler.InfoDictionary.ToArray());
    }

    [Fact]
    public void AcceptsATruncatedV2Hash()
    {
        (byte[] metadata, _) = RandomMetadata(1000, 4);
        var v2 = new InfoHash(SHA256.HashData(metadata).AsSpan(0, InfoHash.Length));
        var assembler = new MetadataAssembler(v2, metadata.Length);
        Assert.Equal(MetadataPieceResult.Completed, assembler.OnData(1, 0, metadata));
    }

    [Fact]
    public void WithTheFullV2HashAllOfItMustMatch()
    {
        (byte[] metadata, InfoHash v1) = RandomMetadata(1000, 6);
        var v2 = new Sha256Hash(SHA256.HashData(metadata));

        // v2-only magnet (xt=urn:btmh): the wire hash is the truncation, the check covers all 32 bytes.
        var assembler = new MetadataAssembler(v2.Truncate(), metadata.Length, v2);
        Assert.Equal(v2, assembler.InfoHashV2);
        Assert.Equal(MetadataPieceResult.Completed, assembler.OnData(1, 0, metadata));

        // Same first 20 bytes, different last 12: refused (the truncated check alone would accept it).
        byte[] tail = v2.Span.ToArray();
        tail[31] ^= 1;
        var wrongTail = new MetadataAssembler(v2.Truncate(), metadata.Length, new Sha256Hash(tail));
        Assert.Equal(MetadataPieceResult.HashMismatch, wrongTail.OnData(1, 0, metadata));

        // Hybrid magnet (btih + btmh): both must match.
        Assert.Equal(MetadataPieceResult.Completed, new MetadataAssembler(v1, metadata.Length, v2).OnData(1, 0, metadata));
        InfoHash otherV1 = InfoHash.ComputeV1([1, 2, 3]);
        Assert.Equal(MetadataPieceResult.HashMismatch, new MetadataAssembler(otherV1, metadata.Length, v2).OnData(1, 0, metadata));
        Assert.True(MetadataAssembler.TryCreate(v1, metadata.Length, v2, out MetadataAssembler? created));
        Assert.Equal(v2, created.InfoHashV2);
    }

    [Fact]
    public async Task FetchesARealInfoDictionaryThroughTheServer()
    {
        string folder = Directory.CreateTempSubdirectory("shoal-metadata-").FullName;
        try
        {
            // 1100 pieces of 16 KiB: 22 KB of piece hashes, so the info dictionary spans two metadata pieces.
            string file = Path.Combine(folder, "content.bin");
            byte[] content = new byte[1100 * 16 * 1024];
            new Random(5).NextBytes(content);
            await File.WriteAllBytesAsync(file, content);
            Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 16 * 1024 });
            Assert.True(torrent.InfoDictionary.Length > Block);

            var server = new MetadataServer(torrent.InfoDictionary);
            var handshake = ExtensionHandshake.Parse(ExtensionHandshake.CreateLocal(6881, "Shoal", server.Size).Encode());
            var assembler = new MetadataAssembler(torrent.InfoHash, handshake.MetadataSize!.Value);
            Assert.Equal(server.PieceCount, assembler.PieceCount);

            MetadataPieceResult last = MetadataPieceResult.Accepted;
            while (assembler.NextPieceToRequest(1) is int piece)
            {
                MetadataMessage request = MetadataMessage.Parse(MetadataMessage.Request(piece).Encode());
                MetadataMessage answer = MetadataMessage.Parse(server.Respond(request.Piece));
                Assert.Equal(MetadataMessageType.Data, answer.Type);
                Assert.Equal(server.Size, answer.TotalSize);
                last = assembler.OnData(1, answer.Piece, answer.Data.Span);
            }
            Assert.Equal(MetadataPieceResult.Completed, last);
            Torrent fetched = Torrent.FromInfoDictionary(assembler.InfoDictionary);
            Assert.Equal(torrent.InfoHash, fetched.InfoHash);
            Assert.Equal(torrent.PieceCount, fetched.PieceCount);
            Assert.Equal(MetadataMessageType.Reject, MetadataMessage.Parse(server.Respond(server.PieceCount)).Type);
            Assert.Equal(MetadataMessageType.Reject, MetadataMessage.Parse(server.Respond(-3)).Type);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
