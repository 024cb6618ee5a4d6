namespace Shoal.Storage;

/// <summary>What a torrent's files held before anything was written, and keeping them within the torrent's lengths.</summary>
public sealed partial class TorrentStorage
{
    private long[]? _checkedSizes;    // per file, from the last check: -1 missing, long.MaxValue padding or skipped
    private bool[]? _vouchedByResume; // per file: its length and time matched our own resume data (our own partial download)

    /// <summary>Seed-only storage (<see cref="StorageOptions.ReadOnly"/>): never writes.</summary>
    public bool IsReadOnly => _readOnly;

    private void RememberCheckedFiles(long[] sizes, bool[]? vouched)
    {
        _checkedSizes = sizes;
        _vouchedByResume = vouched;
    }

    /// <summary>Files whose length and last-write time are what our resume data recorded: the data in them is ours.</summary>
    private bool[] VouchedFiles(ResumeData resume, long[] sizes, long[] times)
    {
        var vouched = new bool[_paths.Length];
        for (int i = 0; i < vouched.Length; i++)
        {
            ResumeFileState r = resume.Files[i];
            vouched[i] = _paths[i] is not null && !r.IsAbsent && sizes[i] == r.Length && times[i] == r.LastWriteUtcTicks;
        }
        return vouched;
    }

    /// <summary>Disk workers, before a check of writable storage: a link anywhere below the download folder is a conflict.</summary>
    private void ThrowOnLinks()
    {
        foreach (string? path in _paths)
        {
            if (path is not null && NoFollowFile.FindLink(DownloadDirectory, path) is { } link) throw NoFollowFile.LinkConflict(link);
        }
    }

    /// <summary>
    /// After <see cref="CheckExistingAsync(ResumeData?, IProgress{int}?, CancellationToken)"/>: the files that were already
    /// there with content the torrent does not have — pieces that did not match (they will be written over) or bytes
    /// past the torrent's length (they will be cut, see <see cref="TrimOversizedFilesAsync"/>). Files our own resume data
    /// vouches for (a download resumed) are not conflicts for their pieces, only for a tail too long.
    /// </summary>
    public ExistingData DescribeExistingData(BitField verified)
    {
        ArgumentNullException.ThrowIfNull(verified);
        long[] sizes = _checkedSizes ?? throw new InvalidOperationException("the data has not been checked yet");
        var conflicts = new List<ExistingFileConflict>();
        for (int i = 0; i < _paths.Length; i++)
        {
            string? path = _paths[i];
            long length = sizes[i];
            if (path is null || length <= 0) continue; // padding, skipped, missing or empty: nothing of the user's to lose
            long expected = _layout.Files[i].Length;
            int pieces = 0, matching = 0;
            if (expected > 0)
            {
                long start = _layout.GetFileOffset(i);
                int first = (int)(start / _layout.PieceLength), last = (int)((start + expected - 1) / _layout.PieceLength);
                pieces = last - first + 1;
                for (int p = first; p <= last; p++)
                    if (verified[p]) matching++;
            }
            bool overwritten = matching < pieces && _vouchedByResume?[i] != true;
            if (overwritten || length > expected) conflicts.Add(new ExistingFileConflict(i, path, length, expected, matching, pieces));
        }
        return new ExistingData(verified.SetCount, verified.Length, conflicts);
    }

    /// <summary>
    /// Cuts every file that is longer than the torrent says to the torrent's length, so that a finished download is
    /// exactly the torrent's data (bytes past the end are no part of it and would never be checked). Never for
    /// seed-only storage. Call after the check.
    /// </summary>
    public Task TrimOversizedFilesAsync(CancellationToken ct = default)
    {
        if (_readOnly || _checkedSizes is not { } sizes) return Task.CompletedTask;
        bool any = false;
        for (int i = 0; i < _paths.Length && !any; i++) any = _paths[i] is not null && sizes[i] != long.MaxValue && sizes[i] > _layout.Files[i].Length;
        if (!any) return Task.CompletedTask;
        return _disk.RunAsync(() =>
        {
            for (int i = 0; i < _paths.Length; i++)
            {
                string? path = _paths[i];
                long expected = _layout.Files[i].Length;
                if (path is null || sizes[i] == long.MaxValue || sizes[i] <= expected) continue;
                FileHandleCache.Entry entry = _handles.Acquire(i, forWrite: true);
                try
                {
                    RandomAccess.SetLength(entry.Handle, expected);
                    sizes[i] = expected;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw StorageException.From(e, "cut to the torrent's length", path);
                }
                finally
                {
                    _handles.Release(entry);
                }
            }
            return true;
        }, ct);
    }
}

/// <summary>What the start-up check found in the download folder.</summary>
/// <param name="VerifiedPieces">Pieces whose data was already there and matched.</param>
/// <param name="PieceCount">Pieces of the torrent.</param>
/// <param name="Conflicts">Files that held something else: content that will be written over, or a tail that will be cut.</param>
public sealed record ExistingData(int VerifiedPieces, int PieceCount, IReadOnlyList<ExistingFileConflict> Conflicts);

/// <summary>A file that was already in the download folder with content other than the torrent's.</summary>
/// <param name="FileIndex">The file's index in the torrent.</param>
/// <param name="Path">Its full path.</param>
/// <param name="Length">Its length on disk before anything was written.</param>
/// <param name="ExpectedLength">The torrent's length for it.</param>
/// <param name="MatchingPieces">Of the pieces it is part of, those that matched.</param>
/// <param name="Pieces">The pieces it is part of.</param>
public sealed record ExistingFileConflict(int FileIndex, string Path, long Length, long ExpectedLength, int MatchingPieces, int Pieces)
{
    /// <summary>Some of its pieces did not match: downloading writes over them.</summary>
    public bool WillBeWritten => MatchingPieces < Pieces;

    /// <summary>It is longer than the torrent's file: the extra bytes are cut.</summary>
    public bool WillBeCut => Length > ExpectedLength;
}
