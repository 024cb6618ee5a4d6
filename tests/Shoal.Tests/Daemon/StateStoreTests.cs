using Microsoft.Data.Sqlite;
using Shoal.Daemon.State;
using Shoal.Metainfo;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

public sealed class StateStoreTests : IDisposable
{
    private readonly TempFolder _folder = new("shoal-store");

    public void Dispose() => _folder.Dispose();

    private string DbPath => _folder.Combine("data", StateStore.FileName);

    private static TorrentRecord Record(byte seed, string name = "t") => new()
    {
        InfoHash = new InfoHash(Enumerable.Repeat(seed, 20).ToArray()),
        Name = name,
        Metainfo = [1, 2, 3, seed],
        SavePath = "/downloads",
        RunMode = RunMode.Paused,
        QueuePosition = seed,
        Category = null,
        Tags = ["b", "a"],
        AddedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + seed),
        Settings = new TorrentSettings { DownloadLimit = 1000, Sequential = true, RatioLimit = 1.5, Trackers = ["http://t.example/announce"] },
        FilePriorities = [0, 4, 7],
    };

    [Fact]
    public void A_new_database_gets_the_current_schema_in_wal_mode()
    {
        using StateStore store = StateStore.Open(DbPath);
        Assert.Equal(StoreSchema.CurrentVersion, store.SchemaVersion);
        Assert.Empty(store.LoadTorrents());
        Assert.True(File.Exists(DbPath + "-wal") || File.Exists(DbPath), "the database file exists");
    }

    [Fact]
    public void Torrents_with_tags_totals_and_resume_data_survive_a_reopen()
    {
        long id;
        using (StateStore store = StateStore.Open(DbPath))
        {
            id = 0;
            store.Write(w =>
            {
                id = w.InsertTorrent(Record(7, "seven"));
                w.PutTotals(id, new TorrentTotals(10, 20, 30, 40, 50, DateTimeOffset.FromUnixTimeMilliseconds(5), null));
                w.PutResume(id, [9, 9, 9], DateTimeOffset.FromUnixTimeMilliseconds(6));
                w.PutCategory("films", "/films");
                w.PutSetting("download_limit", "123");
            });
        }
        using (StateStore store = StateStore.Open(DbPath))
        {
            StoredTorrent loaded = Assert.Single(store.LoadTorrents());
            Assert.Equal(id, loaded.Record.Id);
            Assert.Equal("seven", loaded.Record.Name);
            Assert.Equal(new InfoHash(Enumerable.Repeat((byte)7, 20).ToArray()), loaded.Record.InfoHash);
            Assert.Equal(new byte[] { 1, 2, 3, 7 }, loaded.Record.Metainfo);
            Assert.Equal(RunMode.Paused, loaded.Record.RunMode);
            Assert.Equal(["a", "b"], loaded.Record.Tags);
            Assert.Equal(Record(7).Settings, loaded.Record.Settings);
            Assert.Equal(new byte[] { 0, 4, 7 }, loaded.Record.FilePriorities);
            Assert.Equal(new TorrentTotals(10, 20, 30, 40, 50, DateTimeOffset.FromUnixTimeMilliseconds(5), null), loaded.Totals);
            Assert.Equal(new byte[] { 9, 9, 9 }, loaded.Resume);
            Assert.Equal("/films", store.LoadCategories()["films"]);
            Assert.Equal("123", store.LoadSettings()["download_limit"]);
            Assert.Equal(["a", "b"], store.LoadTags());
        }
    }

    [Fact]
    public void A_failed_transaction_leaves_nothing()
    {
        using StateStore store = StateStore.Open(DbPath);
        Assert.Throws<InvalidOperationException>(() => store.Write(w =>
        {
            w.InsertTorrent(Record(1));
            throw new InvalidOperationException("boom");
        }));
        Assert.Empty(store.LoadTorrents());
        Assert.Empty(store.LoadTags());
    }

    [Fact]
    public void Deleting_a_torrent_takes_its_tags_totals_and_resume_data()
    {
        using StateStore store = StateStore.Open(DbPath);
        long id = 0;
        store.Write(w =>
        {
            id = w.InsertTorrent(Record(1));
            w.PutResume(id, [1], DateTimeOffset.UnixEpoch);
        });
        store.Write(w => w.DeleteTorrent(id));
        Assert.Empty(store.LoadTorrents());
        // A new torrent never gets the id of a deleted one (clients may still hold it).
        long next = 0;
        store.Write(w => next = w.InsertTorrent(Record(2)));
        Assert.True(next > id);
    }

    [Fact]
    public void Deleting_a_category_clears_it_from_torrents()
    {
        using (StateStore store = StateStore.Open(DbPath))
        {
            store.Write(w =>
            {
                w.PutCategory("films", "");
                w.InsertTorrent(Record(1) with { Category = "films" });
            });
            store.Write(w => w.DeleteCategory("films"));
        }
        using StateStore again = StateStore.Open(DbPath);
        Assert.Null(Assert.Single(again.LoadTorrents()).Record.Category);
    }

    [Fact]
    public void A_database_from_a_newer_shoal_is_refused_untouched()
    {
        using (StateStore store = StateStore.Open(DbPath)) { }
        using (var raw = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            raw.Open();
            using SqliteCommand command = raw.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99;";
            command.ExecuteNonQuery();
        }
        var ex = Assert.Throws<StateStoreException>(() => StateStore.Open(DbPath));
        Assert.Contains("newer Shoal", ex.Message);
    }

    [Fact]
    public void A_second_daemon_on_the_same_database_is_refused()
    {
        using StateStore first = StateStore.Open(DbPath);
        var ex = Assert.Throws<StateStoreException>(() => StateStore.Open(DbPath));
        Assert.Contains("in use", ex.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_named()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DbPath)!);
        File.WriteAllText(DbPath, new string('x', 8192));
        var ex = Assert.Throws<StateStoreException>(() => StateStore.Open(DbPath));
        Assert.Contains(DbPath, ex.Message);
    }

    [Fact]
    public void A_damaged_options_column_costs_the_options_not_the_torrent()
    {
        using (StateStore store = StateStore.Open(DbPath)) store.Write(w => w.InsertTorrent(Record(3)));
        using (var raw = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            raw.Open();
            using SqliteCommand command = raw.CreateCommand();
            command.CommandText = "UPDATE torrents SET options = '{not json';";
            command.ExecuteNonQuery();
        }
        using StateStore again = StateStore.Open(DbPath);
        StoredTorrent loaded = Assert.Single(again.LoadTorrents());
        Assert.Equal(new TorrentSettings(), loaded.Record.Settings);
    }
}
