#!/usr/bin/env python3
"""Makes a .torrent with libtorrent from a file or folder (so the torrent is not made by Shoal).

Prints the v1 info-hash (hex) on stdout.
"""
import argparse
import os
import sys

import libtorrent as lt


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", help="file or folder to describe")
    parser.add_argument("-o", "--output", required=True, help=".torrent file to write")
    parser.add_argument("--piece-size", type=int, default=0, help="bytes, power of two (0 = auto)")
    parser.add_argument("--mode", choices=["v1", "hybrid", "v2"], default="v1")
    parser.add_argument("--tracker", action="append", default=[])
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--comment", default=None)
    parser.add_argument("--web-seed", action="append", default=[], help="url-list entry (BEP 19)")
    args = parser.parse_args()

    path = os.path.abspath(args.path)
    if not os.path.exists(path):
        print(f"ERROR no such file or folder: {path}", file=sys.stderr)
        sys.exit(2)
    storage = lt.file_storage()
    lt.add_files(storage, path)
    if storage.num_files() == 0:
        print(f"ERROR nothing to share in {path}", file=sys.stderr)
        sys.exit(2)
    flags = {"v1": lt.create_torrent.v1_only, "hybrid": 0, "v2": lt.create_torrent.v2_only}[args.mode]
    creator = lt.create_torrent(storage, args.piece_size, flags=flags)
    for tier, url in enumerate(args.tracker):
        creator.add_tracker(url, tier)
    for url in args.web_seed:
        creator.add_url_seed(url)
    if args.private:
        creator.set_priv(True)
    if args.comment:
        creator.set_comment(args.comment)
    creator.set_creator("libtorrent " + lt.__version__)
    lt.set_piece_hashes(creator, os.path.dirname(path))
    data = lt.bencode(creator.generate())
    with open(args.output, "wb") as out:
        out.write(data)
    info = lt.torrent_info(args.output)
    print(str(info.info_hashes().v1) if info.info_hashes().has_v1() else str(info.info_hashes().v2))


if __name__ == "__main__":
    main()
