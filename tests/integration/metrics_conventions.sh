#!/usr/bin/env bash
# metrics_conventions.sh - /metrics of run (--http), produce (--metrics) and
# process (--metrics) as an operator's Prometheus sees them: each passes
# `promtool check metrics` (names, units, HELP/TYPE), and the series alerts
# are built on exist with sane values: tickpipe_build_info = 1 with a
# version and commit, process_start_time_seconds within minutes of now,
# the other process_* metrics, each symbol's last-trade timestamp within
# seconds of now (run and produce), the consumer lag of both partitions in
# process (>= 0 while trades flow, 0 once process has stored everything
# produce delivered), the watermark as a timestamp in seconds. produce's
# endpoint serves /metrics, /healthz and /readyz only. Then a real
# Prometheus (Debian's) scrapes the three: every query of the operations
# dashboard (deploy/grafana/dashboards/tickpipe-operations.json) returns
# series, and every rule of deploy/prometheus/alerts.yaml evaluates without
# error, none pending while the pipeline is healthy.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"
command -v promtool >/dev/null || fail "promtool missing (apt-get install prometheus)"

start_kafka market:2 market.dlq:1
start_sim sim --rate 200 --batch 5 --seed 7 --ping-interval 1
url="ws://127.0.0.1:$SIM_PORT"
syms=AAPL,MSFT,BINANCE:BTCUSDT

bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" "${KX[@]}" \
  --metrics 127.0.0.1:0 --progress-interval 0
bg prod "$TICKPIPE" produce --ws-url "$url" --token tp --symbols "$syms" --brokers "$BS" --topic market \
  --metrics 127.0.0.1:0 --progress-interval 0
bg run "$TICKPIPE" run --ws-url "$url" --token tr --symbols "$syms" --store "sqlite:$TMP/run.db" \
  --http 127.0.0.1:0 --progress-interval 0
endpoint() { grep -o 'http://127.0.0.1:[0-9]*' "$TMP/$1.log" | head -1; }
wait_for 60 grep -q 'metrics at' "$TMP/proc.log"
wait_for 60 grep -q 'metrics at' "$TMP/prod.log"
wait_for 60 grep -q 'dashboard at' "$TMP/run.log"
P_URL=$(endpoint proc) Q_URL=$(endpoint prod) R_URL=$(endpoint run)

# value NAME_AND_LABELS FILE: the sample's value ('' when absent)
value() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
scrape() { curl -fsS "$1/metrics" >"$TMP/$2.txt" 2>/dev/null; }
# every symbol has a last trade on connection 0 (run and produce)
have_last_trades() {
  scrape "$1" "$2" || return 1
  local s
  for s in ${syms//,/ }; do
    [ -n "$(value "tickpipe_ingest_last_trade_timestamp_seconds{connection=\"0\",symbol=\"$s\"}" "$TMP/$2.txt")" ] ||
      return 1
  done
}
# both partitions have a lag in process, and a trade is stored
have_lag() {
  scrape "$P_URL" proc || return 1
  [ -n "$(value 'tickpipe_kafka_consumer_lag{topic="market",partition="0"}' "$TMP/proc.txt")" ] &&
    [ -n "$(value 'tickpipe_kafka_consumer_lag{topic="market",partition="1"}' "$TMP/proc.txt")" ] &&
    [ -n "$(value tickpipe_window_watermark_timestamp_seconds "$TMP/proc.txt")" ]
}
wait_for 60 have_last_trades "$Q_URL" prod
wait_for 60 have_last_trades "$R_URL" run
wait_for 60 have_lag
# Scrape run and produce again now: have_last_trades kept their first
# scrape that had every symbol, which can be many seconds old by now (the
# wait for process's group join above); the last-trade check below allows
# 10 s between a scrape and `now`.
have_last_trades "$Q_URL" prod || fail "produce: a symbol's last-trade timestamp went missing"
have_last_trades "$R_URL" run || fail "run: a symbol's last-trade timestamp went missing"

now=$(date +%s)
# near VALUE LO HI: LO <= VALUE <= HI (decimals allowed)
near() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN {exit !(v != "" && v + 0 >= lo && v + 0 <= hi)}'; }
for f in run prod proc; do
  promtool check metrics <"$TMP/$f.txt" >"$TMP/promtool-$f.txt" 2>&1 ||
    fail "promtool rejects $f's /metrics: $(head -5 "$TMP/promtool-$f.txt")"
  grep -q '^tickpipe_build_info{version="[0-9][^"]*",commit="[^"][^"]*"} 1$' "$TMP/$f.txt" ||
    fail "$f: no tickpipe_build_info = 1: $(grep build_info "$TMP/$f.txt")"
  st=$(value process_start_time_seconds "$TMP/$f.txt")
  # started before the waits above (up to 60 s each on a loaded machine):
  # 600 s still tells seconds since the epoch from milliseconds or a zero
  near "$st" $((now - 600)) $((now + 5)) || fail "$f: process_start_time_seconds $st is not within 10 minutes of $now"
  for m in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
    process_open_fds process_max_fds; do
    near "$(value $m "$TMP/$f.txt")" 0 1e15 || fail "$f: $m missing or negative"
  done
  near "$(value process_resident_memory_bytes "$TMP/$f.txt")" 1000000 1e12 || fail "$f: resident memory implausible"
  near "$(value process_open_fds "$TMP/$f.txt")" 3 100000 || fail "$f: open fds implausible"
  # every histogram's HELP says what one observation is
  for h in $(awk '$1 == "#" && $2 == "TYPE" && $4 == "histogram" {print $3}' "$TMP/$f.txt"); do
    grep -q "^# HELP $h One observation per " "$TMP/$f.txt" || fail "$f: the HELP of $h does not say what one observation is"
  done
  ! grep -q '_ms[{ ]' "$TMP/$f.txt" || fail "$f: a metric in ms: $(grep '_ms[{ ]' "$TMP/$f.txt" | head -1)"
done
ok "run, produce and process pass promtool; build_info = 1, process_* sane, histograms say what they observe"

for f in run prod; do
  for s in ${syms//,/ }; do
    t=$(value "tickpipe_ingest_last_trade_timestamp_seconds{connection=\"0\",symbol=\"$s\"}" "$TMP/$f.txt")
    near "$t" $((now - 10)) $((now + 1)) || fail "$f: the last $s trade at $t is not within 10 s of $now"
  done
done
n=$(grep -c '^tickpipe_ingest_last_trade_timestamp_seconds{' "$TMP/prod.txt")
[ "$n" = 3 ] || fail "produce has $n last-trade series, want one per subscribed symbol (3)"
ok "last-trade timestamps of every symbol within seconds of now (run and produce)"

for p in 0 1; do
  l=$(value "tickpipe_kafka_consumer_lag{topic=\"market\",partition=\"$p\"}" "$TMP/proc.txt")
  near "$l" 0 1e12 || fail "partition $p: consumer lag '$l' is not >= 0"
done
wm=$(value tickpipe_window_watermark_timestamp_seconds "$TMP/proc.txt")
near "$wm" $((now - 60)) $((now + 1)) || fail "the watermark $wm is not a recent timestamp in seconds"
ok "process: consumer lag of both partitions >= 0, watermark in seconds ($wm)"

# produce's endpoint: probes and metrics, nothing else
[ "$(curl -s -o /dev/null -w '%{http_code}' "$Q_URL/healthz")" = 200 ] || fail "produce /healthz"
wait_for 20 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$Q_URL/readyz')\" = 200 ]"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$Q_URL/api/symbols")" = 404 ] || fail "produce answers /api/"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$Q_URL/")" = 404 ] || fail "produce serves a dashboard"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$P_URL/healthz")" = 200 ] || fail "process /healthz"
wait_for 20 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$P_URL/readyz')\" = 200 ]"
ok "produce serves /metrics, /healthz and /readyz only; process /healthz and /readyz are 200"

# A real Prometheus scrapes the three stages every 2 s.
command -v prometheus >/dev/null || fail "prometheus missing (apt-get install prometheus)"
prom_port=$(free_port)
cp "$TP_SOURCE_DIR/deploy/prometheus/alerts.yaml" "$TMP/alerts.yaml"
cat >"$TMP/prometheus.yml" <<YAML
global: {scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 1s}
rule_files: [alerts.yaml]
scrape_configs:
  - {job_name: tickpipe-run, static_configs: [{targets: ['${R_URL#http://}']}]}
  - {job_name: tickpipe-produce, static_configs: [{targets: ['${Q_URL#http://}']}]}
  - {job_name: tickpipe-process, static_configs: [{targets: ['${P_URL#http://}']}]}
YAML
bg prom prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom-data" \
  --web.listen-address="127.0.0.1:$prom_port"
PROM="http://127.0.0.1:$prom_port"
# promq EXPR: the instant query's result as "N V" (N series, V the first
# one's value); fails on an error
promq() {
  curl -fsS "$PROM/api/v1/query" --data-urlencode "query=$1" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "success", d
r = d["data"]["result"]
print(len(r), r[0]["value"][1] if r else "")'
}
all_up() { [ "$(promq 'sum(up{job=~"tickpipe-.*"})' 2>/dev/null)" = "1 3" ]; }
wait_for 60 all_up
# every dashboard query returns series, once a few scrapes are in (rate()
# needs two)
dash="$TP_SOURCE_DIR/deploy/grafana/dashboards/tickpipe-operations.json"
/usr/bin/python3 -c 'import json, sys
for p in json.load(open(sys.argv[1]))["panels"]:
    for t in p.get("targets", []):
        print(p["title"] + "\t" + t["expr"])' "$dash" >"$TMP/dash-queries.tsv"
nq=$(wc -l <"$TMP/dash-queries.tsv")
[ "$nq" -ge 15 ] || fail "the operations dashboard has only $nq queries"
dash_ok() {
  local title expr r
  while IFS=$'\t' read -r title expr; do
    r=$(promq "$expr") || { echo "query error: $title: $expr" >"$TMP/dash-why"; return 1; }
    [ "${r%% *}" -gt 0 ] || { echo "no series: $title: $expr" >"$TMP/dash-why"; return 1; }
  done <"$TMP/dash-queries.tsv"
}
dash_ok_or_why() { dash_ok || { cat "$TMP/dash-why" >&2; return 1; }; }
wait_for 60 dash_ok_or_why 2>"$TMP/dash-why.log" || fail "$(tail -1 "$TMP/dash-why.log")"
ok "Prometheus scrapes run, produce and process; all $nq queries of the operations dashboard return series"
rules_ok() {
  curl -fsS "$PROM/api/v1/rules" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
rules = [r for g in d["data"]["groups"] for r in g["rules"]]
bad = [(r["name"], r.get("health"), r.get("lastError")) for r in rules if r.get("health") != "ok"]
sys.exit(0 if len(rules) >= 9 and not bad else 1)'
}
wait_for 30 rules_ok
firing=$(curl -fsS "$PROM/api/v1/alerts" |
  /usr/bin/python3 -c 'import json, sys; print(" ".join(a["labels"]["alertname"] for a in json.load(sys.stdin)["data"]["alerts"]))')
[ -z "$firing" ] || fail "alerts pending or firing on a healthy pipeline: $firing"
ok "every rule of alerts.yaml evaluates without error on live series; none pending on a healthy pipeline"

# Stop produce: once process has stored what it delivered, no lag is left.
kill -TERM "$PID_prod"
wait "$PID_prod" || fail "produce exited $?: $(tail -3 "$TMP/prod.log")"
delivered=$(summary_field "$TMP/prod.log" delivered_trades)
[ "${delivered:-0}" -gt 0 ] || fail "produce delivered nothing"
wait_for 60 stored_eq "$TMP/t.db" "$delivered"
no_lag() {
  scrape "$P_URL" proc || return 1
  [ "$(value 'tickpipe_kafka_consumer_lag{topic="market",partition="0"}' "$TMP/proc.txt")" = 0 ] &&
    [ "$(value 'tickpipe_kafka_consumer_lag{topic="market",partition="1"}' "$TMP/proc.txt")" = 0 ]
}
wait_for 30 no_lag
ok "every delivered trade ($delivered) stored and the lag of both partitions is 0"
