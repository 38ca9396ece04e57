# store_oracle.sh - sourced by the store tests: read store_contract's
# summary line and compare counts against the database's own answers.
# summary_vars FILE: sets trades, null_cond, empty_cond, averages, candles,
# gaps (feed_gaps rows kept), gap_span (their sum of to_ms - from_ms),
# gap_ids (those with venue trade ids), gap_id_span (their sum of
# to_trade_id - from_trade_id), prefix.
summary_vars() {
  local line
  line=$(grep '^rows ' "$1") || fail "no summary line from store_contract"
  trades=$(sed -n 's/.* trades=\([0-9]*\).*/\1/p' <<<"$line")
  null_cond=$(sed -n 's/.* null_cond=\([0-9]*\).*/\1/p' <<<"$line")
  empty_cond=$(sed -n 's/.* empty_cond=\([0-9]*\).*/\1/p' <<<"$line")
  averages=$(sed -n 's/.* averages=\([0-9]*\).*/\1/p' <<<"$line")
  candles=$(sed -n 's/.* candles=\([0-9]*\).*/\1/p' <<<"$line")
  gaps=$(sed -n 's/.* gaps=\([0-9]*\).*/\1/p' <<<"$line")
  gap_span=$(sed -n 's/.* gap_span=\([0-9]*\).*/\1/p' <<<"$line")
  gap_ids=$(sed -n 's/.* gap_ids=\([0-9]*\).*/\1/p' <<<"$line")
  gap_id_span=$(sed -n 's/.* gap_id_span=\([0-9]*\).*/\1/p' <<<"$line")
  prefix=$(sed -n 's/.* prefix=\(.*\)$/\1/p' <<<"$line")
  [ -n "$trades" ] && [ -n "$prefix" ] || fail "bad summary line: $line"
}
# expect_eq WHAT WANT GOT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$3', want '$2'"; }
