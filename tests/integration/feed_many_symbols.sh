#!/usr/bin/env bash
# feed_many_symbols.sh - more symbols than one connection may carry: 150
# symbols over three tokens with --max-symbols-per-connection 50 against a
# simulator that allows 50 per connection and one connection per token.
# Every symbol arrives and every trade the simulator sent is there: through
# capture (the printed trades against the simulator's own count) and
# through run into SQLite (sqlite3 counts the rows: ids that collided
# between connections would have merged rows). Too few tokens is a usage
# error naming the fix; a connection past the simulator's limit gets its
# error message.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
SYMS=$(/usr/bin/python3 -c 'print(",".join("SYM%03d" % i for i in range(150)))')
N=12000

check_symbols() { # JSONL N: N trades, exactly the 150 symbols
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
ts = [json.loads(l) for l in open(sys.argv[1])]
assert len(ts) == int(sys.argv[2]), len(ts)
got = {t["s"] for t in ts}
want = {"SYM%03d" % i for i in range(150)}
assert got == want, (sorted(want - got)[:5], sorted(got - want)[:5])
PY
}

start_sim cap --rate 2000 --batch 10 --seed 3 --max-symbols 50 --max-trades $N
timeout 120 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token tokA,tokB --token tokC --symbols "$SYMS" \
  --max-symbols-per-connection 50 --max-trades $N --max-reconnects 0 >"$TMP/cap.jsonl" 2>"$TMP/cap.err" \
  || fail "capture failed: $(tail -5 "$TMP/cap.err")"
check_symbols "$TMP/cap.jsonl" $N || fail "capture did not get every symbol"
grep -q '150 symbols over 3 connections' "$TMP/cap.err" || fail "no plan line: $(head "$TMP/cap.err")"
[ "$(summary_field "$TMP/cap.err" errors)" = 0 ] || fail "server errors: $(grep -i error "$TMP/cap.err" | head -3)"
[ "$(summary_field "$TMP/cap.err" reconnects)" = 0 ] || fail "reconnects"
wait "$PID_cap" || fail "simulate did not exit 0"
grep -q 'stopped: connections=3 rejected=0 kicked=0 trades='$N' ' "$TMP/cap.log" \
  || fail "simulator: $(grep stopped "$TMP/cap.log")"
ok "capture: 150 symbols over 3 tokens, all $N trades the simulator sent, one connection per token"

start_sim run --rate 2000 --batch 10 --seed 4 --max-symbols 50 --max-trades $N
db="$TMP/many.db"
FINNHUB_API_TOKENS=tokA,tokB,tokC timeout 120 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --symbols "$SYMS" \
  --store "sqlite:$db" --no-http --max-trades $N --max-reconnects 0 >"$TMP/run.out" 2>"$TMP/run.err" \
  || fail "run failed: $(tail -5 "$TMP/run.err")"
[ "$(sqlite3 -batch -noheader "$db" 'select count(*) from trades')" = $N ] \
  || fail "trades stored: $(sqlite3 "$db" 'select count(*) from trades'), want $N"
[ "$(sqlite3 -batch -noheader "$db" 'select count(distinct symbol) from trades')" = 150 ] || fail "symbols stored"
wait "$PID_run" || fail "simulate did not exit 0"
grep -q 'stopped: connections=3 rejected=0 kicked=0 trades='$N' ' "$TMP/run.log" \
  || fail "simulator: $(grep stopped "$TMP/run.log")"
ok "run (FINNHUB_API_TOKENS): $N trades of 150 symbols in SQLite over 3 connections"

set +e
"$TICKPIPE" capture --ws-url ws://127.0.0.1:9 --token only --symbols "$SYMS" >/dev/null 2>"$TMP/few.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q '150 symbols need 3 connections .*1 token was given: give more tokens' "$TMP/few.err" \
  || fail "too few tokens: exit $rc: $(cat "$TMP/few.err")"
ok "too few tokens: usage error naming the fix"

start_sim lim --rate 500 --max-symbols 50
timeout 60 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols "$(echo "$SYMS" | cut -d, -f1-51)" \
  --max-symbols-per-connection 0 --max-trades 200 --max-reconnects 0 >"$TMP/lim.jsonl" 2>"$TMP/lim.err" \
  || fail "capture failed: $(tail -5 "$TMP/lim.err")"
grep -q 'Subscribing to too many symbols' "$TMP/lim.err" || fail "no limit error: $(cat "$TMP/lim.err")"
grep -q '"s":"SYM050"' "$TMP/lim.jsonl" && fail "the 51st symbol was served"
ok "the simulator's per-connection limit answers like Finnhub"
