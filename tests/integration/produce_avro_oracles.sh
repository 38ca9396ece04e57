#!/usr/bin/env bash
# produce_avro_oracles.sh - tickpipe's Avro bytes decoded by two independent
# decoders with the reference schema: Python's avro package and avro-c.
# Every shape of c (null, [], strings, null items, embedded NUL), unicode
# symbols and types, v = 0, exponent-form prices, extreme doubles (NaN,
# infinities, -0.0, subnormals), a 500-trade message: field by field, bit
# for bit, against the values tickpipe encoded.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
schema="$TP_SOURCE_DIR/tests/fixtures/reference-trades.avsc"
"$TP_TOOLS_DIR/avro_dump" write "$TMP" || fail "avro_dump write"
n=$(ls "$TMP"/*.avro | wc -l)
[ "$n" -ge 14 ] || fail "only $n messages written"
for f in "$TMP"/*.avro; do
  "$TP_TOOLS_DIR/avro_dump" avroc "$schema" "$f" >"${f%.avro}.avroc.json" || fail "avro-c cannot decode $(basename "$f")"
done
/usr/bin/python3 - "$schema" "$TMP" <<'PY' || fail "decoded values differ from the input"
import glob, json, os, sys
sys.path.insert(0, os.path.join(os.environ["TP_SOURCE_DIR"], "tests", "lib"))
import avro_exact
schema = avro_exact.load_schema(sys.argv[1])
shapes = set()
for path in sorted(glob.glob(os.path.join(sys.argv[2], "*.avro"))):
    name = os.path.basename(path)[:-5]
    want = json.load(open(path[:-5] + ".want.json"))
    got_py = avro_exact.exact(avro_exact.decode(schema, open(path, "rb").read()))
    got_c = json.load(open(path[:-5] + ".avroc.json"))
    for who, got in (("python avro", got_py), ("avro-c", got_c)):
        assert got["type"] == want["type"], (name, who, "type", got["type"], want["type"])
        assert len(got["data"]) == len(want["data"]), (name, who, "trade count")
        for i, (g, w) in enumerate(zip(got["data"], want["data"])):
            for k in ("s", "p", "t", "v", "c"):
                assert g[k] == w[k], (name, who, i, k, g[k], w[k])
    for t in want["data"]:
        c = t["c"]
        shapes.add("null" if c is None else "empty" if c == [] else "nullitem" if None in c else "strings")
    print("ok -", name, len(want["data"]), "trade(s)")
assert shapes == {"null", "empty", "nullitem", "strings"}, shapes
PY
ok "$n messages decoded identically by python avro and avro-c with the reference schema"
