"""avro_exact.py - decode FinnhubProducer.message bytes with Python's avro
package (Debian python3-avro) and render them exactly, for comparisons:
strings as hex of their UTF-8 bytes, doubles as the hex of their 64 bits.
Used by the produce integration tests."""
import io
import struct

import avro.io
import avro.schema


def load_schema(path):
    with open(path) as f:
        text = f.read()
    parse = getattr(avro.schema, "parse", None) or avro.schema.Parse
    return parse(text)


def dbits(x):
    return struct.pack("<d", x)[::-1].hex()


def hexs(s):
    return s.encode("utf-8").hex()


def decode(schema, payload):
    """Decode one message; raise if bytes are left over."""
    bio = io.BytesIO(payload)
    rec = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(bio))
    if bio.tell() != len(payload):
        raise ValueError("%d bytes left after the message" % (len(payload) - bio.tell()))
    return rec


def exact(rec):
    out = {"type": hexs(rec["type"]), "data": []}
    for t in rec["data"]:
        c = t["c"]
        out["data"].append({
            "s": hexs(t["s"]),
            "p": dbits(t["p"]),
            "t": t["t"],
            "v": dbits(t["v"]),
            "c": None if c is None else [None if x is None else hexs(x) for x in c],
        })
    return out
