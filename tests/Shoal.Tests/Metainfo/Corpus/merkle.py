"""BEP 52 merkle trees with hashlib, written independently of Shoal's C# MerkleTree (used to make test vectors).

Leaves are SHA-256 of 16 KiB blocks (the last may be short); the leaf layer is padded to a power of two with
32 zero bytes; a parent is SHA-256(left + right).
"""
import hashlib

BLOCK = 16 * 1024
ZERO = bytes(32)


def sha256(data):
    return hashlib.sha256(data).digest()


def next_pow2(n):
    p = 1
    while p < n:
        p *= 2
    return p


def pad_hash(layer):
    """Root of a subtree of 2**layer zero leaves."""
    h = ZERO
    for _ in range(layer):
        h = sha256(h + h)
    return h


def reduce_layer(hashes):
    """All layers from the given (power-of-two long) one up to the root, bottom first."""
    layers = [list(hashes)]
    while len(layers[-1]) > 1:
        below = layers[-1]
        layers.append([sha256(below[i] + below[i + 1]) for i in range(0, len(below), 2)])
    return layers


def leaf_hashes(data):
    return [sha256(data[i:i + BLOCK]) for i in range(0, len(data), BLOCK)]


def tree(data):
    """Every layer of the file's tree, leaves (padded) first, root last."""
    leaves = leaf_hashes(data)
    width = next_pow2(len(leaves))
    return reduce_layer(leaves + [ZERO] * (width - len(leaves)))


def root(data):
    return tree(data)[-1][0]


def piece_layer(data, piece_length):
    """BEP 52 'piece layers' value of a file: one hash per piece; for a file of at most one piece, its root."""
    layers = tree(data)
    k = (piece_length // BLOCK).bit_length() - 1
    if k >= len(layers) - 1:
        return [layers[-1][0]]
    pieces = (len(data) + piece_length - 1) // piece_length
    return layers[k][:pieces]


def root_from_piece_layer(hashes, piece_length):
    k = (piece_length // BLOCK).bit_length() - 1
    width = next_pow2(len(hashes))
    return reduce_layer(list(hashes) + [pad_hash(k)] * (width - len(hashes)))[-1][0]


def proof(data, base, index, length, proof_layers):
    """A BEP 52 'hashes' payload: base hashes, then the uncles of the layers above their subtree."""
    layers = tree(data)
    out = layers[base][index:index + length]
    omitted = length.bit_length() - 2  # log2(length) - 1
    position = index
    for i in range(proof_layers):
        position //= 2
        if i < omitted:
            continue
        out.append(layers[base + i + 1][position ^ 1])
    return out
