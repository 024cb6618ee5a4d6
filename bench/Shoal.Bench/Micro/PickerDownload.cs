using Shoal.Picking;

namespace Shoal.Bench.Micro;

/// <summary>
/// One whole download through a <see cref="PiecePicker"/>, driven as the torrent actor drives it: every peer keeps
/// <see cref="RequestQueue.MinDepth"/> requests outstanding; peers take turns, each turn one block arrives from that
/// peer (<see cref="PiecePicker.OnBlockReceived"/>, endgame duplicates cancelled at the other peers that had asked
/// for it), a piece whose blocks are all in is reported verified, and the freed slots are refilled with
/// <see cref="PiecePicker.PickBlocks"/> (TorrentActor.RequestMore). Allocates nothing after construction beyond
/// what the picker does.
/// </summary>
internal sealed class PickerDownload
{
    private const int Depth = RequestQueue.MinDepth;

    private readonly PickerSwarm _swarm;
    private readonly PiecePicker _picker;
    private readonly List<BlockRequest>[] _outstanding = new List<BlockRequest>[PickerSwarm.Peers];
    private readonly int[] _received = new int[PickerSwarm.Pieces];
    private readonly List<int> _cancel = new(PiecePicker.MaxRequestersPerBlock);
    private readonly BlockRequest[] _picks = new BlockRequest[Depth];

    public PickerDownload(PickerSwarm swarm, PiecePicker picker)
    {
        _swarm = swarm;
        _picker = picker;
        for (int p = 0; p < _outstanding.Length; p++) _outstanding[p] = new List<BlockRequest>(Depth);
    }

    /// <summary>Runs until every piece is verified; returns the PickBlocks calls made.</summary>
    /// <exception cref="InvalidOperationException">A whole round of turns moved nothing (the picker stalled).</exception>
    public long Run()
    {
        long calls = 0;
        while (!_picker.IsComplete)
        {
            bool moved = false;
            for (int peer = 0; peer < PickerSwarm.Peers && !_picker.IsComplete; peer++)
            {
                List<BlockRequest> queue = _outstanding[peer];
                if (queue.Count > 0)
                {
                    BlockRequest block = queue[0];
                    queue.RemoveAt(0);
                    Receive(peer, block);
                    moved = true;
                }
                int need = Depth - queue.Count;
                if (need == 0 || _picker.IsComplete) continue;
                int count = _picker.PickBlocks(peer, _swarm.Has[peer], _picks.AsSpan(0, need));
                calls++;
                for (int i = 0; i < count; i++) queue.Add(_picks[i]);
                moved |= count > 0;
            }
            if (!moved) throw new InvalidOperationException($"the download stalled with {_picker.MissingPieces} pieces missing");
        }
        return calls;
    }

    private void Receive(int peer, BlockRequest block)
    {
        if (!_picker.OnBlockReceived(peer, block, _cancel)) return;
        foreach (int other in _cancel) _outstanding[other].Remove(block);
        if (++_received[block.Piece] == PickerSwarm.BlocksPerPiece) _picker.OnPieceVerified(block.Piece);
    }
}
