using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>One announce to a tracker (BEP 3, BEP 15).</summary>
/// <param name="InfoHash">The torrent.</param>
/// <param name="PeerId">Our 20-byte peer id.</param>
/// <param name="Port">The TCP port peers can reach us on.</param>
/// <param name="Uploaded">Bytes uploaded since the started event.</param>
/// <param name="Downloaded">Bytes downloaded since the started event.</param>
/// <param name="Left">Bytes still missing (0 for a seeder).</param>
/// <param name="Event">started, completed, stopped or none.</param>
/// <param name="NumWant">How many peers we would like; -1 lets the tracker choose.</param>
/// <param name="Key">A per-session random number that lets the tracker recognise us across address changes.</param>
/// <param name="TrackerId">The <c>tracker id</c> a previous HTTP answer gave, sent back as BEP 3 asks.</param>
public sealed record AnnounceRequest(
    InfoHash InfoHash,
    ReadOnlyMemory<byte> PeerId,
    int Port,
    long Uploaded,
    long Downloaded,
    long Left,
    AnnounceEvent Event,
    int NumWant,
    uint Key,
    string? TrackerId = null);
