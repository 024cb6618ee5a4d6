using System.Security.Cryptography;
using System.Text;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// One torrent's fast-resume file: where it lives, loading it before the data check, and saving it in the
/// background when pieces were verified since the last save (every <see cref="SaveInterval"/>, at once when the
/// download completes) and once more when the torrent stops. Nothing is saved when the session keeps no resume
/// folder.
/// </summary>
internal sealed class ResumeSaver(TorrentContext torrent)
{
    /// <summary>How often resume data is saved while pieces keep being verified.</summary>
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(30);

    private Task _saving = Task.CompletedTask;
    private int _savedVerifiedCount = -1;
    private long _lastSave;

    /// <summary>Resume file of this torrent in this download folder; null when the session keeps none.</summary>
    public string? Path
    {
        get
        {
            if (torrent.Session.Options.ResumeDirectory is not { } directory) return null;
            // The same torrent downloaded into two folders must not share resume data. (The hash only names the
            // file; changing it would orphan every resume file written so far.)
            string folder = System.IO.Path.GetFullPath(torrent.Options.DownloadDirectory);
            string folderKey = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(folder)))[..12];
            return System.IO.Path.Combine(directory, $"{torrent.InfoHash.ToHex()}-{folderKey}.resume");
        }
    }

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
        _lastSave = torrent.Now();
    }

    /// <summary>When the next save is due (a <see cref="TimeProvider"/> timestamp), or null when nothing is left unsaved.</summary>
    public long? NextSaveDue(long now)
    {
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
        _savedVerifiedCount = torrent.Have.SetCount;
        _saving = Task.Run(SaveAsync);
    }

    /// <summary>The torrent stops: waits for a save under way, then saves once more so the next start hashes nothing.</summary>
    public async Task FinishAsync(bool saveNow)
    {
        await _saving.ConfigureAwait(false);
        if (saveNow) await SaveAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Flushes the data, then writes the resume file atomically (the storage's capture does the flush first, so
    /// the file never vouches for bytes that are not durable). Failures are logged: the next start then rehashes.
    /// </summary>
    private async Task SaveAsync()
    {
        if (torrent.Storage is not { } storage || Path is not { } path) return;
        try
        {
            ResumeData resume = await storage.CaptureResumeAsync(torrent.InfoHash).ConfigureAwait(false);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            ResumeFile.Save(path, resume);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            torrent.Log("resume data not saved: " + ex.Message);
        }
    }
}
