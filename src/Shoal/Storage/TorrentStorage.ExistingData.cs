namespace Shoal.Storage;

/// <summary>What a torrent's files held before anything was written, and keeping them within the torrent's lengths.</summary>
public sealed partial class TorrentStorage
{
    private ResumeFileState[]? _checkedFiles; // per file, from the last check (absent: missing, padding or skipped)
    private bool[]? _vouchedByResume;         // per file: its length and time matched our own resume data (our own partial download)

    /// <summary>Seed-only storage (<see cref="StorageOptions.ReadOnly"/>): never writes.</summary>
    public bool IsReadOnly => _files?.IsReadOnly == true;

    private void ThrowIfReadOnly()
    {
        if (IsReadOnly) throw new InvalidOperationException("seed-only storage never writes");
    }

    private void RememberCheckedFiles(ResumeFileState[] files, bool[]? vouched)
    {
        _checkedFiles = files;
        _vouchedByResume = vouched;
    }

    /// <summary>Files whose length and last-write time are what our resume data recorded: the data in them is ours.</summary>
    private static bool[] VouchedFiles(ResumeData resume, ResumeFileState[] files)
    {
        var vouched = new bool[files.Length];
        for (int i = 0; i < vouched.Length; i++)
        {
            ResumeFileState r = resume.Files[i];
            vouched[i] = !files[i].IsAbsent && !r.IsAbsent && files[i].Length == r.Length && files[i].LastWriteUtcTicks == r.LastWriteUtcTicks;
        }
        return vouched;
    }

    /// <summary>
    /// After a check (<see cref="CheckFilesAsync"/>): the files that were already there with content the torrent does
    /// not have — pieces that did not match (they will be written over) or bytes past the torrent's length (they will be
    /// cut, see <see cref="TrimOversizedFilesAsync"/>). Files our own resume data vouches for (a download resumed) are
    /// not conflicts for their pieces, only for a tail too long. Storage that is not files has no conflicts.
    /// </summary>
    public ExistingData DescribeExistingData(BitField verified)
    {
        ArgumentNullException.ThrowIfNull(verified);
        ResumeFileState[] files = _checkedFiles ?? throw new InvalidOperationException("the data has not been checked yet");
        var conflicts = new List<ExistingFileConflict>();
        for (int i = 0; i < files.Length; i++)
        {
            string? path = GetFilePath(i);
            long length = files[i].Length;
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
        if (IsReadOnly || _files is not { } files || _checkedFiles is not { } states) return Task.CompletedTask;
        bool any = false;
        for (int i = 0; i < states.Length && !any; i++) any = files.GetFilePath(i) is not null && states[i].Length > _layout.Files[i].Length;
        if (!any) return Task.CompletedTask;
        return _disk.RunAsync(() =>
        {
            for (int i = 0; i < states.Length; i++)
            {
                if (files.GetFilePath(i) is null || states[i].Length <= _layout.Files[i].Length) continue;
                files.CutToLength(i);
                states[i] = new ResumeFileState(_layout.Files[i].Length, states[i].LastWriteUtcTicks);
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
