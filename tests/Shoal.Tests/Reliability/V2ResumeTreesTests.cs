using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using Shoal.Bencoding;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Wire;

namespace Shoal.Tests.Reliability;

/// <summary>
/// BEP 52 across a restart: the hashes a v2 download learned from peers (whole piece layers and proved parts of them)
/// are kept in its resume data, in the embedder's store as in the resume folder, so the restarted download asks no peer
/// for them again; resume data whose hashes do not prove up to the torrent's roots is refused, never trusted.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class V2ResumeTreesTests : IDisposable
{
    private const int PieceLength = 16 * 1024; // one block per piece: a 9 MiB file has 576 pieces, a layer of two requests
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(45);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-v2resume-").FullName;
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_restarted_v2_download_asks_no_peer_again_for_the_layer_hashes_it_already_had()
    {
        (Torrent full, Torrent known, FileHashTrees seed) = await CreateAsync();
        Sha256Hash small = Root(full, "small.bin"), big = Root(full, "big.bin");
        var store = new MemoryResumeStore();
        string leechDir = Path.Combine(_root, "leech");

        // First run: the peer answers the small file's layer and the first part of the big file's, and refuses the rest.
        var firstAsked = new ConcurrentQueue<HashRequest>();
        FaultyPeer first = HashPeer(known, seed, firstAsked, r => r.Root == small || r.Index == 0, small, out Task learned);
        await using (first)
        {
            ShoalSession session = await StartAsync(store);
            try
            {
                await session.AddTorrentAsync(known, new TorrentOptions { DownloadDirectory = leechDir, Peers = [first.EndPoint] });
                await WithinAsync(learned, firstAsked);
            }
            finally
            {
                await session.DisposeAsync();
            }
        }
        Assert.Contains(firstAsked, r => r.Root == big && r.Index == 512); // the part it could not get
        byte[] saved = Assert.IsType<byte[]>(store.Last);
        Assert.NotNull(ResumeFile.TryParse(saved, known.InfoHash, out _)!.HashTrees);

        // Second run, same store: only the part it never got is asked for.
        var secondAsked = new ConcurrentQueue<HashRequest>();
        FaultyPeer second = HashPeer(known, seed, secondAsked, _ => true, small, out _);
        await using (second)
        {
            ShoalSession session = await StartAsync(store);
            try
            {
                await session.AddTorrentAsync(known, new TorrentOptions { DownloadDirectory = leechDir, Peers = [second.EndPoint] });
                // Every layer known (what it restored and what it asked for): the torrent goes on to its check.
                await WaitUntilAsync(() => _log.Any(l => l.Contains("piece layers received from peers", StringComparison.Ordinal)));
            }
            finally
            {
                await session.DisposeAsync();
            }
        }
        Assert.Contains(_log, l => l.Contains("1 piece layer(s), 1 part(s) of layers", StringComparison.Ordinal));
        HashRequest only = Assert.Single(secondAsked);
        Assert.Equal((big, 512), (only.Root, only.Index));
    }

    [Fact]
    public async Task A_tampered_piece_layer_in_resume_data_is_refused_with_a_log_line_and_asked_for_again()
    {
        (Torrent full, Torrent known, FileHashTrees seed) = await CreateAsync();
        Sha256Hash small = Root(full, "small.bin");
        string resumeDir = Path.Combine(_root, "resume");
        string leechDir = Path.Combine(_root, "leech");

        var firstAsked = new ConcurrentQueue<HashRequest>();
        FaultyPeer first = HashPeer(known, seed, firstAsked, r => r.Root == small, small, out Task learned);
        await using (first)
        {
            ShoalSession session = await StartAsync(resumeDirectory: resumeDir);
            try
            {
                await session.AddTorrentAsync(known, new TorrentOptions { DownloadDirectory = leechDir, Peers = [first.EndPoint] });
                await WithinAsync(learned, firstAsked);
            }
            finally
            {
                await session.DisposeAsync();
            }
        }

        // A hostile or broken program rewrites the resume file: a valid file (checksum and all) whose layer is wrong.
        string path = Assert.Single(Directory.GetFiles(resumeDir, "*.resume"));
        ResumeData data = ResumeFile.TryLoad(path, known.InfoHash, out string? why) ?? throw new InvalidOperationException(why);
        var trees = (BDictionary)Bencode.Decode(data.HashTrees!);
        var entry = (BDictionary)Assert.Single(trees.GetList("trees"));
        byte[] layer = entry.GetString("layer").Bytes.ToArray();
        layer[5] ^= 0x40;
        entry.Set("layer", new BString(layer));
        ResumeFile.Save(path, new ResumeData(data.InfoHash, data.PieceLength, data.ToBitField(), data.Files, data.CapturedUtcTicks) { HashTrees = Bencode.Encode(trees) });

        var secondAsked = new ConcurrentQueue<HashRequest>();
        FaultyPeer second = HashPeer(known, seed, secondAsked, r => r.Root == small, small, out Task learnedAgain);
        await using (second)
        {
            ShoalSession session = await StartAsync(resumeDirectory: resumeDir);
            try
            {
                await session.AddTorrentAsync(known, new TorrentOptions { DownloadDirectory = leechDir, Peers = [second.EndPoint] });
                await WithinAsync(learnedAgain, secondAsked);
            }
            finally
            {
                await session.DisposeAsync();
            }
        }
        Assert.Contains(_log, l => l.Contains("does not hash up to its pieces root; discarded", StringComparison.Ordinal));
        Assert.Contains(secondAsked, r => r.Root == small); // not trusted: asked for again
    }

    /// <summary>A v2 torrent of two files (13 and 576 pieces); the same torrent as a magnet link knows it (no layers); the seed's trees.</summary>
    private async Task<(Torrent Full, Torrent Known, FileHashTrees Seed)> CreateAsync()
    {
        string content = Path.Combine(_root, "seed", "content");
        Directory.CreateDirectory(content);
        var random = new Random(1852);
        foreach ((string name, int length) in new[] { ("small.bin", 200_000), ("big.bin", 576 * PieceLength - 1000) })
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(content, name), data);
        }
        Torrent full = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = PieceLength, Version = TorrentVersion.V2 });
        Torrent known = Torrent.FromInfoDictionary(full.InfoDictionary);
        Assert.False(known.HasPieceLayers);
        return (full, known, new FileHashTrees(full));
    }

    private static Sha256Hash Root(Torrent torrent, string name) =>
        torrent.Files.First(f => f.PathSegments[^1] == name).PiecesRoot!.Value;

    /// <summary>
    /// A peer that has every piece but sends none: it answers the hash requests <paramref name="answer"/> accepts (from the
    /// seed's trees) and rejects the others, recording each. <paramref name="learned"/> completes once the leecher has
    /// taken in the answers: it asks the leecher back for the layer of <paramref name="probe"/> (a file whose whole layer
    /// it answered), and the leecher, handling its messages in order, answers only after it has processed everything
    /// sent before.
    /// </summary>
    private static FaultyPeer HashPeer(Torrent torrent, FileHashTrees seed, ConcurrentQueue<HashRequest> asked, Func<HashRequest, bool> answer,
        Sha256Hash probe, out Task learned)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        learned = done.Task;
        return new FaultyPeer(IPAddress.Loopback, torrent.InfoHash, torrent.PieceCount, async (c, _, ct) =>
        {
            await c.SendAsync(PeerMessageWriter.WriteHaveAll, ct);
            HashRequest? answered = null;
            bool probed = false;
            while (await c.ReceiveAsync(ct, keepPayload: true) is { } m)
            {
                if (m.Id == MessageId.Hashes && probed)
                {
                    done.TrySetResult();
                    continue;
                }
                if (m.Id != MessageId.HashRequest) continue;
                HashRequest request = HashMessage.Parse(MessageId.HashRequest, new ReadOnlySequence<byte>(c.LastPayload!)).Request;
                asked.Enqueue(request);
                if (answer(request) && seed.TryGetHashes(request, out byte[] hashes))
                {
                    await c.SendAsync(w => PeerMessageWriter.WriteHashMessage(w, new HashMessage(MessageId.Hashes, request, hashes)), ct);
                    if (request.Root == probe) answered = request;
                }
                else
                {
                    await c.SendAsync(w => PeerMessageWriter.WriteHashMessage(w, new HashMessage(MessageId.HashReject, request, [])), ct);
                }
                // Once the three first requests (every part the leecher lacks, asked in one tick) are handled, ask back.
                if (!probed && asked.Count >= 3 && answered is { } back)
                {
                    probed = true;
                    await c.SendAsync(w => PeerMessageWriter.WriteHashMessage(w, new HashMessage(MessageId.HashRequest, back, [])), ct);
                }
            }
        });
    }

    private async Task<ShoalSession> StartAsync(IResumeStore? store = null, string? resumeDirectory = null) =>
        await ShoalSession.StartAsync(new SessionOptions
        {
            ResumeStore = store,
            ResumeDirectory = resumeDirectory,
            Log = _log.Enqueue,
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableLocalDiscovery = false,
            EnableDht = false,
        });

    /// <summary>Waits for <paramref name="task"/>; on timeout, fails with what was asked and the session's log.</summary>
    private async Task WithinAsync(Task task, ConcurrentQueue<HashRequest> asked)
    {
        if (await Task.WhenAny(task, Task.Delay(Bounded)) == task) return;
        Assert.Fail($"timed out; asked: {string.Join("; ", asked)}\n{string.Join("\n", _log.TakeLast(30))}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Bounded);
        while (!condition()) await Task.Delay(20, timeout.Token);
    }

    /// <summary>An embedder's resume store in memory (the daemon keeps it in SQLite).</summary>
    private sealed class MemoryResumeStore : IResumeStore
    {
        private readonly Lock _gate = new();
        private byte[]? _data;

        public byte[]? Last
        {
            get { lock (_gate) return _data; }
        }

        public byte[]? Load(InfoHash infoHash, string downloadDirectory) => Last;

        public ValueTask SaveAsync(InfoHash infoHash, string downloadDirectory, byte[] data)
        {
            lock (_gate) _data = data;
            return ValueTask.CompletedTask;
        }

        public void Delete(InfoHash infoHash, string downloadDirectory)
        {
            lock (_gate) _data = null;
        }
    }
}
