using System.Text.Json;
using Microsoft.Data.Sqlite;
using Shoal.Metainfo;

namespace Shoal.Daemon.State;

/// <summary>
/// The daemon's state in one SQLite database (<c>shoal.db</c> in its data folder): torrents with their metainfo,
/// options, priorities, queue positions, counters and resume data; categories, tags and settings.
/// </summary>
/// <remarks>
/// <para>Write-ahead logging with <c>synchronous=FULL</c>: a transaction is durable (fsynced) when
/// <see cref="Write"/> returns, so a torrent the API said was added survives a SIGKILL or a power cut the next
/// instant. Writers batch: counters of every torrent go in one transaction every few seconds, resume data of every
/// torrent that verified pieces in one transaction, so the fsync cost does not grow with the number of torrents.</para>
/// <para>One connection, used by one caller at a time (the service's actor loop): no locks, no pool.</para>
/// </remarks>
public sealed class StateStore : IDisposable
{
    /// <summary>The database file's name in the data folder.</summary>
    public const string FileName = "shoal.db";

    private readonly SqliteConnection _connection;
    private bool _disposed;

    private StateStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens (creating when missing) the database at <paramref name="path"/> and brings its schema up to date.
    /// Throws <see cref="StateStoreException"/> when it is not a database, is locked by another daemon, or was
    /// written by a newer Shoal.
    /// </summary>
    public static StateStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StateStoreException($"cannot create the folder of {full}: {ex.Message}", ex);
        }
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            ForeignKeys = true,
            DefaultTimeout = 5,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode=WAL;");
            Execute(connection, "PRAGMA synchronous=FULL;");
            // Another daemon on the same folder would interleave writes with ours: take the write lock for our lifetime.
            Execute(connection, "PRAGMA locking_mode=EXCLUSIVE;");
            Execute(connection, "BEGIN IMMEDIATE; COMMIT;");
            Migrate(connection, full);
            return new StateStore(connection, full);
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw ex.SqliteErrorCode switch
            {
                5 or 6 => new StateStoreException($"{full} is in use by another shoal daemon (give this one its own --data-dir)", ex),
                26 => new StateStoreException($"{full} is not a Shoal database (file is not a database)", ex),
                _ => new StateStoreException($"cannot open {full}: {ex.Message}", ex),
            };
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Migrate(SqliteConnection connection, string path)
    {
        int version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);
        if (version > StoreSchema.CurrentVersion)
        {
            throw new StateStoreException($"{path} was written by a newer Shoal (schema {version}, this one knows {StoreSchema.CurrentVersion}); upgrade shoal or use another --data-dir");
        }
        for (int next = version + 1; next <= StoreSchema.CurrentVersion; next++)
        {
            using SqliteTransaction transaction = connection.BeginTransaction();
            using (SqliteCommand command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = StoreSchema.Migrations[next - 1] + $"\nPRAGMA user_version = {next};";
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>The schema version of the open database.</summary>
    public int SchemaVersion => Convert.ToInt32(Scalar(_connection, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Transactions committed through <see cref="Write"/> (each one a durable commit: an fsync); tests read it.</summary>
    internal long Commits { get; private set; }

    /// <summary>Runs <paramref name="write"/> in one transaction, durable when this returns; nothing of it stays if it throws.</summary>
    public void Write(Action<StoreWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            using SqliteTransaction transaction = _connection.BeginTransaction();
            using var writer = new StoreWriter(_connection, transaction);
            write(writer);
            transaction.Commit();
            Commits++;
        }
        catch (SqliteException ex)
        {
            throw new StateStoreException($"writing {Path} failed: {ex.Message}", ex);
        }
    }

    /// <summary>Every torrent, in queue order, with its counters and resume data.</summary>
    public IReadOnlyList<StoredTorrent> LoadTorrents()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var tags = new Dictionary<long, List<string>>();
        using (SqliteCommand command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT torrent_id, tag FROM torrent_tags ORDER BY torrent_id, tag;";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                long id = reader.GetInt64(0);
                if (!tags.TryGetValue(id, out List<string>? list)) tags[id] = list = [];
                list.Add(reader.GetString(1));
            }
        }
        var torrents = new List<StoredTorrent>();
        using (SqliteCommand command = _connection.CreateCommand())
        {
            command.CommandText = """
                SELECT t.id, t.info_hash, t.name, t.metainfo, t.magnet, t.save_path, t.run_mode, t.queue_position,
                       t.category, t.added_at, t.options, t.file_priorities,
                       s.uploaded, s.downloaded, s.seeding_seconds, s.active_seconds, s.done_bytes, s.completed_at, s.last_activity,
                       r.data
                FROM torrents t
                LEFT JOIN torrent_totals s ON s.torrent_id = t.id
                LEFT JOIN resume r ON r.torrent_id = t.id
                ORDER BY t.queue_position, t.id;
                """;
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read())
            {
                long id = reader.GetInt64(0);
                var record = new TorrentRecord
                {
                    Id = id,
                    InfoHash = new InfoHash((byte[])reader[1]),
                    Name = reader.GetString(2),
                    Metainfo = reader.IsDBNull(3) ? null : (byte[])reader[3],
                    Magnet = reader.IsDBNull(4) ? null : reader.GetString(4),
                    SavePath = reader.GetString(5),
                    RunMode = Enum.IsDefined((RunMode)reader.GetInt32(6)) ? (RunMode)reader.GetInt32(6) : RunMode.Paused,
                    QueuePosition = reader.GetInt32(7),
                    Category = reader.IsDBNull(8) ? null : reader.GetString(8),
                    Tags = tags.TryGetValue(id, out List<string>? t) ? t : [],
                    AddedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                    Settings = ReadSettings(reader.GetString(10)),
                    FilePriorities = reader.IsDBNull(11) ? null : (byte[])reader[11],
                };
                TorrentTotals totals = reader.IsDBNull(12) ? TorrentTotals.Zero : new TorrentTotals(
                    reader.GetInt64(12), reader.GetInt64(13), reader.GetInt64(14), reader.GetInt64(15), reader.GetInt64(16),
                    reader.IsDBNull(17) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(17)),
                    reader.IsDBNull(18) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(18)));
                torrents.Add(new StoredTorrent(record, totals, reader.IsDBNull(19) ? null : (byte[])reader[19]));
            }
        }
        return torrents;
    }

    /// <summary>Every category: name and save path.</summary>
    public IReadOnlyDictionary<string, string> LoadCategories() => LoadPairs("SELECT name, save_path FROM categories;");

    /// <summary>Every tag.</summary>
    public IReadOnlyList<string> LoadTags() => [.. LoadPairs("SELECT name, name FROM tags;").Keys.Order(StringComparer.Ordinal)];

    /// <summary>Every setting: key and JSON value.</summary>
    public IReadOnlyDictionary<string, string> LoadSettings() => LoadPairs("SELECT key, value FROM settings;");

    private Dictionary<string, string> LoadPairs(string sql)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        using SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        using SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read()) pairs[reader.GetString(0)] = reader.GetString(1);
        return pairs;
    }

    private static TorrentSettings ReadSettings(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, StoreJson.Default.TorrentSettings) ?? new TorrentSettings();
        }
        catch (JsonException)
        {
            // A damaged options column must not cost the torrent: it keeps running with default options.
            return new TorrentSettings();
        }
    }

    internal static string WriteSettings(TorrentSettings settings) => JsonSerializer.Serialize(settings, StoreJson.Default.TorrentSettings);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Closes the database (a clean close also checkpoints the write-ahead log into the main file).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            Execute(_connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        catch (SqliteException)
        {
            // The log stays and is replayed on the next open: nothing is lost.
        }
        _connection.Dispose();
    }
}
