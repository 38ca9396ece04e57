#!/usr/bin/env bash
# cql_faults.sh - the CQL client's handling of server errors by kind,
# against a fake CQL server that injects them (tests/lib/cql_fake_server.py;
# a real Cassandra does not forget prepared statements or overload on
# demand): Unprepared -> prepared again and the batch re-sent, no failure;
# Overloaded -> the unit fails as retryable and succeeds when re-sent;
# Syntax error -> a clear error, not called retryable; a frame header
# announcing 1 GiB -> refused by the frame size limit. A contact point
# named localhost, ::1 first and the server on 127.0.0.1 only -> connects
# (the client tries every address of the name).
. "$(dirname "$0")/../lib/common.sh"
SC="$TP_TOOLS_DIR/store_contract"

fake() { # NAME MODE: start the fake server, sets PORT
  PORT=$(free_port)
  bg "$1" /usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/cql_fake_server.py" "$PORT" "$2"
  wait_for 20 grep -q listening "$TMP/$1.log"
}
url() { echo "cassandra://127.0.0.1:$PORT/ks?consistency=ONE"; }

fake unprep unprepared-once
"$SC" write "$(url)" U 100 50 >"$TMP/u.out" 2>"$TMP/u.err" || fail "unprepared: $(cat "$TMP/u.err")"
grep -q "^done 100 failures 0" "$TMP/u.out" || fail "unprepared: $(cat "$TMP/u.out" "$TMP/u.err")"
n_prep=$(grep -c '^prepare' "$TMP/unprep.log")
grep -q "batch unprepared" "$TMP/unprep.log" || fail "the fault was not injected"
# 15 statements at open, 15 again after Unprepared
[ "$n_prep" -ge 30 ] || fail "statements not prepared again after Unprepared ($n_prep PREPAREs)"
ok "Unprepared: statements prepared again, the batch re-sent, the unit committed without a failure"

fake over overloaded-once
"$SC" write "$(url)" O 100 50 >"$TMP/o.out" 2>"$TMP/o.err" || fail "overloaded: $(cat "$TMP/o.err")"
grep -q "^done 100 failures 1" "$TMP/o.out" || fail "overloaded: $(cat "$TMP/o.out" "$TMP/o.err")"
grep -q "Too many requests in flight (error 0x1001, will retry)" "$TMP/o.err" || fail "overloaded: $(cat "$TMP/o.err")"
ok "Overloaded: retryable, the unit re-sent and committed ($(grep -m1 -o 'Cassandra at.*' "$TMP/o.err"))"

fake syn syntax
"$SC" write "$(url)" S 10 10 >"$TMP/s.out" 2>"$TMP/s.err" &
wpid=$!
on_exit "kill $wpid 2>/dev/null"
wait_for 30 grep -q retrying "$TMP/s.err"
kill "$wpid" 2>/dev/null || true
grep -q "no viable alternative at input 'INTO' (error 0x2000)" "$TMP/s.err" || fail "syntax: $(cat "$TMP/s.err")"
if grep -q "will retry" "$TMP/s.err"; then fail "a syntax error called retryable: $(cat "$TMP/s.err")"; fi
ok "Syntax error: a clear error ($(grep -m1 -o 'Cassandra at.*' "$TMP/s.err"))"

fake big bigframe
"$SC" write "$(url)" B 10 10 >"$TMP/b.out" 2>"$TMP/b.err" &
wpid=$!
on_exit "kill $wpid 2>/dev/null"
wait_for 30 grep -q retrying "$TMP/b.err"
kill "$wpid" 2>/dev/null || true
grep -q "frame of 1073741824 bytes is over the" "$TMP/b.err" || fail "big frame: $(cat "$TMP/b.err")"
ok "oversized frame refused ($(grep -m1 -o 'Cassandra at.*' "$TMP/b.err"))"

# Every address of a contact point's name: localhost is ::1 first (nothing
# listens there) and 127.0.0.1, where the server is.
fake addr none
with_localhost_v6_first "$SC" write "cassandra://localhost:$PORT/ks?consistency=ONE" A 100 50 >"$TMP/a.out" \
  2>"$TMP/a.err" || fail "localhost with ::1 first: $(cat "$TMP/a.err")"
grep -q "^done 100 failures 0" "$TMP/a.out" || fail "localhost with ::1 first: $(cat "$TMP/a.out" "$TMP/a.err")"
grep -q "batch ok" "$TMP/addr.log" || fail "no batch reached the server: $(cat "$TMP/addr.log")"
ok "a contact point whose name is ::1 then 127.0.0.1 connects at 127.0.0.1"
