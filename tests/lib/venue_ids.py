"""venue_ids.py - the stored id of a trade that carries its venue's trade id
(process/pipeline.h tp_trade_venue_id), computed here from its definition
(process/id.h), independently of the C code: 64-bit keyed mixing of the
symbol's bytes, then two halves from (trade id, tag), UUID version 8.

    python3 venue_ids.py SYMBOL ID...   prints one uuid a line."""
import sys

M = (1 << 64) - 1
GOLD = 0x9E3779B97F4A7C15


def mix64(x):
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M
    x ^= x >> 31
    return x


def hash_bytes(data, seed):
    n = len(data)
    h = mix64(seed ^ ((GOLD * (n + 1)) & M))
    i = 0
    while n - i >= 8:
        w = int.from_bytes(data[i:i + 8], "little")
        h = (mix64(h ^ w) + GOLD) & M
        i += 8
    w = int.from_bytes(data[i:], "little") if i < n else 0
    return mix64(h ^ w ^ (((n - i) << 56) & M))


def make(k1, k2, a, b):
    hi = mix64((mix64(k1 ^ a) + b) & M)
    lo = mix64(mix64(k2 ^ ((a * 0xC2B2AE3D27D4EB4F) & M)) ^ ((b * 0x165667B19E3779F9) & M))
    out = bytearray(hi.to_bytes(8, "big") + lo.to_bytes(8, "big"))
    out[6] = (out[6] & 0x0F) | 0x80
    out[8] = (out[8] & 0x3F) | 0x80
    h = out.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def venue_id(symbol, trade_id):
    s = symbol.encode("utf-8")
    k1 = hash_bytes(s, 0x74696B7076656E31)
    k2 = hash_bytes(s, 0x74696B7076656E32)
    return make(k1, k2, trade_id & M, 0x76656E7565746964)


if __name__ == "__main__":
    for t in sys.argv[2:]:
        print(venue_id(sys.argv[1], int(t)))
