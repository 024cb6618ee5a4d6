using Shoal.Picking;

namespace Shoal.Bench.Micro;

/// <summary>
/// The swarm the picker benchmarks pick from: 1,000 peers over 10,000 pieces of 256 KiB (2.5 GiB, 160,000 blocks).
/// 2% of the peers are seeds; every other peer holds a random share (uniform 0-100%) of random pieces, so piece
/// availability spreads over a few hundred counts and rarest first has buckets to walk. Seeded: the same every run.
/// </summary>
internal sealed class PickerSwarm
{
    public const int Peers = 1_000;
    public const int Pieces = 10_000;
    public const int PieceLength = 256 * 1024;
    public const int BlocksPerPiece = PieceLength / PiecePicker.BlockLength;
    public const int Blocks = Pieces * BlocksPerPiece;

    private PickerSwarm(BitField[] has, BitField extra)
    {
        Has = has;
        Extra = extra;
    }

    /// <summary>What each peer has; the index is the peer's key.</summary>
    public BitField[] Has { get; }

    /// <summary>One more leecher (half the pieces), not among <see cref="Has"/>.</summary>
    public BitField Extra { get; }

    public static PickerSwarm Create()
    {
        var random = new Random(42);
        var has = new BitField[Peers];
        for (int p = 0; p < Peers; p++) has[p] = Holding(random, p < Peers / 50 ? 1.0 : random.NextDouble());
        return new PickerSwarm(has, Holding(random, 0.5));
    }

    /// <summary>A picker with nothing verified and every peer's bitfield registered, as after the BITFIELD exchange.</summary>
    public PiecePicker NewPicker()
    {
        var picker = new PiecePicker(Pieces, PieceLength, (long)Pieces * PieceLength, new BitField(Pieces), new Random(7));
        foreach (BitField field in Has) picker.AddPeer(field);
        return picker;
    }

    private static BitField Holding(Random random, double share)
    {
        var field = new BitField(Pieces);
        for (int piece = 0; piece < Pieces; piece++)
            if (random.NextDouble() < share) field[piece] = true;
        return field;
    }
}
