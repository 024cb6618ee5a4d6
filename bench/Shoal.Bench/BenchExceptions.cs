namespace Shoal.Bench;

/// <summary>A bad command line.</summary>
internal sealed class BenchUsageException(string message) : Exception(message);

/// <summary>A benchmark could not run (a client failed, timed out or produced wrong data).</summary>
internal sealed class BenchFailedException(string message) : Exception(message);
