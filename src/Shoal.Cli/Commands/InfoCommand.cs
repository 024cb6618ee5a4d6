using System.CommandLine;
using System.Globalization;
using Shoal.Metainfo;

namespace Shoal.Cli.Commands;

/// <summary><c>shoal info FILE|MAGNET</c>: prints what a .torrent or a magnet link says.</summary>
internal static class InfoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build(CliContext context)
    {
        var source = new Argument<string>("FILE|MAGNET") { Description = "A .torrent file or a magnet: link" };
        var command = new Command("info", "Show what a .torrent file or magnet link contains") { source };
        command.SetAction((result, cancellationToken) =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            string argument = result.GetValue(source)!;
            if (TorrentSource.IsMagnet(argument))
            {
                WriteMagnet(context.Out, TorrentSource.ParseMagnet(argument));
            }
            else
            {
                WriteTorrent(context.Out, TorrentSource.LoadTorrentFile(argument));
            }
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    /// <summary>Prints a torrent's fields.</summary>
    internal static void WriteTorrent(TextWriter output, Torrent torrent)
    {
        // Everything a torrent or magnet link says goes through TerminalText.Escape: a name may hold escape sequences.
        output.WriteLine($"name:          {TerminalText.Escape(torrent.Name)}");
        output.WriteLine($"version:       {torrent.Version switch { TorrentVersion.V1 => "v1", TorrentVersion.V2 => "v2 (BEP 52)", _ => "hybrid (v1 + v2)" }}");
        output.WriteLine(torrent.InfoHashV1 is { } v1
            ? $"info-hash:     {v1.ToHex()}"
            : $"info-hash:     {torrent.InfoHash.ToHex()} (the v2 hash cut to 20 bytes, as trackers and peers see it)");
        if (torrent.InfoHashV2 is { } v2) output.WriteLine($"info-hash v2:  {v2.ToHex()}");
        output.WriteLine($"total size:    {HumanFormat.SizeWithBytes(torrent.TotalSize)}");
        output.WriteLine($"pieces:        {torrent.PieceCount.ToString(CultureInfo.InvariantCulture)} x {HumanFormat.Size(torrent.PieceLength)}");
        output.WriteLine($"private:       {(torrent.IsPrivate ? "yes" : "no")}");
        if (torrent.Comment is { } comment) output.WriteLine($"comment:       {TerminalText.Escape(comment)}");
        if (torrent.CreatedBy is { } createdBy) output.WriteLine($"created by:    {TerminalText.Escape(createdBy)}");
        if (torrent.CreationDate is { } date) output.WriteLine($"creation date: {date.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC");

        int shown = 0;
        foreach (TorrentFile file in torrent.Files)
        {
            if (!file.IsPadding) shown++;
        }
        // Numbered as a magnet link's so= (BEP 53) and get's file selection count them: padding files (BEP 47) keep
        // their number though they are not shown.
        output.WriteLine($"files ({shown.ToString(CultureInfo.InvariantCulture)}; the numbers are the ones so= selects):");
        int digits = Math.Max(1, (torrent.Files.Count - 1).ToString(CultureInfo.InvariantCulture).Length);
        for (int index = 0; index < torrent.Files.Count; index++)
        {
            TorrentFile file = torrent.Files[index];
            if (file.IsPadding) continue;
            output.WriteLine($"  {index.ToString(CultureInfo.InvariantCulture).PadLeft(digits)}  {HumanFormat.Size(file.Length),10}  {TerminalText.Escape(file.Path)}");
        }

        if (torrent.AnnounceTiers.Count == 0)
        {
            output.WriteLine("trackers:      none");
        }
        else
        {
            output.WriteLine("trackers:");
            for (int tier = 0; tier < torrent.AnnounceTiers.Count; tier++)
            {
                output.WriteLine($"  tier {(tier + 1).ToString(CultureInfo.InvariantCulture)}: {TerminalText.Escape(string.Join(", ", torrent.AnnounceTiers[tier]))}");
            }
        }
        WriteList(output, "web seeds:", [.. torrent.WebSeeds, .. torrent.HttpSeeds.Select(url => url + " (BEP 17)")]);
        if (torrent.HasV2)
        {
            output.WriteLine(torrent.HasPieceLayers ? "pieces roots:" : "pieces roots:  (piece layers not in the file: they come from peers)");
            foreach (TorrentFile file in torrent.Files)
            {
                if (file.PiecesRoot is { } root) output.WriteLine($"  {root.ToHex()}  {TerminalText.Escape(file.Path)}");
            }
        }
    }

    /// <summary>Prints a magnet link's fields.</summary>
    internal static void WriteMagnet(TextWriter output, MagnetLink magnet)
    {
        output.WriteLine(magnet.IsV2Only
            ? $"info-hash:      {magnet.InfoHash.ToHex()} (the v2 hash cut to 20 bytes)"
            : $"info-hash:      {magnet.InfoHash.ToHex()}");
        if (magnet.InfoHashV2 is { } v2) output.WriteLine($"info-hash v2:   {v2.ToHex()}");
        output.WriteLine($"name:           {(magnet.DisplayName is { } name ? TerminalText.Escape(name) : "(none)")}");
        WriteList(output, "trackers:", magnet.Trackers);
        WriteList(output, "peers:", magnet.Peers);
        output.WriteLine(magnet.SelectedFiles.Count == 0
            ? "selected files: all"
            : $"selected files: {string.Join(", ", magnet.SelectedFiles.Select(i => i.ToString(CultureInfo.InvariantCulture)))}");
    }

    private static void WriteList(TextWriter output, string label, IReadOnlyList<string> items)
    {
        if (items.Count == 0)
        {
            output.WriteLine($"{label,-15} none");
            return;
        }
        output.WriteLine(label);
        foreach (string item in items) output.WriteLine($"  {TerminalText.Escape(item)}");
    }
}
