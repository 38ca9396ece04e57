#!/usr/bin/env bash
# store_cassandra.sh - the store contract suite against a real Apache
# Cassandra (started here once, on free loopback ports, with
# PasswordAuthenticator), Debian's python3-cassandra as oracle; Cassandra
# stopped mid-stream and started again while a writer retries; bad
# credentials, a keyspace the user may not create, an invalid keyspace and
# a server that is not Cassandra reported clearly, without the password.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/store_oracle.sh"
. "$(dirname "$0")/../lib/cassandra.sh"
. "$(dirname "$0")/../lib/store_gaps.sh"
SC="$TP_TOOLS_DIR/store_contract"
t_start=$(date +%s)
cass_start
ok "Cassandra up in $(($(date +%s) - t_start))s on 127.0.0.1:$CASS_PORT"
URL="$CASS_URL"

"$SC" check "$URL" --large 20000 | tee "$TMP/check.out"
summary_vars "$TMP/check.out"

# The oracle scans the tables itself (not through tickpipe's symbol_days
# index) and counts this run's rows by symbol prefix.
/usr/bin/python3 - "$CASS_PORT" "$prefix" >"$TMP/oracle.out" <<'PY'
import json, sys
from cassandra.cluster import Cluster
from cassandra.auth import PlainTextAuthProvider
from cassandra.query import SimpleStatement
port, prefix = int(sys.argv[1]), sys.argv[2]
c = Cluster(["127.0.0.1"], port=port, protocol_version=4,
            auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
s = c.connect("tp_test")
def scan(cql):
    return s.execute(SimpleStatement(cql, fetch_size=5000), timeout=120)
trades = null_c = empty_c = 0
ids = set()
rt = []
for r in scan("SELECT symbol, day, trade_timestamp, uuid, trade_conditions FROM trades"):
    if not r.symbol.startswith(prefix):
        continue
    trades += 1
    ids.add(r.uuid)
    null_c += r.trade_conditions is None
    empty_c += r.trade_conditions == "[]"
    # partitions hold one UTC day
    assert (r.trade_timestamp.date() - r.day.date()).days == 0, (r.trade_timestamp, r.day)
    if r.symbol == prefix + "RT":
        rt.append((r.trade_timestamp, r.trade_conditions))
avg = sum(1 for r in scan("SELECT symbol FROM running_averages_15_sec") if r.symbol.startswith(prefix))
cnd = sum(1 for r in scan("SELECT symbol FROM candles") if r.symbol.startswith(prefix))
ver = max(r.version for r in scan("SELECT version FROM schema_version"))
rt.sort()
conds = "|".join("" if c is None else json.dumps(json.loads(c), ensure_ascii=False) for _, c in rt[:4])
print(f"trades={trades} ids={len(ids)} null={null_c} empty={empty_c} averages={avg} candles={cnd} version={ver}")
print(f"conds={conds}")
gaps = [r for r in scan("SELECT symbol, from_ms, to_ms, from_trade_id, to_trade_id FROM feed_gaps")
        if r.symbol.startswith(prefix)]
idg = [r for r in gaps if r.from_trade_id is not None]
print(f"gaps={len(gaps)} span={sum(r.to_ms - r.from_ms for r in gaps)} "
      f"ids={len(idg)} id_span={sum(r.to_trade_id - r.from_trade_id for r in idg)}")
c.shutdown()
PY
o=$(head -1 "$TMP/oracle.out")
expect_eq "rows seen by python3-cassandra" \
  "trades=$trades ids=$trades null=$null_cond empty=$empty_cond averages=$averages candles=$candles version=3" "$o"
expect_eq "conditions as JSON text (python3-cassandra)" \
  'conds=|[]|["1", "12"]|[null, "", "quote\" back\\ tab\t nl\n", "ünï😀"]' "$(sed -n 2p "$TMP/oracle.out")"
expect_eq "feed_gaps rows, spans and trade-id ranges (python3-cassandra)" \
  "gaps=$gaps span=$gap_span ids=$gap_ids id_span=$gap_id_span" "$(sed -n 3p "$TMP/oracle.out")"
ok "contract suite and python3-cassandra oracle ($o)"

# A keyspace of schema version 1 made before feed_gaps existed (the table
# dropped) gains the table at the next open.
cass_q "DROP TABLE tp_test.feed_gaps" >/dev/null
"$SC" count "$URL" NONE >"$TMP/old.out" 2>&1 || fail "open after feed_gaps was dropped: $(tail -2 "$TMP/old.out")"
grep -q "created table feed_gaps in keyspace tp_test" "$TMP/old.out" || fail "feed_gaps not created: $(cat "$TMP/old.out")"
expect_eq "feed_gaps recreated (python3-cassandra)" 0 "$(cass_q "SELECT count(*) FROM tp_test.feed_gaps")"
ok "feed_gaps created in a keyspace of schema version 1 that lacked it"

gaps_oracle() { # store_gaps.sh's oracle: python3-cassandra, scanning the tables itself
  /usr/bin/python3 - "$CASS_PORT" "$@" <<'PY'
import sys
from cassandra.cluster import Cluster
from cassandra.auth import PlainTextAuthProvider
from cassandra.query import SimpleStatement
c = Cluster(["127.0.0.1"], port=int(sys.argv[1]), protocol_version=4,
            auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
s = c.connect("tp_gaps")
if sys.argv[2] == "gaps":
    for r in s.execute(SimpleStatement("SELECT * FROM feed_gaps", fetch_size=5000), timeout=60):
        if r.symbol in ("GAPA", "GAPB"):
            print(r.symbol, r.from_ms, r.to_ms, r.reason, r.connection, r.detected_at)
else:
    q = SimpleStatement("SELECT symbol, trade_timestamp FROM trades", fetch_size=5000)
    for r in s.execute(q, timeout=60):
        if r.symbol == sys.argv[3]:
            # timestamps come back as naive UTC datetimes
            import calendar
            print(calendar.timegm(r.trade_timestamp.timetuple()) * 1000 + r.trade_timestamp.microsecond // 1000)
c.shutdown()
PY
}
store_gaps_run "cassandra://$CASS_USER:$CASS_PASSWORD@127.0.0.1:$CASS_PORT/tp_gaps?consistency=ONE" gaps_oracle

# Cassandra stopped mid-stream and started again: the writer retries by
# itself and nothing is lost or doubled.
N=60000
"$SC" write "$URL" RESTART "$N" 2000 >"$TMP/w.out" 2>"$TMP/w.err" &
wpid=$!
on_exit "kill -9 $wpid 2>/dev/null"
wait_for 120 grep -q "committed 10000" "$TMP/w.out"
cass_stop
wait_for 60 grep -q "retrying" "$TMP/w.err"
grep -m1 retrying "$TMP/w.err" | grep -q "is the server running\|will retry" ||
  fail "unclear error: $(grep -m1 retrying "$TMP/w.err")"
t_restart=$(date +%s)
cass_restart
ok "Cassandra started again in $(($(date +%s) - t_restart))s"
wait "$wpid" || fail "writer failed: $(tail -3 "$TMP/w.err")"
grep -q "^done $N" "$TMP/w.out" || fail "writer did not finish"
expect_eq "trades after stop and start (python3-cassandra)" "$N" \
  "$(cass_q "SELECT count(*) FROM tp_test.trades WHERE symbol = 'RESTART' AND day = '2023-11-14'")"
expect_eq "trades after stop and start (store)" "$N" "$("$SC" count "$URL" RESTART)"
ok "stopped mid-stream and started again: $N trades, each once ($(grep -m1 retrying "$TMP/w.err" | cut -c1-160))"

# tickpipe run on Cassandra, twice on the same keyspace (the second start
# reads the newest trades back to rebuild its windows): the second run adds
# its trades, overwriting none of the first's.
RUN_URL="cassandra://$CASS_USER:$CASS_PASSWORD@127.0.0.1:$CASS_PORT/tp_run?consistency=ONE"
for k in 1 2; do
  "$TICKPIPE" run --store "$RUN_URL" --no-http --symbols AAPL,BINANCE:BTCUSDT --sim-rate 2000 --max-trades 1500 \
    >"$TMP/run$k.out" 2>"$TMP/run$k.log" || fail "run $k on Cassandra failed: $(tail -5 "$TMP/run$k.log")"
done
expect_eq "trades of two runs (python3-cassandra)" 3000 "$(cass_q "SELECT count(*) FROM tp_run.trades")"
ok "tickpipe run on Cassandra, started twice: 1500 + 1500 trades stored"

# Feed gaps: a run with forced drops; exactly the candles and averages that
# overlap a gap (the run's logged gaps, which run_gaps.sh holds to the
# simulator's holes) are incomplete, as python3-cassandra reads them.
start_sim gapsim --rate 600 --batch 4 --drop-every 3
GAP_URL="cassandra://$CASS_USER:$CASS_PASSWORD@127.0.0.1:$CASS_PORT/tp_incomplete?consistency=ONE"
timeout 120 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --store "$GAP_URL" \
  --no-http --max-trades 3000 --max-reconnects 40 --allowed-lateness 1 >/dev/null 2>"$TMP/gaprun.err" ||
  fail "run failed: $(tail -5 "$TMP/gaprun.err")"
/usr/bin/python3 - "$CASS_PORT" "$TMP/gc.csv" "$TMP/ga.csv" <<'PY' || fail "cannot read the windows with python3-cassandra"
import sys
from cassandra.cluster import Cluster
from cassandra.auth import PlainTextAuthProvider
c = Cluster(["127.0.0.1"], port=int(sys.argv[1]), protocol_version=4,
            auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
s = c.connect("tp_incomplete")
with open(sys.argv[2], "w") as f:
    for r in s.execute("SELECT symbol, interval_s, toUnixTimestamp(start_time), incomplete FROM candles"):
        f.write(f"{r[0]},{r[1]},{r[2]},{int(bool(r[3]))}\n")
with open(sys.argv[3], "w") as f:
    for r in s.execute("SELECT symbol, toUnixTimestamp(window_start), toUnixTimestamp(window_end), incomplete"
                       " FROM running_averages_15_sec"):
        f.write(f"{r[0]},{r[1]},{r[2]},{int(bool(r[3]))}\n")
c.shutdown()
PY
/usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/incomplete_check.py" "$TMP/gaprun.err" "$TMP/gc.csv" "$TMP/ga.csv" ||
  fail "Cassandra: incomplete windows are not right"
ok "run into Cassandra: exactly the windows overlapping a gap are incomplete"

# Bad credentials: a clear error, no password printed.
BAD="cassandra://cassandra:wrong-pw-Qx7@127.0.0.1:$CASS_PORT/tp_test?consistency=ONE"
if "$SC" check "$BAD" >"$TMP/bad.out" 2>&1; then fail "check succeeded with a wrong password"; fi
grep -q "authentication failed" "$TMP/bad.out" || fail "bad credentials: $(cat "$TMP/bad.out")"
grep -q "check the user and password" "$TMP/bad.out" || fail "bad credentials, no hint: $(cat "$TMP/bad.out")"
if grep -q "wrong-pw-Qx7" "$TMP/bad.out"; then fail "the password was printed"; fi
ok "bad credentials: $(grep -o 'Cassandra at.*' "$TMP/bad.out" | cut -c1-160)"

# A keyspace that does not exist, for a user who may not create it.
cass_q "CREATE ROLE IF NOT EXISTS tp_reader WITH PASSWORD = 'r3ader-pw' AND LOGIN = true" >/dev/null
NOKS="cassandra://tp_reader:r3ader-pw@127.0.0.1:$CASS_PORT/no_such_ks?consistency=ONE"
if "$SC" check "$NOKS" >"$TMP/noks.out" 2>&1; then fail "check succeeded on a keyspace it may not create"; fi
grep -q "keyspace 'no_such_ks' is missing and user 'tp_reader' may not create it" "$TMP/noks.out" ||
  fail "unknown keyspace: $(cat "$TMP/noks.out")"
ok "unknown keyspace: $(grep -o "keyspace 'no_such_ks'.*" "$TMP/noks.out" | cut -c1-160)"

# An invalid keyspace name and an unknown parameter are refused before connecting.
if "$SC" check "cassandra://127.0.0.1:$CASS_PORT/bad-name" >"$TMP/inv.out" 2>&1; then fail "invalid keyspace accepted"; fi
grep -q "keyspace 'bad-name' is not a valid CQL name" "$TMP/inv.out" || fail "invalid keyspace: $(cat "$TMP/inv.out")"
if "$SC" check "cassandra://127.0.0.1:$CASS_PORT/ks?consistncy=ONE" >"$TMP/par.out" 2>&1; then fail "bad parameter accepted"; fi
grep -q "unknown URL parameter 'consistncy'" "$TMP/par.out" || fail "bad parameter: $(cat "$TMP/par.out")"
ok "invalid keyspace and parameter: $(grep -o "keyspace 'bad-name'.*" "$TMP/inv.out" | cut -c1-100)"

# A server that is not Cassandra: it answers with bytes of another protocol.
GPORT=$(free_port)
bg garbage /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    try:
        c.recv(4096); c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    c.close()
' "$GPORT"
wait_port "$GPORT" 20
if "$SC" check "cassandra://u:p@127.0.0.1:$GPORT/tp_test" >"$TMP/garbage.out" 2>&1; then fail "check succeeded on a non-Cassandra server"; fi
grep -q "not a CQL native protocol frame" "$TMP/garbage.out" || fail "garbage server: $(cat "$TMP/garbage.out")"
ok "not Cassandra: $(grep -o 'Cassandra at.*' "$TMP/garbage.out" | cut -c1-160)"

# Failover: the first contact point is dead, the second answers.
DEAD=$(free_port)
"$SC" count "cassandra://cassandra:cassandra@127.0.0.1:$DEAD,127.0.0.1:$CASS_PORT/tp_test?consistency=ONE" RESTART \
  >"$TMP/fo.out" 2>&1 || fail "failover to the second contact point: $(cat "$TMP/fo.out")"
expect_eq "failover count" "$N" "$(tail -1 "$TMP/fo.out")"
ok "failover across contact points"

# TLS on the same native port: the node's certificate given as CA file;
# without it the certificate is not trusted, and the error says what to do.
TLS="cassandra://cassandra:cassandra@127.0.0.1:$CASS_PORT/tp_test?consistency=ONE&tls=1&cafile=$CASS_CA"
expect_eq "trades over TLS" "$N" "$("$SC" count "$TLS" RESTART)"
if "$SC" count "cassandra://cassandra:cassandra@127.0.0.1:$CASS_PORT/tp_test?tls=1" RESTART >"$TMP/tls.out" 2>&1; then
  fail "TLS with an untrusted certificate succeeded"
fi
grep -q "certificate is not trusted.*give its CA with cafile=PATH" "$TMP/tls.out" || fail "untrusted TLS: $(cat "$TMP/tls.out")"
ok "TLS (tls=1, cafile=): reads over TLS; an untrusted certificate: $(grep -o 'TLS:.*' "$TMP/tls.out" | cut -c1-120)"

# The server down: a clear error naming it, no password.
cass_stop
if "$SC" check "$URL" >"$TMP/down.out" 2>&1; then fail "check succeeded with the server down"; fi
grep -q "Cassandra at 127.0.0.1:$CASS_PORT" "$TMP/down.out" || fail "error does not name the server: $(cat "$TMP/down.out")"
grep -q "is the server running" "$TMP/down.out" || fail "error gives no hint: $(cat "$TMP/down.out")"
ok "server down: $(grep -m1 -o 'Cassandra at.*' "$TMP/down.out" | cut -c1-150)"
ok "store_cassandra took $(($(date +%s) - t_start))s"
