using Shoal.Dht;
using Shoal.Transport.Encryption;

namespace Shoal.Swarm;

// The session's network settings that change at runtime, as libtorrent's apply_settings: connection limits, upload
// slots, encryption, DHT, local service discovery, peer exchange and the SSRF mitigation. Each takes effect on the running session.
public sealed partial class ShoalSession
{
    private readonly SemaphoreSlim _settingsGate = new(1, 1);
    private readonly Lock _optionsLock = new();

    /// <summary>Replaces the session's options with a changed copy (one change at a time: none is lost).</summary>
    private void UpdateOptions(Func<SessionOptions, SessionOptions> change)
    {
        lock (_optionsLock) _context.Options = change(_context.Options);
    }

    /// <summary>Most peer connections over all torrents now (<see cref="SessionOptions.MaxConnections"/>, changed by <see cref="SetConnectionLimitsAsync"/>).</summary>
    public int MaxConnections => _context.Options.MaxConnections;

    /// <summary>Most peer connections of one torrent without a limit of its own now.</summary>
    public int MaxConnectionsPerTorrent => _context.Options.MaxConnectionsPerTorrent;

    /// <summary>Regular upload slots of a torrent without its own now (<see cref="SessionOptions.UnchokeSlots"/>).</summary>
    public int UploadSlots => _context.Options.UnchokeSlots;

    /// <summary>The encryption mode connections are made and accepted with now.</summary>
    public EncryptionMode Encryption => _context.Encryption.Mode;

    /// <summary>True while local service discovery runs.</summary>
    public bool LocalDiscoveryEnabled => _localDiscovery is not null;

    /// <summary>True while peer exchange is used.</summary>
    public bool PexEnabled => _context.Options.EnablePex;

    /// <summary>Connections open or being opened now, over all torrents.</summary>
    public int Connections => _context.Connections;

    /// <summary>
    /// Changes the connection limits at once: new connections past them are refused from now, and when more are open
    /// than the new limits allow, each torrent closes its least useful peers (those that gave least, the newest first)
    /// down to its own limit and its share of the session's.
    /// </summary>
    public async Task SetConnectionLimitsAsync(int maxConnections, int maxConnectionsPerTorrent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConnections);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConnectionsPerTorrent);
        await _settingsGate.WaitAsync().ConfigureAwait(false);
        try
        {
            UpdateOptions(o => o with { MaxConnections = maxConnections, MaxConnectionsPerTorrent = maxConnectionsPerTorrent });
            SessionTorrent[] entries = [.. _torrents.Values];
            int open = entries.Sum(e => e.Actor.Status.Peers);
            int excess = Math.Max(0, open - maxConnections);
            foreach (SessionTorrent entry in entries)
            {
                TorrentActor actor = entry.Actor;
                int peers = actor.Status.Peers;
                // The session's excess, shared in proportion to each torrent's peers (rounded up: never fewer closed than needed).
                int share = open == 0 ? 0 : (int)Math.Ceiling((double)excess * peers / open);
                try
                {
                    await actor.InvokeAsync(() => actor.TrimPeers(peers - share)).ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                    // Stopped meanwhile: it holds no peer.
                }
            }
        }
        finally
        {
            _settingsGate.Release();
        }
    }

    /// <summary>Changes the regular upload slots of every torrent without its own, from each torrent's next choke decision.</summary>
    public void SetUploadSlots(int slots)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        UpdateOptions(o => o with { UnchokeSlots = slots });
    }

    /// <summary>
    /// Changes the encryption mode (MSE/PE) of the connections made and accepted from now (<see cref="SessionOptions.Encryption"/>):
    /// with <see cref="EncryptionMode.Require"/> a plaintext peer is refused afterwards. Open connections stay as they are.
    /// </summary>
    public void SetEncryption(EncryptionMode mode)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), $"unknown encryption mode {mode}");
        lock (_optionsLock)
        {
            _context.Options = _context.Options with { Encryption = mode };
            _context.Encryption.Mode = mode;
        }
    }

    /// <summary>Turns peer exchange (BEP 11) on or off from every torrent's next tick: off, nothing is sent and what peers send is not used.</summary>
    public void SetPexEnabled(bool enabled)
    {
        UpdateOptions(o => o with { EnablePex = enabled });
    }

    /// <summary>True while the SSRF mitigation holds web seeds and trackers to its rules (<see cref="SessionOptions.SsrfMitigation"/>).</summary>
    public bool SsrfMitigation => _context.Options.SsrfMitigation;

    /// <summary>
    /// Turns the SSRF mitigation on or off from the next web seed or tracker request. A web seed it refused stays
    /// dropped until its torrent restarts; a refused tracker is asked again at its next retry or reannounce.
    /// </summary>
    public void SetSsrfMitigation(bool enabled)
    {
        UpdateOptions(o => o with { SsrfMitigation = enabled });
        _context.Log(enabled ? "SSRF mitigation on" : "SSRF mitigation off: web seeds and trackers may reach this machine and the local network freely");
    }

    /// <summary>
    /// Starts or stops the DHT node on the session's UDP port: on, running torrents announce to it at once; off, their
    /// lookups end and the node stops (saving its state). Throws <see cref="InvalidOperationException"/> when the session
    /// has no UDP port (uTP and the DHT were both off at start).
    /// </summary>
    public async Task SetDhtEnabledAsync(bool enabled, CancellationToken cancellationToken = default)
    {
        await _settingsGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (enabled == (_context.Dht is not null)) return;
            if (enabled)
            {
                if (_context.Udp is null) throw new InvalidOperationException("the session has no UDP port for the DHT (it started with uTP and the DHT off)");
                _context.Dht = await StartDhtAsync(_context, cancellationToken).ConfigureAwait(false);
                UpdateOptions(o => o with { EnableDht = true });
                foreach (SessionTorrent entry in _torrents.Values) await ToggleDhtAnnouncesAsync(entry, on: true).ConfigureAwait(false);
                _context.Log("DHT on");
            }
            else
            {
                DualStackDht dht = _context.Dht!;
                _context.Dht = null;
                UpdateOptions(o => o with { EnableDht = false });
                foreach (SessionTorrent entry in _torrents.Values) await ToggleDhtAnnouncesAsync(entry, on: false).ConfigureAwait(false);
                await dht.DisposeAsync().ConfigureAwait(false);
                _context.Log("DHT off");
            }
        }
        finally
        {
            _settingsGate.Release();
        }
    }

    /// <summary>Starts local service discovery (BEP 14) or stops it. Returns false when it cannot run here (no multicast: logged).</summary>
    public async Task<bool> SetLocalDiscoveryEnabledAsync(bool enabled)
    {
        await _settingsGate.WaitAsync().ConfigureAwait(false);
        try
        {
            UpdateOptions(o => o with { EnableLocalDiscovery = enabled });
            if (!enabled)
            {
                await StopLocalDiscoveryAsync().ConfigureAwait(false);
                return true;
            }
            if (_localDiscovery is not null) return true;
            if (!StartLocalDiscovery()) return false;
            _ = AnnounceLocallyAsync([.. _torrents.Values.SelectMany(t => t.Actor.InfoHashes)]);
            return true;
        }
        finally
        {
            _settingsGate.Release();
        }
    }

    /// <summary>Starts or ends a torrent's DHT announces, under its gate (pausing, restarting and removing hold it too).</summary>
    private async Task ToggleDhtAnnouncesAsync(SessionTorrent entry, bool on)
    {
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!on) StopDhtAnnounces(entry);
            else if (!entry.Removed && !entry.ActorPaused) StartDhtAnnounces(entry);
        }
        finally
        {
            entry.Gate.Release();
        }
    }
}
