using System.Threading.Channels;
using Shoal.Picking;
using Shoal.Storage;
using Shoal.Swarm;

namespace Shoal.WebSeeds;

/// <summary>
/// One run of blocks asked of one web seed connection: fetched with one ranged GET per file the run crosses (one GET
/// per piece for BEP 17), cut into blocks as the body arrives, each block posted to the torrent's mailbox as it fills,
/// then the end of the run (with the failure, if any). Memory is one block buffer at a time: a block is rented, filled
/// from the body, handed on, and the mailbox's bound and the rate limits hold the body back. The actor side
/// (<see cref="Next"/>, <see cref="Ended"/>) is touched only on the actor's loop.
/// </summary>
internal sealed class WebSeedJob
{
    private readonly BlockRequest[] _blocks;
    private readonly CancellationTokenSource _cancel = new();
    private volatile bool _cancelled;

    public WebSeedJob(WebSeedServer server, int slot, BlockRequest[] blocks, long start, long length, long startedAt)
    {
        Server = server;
        Slot = slot;
        _blocks = blocks;
        Start = start;
        Length = length;
        StartedAt = startedAt;
    }

    public WebSeedServer Server { get; }

    /// <summary>Which of the server's connection slots runs it (its picker key is the slot's).</summary>
    public int Slot { get; }

    public int Key => Server.SlotKeys[Slot];

    /// <summary>The blocks of the run, in stream order.</summary>
    public ReadOnlySpan<BlockRequest> Blocks => _blocks;

    /// <summary>Where the run starts in the torrent's byte stream, and its length.</summary>
    public long Start { get; }

    public long Length { get; }

    /// <summary>When the job started (TimeProvider ticks): failures of jobs older than the last failure count once.</summary>
    public long StartedAt { get; }

    /// <summary>Actor side: blocks handled so far (the rest go back to the picker when the job ends).</summary>
    public int Next { get; set; }

    /// <summary>Actor side: the job's end was handled (blocks still in the mailbox are then dropped).</summary>
    public bool Ended { get; set; }

    /// <summary>The fetch itself, running beside the actor; it never throws.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Starts fetching.</summary>
    public void Run(WebSeedClient client, PeerLoopContext loops) => Completion = Task.Run(() => RunAsync(client, loops));

    /// <summary>True once <see cref="Cancel"/> was called: the run's end says nothing about the server.</summary>
    public bool WasCancelled => _cancelled;

    /// <summary>Stops the fetch (the server was dropped, the download ended, the torrent stops).</summary>
    public void Cancel()
    {
        _cancelled = true;
        try { _cancel.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    private async Task RunAsync(WebSeedClient client, PeerLoopContext loops)
    {
        Exception? error = null;
        CancellationToken token = _cancel.Token;
        try
        {
            await FetchAsync(client, loops, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (WebSeedException e)
        {
            error = e;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
        {
            // A body read that broke (reset, closed, timed out) is a connection failure like any other.
            error = e is WebSeedException ? e : new WebSeedException(
                e is OperationCanceledException ? WebSeedFailureKind.Timeout : WebSeedFailureKind.Connection,
                e is OperationCanceledException ? $"the body stalled for {client.Options.RequestTimeout.TotalSeconds:0.#} s" : e.Message, inner: e);
        }
        catch (Exception e)
        {
            error = e; // a bug: the actor logs it and treats it as a failure of the server
        }
        try
        {
            await loops.Mailbox.WriteAsync(new TorrentEvent { Kind = TorrentEventKind.WebSeedJobEnded, Payload = this, Error = error }).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The torrent stopped: nobody waits for this run any more.
        }
        _cancel.Dispose();
    }

    private async Task FetchAsync(WebSeedClient client, PeerLoopContext loops, CancellationToken token)
    {
        var requests = new List<WebSeedRequest>(4);
        Server.Planner.Plan(Start, Length, requests);
        // One timer per run, re-armed before each read: a body that stops flowing fails after the request timeout.
        using var stall = new CancellationTokenSource(Timeout.InfiniteTimeSpan, client.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, stall.Token);
        var cursor = new BlockCursor(this, loops);
        try
        {
            foreach (WebSeedRequest request in requests)
            {
                if (request.Kind == WebSeedRequestKind.Zeros)
                {
                    await cursor.FillZerosAsync(request.Length, token).ConfigureAwait(false);
                    continue;
                }
                using HttpResponseMessage response = await client.SendAsync(request, Server.Planner.Url, token).ConfigureAwait(false);
                Stream body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    await cursor.FillFromAsync(body, request, stall, client.Options.RequestTimeout, linked.Token, token).ConfigureAwait(false);
                    // Not a byte more than asked for: a longer body is a server that does not do what it says.
                    stall.CancelAfter(client.Options.RequestTimeout);
                    byte[] probe = new byte[1];
                    if (await body.ReadAsync(probe, linked.Token).ConfigureAwait(false) > 0)
                        throw new WebSeedException(WebSeedFailureKind.LongBody, $"the body is longer than the {request.Length} bytes asked for");
                    stall.CancelAfter(Timeout.InfiniteTimeSpan);
                }
            }
        }
        catch (OperationCanceledException) when (stall.IsCancellationRequested && !token.IsCancellationRequested)
        {
            throw new WebSeedException(WebSeedFailureKind.Timeout, $"the body stalled for {client.Options.RequestTimeout.TotalSeconds:0.#} s");
        }
        finally
        {
            cursor.ReturnBuffer();
        }
    }

    /// <summary>Fills the run's blocks one at a time, in order, and posts each one full.</summary>
    private sealed class BlockCursor(WebSeedJob job, PeerLoopContext loops)
    {
        private byte[]? _buffer;
        private int _filled;
        private int _block;

        private int BlockLength => job._blocks[_block].Length;

        public async ValueTask FillZerosAsync(long length, CancellationToken token)
        {
            while (length > 0)
            {
                await EnsureBufferAsync(token).ConfigureAwait(false);
                int n = (int)Math.Min(BlockLength - _filled, length);
                _buffer.AsSpan(_filled, n).Clear();
                _filled += n;
                length -= n;
                await PostIfFullAsync(token).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Reads the body of <paramref name="request"/> into blocks. Only the reads run under the stall timer
        /// (<paramref name="readToken"/>): waiting for the rate limits or for room in the mailbox is not the server's fault.
        /// </summary>
        public async ValueTask FillFromAsync(Stream body, WebSeedRequest request, CancellationTokenSource stall, TimeSpan timeout,
            CancellationToken readToken, CancellationToken token)
        {
            long remaining = request.Length;
            while (remaining > 0)
            {
                await EnsureBufferAsync(token).ConfigureAwait(false);
                int want = (int)Math.Min(BlockLength - _filled, remaining);
                stall.CancelAfter(timeout);
                int n;
                try
                {
                    n = await body.ReadAsync(_buffer.AsMemory(_filled, want), readToken).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    // HTTP/1.1 with a Content-Length: a connection closed early surfaces as an I/O error, not as the end.
                    throw new WebSeedException(WebSeedFailureKind.ShortBody,
                        $"the body ended after {request.Length - remaining} of {request.Length} bytes ({e.Message})", inner: e);
                }
                stall.CancelAfter(Timeout.InfiniteTimeSpan);
                if (n == 0)
                    throw new WebSeedException(WebSeedFailureKind.ShortBody, $"the body ended after {request.Length - remaining} of {request.Length} bytes");
                _filled += n;
                remaining -= n;
                await PostIfFullAsync(token).ConfigureAwait(false);
            }
        }

        private async ValueTask EnsureBufferAsync(CancellationToken token)
        {
            if (_buffer is not null) return;
            if (_block >= job._blocks.Length)
                throw new InvalidOperationException("the run's requests cover more bytes than its blocks");
            // The download caps (torrent and session) apply to web seeds as to peers: pay for the block up front.
            await loops.TakeDownloadAsync(BlockLength, token).ConfigureAwait(false);
            _buffer = loops.Blocks.Rent(BlockLength);
        }

        private async ValueTask PostIfFullAsync(CancellationToken token)
        {
            if (_filled < BlockLength) return;
            var block = new TorrentEvent { Kind = TorrentEventKind.WebSeedBlock, Payload = job, Index = _block, Buffer = _buffer };
            byte[] buffer = _buffer!;
            _buffer = null;
            _filled = 0;
            _block++;
            if (loops.Mailbox.TryWrite(block)) return;
            try
            {
                await loops.Mailbox.WriteAsync(block, token).ConfigureAwait(false);
            }
            catch
            {
                loops.Blocks.Return(buffer);
                throw;
            }
        }

        public void ReturnBuffer()
        {
            if (_buffer is null) return;
            loops.Blocks.Return(_buffer);
            _buffer = null;
        }
    }
}
