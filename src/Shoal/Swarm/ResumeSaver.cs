using System.Security.Cryptography;
using System.Text;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// One torrent's fast-resume file: where it lives, loading it before the data check, and saving it in the
/// background when pieces were verified since the last save (every <see cref="SaveInterval"/>, at once when the
/// download completes or a check found everything without resume data) and once more when the torrent stops, if
/// anything changed since (a piece verified, a block written). Saves go through the session's
/// <see cref="ResumeWriter"/>, which writes them in batches with one flush each. Nothing is saved when the session
/// keeps no resume folder.
/// </summary>
internal sealed class ResumeSaver(TorrentContext torrent)
{
    /// <summary>How often resume data is saved while pieces keep being verified.</summary>
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(30);

    private Task _saving = Task.CompletedTask;
    private int _savedVerifiedCount = -1;
    private long _savedDownloaded; // torrent.Downloaded when the last saved snapshot was taken
    private long _lastSave;
    private string? _path;

    /// <summary>Resume file of this torrent in this download folder; null when the session keeps none.</summary>
    public string? Path => torrent.Session.Options.ResumeDirectory is null ? null : _path ??= BuildPath(torrent.Session.Options.ResumeDirectory);

    private string BuildPath(string directory)
    {
        // The same torrent downloaded into two folders must not share resume data. (The hash only names the
        // file; changing it would orphan every resume file written so far.)
        string folder = System.IO.Path.GetFullPath(torrent.Options.DownloadDirectory);
        string folderKey = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(folder)))[..12];
        return System.IO.Path.Combine(directory, $"{torrent.InfoHash.ToHex()}-{folderKey}.resume");
    }

    /// <summary>
    /// True when the files may differ from what the last saved snapshot recorded: a piece verified, or a block received
    /// (and written, changing its file's last-write time) since.
    /// </summary>
    private bool Changed => torrent.Have.SetCount != _savedVerifiedCount || torrent.Downloaded != _savedDownloaded;

    /// <summary>The resume data to trust in the check, or null (none, unreadable, or for another layout: logged).</summary>
    public ResumeData? Load(ITorrentDisk storage)
    {
        if (Path is not { } path) return null;
        ResumeData? resume = ResumeFile.TryLoad(path, torrent.InfoHash, out string? why);
        if (why is not null) torrent.Log($"resume data ignored ({why}); checking everything");
        else if (resume is not null && storage.DescribeResumeMismatch(resume) is { } mismatch) torrent.Log($"resume data does not fit ({mismatch}); checking everything");
        return resume;
    }

    /// <summary>The check ended: what it found is what the resume file (if it was used) already says.</summary>
    public void OnChecked(bool usedResume)
    {
        _savedVerifiedCount = usedResume ? torrent.Have.SetCount : -1;
        _savedDownloaded = torrent.Downloaded;
        _lastSave = torrent.Now();
    }

    /// <summary>When the next save is due (a <see cref="TimeProvider"/> timestamp), or null when nothing is left unsaved.</summary>
    public long? NextSaveDue(long now)
    {
        if (_saving.IsCompleted) _saving = Task.CompletedTask; // an idle torrent keeps no finished save's state machine
        if (torrent.Storage is null || torrent.Picker is null || Path is null || torrent.Have.SetCount == _savedVerifiedCount) return null;
        if (!_saving.IsCompleted || torrent.State == TorrentState.Seeding) return now;
        return _lastSave + (long)(SaveInterval.TotalSeconds * torrent.Time.TimestampFrequency);
    }

    /// <summary>Starts a background save when new pieces were verified since the last one and the interval has passed (or the download is complete).</summary>
    public void MaybeSave(long now)
    {
        if (torrent.Storage is null || torrent.Picker is null || !_saving.IsCompleted || torrent.Have.SetCount == _savedVerifiedCount) return;
        if (torrent.Time.GetElapsedTime(_lastSave, now) < SaveInterval && torrent.State != TorrentState.Seeding) return;
        _lastSave = now;
        _saving = SaveAsync();
    }

    /// <summary>Marks what the snapshot about to be taken covers (on the actor's loop, before the capture takes the verified set).</summary>
    private void MarkSaved()
    {
        _savedVerifiedCount = torrent.Have.SetCount;
        _savedDownloaded = torrent.Downloaded;
    }

    /// <summary>
    /// The torrent stops: waits for a save under way, then saves once more if anything changed since the last snapshot,
    /// so the next start hashes nothing. A torrent that only seeded since its last save writes nothing.
    /// </summary>
    public async Task FinishAsync(bool saveNow)
    {
        await _saving.ConfigureAwait(false);
        if (saveNow && Changed) await SaveAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Flushes the data, then writes the resume file atomically (the storage's capture does the flush first, so
    /// the file never vouches for bytes that are not durable). Failures are logged: the next start then rehashes.
    /// </summary>
    private async Task SaveAsync()
    {
        if (torrent.Storage is not { } storage || Path is not { } path) return;
        // Anything verified or received after this point is not in the snapshot and counts as a change next time.
        MarkSaved();
        try
        {
            ResumeData resume = await storage.CaptureResumeAsync(torrent.InfoHash).ConfigureAwait(false);
            await torrent.Session.ResumeWriter.SaveAsync(path, resume).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            torrent.Log("resume data not saved: " + ex.Message);
            _savedVerifiedCount = -1; // not saved after all: the stop tries again
        }
    }
}
