namespace Shoal.Daemon.Service;

/// <summary>
/// The daemon's total download and upload rates, one sample a second over the last <see cref="Capacity"/> seconds,
/// so a page that opens draws the last minutes at once. A fixed ring of numbers: recording allocates nothing.
/// </summary>
public sealed class RateHistory
{
    /// <summary>Samples kept: ten minutes at one a second. An older sample is overwritten by the next.</summary>
    public const int Capacity = 600;

    private readonly long[] _down = new long[Capacity];
    private readonly long[] _up = new long[Capacity];
    private readonly Lock _gate = new(); // one writer a second, rare readers: a few instructions held
    private int _next;
    private int _count;
    private DateTimeOffset _last;

    /// <summary>Adds the sample taken at <paramref name="time"/>.</summary>
    public void Record(DateTimeOffset time, long down, long up)
    {
        lock (_gate)
        {
            _down[_next] = down;
            _up[_next] = up;
            _next = (_next + 1) % Capacity;
            if (_count < Capacity) _count++;
            _last = time;
        }
    }

    /// <summary>The samples, oldest first; the last was taken at <see cref="RateHistoryView.End"/>.</summary>
    public RateHistoryView Snapshot()
    {
        lock (_gate)
        {
            var down = new long[_count];
            var up = new long[_count];
            int first = (_next - _count + Capacity) % Capacity;
            for (int i = 0; i < _count; i++)
            {
                down[i] = _down[(first + i) % Capacity];
                up[i] = _up[(first + i) % Capacity];
            }
            return new RateHistoryView(1, _last, down, up);
        }
    }
}

/// <summary>GET /api/v1/stats/history: the daemon's total rates over the last minutes.</summary>
/// <param name="IntervalSeconds">Seconds between samples.</param>
/// <param name="End">When the last sample was taken.</param>
/// <param name="Down">Download rates (bytes/s), oldest first.</param>
/// <param name="Up">Upload rates (bytes/s), oldest first.</param>
public sealed record RateHistoryView(int IntervalSeconds, DateTimeOffset End, IReadOnlyList<long> Down, IReadOnlyList<long> Up);
