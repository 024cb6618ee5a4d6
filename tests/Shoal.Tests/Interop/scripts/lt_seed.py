#!/usr/bin/env python3
"""Seeds a .torrent with libtorrent on 127.0.0.1.

With --dht-bootstrap the DHT is on and the torrent is announced there every few seconds.
Prints 'READY <port>' once the data is checked and the torrent seeds, then one 'STAT' line a
second. Runs until stdin reaches end of file (unless --no-stdin), SIGINT/SIGTERM, or --timeout.
Exit codes: 0 stopped, 2 bad input / data incomplete, 3 listen failure.
"""
import argparse
import os
import time

import libtorrent as lt

from lt_common import (base_params, fail, load_torrent, log, make_session, parse_peer,
                       rc4_peers, utp_peers, stop_on_signals_and_stdin, wait_listen_port)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--save-path", required=True, help="folder that holds the torrent's data")
    parser.add_argument("--port", type=int, default=0, help="listen port on 127.0.0.1 (0 = any)")
    parser.add_argument("--peer", action="append", default=[], help="HOST:PORT to connect to")
    parser.add_argument("--seed-mode", action="store_true",
                        help="trust the data without hashing it first (pieces are checked lazily)")
    parser.add_argument("--no-stdin", action="store_true", help="do not stop when stdin closes")
    parser.add_argument("--timeout", type=float, default=3600, help="hard upper bound in seconds")
    parser.add_argument("--encryption", choices=["plaintext", "default", "forced", "disabled"], default="plaintext")
    parser.add_argument("--transport", choices=["tcp", "utp", "both"], default="tcp",
                        help="tcp only (default), utp only, or both as libtorrent does by default")
    parser.add_argument("--dht-bootstrap", default=None,
                        help="HOST:PORT: turn the DHT on, bootstrapped from this node only, and announce there")
    parser.add_argument("--quiet", action="store_true", help="no STAT lines")
    parser.add_argument("--upload-limit", type=int, default=0,
                        help="upload cap in bytes per second (0 = none), to keep a download going for a while")
    args = parser.parse_args()

    stop = stop_on_signals_and_stdin(not args.no_stdin)
    info = load_torrent(args.torrent)
    dht = args.dht_bootstrap is not None
    session = make_session(args.port, args.encryption, args.dht_bootstrap, args.transport)
    port = wait_listen_port(session)

    params = base_params(info, os.path.abspath(args.save_path), dht)
    if args.seed_mode:
        params.flags |= lt.torrent_flags.seed_mode
    handle = session.add_torrent(params)
    if args.upload_limit > 0:
        # A torrent's own limit: the session's would not apply to peers on the local network (their peer class).
        handle.set_upload_limit(args.upload_limit)

    deadline = time.monotonic() + args.timeout
    # Checking 1 GiB takes seconds; a seeder that is not complete after checking is a setup error.
    while True:
        if stop.is_set() or time.monotonic() > deadline:
            fail(2, "stopped before the data was checked")
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                fail(2, f"torrent error: {alert.message()}")
        status = handle.status()
        if status.state in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
            continue
        if status.is_seeding:
            break
        if status.has_metadata and status.state == lt.torrent_status.downloading:
            fail(2, f"data in {args.save_path} is incomplete ({status.progress * 100:.1f}% valid)")

    for peer in args.peer:
        handle.connect_peer(parse_peer(peer))
    log(f"READY {port}")

    last = 0.0
    last_dht = 0.0
    while not stop.is_set() and time.monotonic() < deadline:
        session.wait_for_alert(250)
        for alert in session.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                log(f"WARN {alert.message()}")
        now = time.monotonic()
        # libtorrent announces to the DHT every 15 minutes, and the first try may come before
        # the routing table holds any node: announce every few seconds instead.
        if dht and now - last_dht >= 3.0:
            last_dht = now
            handle.force_dht_announce()
        if not args.quiet and now - last >= 1.0:
            last = now
            s = handle.status()
            log(f"STAT uploaded={s.total_payload_upload} up_rate={s.upload_payload_rate} peers={s.num_peers} "
                f"rc4_peers={rc4_peers(handle)} utp_peers={utp_peers(handle)}")
    s = handle.status()
    log(f"STOPPED uploaded={s.total_payload_upload}")


if __name__ == "__main__":
    main()
