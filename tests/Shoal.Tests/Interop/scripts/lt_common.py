"""Shared libtorrent (2.0 python API) settings for the Shoal interop scripts.

Every session is pinned to 127.0.0.1 and has every discovery mechanism off, so the scripts never
touch any address but loopback and only ever talk to the peers they are told about.
"""
import signal
import sys
import threading

import libtorrent as lt


def log(*parts):
    """Prints one line to stdout and flushes at once: the caller reads it as a pipe, line by line."""
    print(*parts, flush=True)


def fail(code, message):
    """One line on stderr, then a non-zero exit (the callers show stderr when a script fails)."""
    print(f"ERROR {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def make_session(port, encryption="plaintext", dht_bootstrap=None, transport="tcp"):
    """Creates a session bound to 127.0.0.1:port (0 = any free port) that speaks TCP only (by default).

    encryption: 'plaintext' never tries the MSE/PE handshake on outgoing connections (incoming
    encrypted ones are still accepted); 'default' keeps libtorrent's stock policy (outgoing tries
    encryption first, then falls back to plaintext), which is what peers in the wild do;
    'forced' only speaks encrypted, with RC4 over the whole stream (qBittorrent's "require
    encryption"); 'disabled' refuses every encrypted handshake, in and out.

    transport: 'tcp' (the default), 'utp' (uTP only: TCP off both ways, so every byte goes over uTP on the
    listen port's UDP socket) or 'both' (libtorrent's stock behaviour: dial uTP first, then TCP).

    dht_bootstrap: 'HOST:PORT[,HOST:PORT]' turns the DHT on, bootstrapped only from those nodes, with
    libtorrent's protections against private and loopback addresses off (they would drop every
    127.0.0.1 node and peer); None keeps the DHT off.
    """
    policies = {
        "plaintext": (lt.enc_policy.pe_enabled, lt.enc_policy.pe_disabled),
        "default": (lt.enc_policy.pe_enabled, lt.enc_policy.pe_enabled),
        "forced": (lt.enc_policy.pe_forced, lt.enc_policy.pe_forced),
        "disabled": (lt.enc_policy.pe_disabled, lt.enc_policy.pe_disabled),
    }
    in_policy, out_policy = policies[encryption]
    alerts = (lt.alert.category_t.error_notification
              | lt.alert.category_t.status_notification
              | lt.alert.category_t.storage_notification
              | lt.alert.category_t.connect_notification
              | lt.alert.category_t.peer_notification
              | lt.alert.category_t.tracker_notification)
    settings = {
        "listen_interfaces": f"127.0.0.1:{port}",
        "outgoing_interfaces": "",
        "enable_dht": False,
        "dht_bootstrap_nodes": "",
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_ip_notifier": False,
        # uTP would hide TCP wire bugs and behaves differently on loopback: TCP only unless asked.
        "enable_outgoing_utp": transport in ("utp", "both"),
        "enable_incoming_utp": transport in ("utp", "both"),
        "enable_outgoing_tcp": transport in ("tcp", "both"),
        "enable_incoming_tcp": transport in ("tcp", "both"),
        # Both ends share 127.0.0.1; without this libtorrent keeps only one connection per IP.
        "allow_multiple_connections_per_ip": True,
        "in_enc_policy": int(in_policy),
        "out_enc_policy": int(out_policy),
        "alert_mask": int(alerts),
        "user_agent": "shoal-interop/libtorrent-" + lt.__version__,
    }
    if encryption == "forced":
        # RC4 for the whole stream, not just an obfuscated handshake (allowed_enc_level 'both' would let
        # the two sides settle on plaintext after the handshake).
        settings["allowed_enc_level"] = int(lt.enc_level.rc4)
        settings["prefer_rc4"] = True
    if dht_bootstrap:
        alerts |= lt.alert.category_t.dht_notification
        settings.update({
            "enable_dht": True,
            "dht_bootstrap_nodes": dht_bootstrap,
            "alert_mask": int(alerts),
            # All nodes share 127.0.0.1: without these, libtorrent keeps one node per IP (or /24)
            # in its routing table and in search results.
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            # Loopback is not on the routable internet: do not ignore it.
            "dht_ignore_dark_internet": False,
            # BEP 42 node ids are derived from the external IP; loopback nodes cannot have them.
            "dht_prefer_verified_node_ids": False,
            "dht_enforce_node_id": False,
            "dht_read_only": False,
        })
    session = lt.session(settings)
    # No IP filter is installed, so loopback peers are allowed; make that explicit in case a
    # distribution default ever ships one.
    session.set_ip_filter(lt.ip_filter())
    return session


def rc4_peers(handle):
    """How many of the torrent's connected peers use an RC4-encrypted stream (MSE/PE)."""
    return sum(1 for p in handle.get_peer_info() if p.flags & lt.peer_info.rc4_encrypted)


# libtorrent's peer_flags_t utp_socket (bit 17: after holepunched 15 and i2p_socket 16); the binding does not name it.
UTP_SOCKET = 1 << 17


def utp_peers(handle):
    """How many of the torrent's connected peers are connected over uTP."""
    return sum(1 for p in handle.get_peer_info() if p.flags & UTP_SOCKET)


def wait_listen_port(session, timeout=15.0):
    """Waits until the session listens on TCP and returns the port (fails on listen errors)."""
    deadline = _now() + timeout
    while _now() < deadline:
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.listen_failed_alert):
                fail(3, f"listen failed: {alert.message()}")
        port = session.listen_port()
        if port:
            return port
    fail(3, "session did not start listening in time")


def parse_peer(text):
    """'HOST:PORT' -> (host, port)."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        fail(2, f"bad peer '{text}', expected HOST:PORT")
    return host.strip("[]"), int(port)


def load_torrent(path):
    try:
        return lt.torrent_info(path)
    except RuntimeError as error:
        fail(2, f"cannot read torrent {path}: {error}")


def base_params(info, save_path, dht=False):
    params = lt.add_torrent_params()
    if info is not None:
        params.ti = info
    params.save_path = save_path
    # Not auto-managed and not paused: the torrent starts at once and is never queued.
    params.flags &= ~lt.torrent_flags.auto_managed
    params.flags &= ~lt.torrent_flags.paused
    params.flags |= lt.torrent_flags.disable_lsd
    if not dht:
        params.flags |= lt.torrent_flags.disable_dht
    return params


def magnet_params(uri, save_path, dht=False):
    """add_torrent_params for a magnet link (metadata fetched from peers over BEP 9)."""
    try:
        parsed = lt.parse_magnet_uri(uri)
    except RuntimeError as error:
        fail(2, f"cannot parse magnet {uri}: {error}")
    params = base_params(None, save_path, dht)
    params.info_hashes = parsed.info_hashes
    params.name = parsed.name
    params.trackers = parsed.trackers
    params.peers = parsed.peers
    return params


def stop_on_signals_and_stdin(watch_stdin):
    """Returns an Event set on SIGINT/SIGTERM, or when stdin reaches end of file if watch_stdin."""
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if watch_stdin:
        def watch():
            try:
                while sys.stdin.read(4096):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()

        threading.Thread(target=watch, daemon=True).start()
    return stop


def _now():
    import time
    return time.monotonic()
