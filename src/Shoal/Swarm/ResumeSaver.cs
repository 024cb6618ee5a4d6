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
/// <remarks>
/// v2 and hybrid torrents: the resume data also keeps what their merkle trees learned (<see cref="HashTreeResume"/>:
/// piece layers and proved parts of them from peers, block hashes of verified pieces), and a change there is a change
/// to save. Loading takes it back, every hash proved against the torrent's roots (what does not prove is logged and
/// dropped). While a torrent from a magnet link waits for its piece layers (<see cref="AwaitingLayers"/>, before any
/// check), saves keep only the trees: the pieces and files of the data loaded at the start are carried over unchanged,
/// or, when there was none, nothing is vouched for (every file recorded absent), so such a save never makes data trusted.
/// </remarks>
internal sealed class ResumeSaver(TorrentContext torrent)
{
    /// <summary>How often resume data is saved while pieces keep being verified.</summary>
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(30);

    private Task _saving = Task.CompletedTask;
    private int _savedVerifiedCount = -1;
    private long _savedDownloaded; // torrent.Downloaded when the last saved snapshot was taken
    private long _lastSave;
    private string? _path;
    private int _savedTreesVersion; // FileHashTrees.StateVersion when the last snapshot was taken (0 = nothing learned)
    private ResumeData? _loaded;    // the resume data loaded at the start, when it fit: what a trees-only save carries over
    private bool _preloaded;        // Load ran before the check (a torrent lacking piece layers): the check takes its result
    private ResumeData? _preloadedData;

    /// <summary>Set by the actor while a v2 torrent waits for its piece layers before its check: saves then keep the trees only.</summary>
    public bool AwaitingLayers { get; set; }

    /// <summary>The embedder's store (<see cref="SessionOptions.ResumeStore"/>), which replaces the resume files when set.</summary>
    private IResumeStore? Store => torrent.Session.Options.ResumeStore;

    /// <summary>True when resume data is kept at all (a store or a folder).</summary>
    private bool Keeps => Store is not null || Path is not null;

    /// <summary>Resume file of this torrent in this download folder; null when the session keeps none (or a store holds it).</summary>
    public string? Path => Store is not null || torrent.Session.Options.ResumeDirectory is null ? null
        : _path ??= PathFor(torrent.Session.Options.ResumeDirectory, torrent.InfoHash, torrent.Options.DownloadDirectory);

    /// <summary>The resume file in <paramref name="directory"/> of <paramref name="infoHash"/> downloaded into <paramref name="downloadDirectory"/>.</summary>
    public static string PathFor(string directory, Metainfo.InfoHash infoHash, string downloadDirectory)
    {
        // The same torrent downloaded into two folders must not share resume data. (The hash only names the
        // file; changing it would orphan every resume file written so far.)
        string folder = System.IO.Path.GetFullPath(downloadDirectory);
        string folderKey = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(folder)))[..12];
        return System.IO.Path.Combine(directory, $"{infoHash.ToHex()}-{folderKey}.resume");
    }

    /// <summary>The torrent's merkle trees (v2 and hybrid torrents whose data is open), or null.</summary>
    private FileHashTrees? Trees => (torrent.Storage?.Verifier as MerklePieceVerifier)?.Trees;

    private int TreesVersion => Trees?.StateVersion ?? 0;

    /// <summary>True when resume data may be saved now: a full snapshot once the check has ended, the trees alone while layers are awaited.</summary>
    private bool CanSave => torrent.Storage is not null && Keeps && (torrent.Picker is not null || AwaitingLayers);

    private bool TreesChanged => TreesVersion != Volatile.Read(ref _savedTreesVersion);

    /// <summary>
    /// True when the files may differ from what the last saved snapshot recorded (a piece verified, or a block received
    /// and written, changing its file's last-write time, since), or the merkle trees learned something.
    /// </summary>
    private bool Changed => CanSave && (TreesChanged || (torrent.Picker is not null && (torrent.Have.SetCount != _savedVerifiedCount || torrent.Downloaded != _savedDownloaded)));

    /// <summary>True when a periodic save is due: a piece verified, or the trees learned something, since the last snapshot.</summary>
    private bool Due => CanSave && (TreesChanged || (torrent.Picker is not null && torrent.Have.SetCount != _savedVerifiedCount));

    /// <summary>
    /// Loads the resume data now, before the check (a v2 torrent lacking piece layers: those it learned in an earlier run
    /// come back before any peer is asked); the check's <see cref="Load"/> then takes this result. Reads the store or the
    /// file on the calling thread.
    /// </summary>
    public void Preload(ITorrentDisk storage)
    {
        if (_preloaded) return;
        _preloadedData = Load(storage);
        _preloaded = true;
    }

    /// <summary>
    /// The resume data to trust in the check, or null (none, unreadable, or for another layout: logged). The merkle trees
    /// it keeps are taken back into the torrent's (each hash proved first).
    /// </summary>
    public ResumeData? Load(ITorrentDisk storage)
    {
        if (_preloaded)
        {
            _preloaded = false;
            ResumeData? preloaded = _preloadedData;
            _preloadedData = null;
            return preloaded;
        }
        ResumeData? loaded = Read(storage);
        _loaded = loaded is not null && storage.DescribeResumeMismatch(loaded) is null ? loaded : null;
        if (loaded?.HashTrees is { } state && storage.Verifier is MerklePieceVerifier merkle) RestoreTrees(merkle.Trees, state);
        return loaded;
    }

    /// <summary>Takes back the trees' state from resume data, logging what it restored and, one line each, what it refused.</summary>
    private void RestoreTrees(FileHashTrees trees, byte[] state)
    {
        HashTreeResume.Restored restored = HashTreeResume.Restore(trees, state);
        foreach (string refused in restored.Refused) torrent.Log($"resume data: {refused}");
        if (restored.Layers + restored.Parts + restored.Pieces > 0)
            torrent.Log($"resume data: {restored.Layers} piece layer(s), {restored.Parts} part(s) of layers and the block hashes of {restored.Pieces} piece(s) taken back, each proved against its pieces root");
        // What was taken back is what is saved: no save for it alone. What was refused is saved again without it.
        if (restored.Refused.Count == 0) Volatile.Write(ref _savedTreesVersion, trees.StateVersion);
    }

    private ResumeData? Read(ITorrentDisk storage)
    {
        ResumeData? resume;
        string? why;
        if (Store is { } store)
        {
            byte[]? bytes = null;
            try
            {
                bytes = store.Load(torrent.InfoHash, torrent.Options.DownloadDirectory);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                torrent.Log($"resume data not loaded ({ex.Message}); checking everything");
            }
            resume = bytes is null ? null : ResumeFile.TryParse(bytes, torrent.InfoHash, out why);
            why = bytes is null ? null : resume is null ? "not valid resume data" : null;
        }
        else if (Path is { } path) resume = ResumeFile.TryLoad(path, torrent.InfoHash, out why);
        else return null;
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
        // A save under way: looked at again at the next tick, so an idle torrent lets go of the finished save's state
        // machine (it would otherwise hold it until its next save: 150 bytes for each of 10,000 idle seeds).
        if (!_saving.IsCompleted) return now;
        _saving = Task.CompletedTask;
        if (!Due) return null;
        if (torrent.State == TorrentState.Seeding) return now;
        return _lastSave + (long)(SaveInterval.TotalSeconds * torrent.Time.TimestampFrequency);
    }

    /// <summary>Starts a background save when new pieces were verified since the last one and the interval has passed (or the download is complete).</summary>
    public void MaybeSave(long now)
    {
        if (!_saving.IsCompleted || !Due) return;
        if (torrent.Time.GetElapsedTime(_lastSave, now) < SaveInterval && torrent.State != TorrentState.Seeding) return;
        _lastSave = now;
        _saving = SaveAsync();
    }

    /// <summary>
    /// The torrent pauses: saves now when anything changed since the last snapshot (the snapshot is marked on the loop,
    /// as for every save), then closes the files nobody uses (a paused torrent holds no descriptor).
    /// </summary>
    public void SaveAndRelease()
    {
        if (torrent.Storage is not { } storage || !_saving.IsCompleted) return;
        bool save = Changed;
        _lastSave = torrent.Now();
        Task saving = save ? SaveAsync() : Task.CompletedTask;
        _saving = ReleaseAfterAsync(saving, storage);
    }

    private static async Task ReleaseAfterAsync(Task saving, ITorrentDisk storage)
    {
        await saving.ConfigureAwait(false);
        try { await storage.ReleaseFilesAsync().ConfigureAwait(false); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Saves now when anything is unsaved and no save is under way: the last piece layers arrived, and the check about to
    /// start may take long (a crash during it would otherwise cost asking peers for them again).
    /// </summary>
    public void SaveNow()
    {
        if (!_saving.IsCompleted || !Changed) return;
        _lastSave = torrent.Now();
        _saving = SaveAsync();
    }

    /// <summary>Forgets this torrent's resume data (a recheck). Failures are logged.</summary>
    public void Forget()
    {
        _loaded = null;
        Volatile.Write(ref _savedTreesVersion, -1); // what the trees learned is in no resume data any more
        try
        {
            if (Store is { } store) store.Delete(torrent.InfoHash, torrent.Options.DownloadDirectory);
            else if (Path is { } path) File.Delete(path);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            torrent.Log("cannot forget its resume data: " + ex.Message);
        }
    }

    /// <summary>Marks what the snapshot about to be taken covers (on the actor's loop, before the capture takes the verified set).</summary>
    private void MarkSaved()
    {
        _savedVerifiedCount = torrent.Have.SetCount;
        _savedDownloaded = torrent.Downloaded;
        Volatile.Write(ref _savedTreesVersion, TreesVersion);
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
        if (torrent.Storage is not { } storage || !Keeps) return;
        bool treesOnly = torrent.Picker is null; // decided now, on the loop: the check may start while this save runs
        FileHashTrees? trees = Trees;
        if (treesOnly && (!AwaitingLayers || trees is null)) return;
        ResumeData? loaded = _loaded;
        // Anything verified or received after this point is not in the snapshot and counts as a change next time.
        MarkSaved();
        IReadOnlyDictionary<int, string>? renamed = torrent.Options.RenamedFiles; // read on the loop
        try
        {
            ResumeData resume = treesOnly
                ? await Task.Run(() => CaptureTreesOnly(storage, trees!, loaded)).ConfigureAwait(false)
                : await storage.CaptureResumeAsync(torrent.InfoHash).ConfigureAwait(false);
            // The renamed files travel with the data, so a torrent added again finds its files where they are.
            if (renamed is { Count: > 0 }) resume = resume.WithRenamedFiles(renamed);
            if (Store is { } store) await store.SaveAsync(torrent.InfoHash, torrent.Options.DownloadDirectory, ResumeFile.Serialize(resume)).ConfigureAwait(false);
            else if (Path is { } path) await torrent.Session.ResumeWriter.SaveAsync(path, resume).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The store is the embedder's code: whatever it throws costs a check at the next start, not the torrent.
            torrent.Log("resume data not saved: " + ex.Message);
            _savedVerifiedCount = -1; // not saved after all: the stop tries again
            Volatile.Write(ref _savedTreesVersion, -1);
        }
    }

    /// <summary>
    /// Resume data that keeps what the trees learned and vouches for nothing more than <paramref name="loaded"/> did (the
    /// data loaded at the start, unchanged since: nothing is written before the check), or, without it, for nothing at all.
    /// </summary>
    private ResumeData CaptureTreesOnly(ITorrentDisk storage, FileHashTrees trees, ResumeData? loaded)
    {
        byte[]? state = HashTreeResume.Capture(trees);
        if (loaded is not null)
            return new ResumeData(torrent.InfoHash, loaded.PieceLength, loaded.ToBitField(), loaded.Files, loaded.CapturedUtcTicks) { HashTrees = state };
        StorageLayout layout = storage.Layout;
        var absent = new ResumeFileState[layout.Files.Count];
        Array.Fill(absent, ResumeFileState.Absent);
        return new ResumeData(torrent.InfoHash, layout.PieceLength, new BitField(layout.PieceCount), absent, torrent.Time.GetUtcNow().UtcTicks) { HashTrees = state };
    }
}
