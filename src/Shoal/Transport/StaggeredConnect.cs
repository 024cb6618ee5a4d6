using System.Net;

namespace Shoal.Transport;

/// <summary>
/// Dials a peer through several connectors the way "happy eyeballs" (RFC 8305) dials several addresses: the first
/// connector starts at once, each next one when the previous has failed or has had <c>headStart</c> without an
/// answer, and the first connection established wins; the attempts still running are cancelled, and one that connects
/// anyway is closed. So a peer that speaks uTP is reached over uTP (it answers a SYN within one round trip), and one
/// that does not costs a fraction of a second before TCP goes out, not libtorrent's whole uTP connect timeout.
/// </summary>
internal static class StaggeredConnect
{
    /// <summary>
    /// Connects to <paramref name="endPoint"/> through <paramref name="connectors"/> (in order of preference, all able
    /// to reach it). Returns the connection and the connector that made it; throws the last failure when all fail.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async ValueTask<(PeerTransport Transport, IPeerConnector Connector)> ConnectAsync(IReadOnlyList<IPeerConnector> connectors,
        IPEndPoint endPoint, TimeSpan headStart, TimeProvider time, CancellationToken cancellationToken)
    {
        if (connectors.Count == 0) throw new InvalidOperationException($"no connector can reach {endPoint}");
        if (connectors.Count == 1) return (await connectors[0].ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false), connectors[0]);

        // Not disposed here: the attempts still running when this returns hold its token (CloseLosersAsync disposes it).
        var attemptsStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = new List<(Task<PeerTransport> Task, IPeerConnector Connector)>(connectors.Count);
        Exception? last = null;
        int next = 0;
        Task? headStartElapsed = null;
        using var delayStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (true)
            {
                if (next < connectors.Count && (running.Count == 0 || headStartElapsed is { IsCompleted: true }))
                {
                    IPeerConnector connector = connectors[next++];
                    running.Add((Attempt(connector, endPoint, attemptsStop.Token), connector));
                    headStartElapsed = next < connectors.Count ? Task.Delay(headStart, time, delayStop.Token) : null;
                }
                if (running.Count == 0) throw last ?? new InvalidOperationException($"no connector can reach {endPoint}");

                var waitingFor = new List<Task>(running.Count + 1);
                foreach (var attempt in running) waitingFor.Add(attempt.Task);
                if (headStartElapsed is not null) waitingFor.Add(headStartElapsed);
                Task done = await Task.WhenAny(waitingFor).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (done == headStartElapsed) continue; // the next connector's turn

                int index = running.FindIndex(a => a.Task == done);
                (Task<PeerTransport> finished, IPeerConnector by) = running[index];
                running.RemoveAt(index);
                if (finished.IsCompletedSuccessfully) return (finished.Result, by);
                last = finished.Exception?.InnerException ?? last;
                // A failure hands the turn to the next connector at once.
                if (headStartElapsed is not null) headStartElapsed = Task.CompletedTask;
            }
        }
        finally
        {
            await delayStop.CancelAsync().ConfigureAwait(false);
            // The winner's caller must not wait for the losers to wind down (a uTP attempt closes on its own clock).
            _ = CloseLosersAsync([.. running], attemptsStop);
        }
    }

    private static async Task<PeerTransport> Attempt(IPeerConnector connector, IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        await Task.Yield(); // a connector that completes synchronously must not run the next one's turn inline
        return await connector.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels the attempts still running; one that connects anyway (the cancellation came too late) is closed.</summary>
    private static async Task CloseLosersAsync(List<(Task<PeerTransport> Task, IPeerConnector Connector)> losers, CancellationTokenSource stop)
    {
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await CloseAsync(losers).ConfigureAwait(false);
        }
        finally
        {
            stop.Dispose();
        }
    }

    private static async Task CloseAsync(List<(Task<PeerTransport> Task, IPeerConnector Connector)> losers)
    {
        foreach (var loser in losers)
        {
            try
            {
                PeerTransport late = await loser.Task.ConfigureAwait(false);
                late.Abort();
                await late.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Cancelled or failed: nothing to close.
            }
        }
    }
}
