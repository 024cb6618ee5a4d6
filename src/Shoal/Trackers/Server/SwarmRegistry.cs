using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Shoal.Metainfo;

namespace Shoal.Trackers.Server;

/// <summary>
/// The tracker's state: for each info-hash, the peers that announced, keyed by address and port (so a request
/// can only touch entries of its own source address), with seeder and leecher counts. Peers expire after
/// <see cref="SwarmRegistryOptions.PeerTimeout"/> without an announce; <c>stopped</c> removes at once.
/// </summary>
/// <remarks>
/// Requests arrive on many threads at once (Kestrel's and the UDP receive loops), and hopping every announce
/// through a single owner would cost more than it saves, so each torrent has its own short lock and the
/// torrent table is a concurrent dictionary. Bounds: <see cref="SwarmRegistryOptions.MaxTorrents"/> and
/// <see cref="SwarmRegistryOptions.MaxPeersPerTorrent"/>; at either bound, expired peers are dropped first and
/// if that is not enough the new torrent or peer is refused with a failure reason (the ones already tracked
/// keep working, which matters more than admitting one more). One address holds at most
/// <see cref="SwarmRegistryOptions.MaxPeersPerAddress"/> entries of a torrent (its stalest entry makes room for a new
/// port), and the peers handed out are spread over as many addresses as the swarm has: a host announcing from
/// thousands of ports can neither fill a swarm nor fill a newcomer's list.
/// </remarks>
public sealed class SwarmRegistry
{
    private readonly ConcurrentDictionary<InfoHash, TorrentPeers> _torrents = new();
    private readonly SwarmRegistryOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _seeds; // draws each torrent's own generator (under its lock)
    private int _torrentCount;

    /// <summary>Creates an empty registry.</summary>
    public SwarmRegistry(SwarmRegistryOptions? options = null, TimeProvider? time = null)
    {
        _options = options ?? new SwarmRegistryOptions();
        _time = time ?? TimeProvider.System;
        _seeds = _options.Random ?? new Random();
    }

    /// <summary>The policy in force.</summary>
    public SwarmRegistryOptions Options => _options;

    /// <summary>Torrents currently tracked.</summary>
    public int TorrentCount => Volatile.Read(ref _torrentCount);

    /// <summary>The peers wanted for a request, after the default and the cap.</summary>
    public int EffectiveNumWant(int requested) =>
        requested < 0 ? _options.DefaultNumWant : Math.Min(requested, _options.MaxNumWant);

    /// <summary>
    /// Records an announce and writes up to <c>numwant</c> other peers of the allowed families into
    /// <paramref name="destination"/> (a random slice of the swarm, never the requester).
    /// </summary>
    public AnnounceOutcome Announce(in PeerAnnounce request, PeerFamilies families, Span<SwarmPeer> destination)
    {
        ArgumentNullException.ThrowIfNull(request.Address);
        if (request.PeerId.Length != 20) return Refuse("peer_id must be 20 bytes");
        if (request.Port is <= 0 or > 65535) return Refuse("port must be 1 to 65535");
        if (_options.AllowList is { } allowed && !allowed.Contains(request.InfoHash)) return Refuse("this tracker does not serve that info-hash");

        IPAddress address = request.Address.IsIPv4MappedToIPv6 ? request.Address.MapToIPv4() : request.Address;
        var key = new PeerKey(address, request.Port);
        long now = _time.GetUtcNow().UtcTicks;

        if (request.Event == AnnounceEvent.Stopped)
        {
            // A peer leaving never creates a torrent.
            if (!_torrents.TryGetValue(request.InfoHash, out TorrentPeers? known)) return Outcome(0, 0, 0);
            lock (known)
            {
                known.Remove(key);
                return Outcome(0, known.Seeders, known.Leechers);
            }
        }

        while (true)
        {
            if (!_torrents.TryGetValue(request.InfoHash, out TorrentPeers? peers))
            {
                if (Volatile.Read(ref _torrentCount) >= _options.MaxTorrents)
                {
                    RemoveExpired();
                    if (Volatile.Read(ref _torrentCount) >= _options.MaxTorrents) return Refuse("this tracker tracks as many torrents as it can");
                }
                int seed;
                lock (_seeds) seed = _seeds.Next();
                var created = new TorrentPeers(now + (_options.PeerTimeout.Ticks / 4), new Random(seed));
                peers = _torrents.GetOrAdd(request.InfoHash, created);
                if (ReferenceEquals(peers, created)) Interlocked.Increment(ref _torrentCount);
            }

            lock (peers)
            {
                if (peers.Removed) continue; // lost a race with RemoveExpired: look the torrent up again
                if (now >= peers.NextSweep) peers.Sweep(now - _options.PeerTimeout.Ticks, now + (_options.PeerTimeout.Ticks / 4));
                if (!peers.Upsert(key, address, request, now, _options.MaxPeersPerTorrent, _options.MaxPeersPerAddress))
                {
                    peers.Sweep(now - _options.PeerTimeout.Ticks, now + (_options.PeerTimeout.Ticks / 4));
                    if (!peers.Upsert(key, address, request, now, _options.MaxPeersPerTorrent, _options.MaxPeersPerAddress))
                        return Refuse("this swarm has as many peers as the tracker keeps");
                }
                int want = Math.Min(EffectiveNumWant(request.NumWant), destination.Length);
                int written = peers.Select(key, families, destination[..want]);
                return Outcome(written, peers.Seeders, peers.Leechers);
            }
        }
    }

    /// <summary>Counts for one torrent (zeros when unknown or not allowed).</summary>
    public ScrapeEntry Scrape(InfoHash infoHash)
    {
        if (_options.AllowList is { } allowed && !allowed.Contains(infoHash)) return default;
        if (!_torrents.TryGetValue(infoHash, out TorrentPeers? peers)) return default;
        lock (peers)
        {
            return new ScrapeEntry(peers.Seeders, peers.Completed, peers.Leechers);
        }
    }

    /// <summary>Drops peers past their timeout and torrents left empty. The host calls it now and then.</summary>
    public void RemoveExpired()
    {
        long now = _time.GetUtcNow().UtcTicks;
        foreach (KeyValuePair<InfoHash, TorrentPeers> pair in _torrents)
        {
            TorrentPeers peers = pair.Value;
            lock (peers)
            {
                peers.Sweep(now - _options.PeerTimeout.Ticks, now + (_options.PeerTimeout.Ticks / 4));
                if (peers.Count > 0) continue;
                peers.Removed = true;
                if (_torrents.TryRemove(new KeyValuePair<InfoHash, TorrentPeers>(pair.Key, peers))) Interlocked.Decrement(ref _torrentCount);
            }
        }
    }

    private AnnounceOutcome Outcome(int count, int seeders, int leechers) =>
        new(count, seeders, leechers, _options.Interval, _options.MinInterval, null);

    private AnnounceOutcome Refuse(string reason) => new(0, 0, 0, _options.Interval, _options.MinInterval, reason);

    /// <summary>Address and port as plain numbers: cheap to hash and compare.</summary>
    private readonly record struct PeerKey(UInt128 Address, int Port)
    {
        public PeerKey(IPAddress address, int port) : this(ToNumber(address), port) { }

        private static UInt128 ToNumber(IPAddress address)
        {
            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out int written);
            UInt128 value = 0;
            for (int i = 0; i < written; i++) value = (value << 8) | bytes[i];
            // IPv4 and IPv6 keys must not collide: mark IPv4 in a bit an IPv6 /0..127 value cannot shift into.
            return written == 4 ? value | ((UInt128)1 << 100) : value;
        }
    }

    private struct StoredPeer
    {
        public PeerKey Key;
        public AddressKey Group;
        public IPAddress Address;
        public int Port;
        public byte[] PeerId;
        public long LastSeen;
        public bool Seeder;
    }

    /// <summary>One torrent's peers, one list per family with swap-remove, an index by key and the keys of each address.</summary>
    private sealed class TorrentPeers(long nextSweep, Random random)
    {
        private readonly Dictionary<PeerKey, (bool V6, int Slot)> _index = [];
        private readonly List<StoredPeer> _v4 = [];
        private readonly List<StoredPeer> _v6 = [];
        private readonly Dictionary<AddressKey, List<PeerKey>> _byAddress = [];
        // Scratch of Select, reused under the torrent's lock.
        private readonly HashSet<AddressKey> _chosenAddresses = [];
        private readonly List<int> _skipped = [];

        public long NextSweep { get; private set; } = nextSweep;
        public bool Removed { get; set; }
        public int Seeders { get; private set; }
        public int Leechers { get; private set; }
        public int Completed { get; private set; }
        public int Count => _index.Count;

        public bool Upsert(PeerKey key, IPAddress address, in PeerAnnounce request, long now, int max, int maxPerAddress)
        {
            bool seeder = request.Left == 0;
            if (_index.TryGetValue(key, out (bool V6, int Slot) at))
            {
                List<StoredPeer> list = at.V6 ? _v6 : _v4;
                StoredPeer peer = list[at.Slot];
                if (peer.Seeder != seeder)
                {
                    if (seeder) { Seeders++; Leechers--; } else { Seeders--; Leechers++; }
                    if (seeder && request.Event == AnnounceEvent.Completed) Completed++;
                }
                peer.Seeder = seeder;
                peer.LastSeen = now;
                if (!request.PeerId.Span.SequenceEqual(peer.PeerId)) peer.PeerId = request.PeerId.ToArray();
                list[at.Slot] = peer;
                return true;
            }
            AddressKey group = AddressKey.From(address);
            if (_byAddress.TryGetValue(group, out List<PeerKey>? sameAddress) && sameAddress.Count >= maxPerAddress)
            {
                // The address has its share: the new port takes the place of the one heard from least recently.
                PeerKey stalest = sameAddress[0];
                long oldest = long.MaxValue;
                foreach (PeerKey other in sameAddress)
                {
                    long seen = At(other).LastSeen;
                    if (seen < oldest) (oldest, stalest) = (seen, other);
                }
                Remove(stalest);
            }
            else if (_index.Count >= max)
            {
                return false;
            }
            bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
            List<StoredPeer> target = v6 ? _v6 : _v4;
            target.Add(new StoredPeer { Key = key, Group = group, Address = address, Port = request.Port, PeerId = request.PeerId.ToArray(), LastSeen = now, Seeder = seeder });
            _index[key] = (v6, target.Count - 1);
            if (!_byAddress.TryGetValue(group, out sameAddress)) _byAddress[group] = sameAddress = new List<PeerKey>(1);
            sameAddress.Add(key);
            if (seeder) Seeders++; else Leechers++;
            if (seeder && request.Event == AnnounceEvent.Completed) Completed++;
            return true;
        }

        private StoredPeer At(PeerKey key)
        {
            (bool v6, int slot) = _index[key];
            return (v6 ? _v6 : _v4)[slot];
        }

        public void Remove(PeerKey key)
        {
            if (!_index.TryGetValue(key, out (bool V6, int Slot) at)) return;
            RemoveAt(at.V6 ? _v6 : _v4, at.V6, at.Slot);
        }

        public void Sweep(long expiredBefore, long nextSweep)
        {
            NextSweep = nextSweep;
            SweepList(_v4, false, expiredBefore);
            SweepList(_v6, true, expiredBefore);
        }

        /// <summary>
        /// Copies peers other than <paramref name="self"/> from a random starting point onward, wrapping around;
        /// swap-removal keeps reshuffling the order, so consecutive runs are not a fixed neighbourhood. One peer per
        /// address first, and further ports of an address only when there are not enough addresses to fill the room.
        /// Families share the room in proportion to their size.
        /// </summary>
        public int Select(PeerKey self, PeerFamilies families, Span<SwarmPeer> destination)
        {
            int n4 = (families & PeerFamilies.V4) != 0 ? _v4.Count : 0;
            int n6 = (families & PeerFamilies.V6) != 0 ? _v6.Count : 0;
            int total = n4 + n6;
            if (total == 0 || destination.Length == 0) return 0;
            int room4 = total <= destination.Length ? n4 : (int)Math.Ceiling((double)destination.Length * n4 / total);
            int written = Copy(_v4, n4 == 0 ? 0 : room4, self, destination);
            written += Copy(_v6, n6 == 0 ? 0 : destination.Length - written, self, destination[written..]);
            return written;
        }

        private int Copy(List<StoredPeer> list, int room, PeerKey self, Span<SwarmPeer> destination)
        {
            int count = list.Count;
            room = Math.Min(room, destination.Length);
            if (count == 0 || room <= 0) return 0;
            int start = random.Next(count); // under the torrent's lock, like every call here
            int written = 0;
            _chosenAddresses.Clear();
            _skipped.Clear();
            for (int i = 0; i < count && written < room; i++)
            {
                int slot = (start + i) % count;
                StoredPeer peer = list[slot];
                if (peer.Key == self) continue;
                if (!_chosenAddresses.Add(peer.Group))
                {
                    if (_skipped.Count < room) _skipped.Add(slot); // a further port of an address already given
                    continue;
                }
                destination[written++] = new SwarmPeer(peer.Address, peer.Port, peer.PeerId);
            }
            for (int i = 0; i < _skipped.Count && written < room; i++)
            {
                StoredPeer peer = list[_skipped[i]];
                destination[written++] = new SwarmPeer(peer.Address, peer.Port, peer.PeerId);
            }
            return written;
        }

        private void SweepList(List<StoredPeer> list, bool v6, long expiredBefore)
        {
            for (int i = list.Count - 1; i >= 0; i--)
            {
                if (list[i].LastSeen < expiredBefore) RemoveAt(list, v6, i);
            }
        }

        private void RemoveAt(List<StoredPeer> list, bool v6, int slot)
        {
            StoredPeer removed = list[slot];
            if (removed.Seeder) Seeders--; else Leechers--;
            _index.Remove(removed.Key);
            List<PeerKey> sameAddress = _byAddress[removed.Group];
            sameAddress.Remove(removed.Key);
            if (sameAddress.Count == 0) _byAddress.Remove(removed.Group);
            int last = list.Count - 1;
            if (slot != last)
            {
                StoredPeer moved = list[last];
                list[slot] = moved;
                _index[moved.Key] = (v6, slot);
            }
            list.RemoveAt(last);
        }
    }
}
