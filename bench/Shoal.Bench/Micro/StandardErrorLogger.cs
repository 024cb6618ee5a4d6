using BenchmarkDotNet.Loggers;

namespace Shoal.Bench.Micro;

/// <summary>BenchmarkDotNet's progress goes to stderr, like every verb's progress: stdout is left to the markdown report.</summary>
internal sealed class StandardErrorLogger : ILogger
{
    public string Id => nameof(StandardErrorLogger);

    public int Priority => 0;

    public void Write(LogKind logKind, string text) => Console.Error.Write(text);

    public void WriteLine() => Console.Error.WriteLine();

    public void WriteLine(LogKind logKind, string text) => Console.Error.WriteLine(text);

    public void Flush() => Console.Error.Flush();
}
