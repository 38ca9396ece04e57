#!/usr/bin/env bash
# grafana_sql.sh - every SQL query of deploy/grafana/dashboards/tickpipe.json
# (each panel's rawSql and each variable's query), with Grafana's macros and
# variables expanded the way Grafana does, runs against a real PostgreSQL
# that tickpipe's store wrote (tests/tools/http_seed through tp_sink), and
# returns the rows the data implies.
source "$(dirname "$0")/../lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
PY=/usr/bin/python3
DASH="$TP_SOURCE_DIR/deploy/grafana/dashboards/tickpipe.json"

pg_start
"$TP_TOOLS_DIR/http_seed" "$PG_URL" fixed >"$TMP/seed.log" 2>&1 || fail "seeding PostgreSQL failed: $(cat "$TMP/seed.log")"
[ "$(psql_q 'SELECT count(*) FROM trades')" = 780 ] || fail "seed did not write 780 trades"

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
PYEOF
ok "provisioning names the data source every panel uses; price, volume, averages and candles panels present"

# expand macros and variables; one query per line as JSON
$PY - "$DASH" >"$TMP/queries.jsonl" <<'PYEOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
frm, to = "2023-11-14T22:00:00Z", "2023-11-14T23:00:00Z"  # covers the seeded minute
syms = ["AAPL", "BINANCE:BTCUSDT", "OANDA:EUR_USD", "\u00c4TSCH.DE"]
def expand(sql):
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
  "panel Price") want=$(psql_q "SELECT count(*) FROM trades") ;;
  "panel Volume") want=$(psql_q "SELECT count(DISTINCT (symbol, floor(extract(epoch from trade_timestamp)))) FROM trades WHERE volume > 0") ;;
  "panel 15-second"*) want=$(psql_q "SELECT count(*) FROM running_averages_15_sec") ;;
  "panel Candles"*) want=$(psql_q "SELECT count(*) FROM candles WHERE symbol='AAPL' AND interval_s=60") ;;
  *) fail "no expectation for $name" ;;
  esac
  [ "$rows" = "$want" ] || fail "$name returned $rows rows, the data has $want"
  case "$name" in "panel "*) head -1 "$TMP/out" | grep -q '^time|' || fail "$name: no leading time column" ;; esac
  ok "$name: $rows rows"
  n=$((n + 1))
done <"$TMP/queries.jsonl"
[ "$n" = 6 ] || fail "expected 6 queries (2 variables, 4 panels), ran $n"

# the volume panel's buckets add up to the trades' volume
vsql=$($PY -c 'import json,sys; [print(json.loads(l)["sql"]) for l in open(sys.argv[1]) if "panel Volume" in l]' "$TMP/queries.jsonl")
got=$(psql -X -A -t -q -v ON_ERROR_STOP=1 "$PG_URL" -c "SELECT round(sum(volume)::numeric, 6) FROM (${vsql%ORDER BY 1}) v")
want=$(psql_q "SELECT round(sum(volume)::numeric, 6) FROM trades")
[ -n "$got" ] && [ "$got" = "$want" ] || fail "volume panel sums to '$got', trades to '$want'"
ok "volume panel sums to the trades' volume ($want)"
