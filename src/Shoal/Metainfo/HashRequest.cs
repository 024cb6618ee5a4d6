namespace Shoal.Metainfo;

/// <summary>
/// A range of one file's BEP 52 merkle tree, as the hash request, hashes and hash reject messages (21-23) name it:
/// <paramref name="Length"/> hashes of layer <paramref name="BaseLayer"/> (0 = the 16 KiB block hashes) from
/// <paramref name="Index"/>, plus the uncles of <paramref name="ProofLayers"/> layers above them.
/// </summary>
/// <param name="Root">The file's <c>pieces root</c>.</param>
/// <param name="BaseLayer">Layers above the leaves where the requested hashes are.</param>
/// <param name="Index">First hash of the base layer (a multiple of <paramref name="Length"/>).</param>
/// <param name="Length">Hashes asked for: a power of two, at least 2.</param>
/// <param name="ProofLayers">Ancestor layers whose uncles prove the hashes (the first log2(Length) - 1 are implied).</param>
public readonly record struct HashRequest(Sha256Hash Root, int BaseLayer, int Index, int Length, int ProofLayers)
{
    /// <inheritdoc />
    public override string ToString() => $"{Root.ToHex()[..12]}… layer {BaseLayer} [{Index}, +{Length}) proof {ProofLayers}";
}
