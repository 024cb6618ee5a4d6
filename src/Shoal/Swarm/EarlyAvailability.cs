namespace Shoal.Swarm;

/// <summary>
/// A peer's availability messages received while the torrent's piece count was still unknown (magnet link,
/// metadata not fetched yet). Bounded: a peer cannot announce more HAVEs than a torrent can have pieces,
/// and past the cap the rest are dropped (the peer's later bitfield-equivalent state is then incomplete,
/// which only makes us less interested in it).
/// </summary>
internal sealed class EarlyAvailability
{
    private const int MaxHaves = 1 << 16;

    /// <summary>The raw bitfield payload, if one was sent.</summary>
    public byte[]? Bitfield { get; set; }

    /// <summary>The peer sent HAVE ALL.</summary>
    public bool HasAll { get; set; }

    /// <summary>Piece indices from HAVE messages.</summary>
    public List<int> Haves { get; } = [];

    public void AddHave(int piece)
    {
        if (Haves.Count < MaxHaves) Haves.Add(piece);
    }
}
