using Shoal.Cli.Reporting;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;

namespace Shoal.Cli.Commands;

/// <summary>The running part of <c>share</c> and <c>get</c>: waiting for completion or Ctrl+C while a display shows progress.</summary>
internal static class TorrentRun
{
    private static readonly TimeSpan ErrorPoll = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs <paramref name="work"/> while <paramref name="display"/> shows the handle's status; stops the display after.</summary>
    /// <remarks>
    /// With <paramref name="trackerLog"/>, tracker failures and recoveries are reported there as they happen, and so is
    /// what the gateway did with the listen port when <paramref name="portMappings"/> is given.
    /// </remarks>
    public static async Task<T> WithDisplayAsync<T>(StatusDisplay display, TorrentHandle handle, Func<Task<T>> work, TextWriter? trackerLog = null,
        Func<IReadOnlyList<PortMapping.PortMappingStatus>>? portMappings = null)
    {
        using var stopDisplay = new CancellationTokenSource();
        Task trackers = trackerLog is null ? Task.CompletedTask : TrackerReporter.RunAsync(handle, trackerLog, stopDisplay.Token);
        Task mappings = trackerLog is null || portMappings is null ? Task.CompletedTask : PortMappingReporter.RunAsync(portMappings, trackerLog, stopDisplay.Token);
        Task shown = Task.WhenAll(display.RunAsync(handle.GetStatus, stopDisplay.Token), trackers, mappings);
        T result;
        try
        {
            result = await work().ConfigureAwait(false);
        }
        catch
        {
            stopDisplay.Cancel();
            try
            {
                await shown.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // the work's failure is the one worth reporting
            }
            throw;
        }
        stopDisplay.Cancel();
        await shown.ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Waits for a magnet link's metadata: the torrent, or null when the user stops first. A torrent that
    /// stops on an error becomes a one-line run-time failure.
    /// </summary>
    public static async Task<Torrent?> WaitForMetadataAsync(TorrentHandle handle, CancellationToken cancellationToken)
    {
        try
        {
            return await handle.Metadata.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex) when (ex is not CliException)
        {
            string reason = SafeError(handle) ?? ex.Message;
            throw new CliException($"fetching metadata stopped: {reason}", ExitCodes.Failure, ex);
        }
    }

    /// <summary>
    /// Waits for the start-up check's result (<paramref name="checkedData"/>, set by <see cref="TorrentOptions.DataChecked"/>):
    /// null when the user stops first; a torrent that stops on an error (a link in the folder, an unreadable file) becomes
    /// a one-line run-time failure.
    /// </summary>
    public static async Task<ExistingData?> WaitForCheckAsync(TorrentHandle handle, Task<ExistingData> checkedData, CancellationToken cancellationToken)
    {
        try
        {
            Task first = await Task.WhenAny(checkedData, handle.Completion).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (first == checkedData || checkedData.IsCompleted) return await checkedData.ConfigureAwait(false);
            await handle.Completion.ConfigureAwait(false); // faulted or cancelled: report why
            return await checkedData.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex) when (ex is not CliException)
        {
            string reason = SafeError(handle) ?? ex.Message;
            throw new CliException($"checking the data stopped: {reason}", ExitCodes.Failure, ex);
        }
    }

    /// <summary>
    /// Waits until every wanted piece is verified (true) or the user stops (false). A torrent that stops on an
    /// error becomes a one-line run-time failure.
    /// </summary>
    public static async Task<bool> WaitForCompletionAsync(TorrentHandle handle, CancellationToken cancellationToken)
    {
        try
        {
            await handle.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception ex) when (ex is not CliException)
        {
            string reason = SafeError(handle) ?? ex.Message;
            throw new CliException($"download stopped: {reason}", ExitCodes.Failure, ex);
        }
    }

    /// <summary>Seeds until the user stops (returns) or the torrent stops on an error (one-line run-time failure).</summary>
    public static async Task SeedUntilStoppedAsync(TorrentHandle handle, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TorrentStatus status = handle.GetStatus();
            if (status.State == TorrentState.Error)
            {
                throw new CliException($"torrent stopped: {status.Error ?? "unknown error"}", ExitCodes.Failure);
            }
            try
            {
                await Task.Delay(ErrorPoll, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string? SafeError(TorrentHandle handle)
    {
        try
        {
            return handle.GetStatus().Error;
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            return null;
        }
    }
}
