namespace Shoal.Tests;

/// <summary>Waits for a condition another thread makes true: a hang guard with a clear failure, never a speed assertion.</summary>
internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test with <paramref name="failure"/> after <paramref name="timeout"/>.</summary>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> failure, int pollMilliseconds = 50)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure());
            await Task.Delay(pollMilliseconds);
        }
    }

    /// <inheritdoc cref="TrueAsync(Func{bool}, TimeSpan, Func{string}, int)"/>
    public static Task TrueAsync(Func<bool> condition, TimeSpan timeout, string failure, int pollMilliseconds = 50)
        => TrueAsync(condition, timeout, () => failure, pollMilliseconds);
}
