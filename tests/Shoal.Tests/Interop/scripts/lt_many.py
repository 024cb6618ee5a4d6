#!/usr/bin/env python3
"""Seeds many .torrent files in one libtorrent session (the many-torrents benchmark's reference).

Loads the first --count .torrent files of --torrents (sorted by name), adds them all (not auto-managed, so every
one is active, as in Shoal), and prints 'READY <seconds>' once every torrent seeds, the seconds counted from the
first add (libtorrent hashes everything: no resume data). Then idles until stdin reaches end of file, destroys the
session and prints 'STOPPED <seconds>' (the time the session's destructor took).
Exit codes: 0 stopped, 2 bad input or a torrent error.
"""
import argparse
import gc
import os
import sys
import time

import libtorrent as lt

from lt_common import base_params, fail, load_torrent, log


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--torrents", required=True, help="folder of .torrent files")
    parser.add_argument("--save-path", required=True, help="folder that holds every torrent's data")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    names = sorted(n for n in os.listdir(args.torrents) if n.endswith(".torrent"))[:args.count]
    if len(names) < args.count:
        fail(2, f"{args.torrents} holds {len(names)} torrents, {args.count} asked for")
    infos = [load_torrent(os.path.join(args.torrents, n)) for n in names]
    save_path = os.path.abspath(args.save_path)

    count = len(infos)
    session = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "outgoing_interfaces": "",
        "enable_dht": False,
        "dht_bootstrap_nodes": "",
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_ip_notifier": False,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
        "alert_queue_size": 4 * count + 1000,
        # Every torrent active, as in Shoal (these only bound auto-managed torrents; set anyway).
        "active_limit": count + 10,
        "active_seeds": count + 10,
    })

    started = time.monotonic()
    for info in infos:
        session.async_add_torrent(base_params(info, save_path))
    seeding = set()
    deadline = started + args.timeout
    while len(seeding) < count:
        if time.monotonic() > deadline:
            fail(2, f"only {len(seeding)} of {count} torrents seed after {args.timeout:.0f} s")
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                fail(2, f"torrent error: {alert.message()}")
            if isinstance(alert, lt.add_torrent_alert) and alert.error.value() != 0:
                fail(2, f"add failed: {alert.message()}")
            if isinstance(alert, lt.state_changed_alert) and alert.state == lt.torrent_status.seeding:
                seeding.add(alert.torrent_name)
    log(f"READY {time.monotonic() - started:.3f}")

    sys.stdin.read()  # the benchmark measures the idle session meanwhile, then closes stdin
    stopping = time.monotonic()
    del session
    gc.collect()
    log(f"STOPPED {time.monotonic() - stopping:.3f}")


if __name__ == "__main__":
    main()
