#!/usr/bin/env python3
"""Downloads a .torrent or a magnet link with libtorrent on loopback, then exits.

Peers come from --peer (dialled, and re-dialled while nobody is connected), from the torrent's or
the magnet's trackers, and from the DHT when --dht-bootstrap is given. With --no-peer (or no
--peer at all) nothing is dialled by hand: the trackers or the DHT must find the seeder.

Prints 'LISTEN <port>', 'METADATA <pieces>' once the info dictionary is known (at once for a
.torrent), a 'PROGRESS' line a second, then 'DONE ...' and exits 0 once every piece is downloaded
and hash-verified and the data is flushed to disk. Exit codes: 0 done, 1 timeout, 2 bad input or
torrent error, 3 listen failure.
"""
import argparse
import os
import time

import libtorrent as lt

from lt_common import (base_params, fail, load_torrent, log, magnet_params, make_session, parse_peer,
                       rc4_peers, utp_peers, stop_on_signals_and_stdin, wait_listen_port)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--torrent", help=".torrent file to download")
    source.add_argument("--magnet", help="magnet link to download (metadata over BEP 9)")
    parser.add_argument("--save-path", required=True, help="folder to download into")
    parser.add_argument("--peer", action="append", default=[], help="HOST:PORT to connect to")
    parser.add_argument("--no-peer", action="store_true",
                        help="dial nobody by hand: rely on the trackers and the DHT (refuses --peer)")
    parser.add_argument("--dht-bootstrap", default=None,
                        help="HOST:PORT: turn the DHT on, bootstrapped from this node only")
    parser.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1 (0 = any)")
    parser.add_argument("--timeout", type=float, default=120, help="give up after this many seconds")
    parser.add_argument("--encryption", choices=["plaintext", "default", "forced", "disabled"], default="plaintext")
    parser.add_argument("--transport", choices=["tcp", "utp", "both"], default="tcp",
                        help="tcp only (default), utp only, or both as libtorrent does by default")
    parser.add_argument("--recheck", action="store_true",
                        help="after completion, re-hash everything on disk before reporting DONE")
    parser.add_argument("--quiet", action="store_true", help="no PROGRESS lines")
    parser.add_argument("--upload-rate", type=int, default=0,
                        help="upload cap in bytes/s (0 = none), applied to loopback peers too")
    parser.add_argument("--keep-seeding", action="store_true",
                        help="after DONE, keep serving the other peers until stdin closes or a signal; "
                             "then print 'UPLOADED <bytes>' and exit 0 (for swarm benchmarks)")
    args = parser.parse_args()
    if args.no_peer and args.peer:
        fail(2, "--no-peer and --peer exclude each other")

    stop = stop_on_signals_and_stdin(args.keep_seeding)
    peers = [parse_peer(p) for p in args.peer]
    os.makedirs(args.save_path, exist_ok=True)
    save_path = os.path.abspath(args.save_path)
    session = make_session(args.port, args.encryption, args.dht_bootstrap, args.transport)
    if args.upload_rate > 0:
        limit_uploads(session, args.upload_rate)
    log(f"LISTEN {wait_listen_port(session)}")

    dht = args.dht_bootstrap is not None
    if args.torrent:
        params = base_params(load_torrent(args.torrent), save_path, dht)
    else:
        params = magnet_params(args.magnet, save_path, dht)
    params.peers = list(params.peers) + peers
    handle = session.add_torrent(params)
    started = time.monotonic()
    deadline = started + args.timeout

    info = None
    last_print = 0.0
    last_connect = time.monotonic()
    last_dht = 0.0
    rechecking = False
    downloaded = None
    while True:
        now = time.monotonic()
        if stop.is_set():
            fail(1, "interrupted")
        s = handle.status()
        if now > deadline:
            pieces = info.num_pieces() if info is not None else "?"
            fail(1, f"timeout after {args.timeout:.0f}s at {s.progress * 100:.1f}% "
                    f"({s.num_pieces}/{pieces} pieces, {s.num_peers} peers, metadata={s.has_metadata})")
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                fail(2, f"torrent error: {alert.message()}")
            if isinstance(alert, (lt.peer_disconnected_alert, lt.peer_error_alert)) and not args.quiet:
                log(f"PEER {alert.message()}")
            if isinstance(alert, lt.hash_failed_alert):
                log(f"HASHFAIL {alert.message()}")
            if isinstance(alert, (lt.tracker_error_alert, lt.tracker_reply_alert, lt.dht_reply_alert,
                                  lt.metadata_failed_alert)):
                log(f"ALERT {alert.what()}: {alert.message()}")
        s = handle.status()
        if info is None and s.has_metadata:
            info = handle.torrent_file()
            log(f"METADATA {info.num_pieces()}")
        # A refused or dropped connection is not retried quickly by libtorrent; the peer may
        # just not be listening yet, so ask again every two seconds while nobody is connected.
        if s.num_peers == 0 and now - last_connect >= 2.0:
            last_connect = now
            for peer in peers:
                handle.connect_peer(peer)
        # The first DHT lookup may run before the routing table holds anything: look up again.
        if dht and s.num_peers == 0 and now - last_dht >= 3.0:
            last_dht = now
            handle.force_dht_announce()
        if not args.quiet and now - last_print >= 1.0:
            last_print = now
            log(f"PROGRESS {s.progress:.4f} downloaded={s.total_payload_download} "
                f"down_rate={s.download_payload_rate} peers={s.num_peers} rc4_peers={rc4_peers(handle)} "
                f"utp_peers={utp_peers(handle)} state={s.state}")
        if info is not None and s.is_seeding and s.num_pieces == info.num_pieces():
            if downloaded is None:
                downloaded = s.total_payload_download
            if args.recheck and not rechecking:
                rechecking = True
                handle.force_recheck()
                continue
            if s.state in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
                continue
            if args.keep_seeding:
                keep_seeding(session, handle, stop, info, downloaded, time.monotonic() - started)
                return
            break
        if rechecking and s.state == lt.torrent_status.downloading:
            fail(2, "recheck found pieces that do not verify")

    elapsed = time.monotonic() - started
    # Removing the torrent and tearing the session down waits for the disk threads, so every
    # byte is in the files (not just in a cache) when this process exits.
    session.remove_torrent(handle)
    del handle
    del session
    log(f"DONE bytes={info.total_size()} downloaded={downloaded} seconds={elapsed:.3f}")


def limit_uploads(session, rate):
    """Caps uploads at rate bytes/s for every peer, loopback included.

    libtorrent's default peer-class filter puts local addresses (127.0.0.0/8, 10/8, 192.168/16...) in
    the 'local' class only, which escapes the global rate limit and the unchoke slots: put every
    address in the global class instead, so the cap and the choker act on 127.0.0.1 peers.
    """
    session.apply_settings({"upload_rate_limit": int(rate)})
    classes = lt.ip_filter()
    classes.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
    session.set_peer_class_filter(classes)


def keep_seeding(session, handle, stop, info, downloaded, elapsed):
    """Reports DONE as soon as every piece is verified, serves until told to stop, reports UPLOADED."""
    log(f"DONE bytes={info.total_size()} downloaded={downloaded} seconds={elapsed:.3f}")
    while not stop.is_set():
        session.wait_for_alert(200)
        session.pop_alerts()
    uploaded = handle.status().total_payload_upload
    session.remove_torrent(handle)
    log(f"UPLOADED {uploaded}")


if __name__ == "__main__":
    main()
