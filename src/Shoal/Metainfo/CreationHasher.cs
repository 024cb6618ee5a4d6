using System.Buffers;
using System.Security.Cryptography;

namespace Shoal.Metainfo;

/// <summary>The hashes <see cref="TorrentCreator"/> puts in a torrent.</summary>
/// <param name="V1Pieces">Concatenated SHA-1 piece hashes over the (padded) byte stream; null when not asked for.</param>
/// <param name="Roots">Each source file's v2 'pieces root' (null for empty files, or when v2 was not asked for).</param>
/// <param name="Layers">Each source file's v2 piece layer (32 bytes per piece) when it has more than one piece, else null.</param>
internal sealed record CreationHashes(byte[]? V1Pieces, Sha256Hash?[] Roots, byte[]?[] Layers);

/// <summary>
/// Reads the source files once, in order, and computes what the torrent needs: SHA-1 piece hashes over the files
/// as one stream (with zeros where a hybrid has padding), and each file's SHA-256 merkle tree (16 KiB leaves, piece
/// layer and root, BEP 52). Files are read in large pooled chunks, the next chunk while the current one is hashed,
/// so creation runs at about the speed of the hashes on one core when the data is cached.
/// </summary>
internal static class CreationHasher
{
    private const int ChunkSize = 4 * 1024 * 1024; // a multiple of 16 KiB: chunks never split a v2 block
    private const int Sha1Length = 20;
    private static readonly byte[] Zeros = new byte[64 * 1024];

    /// <param name="files">The files in torrent order.</param>
    /// <param name="pieceLength">The piece length.</param>
    /// <param name="padding">Zeros to hash after each file in the v1 stream (hybrid padding), or null.</param>
    /// <param name="v1PieceCount">Pieces of the v1 stream, or 0 for no v1 hashes.</param>
    /// <param name="v2">Whether to build the v2 merkle trees.</param>
    /// <param name="progress">Bytes read so far.</param>
    /// <param name="cancellationToken">Stops the hashing.</param>
    public static async Task<CreationHashes> HashAsync(IReadOnlyList<TorrentCreator.SourceFile> files, int pieceLength, long[]? padding,
        int v1PieceCount, bool v2, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var v1 = v1PieceCount > 0 ? new V1Hasher(pieceLength, v1PieceCount) : null;
        var roots = new Sha256Hash?[files.Count];
        var layers = new byte[]?[files.Count];
        byte[] current = ArrayPool<byte>.Shared.Rent(ChunkSize);
        byte[] next = ArrayPool<byte>.Shared.Rent(ChunkSize);
        long hashed = 0;
        try
        {
            for (int f = 0; f < files.Count; f++)
            {
                TorrentCreator.SourceFile file = files[f];
                var tree = v2 && file.Length > 0 ? new V2FileHasher(pieceLength, file.Length) : null;
                if (file.Length > 0)
                {
                    // bufferSize 0: the multi-MiB chunks are the buffer; SequentialScan hints read-ahead to the OS.
                    await using var stream = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0,
                        FileOptions.Asynchronous | FileOptions.SequentialScan);
                    long remaining = file.Length;
                    int length = await FillAsync(stream, current, remaining, file.FullPath, cancellationToken).ConfigureAwait(false);
                    while (length > 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        remaining -= length;
                        ValueTask<int> readAhead = remaining > 0 ? FillAsync(stream, next, remaining, file.FullPath, cancellationToken) : ValueTask.FromResult(0);
                        try
                        {
                            v1?.Append(current.AsSpan(0, length));
                            tree?.Append(current.AsSpan(0, length));
                        }
                        finally
                        {
                            // Never leave a read running into a buffer that goes back to the pool.
                            int nextLength = await readAhead.ConfigureAwait(false);
                            hashed += length;
                            length = nextLength;
                        }
                        progress?.Report(hashed);
                        (current, next) = (next, current);
                    }
                    if (stream.Length != file.Length) throw new IOException($"'{file.FullPath}' changed size while it was being hashed");
                }
                if (tree is not null) (roots[f], layers[f]) = tree.Finish();
                if (padding is not null && padding[f] > 0) v1?.AppendZeros(padding[f]);
            }
            return new CreationHashes(v1?.Finish(), roots, layers);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }
    }

    /// <summary>Reads up to one chunk (less only at the file's end); a file that ends early is an error.</summary>
    private static async ValueTask<int> FillAsync(FileStream stream, byte[] buffer, long remaining, string path, CancellationToken cancellationToken)
    {
        int want = (int)Math.Min(ChunkSize, remaining);
        int filled = 0;
        while (filled < want)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(filled, want - filled), cancellationToken).ConfigureAwait(false);
            if (read == 0) throw new IOException($"'{path}' became shorter while it was being hashed");
            filled += read;
        }
        return filled;
    }

    /// <summary>SHA-1 of each piece of one byte stream that crosses file boundaries.</summary>
    private sealed class V1Hasher(int pieceLength, int pieceCount) : IDisposable
    {
        private readonly IncrementalHash _sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        private readonly byte[] _pieces = new byte[pieceCount * Sha1Length];
        private int _piece;
        private int _filled;

        public void Append(ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                int take = Math.Min(data.Length, pieceLength - _filled);
                _sha1.AppendData(data[..take]);
                data = data[take..];
                _filled += take;
                if (_filled == pieceLength) EndPiece();
            }
        }

        public void AppendZeros(long count)
        {
            while (count > 0)
            {
                int take = (int)Math.Min(count, Zeros.Length);
                Append(Zeros.AsSpan(0, take));
                count -= take;
            }
        }

        public byte[] Finish()
        {
            if (_filled > 0) EndPiece();
            if (_piece != pieceCount) throw new IOException("files changed size while they were being hashed");
            return _pieces;
        }

        private void EndPiece()
        {
            if (_piece >= pieceCount) throw new IOException("files changed size while they were being hashed");
            _sha1.GetHashAndReset(_pieces.AsSpan(_piece++ * Sha1Length, Sha1Length));
            _filled = 0;
        }

        public void Dispose() => _sha1.Dispose();
    }

    /// <summary>One file's BEP 52 tree: leaf hashes of 16 KiB blocks, reduced piece by piece into the piece layer.</summary>
    private sealed class V2FileHasher(int pieceLength, long fileLength)
    {
        private readonly int _leavesPerPiece = pieceLength / MerkleTree.BlockSize;
        private readonly List<byte[]> _pieceHashes = [];
        private byte[] _leaves = [];
        private int _leafCount;

        /// <summary>Data in 16 KiB blocks; only the file's last block may be shorter (chunks are whole blocks).</summary>
        public void Append(ReadOnlySpan<byte> data)
        {
            if (_leaves.Length == 0) _leaves = new byte[_leavesPerPiece * MerkleTree.HashSize];
            while (!data.IsEmpty)
            {
                int take = Math.Min(data.Length, MerkleTree.BlockSize);
                SHA256.HashData(data[..take], _leaves.AsSpan(_leafCount++ * MerkleTree.HashSize, MerkleTree.HashSize));
                data = data[take..];
                if (_leafCount == _leavesPerPiece) EndPiece();
            }
        }

        public (Sha256Hash Root, byte[]? Layer) Finish()
        {
            if (_leafCount > 0) EndPiece();
            byte[] layer = [.. _pieceHashes.SelectMany(h => h)];
            Sha256Hash root = MerkleTree.RootFromPieceLayer(layer, pieceLength);
            return (root, _pieceHashes.Count > 1 ? layer : null);
        }

        private void EndPiece()
        {
            Sha256Hash piece = MerkleTree.PieceHash(_leaves.AsSpan(0, _leafCount * MerkleTree.HashSize), pieceLength, fileLength);
            _pieceHashes.Add(piece.Span.ToArray());
            _leafCount = 0;
        }
    }
}
