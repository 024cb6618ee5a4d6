namespace Shoal.Tests.Interop;

/// <summary>An interop step failed (a child did not start, print, or exit as expected); the message carries its transcript.</summary>
public sealed class InteropException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InteropException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InteropException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public InteropException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
