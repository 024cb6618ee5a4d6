namespace Shoal.Picking;

/// <summary>
/// One block of one piece, as carried by the REQUEST, PIECE (header), REJECT and CANCEL messages.
/// </summary>
/// <param name="Piece">Zero-based piece index.</param>
/// <param name="Offset">Byte offset of the block inside the piece (a multiple of <see cref="PiecePicker.BlockLength"/>).</param>
/// <param name="Length">Block length in bytes: <see cref="PiecePicker.BlockLength"/>, or less for the last block of a piece.</param>
public readonly record struct BlockRequest(int Piece, int Offset, int Length);
