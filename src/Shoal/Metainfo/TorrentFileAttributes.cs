namespace Shoal.Metainfo;

/// <summary>BEP 47 file attributes (the <c>attr</c> string: p, x, h, l).</summary>
[Flags]
public enum TorrentFileAttributes
{
    /// <summary>An ordinary file.</summary>
    None = 0,

    /// <summary>'p': a padding file. Its bytes are zeros, it is never written to disk.</summary>
    Padding = 1,

    /// <summary>'x': the file should be executable.</summary>
    Executable = 2,

    /// <summary>'h': the file should be hidden.</summary>
    Hidden = 4,

    /// <summary>'l': a symbolic link (no data of its own; see <see cref="TorrentFile.SymlinkTarget"/>).</summary>
    Symlink = 8,
}
