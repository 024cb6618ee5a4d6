using Spectre.Console;

namespace Shoal.Cli.Reporting;

/// <summary>Shows a progress bar while a torrent is hashed, when a terminal is there to show it on.</summary>
internal static class HashingProgress
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Runs <paramref name="work"/> (which reports cumulative hashed bytes to the progress it is given) and,
    /// when <paramref name="console"/> is not null, draws a bar of <paramref name="totalBytes"/> on it.
    /// </summary>
    public static async Task<T> RunAsync<T>(IAnsiConsole? console, string description, long totalBytes, Func<IProgress<long>, Task<T>> work)
    {
        var progress = new ByteProgress();
        if (console is null) return await work(progress).ConfigureAwait(false);

        Task<T> running = work(progress);
        await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                ProgressTask task = ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(1, totalBytes));
                while (!running.IsCompleted)
                {
                    task.Value = Math.Min(progress.Bytes, task.MaxValue);
                    await Task.WhenAny(running, Task.Delay(Refresh)).ConfigureAwait(false);
                }
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return await running.ConfigureAwait(false);
    }

    /// <summary>Bytes under <paramref name="path"/> (a file, or every file below a folder).</summary>
    public static long MeasureBytes(string path)
    {
        if (File.Exists(path)) return new FileInfo(path).Length;
        long total = 0;
        foreach (FileInfo file in new DirectoryInfo(path).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 }))
        {
            total += file.Length;
        }
        return total;
    }
}
