#!/usr/bin/env bash
# bench_cassandra.sh - rows/s of trades into Apache Cassandra through
# tickpipe's sink (bench_store sink: write + commit in units of
# BENCH_STORE_UNIT rows, as the processor flushes), beside a reference load
# of the same rows into the same schema in the same run: Debian's Python
# driver (python3-cassandra) with a prepared INSERT and
# execute_concurrent_with_args, the driver's own bulk path. One throwaway
# node (tests/lib/cassandra.sh), consistency ONE, each run into a fresh
# keyspace. Best of BENCH_RUNS runs. Prints a Markdown table.
# Environment: BENCH_STORE_ROWS (default 200000), BENCH_STORE_UNIT (20000),
# BENCH_RUNS (2), BENCH_CQL_CONCURRENCY (the reference's requests in flight, 128).
. "$TP_SOURCE_DIR/tests/lib/common.sh"
. "$TP_SOURCE_DIR/tests/lib/cassandra.sh"
N=${BENCH_STORE_ROWS:-200000}
UNIT=${BENCH_STORE_UNIT:-20000}
RUNS=${BENCH_RUNS:-2}
CONC=${BENCH_CQL_CONCURRENCY:-128}
BS="${TP_BENCH_DIR:-$TP_BINARY_DIR/bench}/bench_store"
[ -x "$BS" ] || fail "bench_store helper not built ($BS)"

best() { tr ' ' '\n' | sort -n | tail -1; }
cass_start >&2
# the same trades as a file (the TSV bench_store writes for ClickHouse:
# uuid, symbol, conditions JSON or \N, price, volume, ts ms, ingest ms)
"$BS" file clickhouse "$N" "$TMP/trades.tsv"
base="cassandra://$CASS_USER:$CASS_PASSWORD@127.0.0.1:$CASS_PORT"
sink="" ref=""
for ((i = 0; i < RUNS; i++)); do
  # the reference's keyspace gets tickpipe's schema, then loses tickpipe's rows
  "$BS" sink "$base/ref$i?consistency=ONE" 1 1 >/dev/null || fail "cannot create the reference schema"
  cass_q "TRUNCATE ref$i.trades" >/dev/null
  out=$(/usr/bin/python3 - "$CASS_PORT" "ref$i" "$TMP/trades.tsv" "$CONC" <<'PY'
import sys, time, uuid
from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
port, ks, path, conc = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
rows = []
with open(path) as f:
    for line in f:
        u, sym, cond, p, v, ts, ing = line.rstrip("\n").split("\t")
        ts = int(ts)
        rows.append((sym, ts // 86400000, ts, uuid.UUID(u), float(p), float(v),
                     None if cond == "\\N" else cond, int(ing)))
c = Cluster(["127.0.0.1"], port=port, protocol_version=4,
            auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
s = c.connect(ks)
st = s.prepare("INSERT INTO trades (symbol, day, trade_timestamp, uuid, price, volume, trade_conditions, "
               "ingest_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
st.consistency_level = ConsistencyLevel.ONE
t0 = time.monotonic()
res = execute_concurrent_with_args(s, st, rows, concurrency=conc, raise_on_first_error=True)
dt = time.monotonic() - t0
assert all(ok for ok, _ in res)
print(f"{len(rows) / dt:.0f} {dt:.3f}")
c.shutdown()
PY
  ) || fail "reference load failed"
  ref+=" ${out%% *}"
  got=$(cass_q "SELECT count(*) FROM ref$i.trades")
  [ "$got" = "$N" ] || fail "reference: $got rows loaded, want $N"
  out=$("$BS" sink "$base/tp$i?consistency=ONE" "$N" "$UNIT" 2>/dev/null) || fail "tickpipe sink failed"
  sink+=" ${out%% *}"
  got=$(cass_q "SELECT count(*) FROM tp$i.trades")
  [ "$got" = "$N" ] || fail "tickpipe: $got rows stored, want $N"
  echo "run $i: sink ${out%% *} rows/s, reference ${ref##* } rows/s" >&2
done
s=$(best <<<"$sink")
r=$(best <<<"$ref")
echo "Cassandra write throughput, $N trades, tickpipe units of $UNIT rows, best of $RUNS ($(date -u +%Y-%m-%d), $(nproc) cores, Cassandra 5.0, one node, consistency ONE)"
echo
echo "| store | rows | tickpipe sink rows/s | reference rows/s | ratio |"
echo "| --- | --- | --- | --- | --- |"
echo "| Cassandra | $N | $s | $r (python3-cassandra execute_concurrent_with_args, prepared, $CONC in flight) | $(awk -v s="$s" -v r="$r" 'BEGIN { printf "%.0f%%", 100 * s / r }') |"
echo
echo "RESULT|store write, Cassandra (units of $UNIT)|$s|rows/s|$r (python3-cassandra, $CONC in flight)|$(awk -v s="$s" -v r="$r" 'BEGIN { printf "%.2f", s / r }')|ratio >= 0.70"
