#!/usr/bin/env python3
"""Computes the MSE/PE test vector that MseVectorTests checks, independently of Shoal's code.

Python's own big integers, hashlib's SHA-1 and a textbook RC4 (checked here against RFC 6229 first).
Run it with /usr/bin/python3 and paste the printed values into MseVectorTests.cs when the inputs change.
"""
import hashlib

P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A43"
    "1B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563", 16)
G = 2


def rc4_keystream(key, length, drop=0):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for _ in range(drop + length):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out.append(s[(s[i] + s[j]) & 0xFF])
    return bytes(out[drop:])


def sha1(*parts):
    h = hashlib.sha1()
    for part in parts:
        h.update(part)
    return h.digest()


# The textbook RC4 above against RFC 6229 (key 0x0102030405, offsets 0 and 16).
assert rc4_keystream(bytes([1, 2, 3, 4, 5]), 32).hex() == "b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919"

xa = bytes.fromhex("0123456789abcdef0123456789abcdef01234567")  # initiator's private key (160 bits)
xb = bytes.fromhex("fedcba9876543210fedcba9876543210fedcba98")  # responder's private key
skey = bytes.fromhex("c0ffee00112233445566778899aabbccddeeff01")  # the torrent's info-hash

ya = pow(G, int.from_bytes(xa, "big"), P).to_bytes(96, "big")
yb = pow(G, int.from_bytes(xb, "big"), P).to_bytes(96, "big")
s = pow(int.from_bytes(yb, "big"), int.from_bytes(xa, "big"), P).to_bytes(96, "big")
assert s == pow(int.from_bytes(ya, "big"), int.from_bytes(xb, "big"), P).to_bytes(96, "big")

key_a = sha1(b"keyA", s, skey)
key_b = sha1(b"keyB", s, skey)
obfuscated = bytes(x ^ y for x, y in zip(sha1(b"req2", skey), sha1(b"req3", s)))
print("Ya          ", ya.hex())
print("Yb          ", yb.hex())
print("S           ", s.hex())
print("req1        ", sha1(b"req1", s).hex())
print("req2^req3   ", obfuscated.hex())
print("keyA        ", key_a.hex())
print("keyB        ", key_b.hex())
print("streamA     ", rc4_keystream(key_a, 16, drop=1024).hex())
print("streamB     ", rc4_keystream(key_b, 16, drop=1024).hex())
print("rfc-1024    ", rc4_keystream(bytes([1, 2, 3, 4, 5]), 16, drop=1024).hex())
