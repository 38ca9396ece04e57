#!/usr/bin/env bash
# config_file.sh - the config file (--config FILE, TICKPIPE_CONFIG):
# `config check` on the example and on a bad file (every error by line, exit
# 2); --print-config shows each setting's source with the precedence flag >
# environment > file > default and never a secret; what --print-config prints
# reads back as a config file with the same settings; `run --config` really
# uses the file's store (a SQLite file under $TMP gets rows) and its other
# settings; a bad value in the file is the flag's own error plus file:line.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
# the settings' variables are set here only where a check is about them
unset TICKPIPE_CONFIG TICKPIPE_STORE TICKPIPE_HTTP TICKPIPE_LOG FINNHUB_API_TOKEN FINNHUB_API_TOKENS \
  FINNHUB_WS_URL FINNHUB_STOCKS_TICKERS KAFKA_SERVER KAFKA_PORT KAFKA_SASL_PASSWORD

# The example config of the deploy directory is a good file.
"$TICKPIPE" config check "$TP_SOURCE_DIR/deploy/tickpipe.example.yaml" >"$TMP/check.out" 2>&1 \
  || fail "config check of the example: $(cat "$TMP/check.out")"
grep -q '^ok: ' "$TMP/check.out" || fail "config check printed no ok: $(cat "$TMP/check.out")"
grep -qx '  store: run, process, serve' "$TMP/check.out" || fail "store's commands: $(cat "$TMP/check.out")"
grep -qx '  compression: produce' "$TMP/check.out" || fail "compression's commands: $(cat "$TMP/check.out")"
"$TICKPIPE" config check "$TP_SOURCE_DIR/deploy/tickpipe.compose.yaml" >"$TMP/check2.out" 2>&1 \
  || fail "config check of the Compose stack's file: $(cat "$TMP/check2.out")"
ok "config check passes the example and the Compose stack's file, and says which commands take each key"

# A bad file: every error, each with its line, exit 2.
cat >"$TMP/bad.yaml" <<'EOF'
store: sqlite:x.db
stor: sqlite:y.db
allowed-lateness: 12abc
validate: maybe
store: sqlite:z.db
run:
  http: 0.0.0.0:1
EOF
rc=0; "$TICKPIPE" config check "$TMP/bad.yaml" >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
[ "$rc" = 2 ] || fail "config check of a bad file: exit $rc: $(cat "$TMP/bad.err")"
for want in "bad.yaml:2: unknown key 'stor': no command takes --stor; did you mean 'store'?" \
  "bad.yaml:3: --allowed-lateness: '12abc' is not a time" \
  "bad.yaml:4: --validate: 'maybe' is not true or false" \
  "bad.yaml:5: store given twice (first at line 1)" \
  "bad.yaml:7: run: nested sections are not supported"; do
  grep -qF -- "$want" "$TMP/bad.err" || fail "config check lacks '$want': $(cat "$TMP/bad.err")"
done
[ ! -s "$TMP/bad.out" ] || fail "config check of a bad file printed on stdout: $(cat "$TMP/bad.out")"
# the same value as a flag gives the same message
rc=0; "$TICKPIPE" run --allowed-lateness 12abc 2>"$TMP/flag.err" || rc=$?
[ "$rc" = 2 ] || fail "--allowed-lateness 12abc: exit $rc"
flag_msg=$(sed 's/^tickpipe run: //' "$TMP/flag.err")
grep -qF -- "bad.yaml:3: $flag_msg" "$TMP/bad.err" || fail "file error is not the flag's: $flag_msg"
# and a command refuses the file the same way, before doing anything
rc=0; "$TICKPIPE" run --config "$TMP/bad.yaml" --store "sqlite:$TMP/never.db" 2>"$TMP/run_bad.err" || rc=$?
[ "$rc" = 2 ] && grep -qF "tickpipe run: $TMP/bad.yaml:3: --allowed-lateness" "$TMP/run_bad.err" \
  || fail "run with a bad config: exit $rc: $(cat "$TMP/run_bad.err")"
[ ! -e "$TMP/never.db" ] || fail "run with a bad config opened its store"
ok "a bad file: every error with its line, the flag's own message, exit 2"

# Precedence and masking.
cat >"$TMP/f.yaml" <<EOF
store: postgresql://tp:file-s3cret-Ab1@db.example/tickpipe
http: 127.0.0.1:1111
max-limit: 77
allowed-lateness: 250ms
symbols: [AAPL, "BINANCE:BTCUSDT"]
token: [tok-file-s3cret-Cd2]
EOF
TICKPIPE_HTTP=127.0.0.1:2222 FINNHUB_API_TOKEN=tok-env-s3cret-Ef3 \
  "$TICKPIPE" run --config "$TMP/f.yaml" --print-config --max-limit 88 >"$TMP/p.yaml" 2>"$TMP/p.err" \
  || fail "run --print-config: $(cat "$TMP/p.err")"
grep -qx "max-limit: 88  # flag --max-limit" "$TMP/p.yaml" || fail "flag over file: $(grep max-limit "$TMP/p.yaml")"
grep -qx "http: 127.0.0.1:2222  # env TICKPIPE_HTTP" "$TMP/p.yaml" || fail "env over file: $(grep '^http' "$TMP/p.yaml")"
grep -qx "allowed-lateness: 250ms  # file $TMP/f.yaml:4" "$TMP/p.yaml" || fail "file over default: $(grep lateness "$TMP/p.yaml")"
grep -qx 'symbols: "AAPL,BINANCE:BTCUSDT"  # file '"$TMP/f.yaml:5" "$TMP/p.yaml" || fail "list: $(grep symbols "$TMP/p.yaml")"
grep -qx "flush-interval: 200  # default" "$TMP/p.yaml" || fail "default: $(grep flush-interval "$TMP/p.yaml")"
grep -qx 'store: "postgresql://tp:\*\*\*@db.example/tickpipe"  # file '"$TMP/f.yaml:1" "$TMP/p.yaml" \
  || fail "store not masked as expected: $(grep store "$TMP/p.yaml")"
grep -qx 'token: "\*\*\*"  # env FINNHUB_API_TOKEN' "$TMP/p.yaml" || fail "token: $(grep token "$TMP/p.yaml")"
# TICKPIPE_CONFIG names the file when --config does not; --config wins over it
printf 'max-limit: 55\n' >"$TMP/g.yaml"
TICKPIPE_CONFIG="$TMP/g.yaml" "$TICKPIPE" serve --print-config >"$TMP/g.out" || fail "TICKPIPE_CONFIG"
grep -qx "max-limit: 55  # file $TMP/g.yaml:1" "$TMP/g.out" || fail "TICKPIPE_CONFIG: $(grep max-limit "$TMP/g.out")"
TICKPIPE_CONFIG="$TMP/g.yaml" "$TICKPIPE" serve --config "$TMP/f.yaml" --print-config >"$TMP/g2.out" || fail "--config"
grep -qx "max-limit: 77  # file $TMP/f.yaml:3" "$TMP/g2.out" || fail "--config over TICKPIPE_CONFIG"
ok "flag > environment > file > default, each shown with its source"

# No secret is printed, whatever it came from (file, environment, flag).
KAFKA_SASL_PASSWORD=kafka-env-s3cret-Gh4 FINNHUB_API_TOKEN=tok-env-s3cret-Ef3 \
  "$TICKPIPE" produce --config "$TMP/f.yaml" --print-config -X sasl.password=kafka-flag-s3cret-Ij5 \
  -X ssl.key.password=kafka-flag-s3cret-Kl6 --ws-url 'wss://feed.example/?token=url-s3cret-Mn7' \
  >"$TMP/prod.yaml" || fail "produce --print-config"
cat "$TMP/p.yaml" "$TMP/prod.yaml" >"$TMP/all.yaml"
! grep -n 's3cret' "$TMP/all.yaml" || fail "a secret was printed"
grep -qx 'kafka-property: \["sasl.password=\*\*\*", "ssl.key.password=\*\*\*"\]  # flag --kafka-property' \
  "$TMP/prod.yaml" || fail "-X not masked as expected: $(grep kafka-property "$TMP/prod.yaml")"
grep -qF 'wss://feed.example/?token=***' "$TMP/prod.yaml" || fail "ws-url: $(grep ws-url "$TMP/prod.yaml")"
ok "secrets are masked (token, store password, -X sasl.password, URL token)"

# What --print-config prints is a config file: check it, and feed it back.
"$TICKPIPE" config check "$TMP/p.yaml" >/dev/null 2>"$TMP/pcheck.err" || fail "printed config: $(cat "$TMP/pcheck.err")"
"$TICKPIPE" run --config "$TMP/p.yaml" --print-config >"$TMP/p2.yaml" || fail "printed config read back"
diff <(grep -v '^#' "$TMP/p.yaml" | sed 's/  #.*//') <(grep -v '^#' "$TMP/p2.yaml" | sed 's/  #.*//') \
  || fail "the printed settings read back differently"
ok "--print-config's output reads back as the same settings"

# run --config really uses the file: its store gets the trades.
cat >"$TMP/run.yaml" <<EOF
store: sqlite:$TMP/run.db
no-http: true
symbols: [AAPL, MSFT]
sim-rate: 500
duration: 3
flush-interval: 100ms
EOF
"$TICKPIPE" config check "$TMP/run.yaml" >/dev/null || fail "run.yaml does not check"
timeout 60 "$TICKPIPE" run --config "$TMP/run.yaml" >"$TMP/run.out" 2>"$TMP/run.err" \
  || fail "run --config: exit $?: $(tail -5 "$TMP/run.err")"
n=$(sqlite3 "$TMP/run.db" 'SELECT count(*) FROM trades')
[ "$n" -gt 0 ] || fail "no trades in the file's store"
syms=$(sqlite3 "$TMP/run.db" 'SELECT group_concat(symbol) FROM (SELECT DISTINCT symbol FROM trades ORDER BY symbol)')
[ "$syms" = "AAPL,MSFT" ] || fail "symbols stored: $syms, want the file's AAPL,MSFT"
! grep -q 'dashboard at' "$TMP/run.out" "$TMP/run.err" || fail "no-http: true from the file was not applied"
grep -q 'built-in simulator at .*(500 trades/s, 2 symbols)' "$TMP/run.err" \
  || fail "sim-rate and symbols of the file not applied: $(grep simulator "$TMP/run.err")"
ok "run --config stores $n trades of the file's symbols in the file's store"

# The README's Configuration section states this precedence, and its example
# file is a good one.
sec=$(sed -n '/<!-- configuration: begin -->/,/<!-- configuration: end -->/p' "$TP_SOURCE_DIR/README.md")
tr '\n' ' ' <<<"$sec" | grep -qF 'The precedence is flag > environment variable > file > default' \
  || fail "README's Configuration section lacks the precedence"
awk '/^    store: postgresql/ {on = 1} on && /^    / {print substr($0, 5)} on && !/^    / {exit}' <<<"$sec" >"$TMP/readme.yaml"
[ "$(wc -l <"$TMP/readme.yaml")" -ge 5 ] || fail "README example not found: $(cat "$TMP/readme.yaml")"
"$TICKPIPE" config check "$TMP/readme.yaml" >/dev/null 2>"$TMP/readme.err" || fail "README example: $(cat "$TMP/readme.err")"
ok "the README states the precedence and its example file checks"
