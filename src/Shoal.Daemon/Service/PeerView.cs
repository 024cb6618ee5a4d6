namespace Shoal.Daemon.Service;

/// <summary>One connected peer of a torrent.</summary>
/// <param name="Address">IP:port ([IPv6]:port).</param>
/// <param name="Client">Client name guessed from its peer id.</param>
/// <param name="Flags">qBittorrent-style flags: D/d we download / want to, U/u we upload / it wants to, I incoming, X from PEX, H from DHT, L local.</param>
/// <param name="Incoming">It dialled us.</param>
/// <param name="Transport">"tcp" or "utp".</param>
/// <param name="Source">Where we learned of it: manual, incoming, tracker, pex, lsd, dht.</param>
/// <param name="Progress">Share of pieces it has, 0..1.</param>
/// <param name="DownRate">Bytes per second from it.</param>
/// <param name="UpRate">Bytes per second to it.</param>
/// <param name="Downloaded">Payload bytes received from it.</param>
/// <param name="Uploaded">Payload bytes sent to it.</param>
public sealed record PeerView(
    string Address,
    string Client,
    string Flags,
    bool Incoming,
    string Transport,
    string Source,
    double Progress,
    long DownRate,
    long UpRate,
    long Downloaded,
    long Uploaded);
