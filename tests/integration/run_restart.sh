#!/usr/bin/env bash
# run_restart.sh - `tickpipe run` stopped and started again on the same
# store, ten times over, on SQLite and on PostgreSQL (by default): a clean SIGTERM or a
# kill -9 at a random point, restarted at once (and once only after more
# than the allowed lateness). After every stop the candles and 15-second
# averages in the store are recomputed from the trades table by
# tests/lib/window_oracle.py (plain Python, not tickpipe's window code) and
# must be equal: all rows after a clean stop and after a kill of a run that
# emits every unit (--emit-interval 0) on SQLite and PostgreSQL, the final
# rows after any other kill (and on ClickHouse and Cassandra). At the
# end every window older than the allowed lateness is final.
# TP_RESTART_SEED=N replays one sequence of random stops.
# TP_RESTART_STORES (default "sqlite pg") and TP_RESTART_ROUNDS (default 10)
# choose stores and stops: run_restart_servers.sh runs this script on
# ClickHouse and Cassandra with 3 rounds. For those the oracle reads through
# the database's own client (clickhouse-client with FINAL, python3-cassandra).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/stores.sh"
stores_use TP_RESTART_STORES "sqlite pg"
rounds=${TP_RESTART_ROUNDS:-10}
seed=${TP_RESTART_SEED:-$(date +%s)}
RANDOM=$seed
echo "# random seed $seed (TP_RESTART_SEED=$seed replays it)"
oracle="$TP_SOURCE_DIR/tests/lib/window_oracle.py"
lateness=2

state() { /usr/bin/python3 "$oracle" "$1" "$2" --state $((lateness * 1000)); }
# count_trades KIND WHERE
count_trades() {
  case $1 in ch | cass) state "$1" "$2" 2>/dev/null | cut -d' ' -f1 || echo 0; return ;; esac
  if [ "$1" = sqlite ]; then sqlite3 -batch -noheader "$2" "SELECT count(*) FROM trades" 2>/dev/null || echo 0
  else psql -X -A -t -q "$2" -c "SELECT count(*) FROM trades" 2>/dev/null || echo 0; fi
}
newest_ms() {
  case $1 in ch | cass) state "$1" "$2" | cut -d' ' -f2; return ;; esac
  if [ "$1" = sqlite ]; then sqlite3 -batch -noheader "$2" "SELECT max(trade_timestamp) FROM trades"
  else psql -X -A -t -q "$2" -c "SELECT (extract(epoch from max(trade_timestamp))*1000)::int8 FROM trades"; fi
}
open_old() { # non-final windows that ended more than the lateness before the newest trade
  case $1 in ch | cass) state "$1" "$2" | cut -d' ' -f3; return ;; esac
  local cut=$(($(newest_ms "$1" "$2") - lateness * 1000 - 1000))
  if [ "$1" = sqlite ]; then
    sqlite3 -batch -noheader "$2" "SELECT (SELECT count(*) FROM candles WHERE final = 0 AND start_ms + interval_s*1000 <= $cut)
      + (SELECT count(*) FROM running_averages_15_sec WHERE final = 0 AND window_end <= $cut)"
  else
    psql -X -A -t -q "$2" -c "SELECT (SELECT count(*) FROM candles WHERE NOT final AND
      (extract(epoch from start_time)*1000)::int8 + interval_s*1000 <= $cut)
      + (SELECT count(*) FROM running_averages_15_sec WHERE NOT final AND (extract(epoch from window_end)*1000)::int8 <= $cut)"
  fi
}
above() { [ "$(count_trades "$1" "$2")" -ge "$3" ]; }
now_past() { [ "$(date +%s%3N)" -gt "$1" ]; }

# cycles KIND STORE_URL ORACLE_WHERE
cycles() {
  local kind=$1 url=$2 where=$3 i mode emit target rc have
  # as many clean stops as kills (one more kill for an odd count), in random order
  local modes=() j k t
  for ((j = 0; j < rounds; j++)); do modes+=($([ $((j % 2)) = 0 ] && echo kill || echo term)); done
  for ((j = rounds - 1; j > 0; j--)); do k=$((RANDOM % (j + 1))); t=${modes[j]}; modes[j]=${modes[k]}; modes[k]=$t; done
  for ((i = 0; i < rounds; i++)); do
    mode=${modes[i]}
    emit=$(((RANDOM % 2) * 1000))
    if [ "$i" = $((rounds * 6 / 10)) ]; then # a restart later than the allowed lateness
      local last; last=$(newest_ms "$kind" "$where")
      wait_for 30 now_past $((last + lateness * 1000 + 1500))
    fi
    have=$(count_trades "$kind" "$where")
    target=$((have + 200 + RANDOM % 3000))
    "$TICKPIPE" run --store "$url" --no-http --symbols AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD \
      --sim-rate 2000 --sim-batch 20 --allowed-lateness $lateness --emit-interval ${emit}ms \
      >"$TMP/run.out" 2>"$TMP/$kind-run$i.log" &
    local pid=$!
    on_exit "kill -9 $pid 2>/dev/null"
    wait_for 60 above "$kind" "$where" "$target"
    if [ "$mode" = term ]; then
      kill -TERM "$pid"
      rc=0; wait "$pid" || rc=$?
      [ "$rc" = 0 ] || fail "$kind cycle $i: run exited $rc after SIGTERM: $(tail -5 "$TMP/$kind-run$i.log")"
      /usr/bin/python3 "$oracle" "$kind" "$where" >"$TMP/oracle.out" ||
        fail "$kind cycle $i (clean stop): $(cat "$TMP/oracle.out")"
    else
      kill -9 "$pid"
      wait "$pid" 2>/dev/null || true
      local only=--final-only
      # a unit is one transaction in SQLite and PostgreSQL; ClickHouse and
      # Cassandra can be killed between a unit's trades and its window rows
      # (written after them), which leaves open windows behind their trades
      # until the next start rebuilds them (the next check shows it)
      [ "$emit" = 0 ] && [ "$kind" = sqlite -o "$kind" = pg ] && only=
      /usr/bin/python3 "$oracle" "$kind" "$where" $only >"$TMP/oracle.out" ||
        fail "$kind cycle $i (kill -9, emit interval $emit): $(cat "$TMP/oracle.out")"
    fi

    echo "# $kind cycle $i: $mode at $(count_trades "$kind" "$where") trades, emit $emit: $(cat "$TMP/oracle.out")"
  done
  # one more run, stopped cleanly: everything exact, old windows final
  "$TICKPIPE" run --store "$url" --no-http --symbols AAPL,MSFT,BINANCE:BTCUSDT,OANDA:EUR_USD \
    --sim-rate 2000 --allowed-lateness $lateness >"$TMP/run.out" 2>"$TMP/$kind-last.log" &
  local pid=$!
  on_exit "kill -9 $pid 2>/dev/null"
  last=$(newest_ms "$kind" "$where")
  wait_for 30 now_past $((last + lateness * 1000 + 2000))
  have=$(count_trades "$kind" "$where")
  wait_for 60 above "$kind" "$where" $((have + 500))
  kill -TERM "$pid"
  rc=0; wait "$pid" || rc=$?
  [ "$rc" = 0 ] || fail "$kind last run exited $rc: $(tail -5 "$TMP/$kind-last.log")"
  grep -q "rebuilt [0-9]* open windows" "$TMP/$kind-last.log" || fail "no rebuild logged: $(head -5 "$TMP/$kind-last.log")"
  /usr/bin/python3 "$oracle" "$kind" "$where" >"$TMP/oracle.out" || fail "$kind after the last run: $(cat "$TMP/oracle.out")"
  local old; old=$(open_old "$kind" "$where")
  [ "$old" = 0 ] || fail "$kind: $old windows older than the allowed lateness are still not final"
  ok "$kind: $rounds random stops (SIGTERM and kill -9) and restarts, every candle and average equals the trades ($(cat "$TMP/oracle.out"))"
}

each_store cycles restart.db
