#!/usr/bin/env python3
"""Prints libtorrent's verdict on each .torrent given: does it load, and what does libtorrent read from it.

One JSON object per file, one per line: {"file", "outcome": "loads"|"refuses", "error", "v1", "v2", "name",
"files": [[path, size]...] without padding, "padding": [sizes], "web_seeds", "http_seeds", "trackers"}.

"Loads" means what a user sees: libtorrent parses the file AND a session accepts it. A v2 torrent whose piece
layers do not hash to its file roots parses, but libtorrent then puts the torrent in an error state when it is
added; that counts as refused. Torrents are added paused, to a session bound to 127.0.0.1 with every network
feature off, saving into the temporary folder given with --save-path (nothing is downloaded or written there
beyond what checking a paused torrent does).
"""
import argparse
import json
import os
import sys
import time

import libtorrent as lt

from lt_common import make_session


def read(path):
    try:
        info = lt.torrent_info(path)
    except RuntimeError as error:
        return {"outcome": "refuses", "error": str(error)}
    hashes = info.info_hashes()
    files = info.files()
    result = {
        "outcome": "loads",
        "v1": str(hashes.v1) if hashes.has_v1() else None,
        "v2": str(hashes.v2) if hashes.has_v2() else None,
        "name": info.name(),
        "files": [],
        "padding": [],
        "web_seeds": [w["url"] for w in info.web_seeds() if w["type"] == 0],
        "http_seeds": [w["url"] for w in info.web_seeds() if w["type"] == 1],
        "trackers": [t.url for t in info.trackers()],
    }
    for i in range(files.num_files()):
        if files.file_flags(i) & lt.file_storage.flag_pad_file:
            result["padding"].append(files.file_size(i))
        else:
            result["files"].append([files.file_path(i).replace(os.sep, "/"), files.file_size(i)])
    return result, info


def check_in_session(session, info, save_path):
    """Adds the torrent paused; returns the error libtorrent puts it in, or None."""
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = save_path
    params.flags = lt.torrent_flags.paused
    try:
        handle = session.add_torrent(params)
    except RuntimeError as error:
        return str(error)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = handle.status()
            if status.errc.value() != 0:
                return status.errc.message()
            if status.state not in (lt.torrent_status.checking_resume_data, lt.torrent_status.checking_files):
                return None
            time.sleep(0.02)
        return None
    finally:
        session.remove_torrent(handle)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--save-path", required=True, help="temporary folder for the paused torrents")
    parser.add_argument("torrents", nargs="+")
    args = parser.parse_args()
    session = make_session(0)
    for path in args.torrents:
        outcome = read(path)
        if isinstance(outcome, tuple):
            result, info = outcome
            error = check_in_session(session, info, args.save_path)
            if error is not None:
                result = {"outcome": "refuses", "error": "added, then: " + error}
        else:
            result = outcome
        result["file"] = os.path.basename(path)
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    sys.exit(main())
