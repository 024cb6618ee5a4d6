namespace Shoal.Storage;

/// <summary>A byte range of one file of a torrent.</summary>
/// <param name="FileIndex">The file's index in the layout.</param>
/// <param name="Offset">First byte, from the start of the file.</param>
/// <param name="Length">Bytes.</param>
internal readonly record struct FileRange(int FileIndex, long Offset, long Length);

/// <summary>
/// The file ranges a torrent wrote most recently, oldest first, up to a window of bytes. Whatever falls out of the
/// window is handed to the caller, which drops it from the operating system's page cache once it is on disk (see
/// <see cref="StorageOptions.OsCacheWindow"/>). Pure bookkeeping: no I/O, thread-safe, bounded.
/// </summary>
/// <remarks>
/// A range that continues the newest one in the same file extends it, so a torrent downloaded in order is one
/// range however long; ranges leave the window from their front, cut at page boundaries, so the window holds
/// exactly the newest bytes. At most <see cref="MaxRanges"/> ranges are kept: beyond that (many small files, or
/// pieces written in scattered order) the oldest leave whole, whatever the window still has room for.
/// </remarks>
internal sealed class RecentWrites
{
    /// <summary>Most ranges remembered at once.</summary>
    public const int MaxRanges = 1024;

    // The kernel only drops whole pages of a range; cutting at page boundaries leaves no page half in, half out.
    private const long PageSize = 4096;

    private FileRange[]? _ranges; // a ring, oldest at _head; allocated by the first write (a seed never needs it)
    private readonly long _window;
    private readonly Lock _lock = new();
    private int _head;
    private int _count;
    private long _bytes;

    /// <summary>Keeps the newest <paramref name="window"/> bytes (0: hand everything out as it is recorded).</summary>
    public RecentWrites(long window)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        _window = window;
    }

    /// <summary>Bytes currently inside the window.</summary>
    public long Bytes
    {
        get { lock (_lock) return _bytes; }
    }

    /// <summary>
    /// Records that <paramref name="length"/> bytes were written at <paramref name="offset"/> of a file. When
    /// <see cref="MaxRanges"/> ranges are already kept, the oldest leaves whole to make room: it is returned in
    /// <paramref name="displaced"/> (true) to be dropped like an expired one.
    /// </summary>
    public bool Record(int fileIndex, long offset, long length, out FileRange displaced)
    {
        displaced = default;
        if (length <= 0) return false;
        lock (_lock)
        {
            _ranges ??= new FileRange[MaxRanges];
            if (_count > 0)
            {
                ref FileRange newest = ref _ranges[(_head + _count - 1) % MaxRanges];
                if (newest.FileIndex == fileIndex && newest.Offset + newest.Length == offset)
                {
                    newest = newest with { Length = newest.Length + length };
                    _bytes += length;
                    return false;
                }
            }
            bool full = _count == MaxRanges;
            if (full)
            {
                displaced = _ranges[_head];
                _bytes -= displaced.Length;
                _head = (_head + 1) % MaxRanges;
                _count--;
            }
            _ranges[(_head + _count) % MaxRanges] = new FileRange(fileIndex, offset, length);
            _count++;
            _bytes += length;
            return full;
        }
    }

    /// <summary>
    /// Takes the oldest range, or the front of it, that lies outside the window; false when everything left is
    /// inside. Call it until false after each <see cref="Record"/>.
    /// </summary>
    public bool TryTakeExpired(out FileRange expired)
    {
        lock (_lock)
        {
            if (_bytes <= _window)
            {
                expired = default;
                return false;
            }
            ref FileRange oldest = ref _ranges![_head];
            long end = RoundUpToPage(oldest.Offset + (_bytes - _window));
            long take = Math.Min(oldest.Length, end - oldest.Offset);
            expired = oldest with { Length = take };
            _bytes -= take;
            if (take == oldest.Length)
            {
                _head = (_head + 1) % MaxRanges;
                _count--;
            }
            else
            {
                oldest = oldest with { Offset = oldest.Offset + take, Length = oldest.Length - take };
            }
            return true;
        }
    }

    private static long RoundUpToPage(long value) => (value + PageSize - 1) / PageSize * PageSize;
}
