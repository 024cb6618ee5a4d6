#!/usr/bin/env python3
"""Writes the corpus of odd, hostile and broken .torrent files Shoal must open or refuse as libtorrent does.

Run from anywhere: `python3 make_corpus.py` rewrites fixtures/*.torrent and expected.json next to this script.
Everything here is written from scratch for Shoal's tests (no file comes from another project). The expected
outcome of each torrent follows libtorrent 2.0's rules; tests/Shoal.Tests/Metainfo/TorrentCorpusTests.cs checks
Shoal against expected.json, and the interop test checks libtorrent against the same files.
"""
import hashlib
import json
import os
import random

from bencode_raw import Int, Pairs, Raw, encode
import merkle

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
KIB = 1024
MIB = 1024 * KIB

corpus = []


def content(seed, size):
    return random.Random(seed).randbytes(size)


def sha1_pieces(data, piece_length):
    return b"".join(hashlib.sha1(data[i:i + piece_length]).digest() for i in range(0, len(data), piece_length)) or b""


def fake_pieces(count):
    return bytes((i * 7 + 3) % 256 for i in range(count * 20))


INFO = object()  # marks where the info dictionary goes in root_pairs


def add(name, note, info, root_extra=None, root_pairs=None, trailing=b"", expect=None, raw=None):
    """Adds a torrent whose info dictionary is `info` (a value for bencode_raw.encode).

    The root dictionary is canonical (root_extra plus 'info', sorted) unless root_pairs gives its pairs in order,
    with INFO where the info dictionary goes. `raw` replaces the whole file.
    """
    info_bytes = encode(info) if info is not None else None
    if raw is not None:
        data = raw
    elif root_pairs is not None:
        data = encode(Pairs(*[(k, Raw(info_bytes) if v is INFO else v) for k, v in root_pairs])) + trailing
    else:
        root = dict(root_extra or {})
        root["info"] = Raw(info_bytes)
        data = encode(root) + trailing
    expected = dict(expect)
    expected["file"] = name + ".torrent"
    expected["note"] = note
    if expected["outcome"] == "loads":
        version = expected.get("version", "v1")
        expected["version"] = version
        expected["v1"] = hashlib.sha1(info_bytes).hexdigest() if version != "v2" else None
        expected["v2"] = hashlib.sha256(info_bytes).hexdigest() if version != "v1" else None
        expected.setdefault("web_seeds", [])
        expected.setdefault("http_seeds", [])
    corpus.append((name, data, expected))


def piece_count(total, piece_length):
    """Hashes for a piece length that makes sense; three for one that does not (the torrent is refused anyway)."""
    if not isinstance(piece_length, int) or piece_length <= 0:
        return 3
    return (max(total, 0) + piece_length - 1) // piece_length


def single(name, length=40_000, piece_length=16 * KIB, **extra):
    info = {"name": name, "length": length, "piece length": piece_length,
            "pieces": fake_pieces(piece_count(length, piece_length))}
    info.update(extra)
    return info


def multi(name, files, piece_length=16 * KIB, **extra):
    total = sum(e.get("length", 0) for e in files if isinstance(e, dict))
    info = {"name": name, "files": files, "piece length": piece_length,
            "pieces": fake_pieces(piece_count(total, piece_length))}
    info.update(extra)
    return info


def f(length, *path, **extra):
    entry = {"length": length, "path": list(path)}
    entry.update(extra)
    return entry


def loads(name, files, **more):
    d = {"outcome": "loads", "name": name, "files": [list(x) for x in files]}
    d.update(more)
    return d


def refuses(error):
    return {"outcome": "refuses", "error": error}


# ---- well formed, as a baseline --------------------------------------------------------------------------------
add("v1-single", "a plain single-file torrent", single("plain.bin"), {"announce": "http://127.0.0.1:1/announce"},
    expect=loads("plain.bin", [("plain.bin", 40_000)]))
add("v1-multi", "a plain multi-file torrent", multi("album", [f(20_000, "a.flac"), f(0, "empty.txt"), f(30_000, "cd2", "b.flac")]),
    expect=loads("album", [("album/a.flac", 20_000), ("album/empty.txt", 0), ("album/cd2/b.flac", 30_000)]))

# ---- bencode that is not canonical -----------------------------------------------------------------------------
add("unsorted-root-keys", "root keys out of order (common from old creators)", single("unsorted.bin"),
    root_pairs=[("info", INFO), ("comment", "written last"), ("announce", "http://127.0.0.1:1/a")],
    expect=loads("unsorted.bin", [("unsorted.bin", 40_000)]))
add("duplicate-root-key", "'announce' twice at the root: the first wins", single("dup.bin"),
    root_pairs=[("announce", "http://127.0.0.1:1/first"), ("announce", "http://127.0.0.1:1/second"), ("info", INFO)],
    expect=loads("dup.bin", [("dup.bin", 40_000)], trackers=["http://127.0.0.1:1/first"]))

unsorted_info = Pairs(("pieces", fake_pieces(3)), ("name", "inside.bin"), ("piece length", 16 * KIB), ("length", 40_000))
add("unsorted-info-keys", "info keys out of order: the info-hash is the hash of these bytes, not of a sorted copy", unsorted_info,
    expect=loads("inside.bin", [("inside.bin", 40_000)]))

dup_info = Pairs(("length", 40_000), ("name", "first.bin"), ("name", "second.bin"), ("piece length", 16 * KIB), ("pieces", fake_pieces(3)))
add("duplicate-info-key", "a key repeated in the info dictionary: the first value wins, as in libtorrent", dup_info,
    expect=loads("first.bin", [("first.bin", 40_000)]))

add("trailing-garbage", "bytes after the torrent's dictionary are ignored", single("tail.bin"), trailing=b"\r\n<html>oops</html>\x00",
    expect=loads("tail.bin", [("tail.bin", 40_000)]))
add("trailing-newline", "a newline after the torrent (saved by a text editor)", single("nl.bin"), trailing=b"\n",
    expect=loads("nl.bin", [("nl.bin", 40_000)]))

lz_info = Pairs(("length", Int("0040000")), ("name", "zeros.bin"), ("piece length", Int("016384")), ("pieces", fake_pieces(3)), ("private", Int("-0")))
add("leading-zeros", "integers with leading zeros and -0 (libtorrent reads them)", lz_info, {"creation date": Int("01700000000")},
    expect=loads("zeros.bin", [("zeros.bin", 40_000)]))

add("overflowing-integer", "an unknown key holding a 20-digit integer beyond 64 bits", single("big.bin", **{"x-huge": Int("99999999999999999999")}),
    expect=loads("big.bin", [("big.bin", 40_000)]))

# ---- unsafe or odd paths: sanitised, never refused ---------------------------------------------------------------
add("path-dotdot", "'..' segments are dropped", multi("safe", [f(10, "..", "..", "etc", "passwd")]),
    expect=loads("safe", [("safe/etc/passwd", 10)]))
add("path-absolute", "an absolute-looking segment loses its separator", multi("safe", [f(10, "/etc", "passwd"), f(5, "C:\\Windows", "x.dll")]),
    expect=loads("safe", [("safe/etc/passwd", 10), ("safe/C:Windows/x.dll", 5)]))
add("path-empty-segment", "an empty segment becomes '_'", multi("safe", [f(10, "a", "", "b")]),
    expect=loads("safe", [("safe/a/_/b", 10)]))
add("path-separators-inside", "separators inside a segment are removed", multi("safe", [f(10, "a/b"), f(5, "c\\d")]),
    expect=loads("safe", [("safe/ab", 10), ("safe/cd", 5)]))
add("path-only-dots", "a path that is only '..' keeps the file, named '_'", multi("safe", [f(10, ".."), f(5, ".", "x")]),
    expect=loads("safe", [("safe/_", 10), ("safe/x", 5)]))
add("path-invalid-utf8", "invalid UTF-8 becomes '_' per bad sequence", multi("safe", [f(10, b"f\xffo\xc0\x80.txt")]),
    expect=loads("safe", [("safe/f_o_.txt", 10)]))
add("path-utf8-variant", "path.utf-8 wins over path; name.utf-8 over name", multi(b"legacy-\xe9", [f(10, b"caf\xe9", **{"path.utf-8": ["café"]})], **{"name.utf-8": "naïve"}),
    expect=loads("naïve", [("naïve/café", 10)]))
add("path-utf8-variant-invalid", "an invalid path.utf-8 is still preferred, and sanitised", multi("safe", [f(10, "plain", **{"path.utf-8": [b"bad\xfe"]})]),
    expect=loads("safe", [("safe/bad_", 10)]))
add("control-characters", "control characters become '_' (an escape sequence cannot reach the terminal as a name)",
    multi("ctl", [f(10, "a\x1b[31mred\x07\n.txt")]), expect=loads("ctl", [("ctl/a_[31mred__.txt", 10)]))
add("bidi-override", "right-to-left override marks are removed, so 'gpj.exe' cannot pose as a picture",
    multi("rtl", [f(10, "photo\u202egpj.exe")]), expect=loads("rtl", [("rtl/photogpj.exe", 10)]))
long_stem = "x" * 300
add("long-name-with-extension", "a 300-byte name is cut to 240 bytes, keeping its extension",
    multi("long", [f(10, long_stem + ".mkv")]), expect=loads("long", [("long/" + "x" * 240 + ".mkv", 10)]))
add("long-name-no-extension", "a 300-byte name without an extension is cut to 240 bytes",
    multi("long", [f(10, "y" * 300)]), expect=loads("long", [("long/" + "y" * 240, 10)]))
add("long-torrent-name", "a single-file torrent named with 300 bytes",
    single("z" * 296 + ".iso"), expect=loads("z" * 240 + ".iso", [("z" * 240 + ".iso", 40_000)]))
add("name-dotdot-multi", "a multi-file torrent whose name cleans to nothing is named after its info-hash",
    multi("..", [f(10, "a")]), expect=loads("@v1", [("@v1/a", 10)]))
add("name-slash-multi", "a name made only of separators cleans to nothing too",
    multi("//", [f(10, "a")]), expect=loads("@v1", [("@v1/a", 10)]))
add("name-empty-multi", "an empty name becomes '_'", multi("", [f(10, "a")]), expect=loads("_", [("_/a", 10)]))
add("name-dotdot-single", "a single-file torrent named '..' has no usable file name: refused, as libtorrent does",
    single(".."), expect=refuses("not usable"))
add("name-empty-single", "a single-file torrent with an empty name: refused, as libtorrent does",
    single(""), expect=refuses("empty"))
add("duplicate-paths", "two files on one path: the second becomes bar.1.txt",
    multi("dup", [f(10, "bar.txt"), f(5, "bar.txt"), f(3, "bar.txt")]), expect=loads("dup", [("dup/bar.txt", 10), ("dup/bar.1.txt", 5), ("dup/bar.2.txt", 3)]))
add("duplicate-paths-case", "paths that differ only in ASCII case collide (as on Windows and macOS)",
    multi("dup", [f(10, "Readme.TXT"), f(5, "README.txt")]), expect=loads("dup", [("dup/Readme.TXT", 10), ("dup/README.1.txt", 5)]))
add("file-where-folder-is", "a file with the name of a folder is renamed",
    multi("dup", [f(10, "a"), f(5, "a", "b")]), expect=loads("dup", [("dup/a.1", 10), ("dup/a/b", 5)]))
add("duplicate-after-sanitising", "'../x' and 'x' become one path once sanitised",
    multi("dup", [f(10, "x"), f(5, "..", "x")]), expect=loads("dup", [("dup/x", 10), ("dup/x.1", 5)]))
add("device-name", "Windows device names get a '_' (Shoal keeps names portable; libtorrent on Linux keeps them)",
    multi("dev", [f(10, "CON"), f(5, "nul.txt")]), expect=loads("dev", [("dev/_CON", 10), ("dev/_nul.txt", 5)], libtorrent_paths_differ="device names"))
add("path-deep", "a path 80 folders deep is fine (the file system's total path limit is checked when adding)",
    multi("deep", [f(10, *["d%d" % i for i in range(80)], "leaf")]),
    expect=loads("deep", [("deep/" + "/".join("d%d" % i for i in range(80)) + "/leaf", 10)]))

# ---- BEP 47 padding and attributes, large pieces, web seeds -------------------------------------------------------
add("pad-files", "BEP 47 padding files (attr p) align files to pieces and may share a path",
    multi("padded", [f(100, "a"), f(16 * KIB - 100, ".pad", "16284", attr="p"), f(100, "b"), f(16 * KIB - 100, ".pad", "16284", attr="p"), f(5, "c")]),
    expect=loads("padded", [("padded/a", 100), ("padded/b", 100), ("padded/c", 5)], padding=[16 * KIB - 100, 16 * KIB - 100]))
add("pad-file-no-path", "a padding file may leave out its path",
    multi("padded", [f(100, "a"), {"length": 16 * KIB - 100, "attr": "p"}, f(5, "b")]),
    expect=loads("padded", [("padded/a", 100), ("padded/b", 5)], padding=[16 * KIB - 100]))
add("bitcomet-padding", "BitComet marks padding by name",
    multi("bc", [f(100, "a"), f(16 * KIB - 100, "_____padding_file_0_if you see this file, please update to BitComet 0.85 or above____"), f(5, "b")]),
    expect=loads("bc", [("bc/a", 100), ("bc/b", 5)], padding=[16 * KIB - 100]))
add("attributes", "attr x and h are kept; unknown letters ignored",
    multi("attrs", [f(10, "run.sh", attr="xq"), f(5, ".hidden", attr="h")]),
    expect=loads("attrs", [("attrs/run.sh", 10), ("attrs/.hidden", 5)], executable=["attrs/run.sh"], hidden=["attrs/.hidden"]))
add("symlink", "attr l with a 'symlink path' inside the torrent; a link has no data (its length is ignored)",
    multi("links", [f(10, "target.txt"), f(999, "link.txt", attr="l", **{"symlink path": ["target.txt"]})]),
    expect=loads("links", [("links/target.txt", 10), ("links/link.txt", 0)], symlinks={"links/link.txt": "links/target.txt"}))
add("symlink-outside", "a symlink aiming outside the torrent is never made a link",
    multi("links", [f(10, "a"), f(0, "escape", attr="l", **{"symlink path": ["..", "..", "..", "etc", "passwd"]})]),
    expect=loads("links", [("links/a", 10), ("links/escape", 0)], symlinks={"links/escape": None}))
add("piece-length-256mib", "a 256 MiB piece", single("big.bin", length=300 * MIB, piece_length=256 * MIB),
    expect=loads("big.bin", [("big.bin", 300 * MIB)]))
add("piece-length-largest", "the largest piece libtorrent downloads: 32767 blocks of 16 KiB (not a power of two; fine for v1)",
    single("big.bin", length=600 * MIB, piece_length=32767 * 16 * KIB), expect=loads("big.bin", [("big.bin", 600 * MIB)]))
add("piece-length-not-power-of-two", "libtorrent accepts any positive v1 piece length", single("odd.bin", length=100_000, piece_length=20_000),
    expect=loads("odd.bin", [("odd.bin", 100_000)]))
add("piece-length-tiny", "a 1 KiB piece", single("tiny.bin", length=5000, piece_length=1024),
    expect=loads("tiny.bin", [("tiny.bin", 5000)]))
add("url-list-string", "url-list as one string", single("ws.bin"), {"url-list": "http://127.0.0.1:1/files/ws.bin"},
    expect=loads("ws.bin", [("ws.bin", 40_000)], web_seeds=["http://127.0.0.1:1/files/ws.bin"]))
add("url-list-list", "url-list as a list (duplicates, empty strings and non-strings skipped) and httpseeds",
    multi("ws", [f(10, "a"), f(20, "b")]),
    {"url-list": ["http://127.0.0.1:1/a", "", 7, "http://127.0.0.1:1/a", "http://127.0.0.1:2/b/"], "httpseeds": ["http://127.0.0.1:3/seed", "http://127.0.0.1:3/seed"]},
    expect=loads("ws", [("ws/a", 10), ("ws/b", 20)], web_seeds=["http://127.0.0.1:1/a/", "http://127.0.0.1:2/b/"], http_seeds=["http://127.0.0.1:3/seed"]))
add("both-length-and-files", "'files' wins over a stray 'length'", multi("both", [f(10, "a")], length=999),
    expect=loads("both", [("both/a", 10)]))

# ---- truly broken: refused with one line ---------------------------------------------------------------------------
def broken(name, note, info, error, **kw):
    add(name, note, info, expect=refuses(error), **kw)


broken("no-piece-length", "no 'piece length'", {k: v for k, v in single("x.bin").items() if k != "piece length"}, "piece length")
broken("piece-length-zero", "'piece length' 0", single("x.bin", piece_length=0), "piece length")
broken("piece-length-negative", "a negative 'piece length'", single("x.bin", piece_length=-16384), "piece length")
broken("piece-length-too-big", "'piece length' of 1 GiB (libtorrent's limit is 1 GiB - 1)", single("x.bin", piece_length=1024 * MIB), "piece length")
broken("piece-length-512mib", "a 512 MiB piece: libtorrent loads the file but refuses to add it (more than 32767 blocks per piece)",
       single("x.bin", length=2 * 1024 * MIB, piece_length=512 * MIB), "piece length")
broken("piece-length-string", "'piece length' is a string", single("x.bin", piece_length="16384"), "piece length")
broken("pieces-not-multiple-of-20", "'pieces' is 41 bytes", dict(single("x.bin"), pieces=bytes(41)), "multiple of 20")
broken("pieces-too-few", "fewer hashes than pieces", dict(single("x.bin"), pieces=bytes(40)), "hashes")
broken("pieces-too-many", "more hashes than pieces", dict(single("x.bin"), pieces=bytes(80)), "hashes")
broken("pieces-missing", "no 'pieces'", {k: v for k, v in single("x.bin").items() if k != "pieces"}, "pieces")
broken("negative-length", "a negative length", single("x.bin", length=-1), "negative")
broken("length-absurd", "a file of 2^60 bytes", dict(single("x.bin"), length=2 ** 60, **{"piece length": 256 * MIB}), "limit")
broken("total-absurd", "files adding up to more than 2^48 bytes", dict(multi("x", [f(2 ** 43, "a", str(i)) for i in range(40)], piece_length=512 * MIB), pieces=fake_pieces(1)), "more than")
broken("no-files", "an empty 'files' list", multi("x", []), "no files")
broken("no-data", "every file empty", multi("x", [f(0, "a"), f(0, "b")]), "no data")
broken("no-name", "no 'name'", {k: v for k, v in single("x.bin").items() if k != "name"}, "name")
broken("no-length", "neither 'length' nor 'files'", {k: v for k, v in single("x.bin").items() if k != "length"}, "length")
broken("file-not-dict", "a 'files' entry that is not a dictionary", multi("x", [7]), "file #0")
broken("file-no-path", "a file without a path", multi("x", [{"length": 10}]), "path")
broken("path-element-not-string", "a path element that is an integer", multi("x", [f(10, "a", 5)]), "path")
broken("meta-version-3", "a 'meta version' from the future", dict(single("x.bin"), **{"meta version": 3}), "meta version")
broken("file-tree-without-version", "a 'file tree' without 'meta version'", dict(single("x.bin"), **{"file tree": {"x.bin": {"": {"length": 40_000}}}}), "meta version")
add("no-info", "no 'info'", None, raw=encode({"announce": "http://127.0.0.1:1/a"}), expect=refuses("info"))
add("info-not-dict", "'info' is a list", None, raw=encode({"info": [1, 2]}), expect=refuses("info"))
add("not-a-dictionary", "the file is a list", None, raw=encode([1, 2, 3]), expect=refuses("dictionary"))
add("truncated", "the file ends in the middle", None, raw=encode({"info": single("x.bin")})[:-30], expect=refuses("bencode"))
add("empty-file", "an empty file", None, raw=b"", expect=refuses("bencode"))


# ---- BEP 52: v2 and hybrid -------------------------------------------------------------------------------------------
def v2_file(data):
    entry = {"length": len(data)}
    if data:
        entry["pieces root"] = merkle.root(data)
    return {"": entry}


def layers_of(datas, piece_length):
    out = {}
    for data in datas:
        if len(data) > piece_length:
            out[merkle.root(data)] = b"".join(merkle.piece_layer(data, piece_length))
    return out


def pad_to(size, piece_length):
    return (piece_length - size % piece_length) % piece_length


V2_PIECE = 16 * KIB
d_a = content(1, 50_000)
d_b = content(2, 7_000)
d_c = content(3, 16 * KIB)

v2_multi_info = {"name": "v2dir", "meta version": 2, "piece length": V2_PIECE,
                 "file tree": {"a.bin": v2_file(d_a), "sub": {"b.txt": v2_file(d_b), "c.dat": v2_file(d_c)}, "empty": v2_file(b"")}}
add("v2-multi", "a v2-only torrent of several files, with piece layers", v2_multi_info, {"piece layers": layers_of([d_a, d_b, d_c], V2_PIECE)},
    expect=loads("v2dir", [("v2dir/a.bin", 50_000), ("v2dir/empty", 0), ("v2dir/sub/b.txt", 7_000), ("v2dir/sub/c.dat", 16 * KIB)], version="v2",
                 padding=[pad_to(50_000, V2_PIECE), pad_to(7_000, V2_PIECE)]))
add("v2-single", "a v2-only single-file torrent: the file, and so the torrent, is named by the tree, not by 'name'",
    {"name": "display", "meta version": 2, "piece length": V2_PIECE, "file tree": {"one.bin": v2_file(d_a)}}, {"piece layers": layers_of([d_a], V2_PIECE)},
    expect=loads("one.bin", [("one.bin", 50_000)], version="v2", padding=[pad_to(50_000, V2_PIECE)]))
add("v2-no-piece-layers", "v2 without 'piece layers' loads (they come from peers, as for a magnet)", v2_multi_info,
    expect=loads("v2dir", [("v2dir/a.bin", 50_000), ("v2dir/empty", 0), ("v2dir/sub/b.txt", 7_000), ("v2dir/sub/c.dat", 16 * KIB)], version="v2",
                 padding=[pad_to(50_000, V2_PIECE), pad_to(7_000, V2_PIECE)], piece_layers=False))


def hybrid_info(name, datas_by_name, piece_length, tail_padding=True):
    names = sorted(datas_by_name)
    files, stream = [], b""
    for i, n in enumerate(names):
        data = datas_by_name[n]
        files.append({"length": len(data), "path": [n]})
        stream += data
        gap = pad_to(len(data), piece_length)
        if gap and (tail_padding or i < len(names) - 1):
            files.append({"length": gap, "path": [".pad", str(gap)], "attr": "p"})
            stream += bytes(gap)
    info = {"name": name, "meta version": 2, "piece length": piece_length, "files": files,
            "file tree": {n: v2_file(datas_by_name[n]) for n in names}, "pieces": sha1_pieces(stream, piece_length)}
    return info


hyb = hybrid_info("hyb", {"a.bin": d_a, "b.txt": d_b}, V2_PIECE)
add("hybrid", "a hybrid torrent (v1 files with padding, v2 tree)", hyb, {"piece layers": layers_of([d_a, d_b], V2_PIECE)},
    expect=loads("hyb", [("hyb/a.bin", 50_000), ("hyb/b.txt", 7_000)], version="hybrid", padding=[pad_to(50_000, V2_PIECE), pad_to(7_000, V2_PIECE)]))
add("hybrid-no-tail-padding", "a hybrid made by libtorrent 2.0.0-2.0.7: no padding after the last file", hybrid_info("hyb", {"a.bin": d_a, "b.txt": d_b}, V2_PIECE, tail_padding=False),
    {"piece layers": layers_of([d_a, d_b], V2_PIECE)},
    expect=loads("hyb", [("hyb/a.bin", 50_000), ("hyb/b.txt", 7_000)], version="hybrid", padding=[pad_to(50_000, V2_PIECE)]))
hyb_single = {"name": "solo.bin", "meta version": 2, "piece length": V2_PIECE, "length": len(d_a), "pieces": sha1_pieces(d_a, V2_PIECE),
              "file tree": {"solo.bin": v2_file(d_a)}}
add("hybrid-single", "a single-file hybrid", hyb_single, {"piece layers": layers_of([d_a], V2_PIECE)},
    expect=loads("solo.bin", [("solo.bin", 50_000)], version="hybrid"))

bad_layer = layers_of([d_a, d_b, d_c], V2_PIECE)
bad_layer[merkle.root(d_a)] = bytes(32) + bad_layer[merkle.root(d_a)][32:]
add("v2-piece-layer-mismatch", "a piece layer that does not hash to its file's root", v2_multi_info, {"piece layers": bad_layer},
    expect=refuses("does not hash"))
short_layer = layers_of([d_a], V2_PIECE)
short_layer[merkle.root(d_a)] = short_layer[merkle.root(d_a)][:32]
add("v2-piece-layer-short", "a piece layer with too few hashes", v2_multi_info, {"piece layers": short_layer}, expect=refuses("hashes"))
add("v2-piece-layer-malformed", "a 'piece layers' key that is not 32 bytes", v2_multi_info, {"piece layers": {b"short": bytes(32)}}, expect=refuses("piece layers"))
broken("v2-no-pieces-root", "a non-empty v2 file without 'pieces root'",
       {"name": "x", "meta version": 2, "piece length": V2_PIECE, "file tree": {"a": {"": {"length": 10}}}}, "pieces root")
broken("v2-zero-pieces-root", "an all-zero 'pieces root'",
       {"name": "x", "meta version": 2, "piece length": V2_PIECE, "file tree": {"a": {"": {"length": 10, "pieces root": bytes(32)}}}}, "pieces root")
broken("v2-piece-length-not-power-of-two", "v2 needs a power of two",
       {"name": "x", "meta version": 2, "piece length": 20_000, "file tree": {"a": v2_file(d_b)}}, "power of two")
broken("v2-piece-length-small", "v2 needs at least 16 KiB",
       {"name": "x", "meta version": 2, "piece length": 8 * KIB, "file tree": {"a": v2_file(d_b)}}, "power of two")
broken("v2-no-file-tree", "'meta version' 2 without 'file tree'", dict(single("x.bin"), **{"meta version": 2}), "file tree")
broken("v2-pad-in-tree", "a padding attribute inside a file tree",
       {"name": "x", "meta version": 2, "piece length": V2_PIECE, "file tree": {"a": {"": {"length": 10, "pieces root": merkle.root(d_b), "attr": "p"}}}}, "padding")
broken("v2-unsorted-info", "a v2 info dictionary must be canonical bencode",
       Pairs(("name", "x"), ("meta version", 2), ("piece length", V2_PIECE), ("file tree", {"a": v2_file(d_b)})), "canonical")
broken("v2-tree-entry-not-dict", "a file tree entry that is a string",
       {"name": "x", "meta version": 2, "piece length": V2_PIECE, "file tree": {"a": "oops"}}, "dictionary")
hyb_bad = hybrid_info("hyb", {"a.bin": d_a, "b.txt": d_b}, V2_PIECE)
hyb_bad["files"][0]["length"] = 50_001
hyb_bad["files"][1]["length"] -= 1
add("hybrid-mismatch", "a hybrid whose v1 list and v2 tree disagree on a file's size", hyb_bad, expect=refuses("hybrid"))
v2_sanitised = {"name": "v2san", "meta version": 2, "piece length": V2_PIECE,
                "file tree": {"..": {"evil.txt": v2_file(d_b)}, "a\x1bb": v2_file(d_c)}}
add("v2-sanitised-names", "v2 names are sanitised like v1 paths", v2_sanitised,
    expect=loads("v2san", [("v2san/evil.txt", 7_000), ("v2san/a_b", 16 * KIB)], version="v2", padding=[pad_to(7_000, V2_PIECE)]))


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    for old in os.listdir(FIXTURES):
        if old.endswith(".torrent"):
            os.remove(os.path.join(FIXTURES, old))
    entries = []
    for name, data, expected in corpus:
        with open(os.path.join(FIXTURES, name + ".torrent"), "wb") as out:
            out.write(data)
        if expected.get("name") == "@v1":
            expected["name"] = expected["v1"]
            expected["files"] = [[p.replace("@v1", expected["v1"]), s] for p, s in expected["files"]]
        entries.append(expected)
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as out:
        json.dump(entries, out, indent=1, ensure_ascii=False)
        out.write("\n")
    print(f"{len(entries)} torrents written to {FIXTURES}")


if __name__ == "__main__":
    main()
