using Shoal.Picking;

namespace Shoal.Tests.Picking;

internal static class PickerTestUtil
{
    public static BitField Field(int length, params int[] set)
    {
        var f = new BitField(length);
        foreach (int i in set) f[i] = true;
        return f;
    }

    public static BitField Full(int length)
    {
        var f = new BitField(length);
        f.SetAll();
        return f;
    }

    public static BitField RandomField(int length, Random random, double density)
    {
        var f = new BitField(length);
        for (int i = 0; i < length; i++) f[i] = random.NextDouble() < density;
        return f;
    }

    /// <summary>A picker over pieceCount pieces of 4 blocks each.</summary>
    public static PiecePicker Picker(int pieceCount, int seed = 1, BitField? have = null, int blocksPerPiece = 4) =>
        new(pieceCount, blocksPerPiece * PiecePicker.BlockLength, (long)pieceCount * blocksPerPiece * PiecePicker.BlockLength,
            have ?? new BitField(pieceCount), new Random(seed));

    public static BlockRequest[] Pick(PiecePicker picker, int peerKey, BitField peerHas, int max)
    {
        var buffer = new BlockRequest[max];
        int n = picker.PickBlocks(peerKey, peerHas, buffer);
        return buffer[..n];
    }

    /// <summary>Receives every block of a piece (as one peer) and verifies it.</summary>
    public static void Complete(PiecePicker picker, int piece, int peerKey = 999)
    {
        var cancels = new List<int>();
        int size = picker.PieceSize(piece);
        for (int offset = 0; offset < size; offset += PiecePicker.BlockLength)
            picker.OnBlockReceived(peerKey, new BlockRequest(piece, offset, Math.Min(PiecePicker.BlockLength, size - offset)), cancels);
        picker.OnPieceVerified(piece);
    }
}
