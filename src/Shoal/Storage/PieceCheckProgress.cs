namespace Shoal.Storage;

/// <summary>
/// One step of a data check: <see cref="Verified"/>[i] tells whether piece <see cref="First"/> + i matched (trusted
/// from resume data, or hashed), and <see cref="Checked"/> how many pieces the check has been through so far.
/// </summary>
/// <param name="Checked">Pieces checked so far, in all.</param>
/// <param name="First">The first piece of this step.</param>
/// <param name="Verified">Per piece of this step, from <paramref name="First"/>: verified or not.</param>
public readonly record struct PieceCheckProgress(int Checked, int First, bool[] Verified);
