#!/usr/bin/env bash
# process_sqlite.sh - Apache Kafka -> tickpipe process -> SQLite: the
# stored trades, candles and 15 s averages equal the generated oracle
# (compared by sqlite3's own queries, tests/lib/process.sh), and SIGTERM
# ends the process with exit 0 after a last flush and commit.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/process.sh"

start_kafka market:3 market.dlq:1
# 1200 records of 5 trades over 6 symbols, 12 s of event time
"$GEN" --brokers "$BS" --topic market --records 1200 --per-record 5 --symbols 6 --oracle "$TMP/oracle.csv"
total=$(wc -l <"$TMP/oracle.csv")

bg proc "$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" "${KX[@]}" \
  --progress-interval 1 --metrics 127.0.0.1:0
wait_for 60 stored_eq "$TMP/t.db" "$total"
# --metrics: the receipt -> durable histogram counts what was made durable
mport=$(sed -n 's|^tickpipe: metrics at http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' "$TMP/proc.log")
[ -n "$mport" ] || { cat "$TMP/proc.log"; fail "no 'metrics at' line"; }
curl -fsS "http://127.0.0.1:$mport/metrics" >"$TMP/metrics.txt" || fail "GET /metrics failed"
/usr/bin/python3 - "$TMP/metrics.txt" <<'PY' || fail "process /metrics: $(grep durable "$TMP/metrics.txt" | head -5)"
import re, sys
text = open(sys.argv[1]).read()
count = float(re.search(r"^tickpipe_store_durable_latency_seconds_count(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M).group(1))
inf = float(re.search(r'^tickpipe_store_durable_latency_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} ([0-9.e+]+)$', text, re.M).group(1))
assert count > 0 and inf == count, (count, inf)
PY
curl -fsS "http://127.0.0.1:$mport/healthz" >/dev/null || fail "GET /healthz is not 200"
ok "--metrics: /metrics has the durable-latency histogram, /healthz answers"
kill -TERM "$PID_proc"
wait "$PID_proc" || fail "process exited with $? after SIGTERM"
grep -q "summary: 1200 records, $total trades" "$TMP/proc.log" || { cat "$TMP/proc.log"; fail "summary line"; }
grep -q " 0 late" "$TMP/proc.log" || fail "an in-order stream produced late trades"
ok "SIGTERM: drained, exit 0"
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "trades, candles and averages equal the oracle"

# The offsets were committed: a second run in the group re-reads only the
# records of windows still open (from the committed floor) and rebuilds
# them; the store ends up unchanged.
"$TICKPIPE" process --brokers "$BS" --topic market --store "sqlite:$TMP/t.db" "${KX[@]}" --duration 10 \
  >"$TMP/proc2.log" 2>&1 || fail "second run failed"
grep -q "resuming at committed offset" "$TMP/proc2.log" || { cat "$TMP/proc2.log"; fail "no committed offsets"; }
check_store "$TMP/t.db" "$TMP/oracle.csv"
ok "a second run resumes from committed offsets; store unchanged"
