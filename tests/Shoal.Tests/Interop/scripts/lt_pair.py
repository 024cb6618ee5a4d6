#!/usr/bin/env python3
"""Two libtorrent sessions in one process on 127.0.0.1: one seeds a file of --size bytes, the other downloads it
over --transport (utp or tcp), then both stop. For benchmarks: the seeder trusts its data (seed mode), hash checks
are off on the downloader, so what is measured is the peer-wire path (transport, protocol, the page cache), not
SHA-1 or a disk. Prints 'RESULT bytes=N seconds=S cpu=C' with C the user+system CPU seconds of this process
between the first connection attempt and completion. Exit codes: 0 done, 1 timeout, 2 bad input.
"""
import argparse
import os
import resource
import time

import libtorrent as lt

from lt_common import fail, log, make_session, wait_listen_port


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, required=True, help="bytes to transfer")
    parser.add_argument("--dir", required=True, help="scratch folder (the file is made there)")
    parser.add_argument("--transport", choices=["tcp", "utp"], default="utp")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if args.size <= 0:
        fail(2, "--size must be positive")

    seed_dir = os.path.join(args.dir, "seed")
    leech_dir = os.path.join(args.dir, "leech")
    if os.path.exists(os.path.join(leech_dir, "payload.bin")):
        os.remove(os.path.join(leech_dir, "payload.bin"))  # a file left by an earlier run would already be complete
    os.makedirs(seed_dir, exist_ok=True)
    os.makedirs(leech_dir, exist_ok=True)
    path = os.path.join(seed_dir, "payload.bin")
    with open(path, "wb") as f:
        left = args.size
        chunk = os.urandom(1 << 20)
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n

    fs = lt.file_storage()
    lt.add_files(fs, path)
    creator = lt.create_torrent(fs, 1 << 20)
    lt.set_piece_hashes(creator, seed_dir)
    info = lt.torrent_info(lt.bencode(creator.generate()))

    seeder = make_session(0, transport=args.transport)
    leecher = make_session(0, transport=args.transport)
    for s in (seeder, leecher):
        s.apply_settings({"disable_hash_checks": True, "alert_mask": int(lt.alert.category_t.error_notification)})
    seed_port = wait_listen_port(seeder)
    wait_listen_port(leecher)

    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = seed_dir
    params.flags = (params.flags | lt.torrent_flags.seed_mode) & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    seeder.add_torrent(params)

    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = leech_dir
    params.flags = params.flags & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    leech = leecher.add_torrent(params)
    while leech.status().state in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
        time.sleep(0.05)

    start_cpu = cpu_seconds()
    start = time.monotonic()
    leech.connect_peer(("127.0.0.1", seed_port))
    deadline = start + args.timeout
    last_connect = start
    while True:
        status = leech.status()
        if status.is_seeding:
            break
        now = time.monotonic()
        if now > deadline:
            fail(1, f"timeout at {status.progress * 100:.1f}%")
        if status.num_peers == 0 and now - last_connect > 1.0:
            last_connect = now
            leech.connect_peer(("127.0.0.1", seed_port))
        leecher.wait_for_alert(20)
        leecher.pop_alerts()
        seeder.pop_alerts()
    seconds = time.monotonic() - start
    cpu = cpu_seconds() - start_cpu
    log(f"RESULT bytes={args.size} seconds={seconds:.3f} cpu={cpu:.3f} transport={args.transport}")


if __name__ == "__main__":
    main()
