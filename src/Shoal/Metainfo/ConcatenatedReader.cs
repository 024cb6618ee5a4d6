namespace Shoal.Metainfo;

/// <summary>
/// Reads a list of files as one byte stream for <see cref="TorrentCreator"/>, checking that each file still
/// has the length recorded when the folder was listed (a file that grows or shrinks mid-hash would make the
/// piece hashes disagree with the file table).
/// </summary>
internal sealed class ConcatenatedReader(IReadOnlyList<TorrentCreator.SourceFile> files) : IAsyncDisposable
{
    private int _fileIndex = -1;
    private FileStream? _stream;
    private long _remainingInFile;

    /// <summary>Fills <paramref name="buffer"/> as far as the data allows; returns 0 only at the very end.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            if (_stream is null || _remainingInFile == 0)
            {
                if (!await OpenNextAsync().ConfigureAwait(false)) break;
                continue;
            }
            int want = (int)Math.Min(buffer.Length - filled, _remainingInFile);
            int read = await _stream.ReadAsync(buffer.Slice(filled, want), cancellationToken).ConfigureAwait(false);
            if (read == 0) throw new IOException($"'{_stream.Name}' became shorter while it was being hashed");
            filled += read;
            _remainingInFile -= read;
        }
        return filled;
    }

    private async ValueTask<bool> OpenNextAsync()
    {
        if (_stream is not null)
        {
            bool grew = _stream.Length != files[_fileIndex].Length;
            string name = _stream.Name;
            await _stream.DisposeAsync().ConfigureAwait(false);
            _stream = null;
            if (grew) throw new IOException($"'{name}' changed size while it was being hashed");
        }
        while (++_fileIndex < files.Count)
        {
            TorrentCreator.SourceFile file = files[_fileIndex];
            if (file.Length == 0) continue;
            // bufferSize 0: the caller's multi-MiB chunks are the buffer; SequentialScan hints read-ahead to the OS.
            _stream = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            _remainingInFile = file.Length;
            return true;
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null) await _stream.DisposeAsync().ConfigureAwait(false);
        _stream = null;
    }
}
