using Microsoft.Data.Sqlite;

namespace Shoal.Daemon.State;

/// <summary>
/// The writes of one transaction (see <see cref="StateStore.Write"/>). Each kind of statement is prepared once
/// per transaction and reused, so a batch of 10,000 counter rows costs one parse and one fsync.
/// </summary>
public sealed class StoreWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    internal StoreWriter(SqliteConnection connection, SqliteTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    /// <summary>Inserts a new torrent (its <see cref="TorrentRecord.Id"/> is ignored) and returns its id.</summary>
    public long InsertTorrent(TorrentRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        SqliteCommand insert = Command("""
            INSERT INTO torrents(info_hash, name, metainfo, magnet, save_path, run_mode, queue_position, category, added_at, options, file_priorities)
            VALUES ($hash, $name, $metainfo, $magnet, $save_path, $run_mode, $queue_position, $category, $added_at, $options, $priorities)
            RETURNING id;
            """);
        BindTorrent(insert, record);
        long id = (long)insert.ExecuteScalar()!;
        WriteTags(id, record.Tags);
        PutTotals(id, TorrentTotals.Zero);
        return id;
    }

    /// <summary>Rewrites every column of an existing torrent, and its tags.</summary>
    public void UpdateTorrent(TorrentRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        SqliteCommand update = Command("""
            UPDATE torrents SET info_hash = $hash, name = $name, metainfo = $metainfo, magnet = $magnet, save_path = $save_path,
                run_mode = $run_mode, queue_position = $queue_position, category = $category, added_at = $added_at,
                options = $options, file_priorities = $priorities
            WHERE id = $id;
            """);
        BindTorrent(update, record);
        Set(update, "$id", record.Id);
        update.ExecuteNonQuery();
        SqliteCommand clear = Command("DELETE FROM torrent_tags WHERE torrent_id = $id;");
        Set(clear, "$id", record.Id);
        clear.ExecuteNonQuery();
        WriteTags(record.Id, record.Tags);
    }

    /// <summary>Moves a torrent in the queue (cheaper than <see cref="UpdateTorrent"/> for a reorder of thousands).</summary>
    public void SetQueuePosition(long id, int position)
    {
        SqliteCommand command = Command("UPDATE torrents SET queue_position = $position WHERE id = $id;");
        Set(command, "$position", position);
        Set(command, "$id", id);
        command.ExecuteNonQuery();
    }

    /// <summary>Forgets a torrent with its tags, counters and resume data.</summary>
    public void DeleteTorrent(long id)
    {
        SqliteCommand command = Command("DELETE FROM torrents WHERE id = $id;");
        Set(command, "$id", id);
        command.ExecuteNonQuery();
    }

    /// <summary>Replaces a torrent's counters.</summary>
    public void PutTotals(long id, TorrentTotals totals)
    {
        ArgumentNullException.ThrowIfNull(totals);
        SqliteCommand command = Command("""
            INSERT INTO torrent_totals(torrent_id, uploaded, downloaded, seeding_seconds, active_seconds, done_bytes, completed_at, last_activity)
            VALUES ($id, $up, $down, $seeding, $active, $done, $completed, $activity)
            ON CONFLICT(torrent_id) DO UPDATE SET uploaded = excluded.uploaded, downloaded = excluded.downloaded,
                seeding_seconds = excluded.seeding_seconds, active_seconds = excluded.active_seconds, done_bytes = excluded.done_bytes,
                completed_at = excluded.completed_at, last_activity = excluded.last_activity;
            """);
        Set(command, "$id", id);
        Set(command, "$up", totals.Uploaded);
        Set(command, "$down", totals.Downloaded);
        Set(command, "$seeding", totals.SeedingSeconds);
        Set(command, "$active", totals.ActiveSeconds);
        Set(command, "$done", totals.DoneBytes);
        Set(command, "$completed", totals.CompletedAt?.ToUnixTimeMilliseconds());
        Set(command, "$activity", totals.LastActivity?.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    /// <summary>Replaces a torrent's resume data (null deletes it, so the next start checks every piece).</summary>
    public void PutResume(long id, byte[]? data, DateTimeOffset savedAt)
    {
        if (data is null)
        {
            SqliteCommand delete = Command("DELETE FROM resume WHERE torrent_id = $id;");
            Set(delete, "$id", id);
            delete.ExecuteNonQuery();
            return;
        }
        SqliteCommand command = Command("""
            INSERT INTO resume(torrent_id, data, saved_at) VALUES ($id, $data, $saved)
            ON CONFLICT(torrent_id) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at;
            """);
        Set(command, "$id", id);
        Set(command, "$data", data);
        Set(command, "$saved", savedAt.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    /// <summary>Creates or changes a category.</summary>
    public void PutCategory(string name, string savePath)
    {
        SqliteCommand command = Command("""
            INSERT INTO categories(name, save_path) VALUES ($name, $path)
            ON CONFLICT(name) DO UPDATE SET save_path = excluded.save_path;
            """);
        Set(command, "$name", name);
        Set(command, "$path", savePath);
        command.ExecuteNonQuery();
    }

    /// <summary>Deletes a category; its torrents keep no category.</summary>
    public void DeleteCategory(string name)
    {
        SqliteCommand command = Command("DELETE FROM categories WHERE name = $name;");
        Set(command, "$name", name);
        command.ExecuteNonQuery();
    }

    /// <summary>Creates a tag (no-op when it exists).</summary>
    public void PutTag(string name)
    {
        SqliteCommand command = Command("INSERT INTO tags(name) VALUES ($name) ON CONFLICT(name) DO NOTHING;");
        Set(command, "$name", name);
        command.ExecuteNonQuery();
    }

    /// <summary>Deletes a tag; it goes from every torrent too.</summary>
    public void DeleteTag(string name)
    {
        SqliteCommand command = Command("DELETE FROM tags WHERE name = $name;");
        Set(command, "$name", name);
        command.ExecuteNonQuery();
    }

    /// <summary>Sets one setting to a JSON value (null deletes it: the default applies again).</summary>
    public void PutSetting(string key, string? json)
    {
        SqliteCommand command = json is null
            ? Command("DELETE FROM settings WHERE key = $key;")
            : Command("INSERT INTO settings(key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value;");
        Set(command, "$key", key);
        if (json is not null) Set(command, "$value", json);
        command.ExecuteNonQuery();
    }

    private void WriteTags(long id, IReadOnlyList<string> tags)
    {
        foreach (string tag in tags)
        {
            PutTag(tag);
            SqliteCommand command = Command("INSERT INTO torrent_tags(torrent_id, tag) VALUES ($id, $tag) ON CONFLICT DO NOTHING;");
            Set(command, "$id", id);
            Set(command, "$tag", tag);
            command.ExecuteNonQuery();
        }
    }

    private void BindTorrent(SqliteCommand command, TorrentRecord record)
    {
        Set(command, "$hash", record.InfoHash.Span.ToArray());
        Set(command, "$name", record.Name);
        Set(command, "$metainfo", record.Metainfo);
        Set(command, "$magnet", record.Magnet);
        Set(command, "$save_path", record.SavePath);
        Set(command, "$run_mode", (int)record.RunMode);
        Set(command, "$queue_position", record.QueuePosition);
        Set(command, "$category", record.Category);
        Set(command, "$added_at", record.AddedAt.ToUnixTimeMilliseconds());
        Set(command, "$options", StateStore.WriteSettings(record.Settings));
        Set(command, "$priorities", record.FilePriorities);
    }

    private SqliteCommand Command(string sql)
    {
        if (_commands.TryGetValue(sql, out SqliteCommand? command)) return command;
        command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        _commands[sql] = command;
        return command;
    }

    private static void Set(SqliteCommand command, string name, object? value)
    {
        if (command.Parameters.Contains(name)) command.Parameters[name].Value = value ?? DBNull.Value;
        else command.Parameters.AddWithValue(name, value ?? DBNull.Value);
    }

    /// <summary>Releases the prepared statements.</summary>
    public void Dispose()
    {
        foreach (SqliteCommand command in _commands.Values) command.Dispose();
        _commands.Clear();
    }
}
