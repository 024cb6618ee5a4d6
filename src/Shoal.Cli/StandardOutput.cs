using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Shoal.Cli;

/// <summary>
/// Standard output that notices when nobody reads it any more (<c>shoal get --json | head -1</c>). .NET's console
/// stream pretends writes to a closed pipe succeed, so a command would go on for ever; this writer goes to the file
/// descriptor directly, and the first write that fails because the reader is gone calls <see cref="Closed"/> (the
/// command then stops as it does on Ctrl+C) and makes every later write a no-op, with no error line.
/// </summary>
internal sealed class StandardOutput : TextWriter
{
    private readonly TextWriter _inner;
    private int _closed;

    private StandardOutput(TextWriter inner) => _inner = inner;

    /// <summary>Called once, from the failing write, when the reader has gone.</summary>
    public Action? Closed { get; set; }

    /// <summary>True once a write found the output closed.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>
    /// The process's standard output when it is redirected to a pipe or socket on a Unix; null otherwise. A terminal
    /// keeps <see cref="Console.Out"/>, whose line discipline and Spectre's detection we want, and so does a file: a
    /// FileStream over a seekable descriptor writes at a position of its own (pwrite), not at the descriptor's shared
    /// offset, so in <c>{ echo a; shoal create …; echo b; } &gt; log</c> its lines and the others' overwrote each
    /// other. A file never reports a gone reader anyway.
    /// </summary>
    public static StandardOutput? ForRedirectedConsole()
    {
        if (!Console.IsOutputRedirected || OperatingSystem.IsWindows()) return null;
        var stream = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 1);
        if (stream.CanSeek)
        {
            stream.Dispose();
            return null;
        }
        return Wrap(new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 4096) { AutoFlush = true });
    }

    /// <summary>Guards any writer (tests pass one that fails like a closed pipe).</summary>
    public static StandardOutput Wrap(TextWriter inner) => new(TextWriter.Synchronized(inner));

    /// <inheritdoc />
    public override Encoding Encoding => _inner.Encoding;

    /// <inheritdoc />
    public override void Write(char value) => Guard(() => _inner.Write(value));

    /// <inheritdoc />
    public override void Write(string? value) => Guard(() => _inner.Write(value));

    /// <inheritdoc />
    public override void Write(char[] buffer, int index, int count) => Guard(() => _inner.Write(buffer, index, count));

    /// <inheritdoc />
    public override void WriteLine(string? value) => Guard(() => _inner.WriteLine(value));

    /// <inheritdoc />
    public override void WriteLine() => Guard(_inner.WriteLine);

    /// <inheritdoc />
    public override void Flush() => Guard(_inner.Flush);

    /// <inheritdoc />
    public override Task WriteAsync(string? value) => GuardAsync(() => _inner.WriteAsync(value));

    /// <inheritdoc />
    public override Task WriteLineAsync(string? value) => GuardAsync(() => _inner.WriteLineAsync(value));

    /// <inheritdoc />
    public override Task FlushAsync() => GuardAsync(_inner.FlushAsync);

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => GuardAsync(() => _inner.FlushAsync(cancellationToken));

    private void Guard(Action write)
    {
        if (IsClosed) return;
        try
        {
            write();
        }
        catch (IOException)
        {
            OnClosed();
        }
    }

    private async Task GuardAsync(Func<Task> write)
    {
        if (IsClosed) return;
        try
        {
            await write().ConfigureAwait(false);
        }
        catch (IOException)
        {
            OnClosed();
        }
    }

    private void OnClosed()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0) Closed?.Invoke();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) Guard(_inner.Flush);
        base.Dispose(disposing);
    }
}
