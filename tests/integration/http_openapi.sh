#!/usr/bin/env bash
# http_openapi.sh - /api/openapi.json describes the REST API as it answers:
# the document is OpenAPI 3.1 whose schemas are valid JSON Schema 2020-12
# (python3-jsonschema's metaschema check); then, over a SQLite store holding
# http_seed's fixed minute and a few feed gaps, every documented path is
# asked with its parameters in many combinations (times=ms and iso, rolled-up
# intervals, ranges), and every answer, 200 and 400 alike, is validated
# against the schema the document gives for its status. Every parameter the
# document names is accepted; a name it does not is refused (400); every
# /api/ endpoint the server knows is in the document.
source "$(dirname "$0")/../lib/common.sh"
need sqlite3:sqlite3
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || fail "python3-jsonschema missing (scripts/install-deps.sh --test installs it)"

DB="$TMP/store.db"
"$TP_TOOLS_DIR/http_seed" "sqlite:$DB" fixed >"$TMP/seed.log" 2>&1 || fail "http_seed: $(cat "$TMP/seed.log")"
B=1700000000000
sqlite3 "$DB" "INSERT INTO feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection) VALUES
  ('AAPL', $((B + 10400)), $((B + 20700)), 'reconnect', $((B + 20705)), 0)" || fail "cannot write feed_gaps"
bg serve "$TICKPIPE" serve --http 127.0.0.1:0 --store "sqlite:$DB" --max-limit 500
wait_for 20 grep -q 'dashboard at' "$TMP/serve.log"
BASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)

cat >"$TMP/check.py" <<'PY'
import itertools, json, sys, urllib.error, urllib.request
import jsonschema
base = sys.argv[1]
def fetch(path):
    try:
        with urllib.request.urlopen(base + path) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()
st, ctype, body = fetch("/api/openapi.json")
assert st == 200 and ctype.startswith("application/json"), (st, ctype)
doc = json.loads(body)
assert doc["openapi"].startswith("3.1."), doc["openapi"]
V = jsonschema.Draft202012Validator
for name, sch in doc["components"]["schemas"].items():
    V.check_schema(sch)
resolver = jsonschema.RefResolver.from_schema(doc)

def schema_of(path, status):
    resp = doc["paths"][path]["get"]["responses"]
    assert str(status) in resp, f"{path}: status {status} is not documented"
    return resp[str(status)]["content"]["application/json"]["schema"]

checked = 0
def check(path, query, want=None):
    global checked
    st, ctype, body = fetch(path + ("?" + query if query else ""))
    assert ctype.startswith("application/json"), (path, query, ctype)
    j = json.loads(body)
    if want is not None and st != want:
        sys.exit(f"FAIL: {path}?{query}: status {st}, want {want}: {j}")
    try:
        V(schema_of(path, st), resolver=resolver, format_checker=V.FORMAT_CHECKER).validate(j)
    except jsonschema.ValidationError as e:
        sys.exit(f"FAIL: {path}?{query} ({st}) does not match the document: {e.message} at {list(e.absolute_path)}")
    checked += 1
    return j

params = {p: doc["components"]["parameters"][p]["name"] for p in doc["components"]["parameters"]}
for path, item in doc["paths"].items():
    names = [r["$ref"].split("/")[-1] for r in item["get"]["parameters"]]
    opts = {
        "symbol": ["symbol=AAPL", "symbol=OANDA%3AEUR_USD", "symbol=%C3%84TSCH.DE", "symbol=NOPE"],
        "from": [None, "from=1700000010000", "from=2023-11-14T22:13:30Z"],
        "to": [None, "to=1700000050000", "to=2023-11-14"],
        "limit": [None, "limit=3"],
        "interval": [None, "interval=1s", "interval=5s", "interval=15m", "interval=1d"],
        "times": [None, "times=iso"],
        "tz": [None, "tz=America/New_York"],
        "format": [None, "format=json"],
    }
    combos = [[q for q in c if q] for c in itertools.product(*[opts[n] for n in names])]
    for c in combos:
        q = "&".join(c)
        if "to=2023-11-14" in q and "from=" in q:
            continue # from would be after to: a 400, checked below
        if "tz=" in q and "interval=1d" not in q:
            check(path, q, 400) # tz is for day candles
            continue
        j = check(path, q, 200)
        if "times=iso" in q:
            assert "T" in json.dumps(j) or j["count"] == 0, (path, q)
    # every documented parameter is accepted above; an undocumented one is refused
    j = check(path, "&".join(["symbol=AAPL"] if "symbol" in names else []) + ("&" if "symbol" in names else "") + "bogus=1", 400)
    assert "unknown parameter" in j["error"], j
    if "symbol" in names:
        check(path, "", 400)
        check(path, "symbol=AAPL&from=5&to=4", 400)
        check(path, "symbol=AAPL&limit=0", 400)
        check(path, "symbol=AAPL&from=2023-13-01", 400)
    check(path, "times=rfc" + ("&symbol=AAPL" if "symbol" in names else ""), 400)
    # format=csv: the documented text/csv answer
    st, ctype, body = fetch(path + "?format=csv" + ("&symbol=AAPL" if "symbol" in names else ""))
    assert st == 200 and ctype.startswith("text/csv") and "text/csv" in item["get"]["responses"]["200"]["content"], (path, st, ctype)
# every /api/ endpoint of the server is documented: the 404 lists them
st, _, body = fetch("/api/nothing")
assert st == 404
listed = {w.strip(",;") for w in json.loads(body)["error"].split() if w.startswith("/api/")}
assert listed - {"/api/openapi.json"} == set(doc["paths"]), (listed, set(doc["paths"]))
print(f"ok - {checked} answers valid against /api/openapi.json over {len(doc['paths'])} paths")
PY
/usr/bin/python3 "$TMP/check.py" "$BASE" || fail "the REST API's answers differ from /api/openapi.json"
ok "/api/openapi.json describes every endpoint, parameter and answer"
