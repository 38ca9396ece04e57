#!/usr/bin/env bash
# grafana_sql.sh - every SQL query of deploy/grafana/dashboards/tickpipe.json
# (each panel's rawSql, each variable's query and the feed-gap annotations),
# with Grafana's macros and variables expanded the way Grafana does, runs
# against a real PostgreSQL that tickpipe's store wrote (tests/tools/http_seed
# through tp_sink, plus feed_gaps rows), and returns the rows the data
# implies. The price panel repeats per symbol; the symbol list is a skip
# scan of the trades key, not a DISTINCT over every trade.
source "$(dirname "$0")/../lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
PY=/usr/bin/python3
DASH="$TP_SOURCE_DIR/deploy/grafana/dashboards/tickpipe.json"

pg_start
"$TP_TOOLS_DIR/http_seed" "$PG_URL" fixed >"$TMP/seed.log" 2>&1 || fail "seeding PostgreSQL failed: $(cat "$TMP/seed.log")"
[ "$(psql_q 'SELECT count(*) FROM trades')" = 780 ] || fail "seed did not write 780 trades"
B=1700000000000 # the seeded minute starts here (22:13:20 UTC); the dashboard is asked for 22:00-23:00
psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "INSERT INTO feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection) VALUES
  ('AAPL', $((B + 10400)), $((B + 20700)), 'reconnect', $((B + 20705)), 0),
  ('BINANCE:BTCUSDT', $((B + 20000)), $((B + 30600)), 'silence', $((B + 30601)), 1),
  ('AAPL', $((B - 7200000)), $((B - 7100000)), 'reconnect', $((B - 7099990)), 0)" >/dev/null ||
  fail "cannot write feed_gaps"

# the provisioning files name the data source the dashboard uses
$PY - "$TP_SOURCE_DIR/deploy/grafana" <<'PYEOF' || fail "provisioning files"
import json, re, sys
root = sys.argv[1]
ds = open(root + "/provisioning/datasources/postgresql.yaml").read()
uid = re.search(r"^\s*uid:\s*(\S+)", ds, re.M).group(1)
assert re.search(r"^\s*type:\s*postgres\s*$", ds, re.M), "data source type must be postgres"
prov = open(root + "/provisioning/dashboards/tickpipe.yaml").read()
assert re.search(r"^\s*type:\s*file\s*$", prov, re.M) and "path:" in prov
d = json.load(open(root + "/dashboards/tickpipe.json"))
uids = {p["datasource"]["uid"] for p in d["panels"]} | {t["datasource"]["uid"] for p in d["panels"] for t in p["targets"]}
assert uids == {uid}, f"panels use {uids}, provisioning defines {uid}"
titles = [p["title"] for p in d["panels"]]
for want in ["Price", "Volume", "15-second averages", "Candles"]:
    assert any(t.startswith(want) for t in titles), f"no {want} panel: {titles}"
price = next(p for p in d["panels"] if p["title"].startswith("Price"))
assert price.get("repeat") == "symbols" and "$symbols" in price["title"], "the price panel must repeat per symbol"
for v in d["templating"]["list"]:
    if v["type"] == "query":
        assert "DISTINCT" not in v["query"].upper(), "symbol variable scans every trade: " + v["query"]
anns = [a for a in d["annotations"]["list"] if a.get("datasource", {}).get("uid") == uid]
assert len(anns) == 1 and "feed_gaps" in anns[0]["target"]["rawSql"], "no feed-gap annotations"
PYEOF
ok "provisioning names the data source every panel uses; price, volume, averages and candles panels present"

# expand macros and variables; one query per line as JSON
$PY - "$DASH" >"$TMP/queries.jsonl" <<'PYEOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
frm, to = "2023-11-14T22:00:00Z", "2023-11-14T23:00:00Z"  # covers the seeded minute
syms = ["AAPL", "BINANCE:BTCUSDT", "OANDA:EUR_USD", "\u00c4TSCH.DE"]
def expand(sql, interval_ms=1000):
    sql = sql.replace("$__interval_ms", str(interval_ms))
    sql = sql.replace("$__unixEpochFrom()", "1699999200").replace("$__unixEpochTo()", "1700002800")
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", lambda m: f"{m.group(1)} BETWEEN '{frm}' AND '{to}'", sql)
    sql = re.sub(r"\$__timeGroupAlias\(([^,]+),\s*\$__interval\)",
                 lambda m: f"floor(extract(epoch from {m.group(1)})/1)*1 AS \"time\"", sql)
    sql = re.sub(r"\$__timeGroup\(([^,]+),\s*\$__interval\)",
                 lambda m: f"floor(extract(epoch from {m.group(1)})/1)*1", sql)
    sql = sql.replace("$symbols", ",".join("'" + s + "'" for s in syms))
    sql = sql.replace("$symbol", "AAPL").replace("$interval", "60")
    assert "$" not in sql, "unexpanded macro or variable in: " + sql
    return sql
for v in d["templating"]["list"]:
    if v["type"] == "query":
        print(json.dumps({"name": "variable " + v["name"], "sql": expand(v["query"])}))
for p in d["panels"]:
    for t in p["targets"]:
        print(json.dumps({"name": "panel " + p["title"], "sql": expand(t["rawSql"])}))
        if "$__interval_ms" in t["rawSql"]:
            print(json.dumps({"name": "panel " + p["title"] + " at 1 min", "sql": expand(t["rawSql"], 60000)}))
for a in d["annotations"]["list"]:
    if "target" in a:
        print(json.dumps({"name": "annotation " + a["name"], "sql": expand(a["target"]["rawSql"])}))
PYEOF

field() { $PY -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
n=0
while IFS= read -r line; do
  name=$(field "$line" name)
  sql=$(field "$line" sql)
  psql -X -A -F '|' -q -v ON_ERROR_STOP=1 --pset footer=off "$PG_URL" -c "$sql" >"$TMP/out" 2>"$TMP/err" ||
    fail "$name: PostgreSQL refused the query: $(cat "$TMP/err")"$'\n'"$sql"
  rows=$(($(wc -l <"$TMP/out") - 1))
  [ "$rows" -gt 0 ] || fail "$name returned no rows"
  case "$name" in
  "variable "*) want=4 ;;
  "panel Price"*"at 1 min") want=$(psql_q "SELECT count(*) FROM candles WHERE interval_s = 60") ;;
  "panel Price"*) want=$(psql_q "SELECT count(*) FROM candles WHERE interval_s = 1") ;;
  "annotation "*) want=2 ;;
  "panel Volume") want=$(psql_q "SELECT count(DISTINCT (symbol, floor(extract(epoch from trade_timestamp)))) FROM trades WHERE volume > 0") ;;
  "panel 15-second"*) want=$(psql_q "SELECT count(*) FROM running_averages_15_sec") ;;
  "panel Candles"*) want=$(psql_q "SELECT count(*) FROM candles WHERE symbol='AAPL' AND interval_s=60") ;;
  *) fail "no expectation for $name" ;;
  esac
  [ "$rows" = "$want" ] || fail "$name returned $rows rows, the data has $want"
  case "$name" in "panel "* | "annotation "*) head -1 "$TMP/out" | grep -q '^time|' || fail "$name: no leading time column" ;; esac
  case "$name" in
  "variable "*) [ "$(tail -n +2 "$TMP/out" | tr '\n' ,)" = "$(psql_q "SELECT string_agg(symbol, ',' ORDER BY symbol) || ',' FROM (SELECT DISTINCT symbol FROM trades) s")" ] ||
    fail "$name: $(tail -n +2 "$TMP/out" | tr '\n' ' ') differs from the stored symbols" ;;
  "annotation "*) head -1 "$TMP/out" | grep -q '^time|timeend|text|tags$' || fail "$name: columns $(head -1 "$TMP/out")"
    grep -q '|feed gap (reconnect): AAPL, connection 0|AAPL,reconnect$' "$TMP/out" || fail "$name: $(cat "$TMP/out")" ;;
  esac
  ok "$name: $rows rows"
  n=$((n + 1))
done <"$TMP/queries.jsonl"
[ "$n" = 8 ] || fail "expected 8 queries (2 variables, 4 panels, the price panel at 1 min, 1 annotation), ran $n"

# the volume panel's buckets add up to the trades' volume
vsql=$($PY -c 'import json,sys; [print(json.loads(l)["sql"]) for l in open(sys.argv[1]) if "panel Volume" in l]' "$TMP/queries.jsonl")
got=$(psql -X -A -t -q -v ON_ERROR_STOP=1 "$PG_URL" -c "SELECT round(sum(volume)::numeric, 6) FROM (${vsql%ORDER BY 1}) v")
want=$(psql_q "SELECT round(sum(volume)::numeric, 6) FROM trades")
[ -n "$got" ] && [ "$got" = "$want" ] || fail "volume panel sums to '$got', trades to '$want'"
ok "volume panel sums to the trades' volume ($want)"
