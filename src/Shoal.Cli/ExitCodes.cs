namespace Shoal.Cli;

/// <summary>The process exit codes of <c>shoal</c>.</summary>
internal static class ExitCodes
{
    /// <summary>Done, or stopped by the user while seeding.</summary>
    public const int Success = 0;

    /// <summary>Something failed at run time (network, disk, engine).</summary>
    public const int Failure = 1;

    /// <summary>Bad command line or bad input (missing path, corrupt torrent, bad size...).</summary>
    public const int Usage = 2;

    /// <summary>Interrupted by Ctrl+C before the work was done (128 + SIGINT, as shells do).</summary>
    public const int Interrupted = 130;
}
