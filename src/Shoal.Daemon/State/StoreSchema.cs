namespace Shoal.Daemon.State;

/// <summary>
/// The database's schema as a list of migrations; <c>PRAGMA user_version</c> holds how many have run. Each
/// migration runs in its own transaction, so a crash in the middle leaves the previous version intact. A database
/// written by a newer Shoal (a version above <see cref="CurrentVersion"/>) is refused rather than damaged.
/// </summary>
internal static class StoreSchema
{
    /// <summary>The schema version this code writes.</summary>
    public static int CurrentVersion => Migrations.Length;

    /// <summary>Migration N (1-based) brings version N-1 to N. Never edit one that has shipped: add another.</summary>
    public static readonly string[] Migrations =
    [
        // 1: torrents and their options (rarely written) apart from their counters (written every few seconds) and
        // resume data (written when pieces were verified), so frequent writes never rewrite a row holding metainfo.
        """
        CREATE TABLE categories(
            name TEXT PRIMARY KEY,
            save_path TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE tags(
            name TEXT PRIMARY KEY
        ) WITHOUT ROWID;
        CREATE TABLE torrents(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            info_hash BLOB NOT NULL UNIQUE,
            name TEXT NOT NULL,
            metainfo BLOB,
            magnet TEXT,
            save_path TEXT NOT NULL,
            run_mode INTEGER NOT NULL,
            queue_position INTEGER NOT NULL,
            category TEXT REFERENCES categories(name) ON DELETE SET NULL ON UPDATE CASCADE,
            added_at INTEGER NOT NULL,
            options TEXT NOT NULL,
            file_priorities BLOB
        );
        CREATE TABLE torrent_tags(
            torrent_id INTEGER NOT NULL REFERENCES torrents(id) ON DELETE CASCADE,
            tag TEXT NOT NULL REFERENCES tags(name) ON DELETE CASCADE ON UPDATE CASCADE,
            PRIMARY KEY(torrent_id, tag)
        ) WITHOUT ROWID;
        CREATE TABLE torrent_totals(
            torrent_id INTEGER PRIMARY KEY REFERENCES torrents(id) ON DELETE CASCADE,
            uploaded INTEGER NOT NULL,
            downloaded INTEGER NOT NULL,
            seeding_seconds INTEGER NOT NULL,
            active_seconds INTEGER NOT NULL,
            done_bytes INTEGER NOT NULL,
            completed_at INTEGER,
            last_activity INTEGER
        );
        CREATE TABLE resume(
            torrent_id INTEGER PRIMARY KEY REFERENCES torrents(id) ON DELETE CASCADE,
            data BLOB NOT NULL,
            saved_at INTEGER NOT NULL
        );
        CREATE TABLE settings(
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ];
}
