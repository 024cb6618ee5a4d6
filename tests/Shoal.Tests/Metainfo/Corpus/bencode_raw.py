"""A tiny bencoder for writing test torrents, including ones no well-behaved encoder would write.

Values: int, bytes, str (UTF-8), list, dict (written with sorted keys: canonical), and the helpers below for
everything else: Pairs (a dictionary written in exactly the given order, repeats included), Raw (bytes copied
as they are) and Int (an integer written as given text, e.g. with leading zeros).
"""


class Pairs:
    """A dictionary whose (key, value) pairs are written in this order, unsorted and possibly repeated."""

    def __init__(self, *pairs):
        self.pairs = list(pairs)


class Raw:
    """Bytes copied verbatim into the output (an already encoded value, or garbage)."""

    def __init__(self, data):
        self.data = data


class Int:
    """An integer written from the given text, e.g. Int('007') -> i007e."""

    def __init__(self, text):
        self.text = text


def _key(k):
    return k.encode() if isinstance(k, str) else k


def encode(value):
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, Int):
        return b"i" + value.text.encode() + b"e"
    if isinstance(value, bool):
        raise TypeError("no booleans in bencode")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:" % len(value) + value
    if isinstance(value, list):
        return b"l" + b"".join(encode(v) for v in value) + b"e"
    if isinstance(value, Pairs):
        return b"d" + b"".join(encode(_key(k)) + encode(v) for k, v in value.pairs) + b"e"
    if isinstance(value, dict):
        items = sorted(((_key(k), v) for k, v in value.items()), key=lambda kv: kv[0])
        return b"d" + b"".join(encode(k) + encode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")
