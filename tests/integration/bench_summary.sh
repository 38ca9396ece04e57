#!/usr/bin/env bash
# bench_summary.sh - bench/summary.sh turns RESULT lines into the summary
# table: every line one row, met / not met from the line's own target,
# malformed lines flagged rather than dropped, other lines ignored. No
# benchmark runs here (nothing timed); this checks only the parser.
. "$TP_SOURCE_DIR/tests/lib/common.sh"
cat >"$TMP/produce.md" <<'R'
## produce: a table the summary ignores
| feed | trades | CPU |
| simulate --batch 50 | 2000000 | 0.74 |
RESULT|produce CPU, 50 trades/message|0.74|CPU s per M trades|0.20 (kcat -P)|3.70|value <= 0.40
RESULT|produce CPU, 1 trades/message|0.95|CPU s per M trades|0.54 (kcat -P)|1.76|value <= 1.00
RESULT|produce rate, 50 trades/message|1650165|trades/s|6666667 (kcat -P)|0.25|-
R
cat >"$TMP/store.md" <<'R'
RESULT|store write, SQLite|765489|rows/s|486883 (sqlite3 .import)|1.57|ratio >= 0.70
RESULT|store write, PostgreSQL|200000|rows/s|319323 (psql \copy)|0.63|ratio >= 0.70
RESULT|three fields|1|2
RESULT|odd target|1|ms|-|-|value ~ 3
RESULT|ratio missing|1|ms|-|-|ratio >= 0.5
R
out=$(bash "$TP_SOURCE_DIR/bench/summary.sh" --header Release "$TMP/produce.md" "$TMP/store.md" "$TMP/absent.md")
echo "$out"
row() { grep -F "| $1 | $2 |" <<<"$out" || fail "no row for $1 / $2"; }
cell() { awk -F'|' -v i="$2" '{ gsub(/^ +| +$/, "", $i); print $i }' <<<"$1"; }
[ "$(grep -c '^| [a-z]* | ' <<<"$out")" = 9 ] || fail "want 8 rows + the column names"
[ "$(cell "$(row produce 'produce CPU, 50 trades/message')" 9)" = "**not met**" ] || fail "0.74 <= 0.40 is not met"
[ "$(cell "$(row produce 'produce CPU, 1 trades/message')" 9)" = met ] || fail "0.95 <= 1.00 is met"
[ "$(cell "$(row produce 'produce rate, 50 trades/message')" 9)" = - ] || fail "no target: -"
r=$(row store 'store write, SQLite')
[ "$(cell "$r" 4)" = 765489 ] && [ "$(cell "$r" 6)" = "486883 (sqlite3 .import)" ] && [ "$(cell "$r" 7)" = 1.57 ] ||
  fail "columns of the SQLite row: $r"
[ "$(cell "$r" 9)" = met ] || fail "ratio 1.57 >= 0.70 is met"
[ "$(cell "$(row store 'store write, PostgreSQL')" 9)" = "**not met**" ] || fail "ratio 0.63 >= 0.70 is not met"
grep -q "| store | (a RESULT line with 4 fields) |.*bad line" <<<"$out" || fail "a short line is flagged"
grep -q "| odd target |.*bad line (target" <<<"$out" || fail "a target that does not parse is flagged"
grep -q "| ratio missing |.*bad line" <<<"$out" || fail "a ratio target without a ratio is flagged"
grep -q "^- librdkafka [0-9]" <<<"$out" || fail "no versions in the header"
grep -q "^- machine: [0-9]* cores" <<<"$out" || fail "no machine in the header"
ok "bench/summary.sh parses result lines"
