#!/usr/bin/env python3
"""Writes merkle_vectors.json: BEP 52 merkle roots, piece layers, proofs and padding hashes computed with Python's
hashlib (merkle.py), independently of Shoal's C# MerkleTree, for MerkleTreeTests to check against.

File contents are generated, not stored: byte i of a file is (i * 131 + (i >> 11)) & 0xFF.
"""
import json
import os

import merkle

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [1, 1000, 16383, 16384, 16385, 32768, 49152, 5 * 16384 + 7, 262144, 1048576 + 1]
PIECE_LENGTHS = [16384, 32768, 65536, 262144, 1048576]
PROOFS = {
    262144: [(0, 0, 2, 3), (0, 4, 4, 2), (0, 8, 8, 0), (1, 2, 2, 2), (2, 0, 4, 0), (0, 0, 16, 3)],
    1048576 + 1: [(0, 64, 2, 6), (0, 62, 2, 6), (2, 16, 2, 4), (4, 0, 8, 0), (0, 0, 128, 6)],
}


def content(size):
    return bytes(((i * 131 + (i >> 11)) & 0xFF) for i in range(size))


def hexes(hashes):
    return [h.hex() for h in hashes]


def main():
    files = []
    for size in SIZES:
        data = content(size)
        layers = merkle.tree(data)
        entry = {
            "size": size,
            "leaves": len(layers[0]),
            "root": merkle.root(data).hex(),
            "piece_layers": {str(p): hexes(merkle.piece_layer(data, p)) for p in PIECE_LENGTHS},
            "proofs": [
                {"base": b, "index": i, "length": n, "proof_layers": p, "hashes": hexes(merkle.proof(data, b, i, n, p))}
                for (b, i, n, p) in PROOFS.get(size, [])
            ],
        }
        for p in PIECE_LENGTHS:
            assert merkle.root_from_piece_layer(merkle.piece_layer(data, p), p) == merkle.root(data)
        files.append(entry)
    vectors = {"content": "byte i = (i * 131 + (i >> 11)) & 0xFF", "pad_hashes": [merkle.pad_hash(k).hex() for k in range(8)], "files": files}
    with open(os.path.join(HERE, "merkle_vectors.json"), "w", encoding="utf-8") as out:
        json.dump(vectors, out, indent=1)
        out.write("\n")
    print(f"{len(files)} files of vectors written")


if __name__ == "__main__":
    main()
