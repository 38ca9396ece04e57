#!/usr/bin/env bash
# bench_parse.sh - Finnhub frame parsing: tickpipe's parser vs jansson on
# the same frames in the same run (run through bench/run.sh parse).
#   TP_BENCH_PARSE_SECONDS  seconds per parser and frame size (default 1.5)
set -euo pipefail
echo "### Frame parsing (bench_parse)"
echo
"${TP_BENCH_DIR:?run through bench/run.sh}/bench_parse" "${TP_BENCH_PARSE_SECONDS:-1.5}" | tee "${TMPDIR:-/tmp}/bench_parse.$$"
# result lines (bench/README.md, "Result lines"): tickpipe's rows beside jansson's
echo
awk -F'|' '
  function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
  trim($4) ~ /^jansson/ { ref[trim($2)] = trim($5) }
  trim($4) == "tickpipe" { f = trim($2); r = trim($7); sub(/x$/, "", r)
    printf "RESULT|parse rate, %s per frame|%s|trades/s|%s (jansson)|%s|ratio >= 5\n", f, trim($5), ref[f], r }' \
  "${TMPDIR:-/tmp}/bench_parse.$$"
rm -f "${TMPDIR:-/tmp}/bench_parse.$$"
