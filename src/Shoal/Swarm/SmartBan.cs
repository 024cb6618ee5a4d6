using System.Net;
using Shoal.Picking;

namespace Shoal.Swarm;

/// <summary>
/// Who is to blame for a piece that failed its hash check. Remembers who sent each block of the pieces in
/// progress; when a piece shared by several peers fails and the storage kept digests of its blocks, waits for
/// the retry to verify and bans only whoever sent the blocks that differ (libtorrent's smart ban). Otherwise a
/// lone contributor is banned at once and each of several contributors is counted against, until
/// <see cref="MaxHashFailures"/>. Bounded: at most <see cref="MaxFailedPiecesTracked"/> failed pieces are kept.
/// </summary>
internal sealed class SmartBan(TorrentContext torrent, SmartBan.BanAction ban)
{
    /// <summary>Bans one offender: its endpoint, listen endpoint and peer id (see <see cref="BanList"/>).</summary>
    public delegate void BanAction(IPEndPoint endPoint, IPEndPoint? listenEndPoint, byte[]? peerId, string? client, string reason);

    /// <summary>Failed pieces a peer may contribute to before it is banned.</summary>
    public const int MaxHashFailures = 3;

    /// <summary>Failed pieces whose senders are kept for smart ban; beyond it, the counting applies.</summary>
    private const int MaxFailedPiecesTracked = 256;

    /// <summary>Sender arrays kept for reuse (one array per piece would be garbage per piece).</summary>
    private const int MaxPooledSenderArrays = 64;

    /// <summary>Who sent each block of the pieces in progress (index: block of 16 KiB).</summary>
    private Dictionary<int, BlockSender[]>? _senders;
    private Dictionary<int, BlockSender[]> Senders => _senders ??= [];

    /// <summary>The senders of failed pieces whose retry will tell which blocks were bad.</summary>
    private Dictionary<int, BlockSender[]>? _failed;
    private Dictionary<int, BlockSender[]> Failed => _failed ??= [];
    private Stack<BlockSender[]>? _pool;
    private Stack<BlockSender[]> SenderArrays => _pool ??= new();

    /// <summary>Records who sent a block that is on its way to the disk.</summary>
    public void RecordSender(BlockRequest block, PeerConnection peer)
        => SendersOf(block.Piece)[block.Offset / PiecePicker.BlockLength] = new BlockSender(peer.Key, peer.EndPoint, peer.ListenEndPoint, peer.PeerId, peer.Client, null);

    /// <summary>Records that a web seed sent a block that is on its way to the disk (blamed like a peer, dropped instead of banned).</summary>
    public void RecordSender(BlockRequest block, WebSeeds.WebSeedServer webSeed)
        => SendersOf(block.Piece)[block.Offset / PiecePicker.BlockLength] = new BlockSender(webSeed.SenderKey, null, null, null, null, webSeed);

    private BlockSender[] SendersOf(int piece)
    {
        if (!Senders.TryGetValue(piece, out BlockSender[]? senders))
        {
            int blocks = (torrent.Torrent!.GetPieceSize(piece) + PiecePicker.BlockLength - 1) / PiecePicker.BlockLength;
            // Only full-size arrays are pooled; the last piece may be shorter.
            senders = SenderArrays.Count > 0 && SenderArrays.Peek().Length == blocks ? SenderArrays.Pop() : new BlockSender[blocks];
            Senders.Add(piece, senders);
        }
        return senders;
    }

    /// <summary>A piece verified: if an earlier attempt failed, ban those whose blocks differed from this good copy.</summary>
    public void OnPieceVerified(int piece)
    {
        Senders.Remove(piece, out BlockSender[]? senders);
        if (Failed.Remove(piece, out BlockSender[]? failed) && torrent.Storage!.TakeCorruptBlocks(piece) is { } corrupt)
            BanSendersOf(piece, failed, corrupt, "differed from the verified copy");
        if (senders is not null && SenderArrays.Count < MaxPooledSenderArrays && senders.Length * PiecePicker.BlockLength >= torrent.Torrent!.PieceLength)
        {
            Array.Clear(senders); // no stale sender may be blamed for a later piece
            SenderArrays.Push(senders);
        }
    }

    /// <summary>A piece failed its hash check: blame its senders, or keep them until the retry names the guilty.</summary>
    public void OnPieceFailed(int piece)
    {
        if (!Senders.Remove(piece, out BlockSender[]? senders)) return;
        var contributors = new Dictionary<int, BlockSender>();
        foreach (BlockSender sender in senders)
            if (sender.IsSet) contributors.TryAdd(sender.Key, sender);
        bool identifiable = torrent.Storage!.CanIdentifyCorruptBlocks(piece)
            || (torrent.Storage.Verifier as Storage.MerklePieceVerifier)?.HasFailedAttempt(piece) == true; // v2: by block hashes
        if (contributors.Count > 1 && identifiable && Failed.Count < MaxFailedPiecesTracked)
        {
            // Several peers shared the piece: wait for the retry to verify, then compare block by block and
            // ban only whoever sent the blocks that differ (smart ban), not the innocent ones.
            Failed[piece] = senders;
            return;
        }
        foreach ((int key, BlockSender contributor) in contributors)
        {
            if (contributor.WebSeed is { } webSeed)
            {
                torrent.WebSeeds?.OnCorruptData(webSeed, piece, certain: contributors.Count == 1);
                continue;
            }
            if (!torrent.Peers.TryGet(key, out PeerConnection peer)) continue;
            // A lone contributor is certainly guilty. Without block digests (a piece written block by block),
            // one of several may be innocent, so it counts less.
            peer.HashFailures += contributors.Count == 1 ? MaxHashFailures : 1;
            if (peer.HashFailures >= MaxHashFailures) ban(peer.EndPoint, peer.ListenEndPoint, peer.PeerId, peer.Client, $"sent data that failed the hash check of piece {piece}");
        }
    }

    /// <summary>
    /// v2: the right block hashes of a failed piece arrived (BEP 52 hashes) and named its bad blocks: whoever sent them
    /// is banned now, before the piece is downloaded again.
    /// </summary>
    public void OnCorruptBlocksKnown(int piece, int[] corruptBlocks)
    {
        if (Failed.Remove(piece, out BlockSender[]? failed)) BanSendersOf(piece, failed, corruptBlocks, "differed from its BEP 52 block hash");
    }

    /// <summary>The piece's blocks were dropped (a disk error): nobody is to blame for what was never checked.</summary>
    public void Forget(int piece) => Senders.Remove(piece);

    private void BanSendersOf(int piece, BlockSender[] failedSenders, int[] corruptBlocks, string how)
    {
        var guilty = new HashSet<IPEndPoint>();
        foreach (int block in corruptBlocks)
        {
            if ((uint)block >= (uint)failedSenders.Length) continue;
            BlockSender sender = failedSenders[block];
            if (sender.WebSeed is { } webSeed) torrent.WebSeeds?.OnCorruptData(webSeed, piece, certain: true);
            else if (sender.EndPoint is { } endPoint && guilty.Add(endPoint))
                ban(endPoint, sender.ListenEndPoint, sender.PeerId, sender.Client, $"sent corrupt data: block {block} of piece {piece} {how} (smart ban)");
        }
    }

    /// <summary>
    /// Who sent one block: enough to ban the peer (endpoint, listen endpoint, peer id) even after the connection is
    /// gone, or the web seed to drop.
    /// </summary>
    private readonly record struct BlockSender(int Key, IPEndPoint? EndPoint, IPEndPoint? ListenEndPoint, byte[]? PeerId, string? Client,
        WebSeeds.WebSeedServer? WebSeed)
    {
        public bool IsSet => EndPoint is not null || WebSeed is not null;
    }
}
