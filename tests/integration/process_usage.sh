#!/usr/bin/env bash
# process_usage.sh - `tickpipe process` flags: --help names every option the
# parser accepts and the README documents each; usage errors exit 2 with a
# message that names the problem; a store that cannot open exits non-zero
# before touching Kafka.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

"$TICKPIPE" process --help >"$TMP/help" || fail "--help exit $?"
readme=$(sed -n '/<!-- process: begin -->/,/<!-- process: end -->/p' "$TP_SOURCE_DIR/README.md")
# every long option in the command's option tables (deprecated aliases are
# left out of --help; the README lists them with the renames)
opts=$("$TICKPIPE" help-flags process | awk -F'\t' '$9 == "" {print $2}')
[ "$(echo "$opts" | wc -l)" -ge 14 ] || fail "could not read the option table"
for o in $opts; do
  grep -q -- "$o" "$TMP/help" || fail "--help does not mention $o"
  grep -q -- "$o" <<<"$readme" || fail "README does not document $o"
done
for v in KAFKA_SERVER KAFKA_PORT KAFKA_TOPIC_NAME TICKPIPE_STORE TICKPIPE_LOG; do
  grep -q "$v" "$TMP/help" || fail "--help does not mention $v"
  grep -q "$v" <<<"$readme" || fail "README does not mention $v"
done
ok "--help and README cover every flag and variable"

expect2() { # expect2 PATTERN ARGS...: exit 2 and PATTERN on stderr
  local pat=$1 rc=0; shift
  "$TICKPIPE" process "$@" 2>"$TMP/err" >/dev/null || rc=$?
  [ "$rc" = 2 ] || fail "process $* exited $rc, want 2"
  grep -q -- "$pat" "$TMP/err" || fail "process $*: stderr lacks '$pat': $(cat "$TMP/err")"
}
expect2 "unknown option '--bogus'" --bogus
expect2 "unexpected argument 'extra'" extra
expect2 "--allowed-lateness" --allowed-lateness -1
expect2 "--max-trades" --max-trades abc
expect2 "expected key=value" -X nokey
expect2 "names no store" --store nosuch:x
expect2 "--group must not be empty" --group ""
expect2 "Kafka property" --store null: -X no.such.property=1
expect2 "cooperative rebalancing is not supported" --store null: -X partition.assignment.strategy=cooperative-sticky
ok "usage errors exit 2 with a clear message"

# No broker reachable at start: exit 1 naming --brokers (as produce does),
# within --duration when that is shorter than the 10 s wait.
port=$(free_port)
rc=0; timeout 30 "$TICKPIPE" process --brokers "127.0.0.1:$port" --store null: --duration 3 >/dev/null 2>"$TMP/nb" || rc=$?
[ "$rc" = 1 ] || fail "no broker, --duration 3: exit $rc, want 1: $(tail -3 "$TMP/nb")"
grep -q "cannot reach the Kafka brokers 127.0.0.1:$port within [0-9]* s .*check --brokers" "$TMP/nb" ||
  fail "no broker: not explained: $(tail -3 "$TMP/nb")"
rc=0; timeout 30 "$TICKPIPE" process --brokers "127.0.0.1:$port" --store null: >/dev/null 2>"$TMP/nb2" || rc=$?
[ "$rc" = 1 ] || fail "no broker: exit $rc, want 1: $(tail -3 "$TMP/nb2")"
grep -q "cannot reach the Kafka brokers 127.0.0.1:$port within 1[0-9] s" "$TMP/nb2" ||
  fail "no broker: not after the 10 s wait: $(tail -3 "$TMP/nb2")"
ok "no broker reachable at start: exit 1 naming --brokers ($(grep -o 'within [0-9]* s' "$TMP/nb2"))"
