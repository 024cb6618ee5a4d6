#!/usr/bin/env python3
"""Holds many torrents in one libtorrent session: the reference of the daemon-scale benchmark.

--phase cold: adds every .torrent in --torrents (sorted by name) with data in --save-path, waits until all
seed (each is checked), saves every torrent's resume data into --resume, then stops the session.
--phase restart: adds them again from the resume data (no check, as after a restart), waits until all seed,
measures the idle process for --idle seconds, then stops.
Prints one JSON line with the figures. DHT, LSD, UPnP off; listens on 127.0.0.1 only.
"""
import argparse
import json
import os
import time

import libtorrent as lt

from lt_common import fail, load_torrent, make_session, wait_listen_port, base_params


def cpu_seconds():
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def open_files():
    return len(os.listdir("/proc/self/fd"))


def wait_all_seeding(session, count, deadline):
    """Counts torrents by their state-change alerts until all seed; returns seconds waited."""
    seeding = set()
    start = time.monotonic()
    last_scan = start
    while len(seeding) < count:
        if time.monotonic() > deadline:
            fail(2, f"only {len(seeding)} of {count} torrents seed")
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.state_changed_alert):
                key = str(alert.handle.info_hashes().v1)
                if alert.state == lt.torrent_status.seeding:
                    seeding.add(key)
                else:
                    seeding.discard(key)
            elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                fail(2, f"torrent error: {alert.message()}")
        # A torrent already seeding when added sends no state change: look at the stragglers now and then.
        if time.monotonic() - last_scan > 1:
            last_scan = time.monotonic()
            for handle in session.get_torrents():
                if handle.status(0).is_seeding:
                    seeding.add(str(handle.info_hashes().v1))
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--torrents", required=True)
    parser.add_argument("--save-path", required=True)
    parser.add_argument("--resume", required=True)
    parser.add_argument("--phase", choices=["cold", "restart"], required=True)
    parser.add_argument("--idle", type=float, default=30)
    parser.add_argument("--settle", type=float, default=3, help="seconds to wait after all seed before measuring idle")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    files = sorted(f for f in os.listdir(args.torrents) if f.endswith(".torrent"))
    save_path = os.path.abspath(args.save_path)
    os.makedirs(args.resume, exist_ok=True)
    deadline = time.monotonic() + args.timeout
    session = make_session(0)
    wait_listen_port(session)
    session.apply_settings({"alert_queue_size": 100000, "active_limit": -1, "active_seeds": -1, "active_downloads": -1})

    started = time.monotonic()
    for name in files:
        if args.phase == "cold":
            params = base_params(load_torrent(os.path.join(args.torrents, name)), save_path)
        else:
            with open(os.path.join(args.resume, name + ".resume"), "rb") as f:
                params = lt.read_resume_data(f.read())
            params.save_path = save_path
            params.flags &= ~lt.torrent_flags.auto_managed
            params.flags &= ~lt.torrent_flags.paused
        session.async_add_torrent(params)
    wait_all_seeding(session, len(files), deadline)
    to_seed = time.monotonic() - started
    result = {"phase": args.phase, "torrents": len(files), "seconds_to_seed": round(to_seed, 3)}

    if args.phase == "cold":
        handles = {str(h.info_hashes().v1): h for h in session.get_torrents()}
        names = {}
        for name in files:
            names[str(load_torrent(os.path.join(args.torrents, name)).info_hashes().v1)] = name
        for h in handles.values():
            h.save_resume_data(lt.torrent_handle.save_info_dict)
        saved = 0
        while saved < len(handles):
            if time.monotonic() > deadline:
                fail(2, "resume data not saved in time")
            session.wait_for_alert(200)
            for alert in session.pop_alerts():
                if isinstance(alert, lt.save_resume_data_alert):
                    key = str(alert.params.info_hashes.v1)
                    with open(os.path.join(args.resume, names[key] + ".resume"), "wb") as f:
                        f.write(lt.write_resume_data_buf(alert.params))
                    saved += 1
                elif isinstance(alert, lt.save_resume_data_failed_alert):
                    fail(2, f"resume data: {alert.message()}")
    else:
        time.sleep(args.settle)
        cpu0 = cpu_seconds()
        t0 = time.monotonic()
        end = t0 + args.idle
        while time.monotonic() < end:
            session.wait_for_alert(500)
            session.pop_alerts()
        result["idle_cpu_percent"] = round(100 * (cpu_seconds() - cpu0) / (time.monotonic() - t0), 2)
        result["rss_bytes"] = rss_bytes("VmRSS")
        result["rss_anon_bytes"] = rss_bytes("RssAnon")
        result["open_files"] = open_files()

    stop = time.monotonic()
    # The python binding's session destructor waits for the shutdown (trackers told, files closed).
    del session
    result["stop_seconds"] = round(time.monotonic() - stop, 3)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
