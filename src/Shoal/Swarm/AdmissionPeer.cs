namespace Shoal.Swarm;

/// <summary>What <see cref="ConnectionAdmission"/> needs to know of one connected peer.</summary>
/// <param name="Key">The peer's key in the torrent.</param>
/// <param name="Address">Its address key.</param>
/// <param name="Connected">How long it has been connected.</param>
/// <param name="SinceUseful">How long since payload last moved between us, either way (or since it connected).</param>
/// <param name="UsefulBytes">Payload exchanged so far, both ways.</param>
/// <param name="Closing">Already being closed: neither counted nor replaceable.</param>
internal readonly record struct AdmissionPeer(int Key, AddressKey Address, TimeSpan Connected, TimeSpan SinceUseful, long UsefulBytes, bool Closing = false);
