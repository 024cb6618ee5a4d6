namespace Shoal.Storage;

/// <summary>
/// Writes the resume files of every torrent of a session in batches: saves asked for while a batch is being written
/// wait for the next one, and each batch is made durable with one flush (<see cref="ResumeFile.SaveBatch"/>), so
/// 10,000 torrents that finish their check together cost a few flushes, not 10,000. One batch at a time, on a
/// thread-pool thread (blocking I/O), only while there is something to write.
/// </summary>
/// <remarks>
/// Bounded by the torrents: each has at most one save waiting (a newer save of the same file replaces the waiting
/// one, whose caller is answered with the newer outcome).
/// </remarks>
internal sealed class ResumeWriter
{
    private readonly Lock _gate = new();
    private Dictionary<string, Pending> _waiting = [];
    private Dictionary<string, Pending> _spare = [];
    private bool _writing;
    private long _batches;
    private long _files;

    /// <summary>Batches written so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Files written so far.</summary>
    public long FilesWritten => Interlocked.Read(ref _files);

    /// <summary>
    /// Saves <paramref name="data"/> to <paramref name="path"/> in the next batch; completes once it is durable, or
    /// faults with the <see cref="StorageException"/> that kept it from being saved.
    /// </summary>
    public Task SaveAsync(string path, ResumeData data)
    {
        lock (_gate)
        {
            if (_waiting.TryGetValue(path, out Pending? pending))
            {
                pending.Data = data; // the newer snapshot wins; both callers learn its outcome
            }
            else
            {
                pending = new Pending(data);
                _waiting.Add(path, pending);
            }
            if (!_writing)
            {
                _writing = true;
                _ = Task.Run(WriteBatches);
            }
            return pending.Done.Task;
        }
    }

    private void WriteBatches()
    {
        while (true)
        {
            Dictionary<string, Pending> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    return;
                }
                batch = _waiting;
                _waiting = _spare;
                _spare = batch;
            }
            var entries = new List<(string Path, ResumeData Data)>(batch.Count);
            foreach ((string path, Pending pending) in batch) entries.Add((path, pending.Data));
            IReadOnlyList<(string Path, StorageException Error)> failed;
            try
            {
                failed = ResumeFile.SaveBatch(entries);
            }
            catch (Exception e)
            {
                // SaveBatch reports per file; anything else is a bug, told to every caller rather than lost.
                foreach (Pending pending in batch.Values) pending.Done.TrySetException(e);
                batch.Clear();
                continue;
            }
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _files, entries.Count - failed.Count);
            foreach ((string path, StorageException error) in failed)
                if (batch.Remove(path, out Pending? pending)) pending.Done.TrySetException(error);
            foreach (Pending pending in batch.Values) pending.Done.TrySetResult();
            batch.Clear();
        }
    }

    private sealed class Pending(ResumeData data)
    {
        public ResumeData Data = data;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
