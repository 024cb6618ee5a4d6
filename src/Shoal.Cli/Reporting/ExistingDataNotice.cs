using Shoal.Storage;

namespace Shoal.Cli.Reporting;

/// <summary>
/// What <c>get</c> says, before it writes anything, about files already in the download folder with other content:
/// how many of their pieces match, which will be written over, which will be cut (as libtorrent-based clients do, the
/// download then goes on; the user is told). Always on standard error, even with --quiet or --json: it is a warning.
/// </summary>
internal static class ExistingDataNotice
{
    /// <summary>Writes one line per conflicting file; nothing when there is none.</summary>
    public static async Task WriteAsync(TextWriter error, ExistingData data)
    {
        foreach (ExistingFileConflict file in data.Conflicts) await error.WriteLineAsync(Describe(file)).ConfigureAwait(false);
        if (data.Conflicts.Count > 0) await error.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>"shoal: existing /dl/data.bin: 3 of 16 of its pieces match this torrent; the other 13 will be written over".</summary>
    public static string Describe(ExistingFileConflict file)
    {
        var parts = new List<string>(2);
        if (file.WillBeWritten)
            parts.Add($"{file.MatchingPieces} of {file.Pieces} of its pieces match this torrent; the other {file.Pieces - file.MatchingPieces} will be written over");
        if (file.WillBeCut)
            parts.Add($"it is {HumanFormat.Size(file.Length)}, the torrent's file {HumanFormat.Size(file.ExpectedLength)}: the {HumanFormat.Size(file.Length - file.ExpectedLength)} past its end will be cut");
        return $"shoal: existing {TerminalText.Escape(file.Path)}: {string.Join("; ", parts)}";
    }
}
