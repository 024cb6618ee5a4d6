#!/usr/bin/env python3
"""Prints, as one JSON object, what libtorrent reads from a .torrent: info-hashes and layout."""
import json
import sys

import libtorrent as lt


def main():
    if len(sys.argv) != 2:
        print("usage: lt_infohash.py FILE.torrent", file=sys.stderr)
        sys.exit(2)
    try:
        info = lt.torrent_info(sys.argv[1])
    except RuntimeError as error:
        print(f"ERROR cannot read torrent: {error}", file=sys.stderr)
        sys.exit(2)
    hashes = info.info_hashes()
    files = info.files()
    result = {
        "v1": str(hashes.v1) if hashes.has_v1() else None,
        "v2": str(hashes.v2) if hashes.has_v2() else None,
        "name": info.name(),
        "piece_length": info.piece_length(),
        "num_pieces": info.num_pieces(),
        "total_size": info.total_size(),
        "private": info.priv(),
        "comment": info.comment(),
        "trackers": [t.url for t in info.trackers()],
        "files": [
            {"path": files.file_path(i), "size": files.file_size(i)}
            for i in range(files.num_files())
            if not (files.file_flags(i) & lt.file_storage.flag_pad_file)
        ],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
