#!/usr/bin/env bash
# bench_parse.sh - Finnhub frame parsing: tickpipe's parser vs jansson on
# the same frames in the same run (run through bench/run.sh parse).
#   TP_BENCH_PARSE_SECONDS  seconds per parser and frame size (default 1.5)
set -euo pipefail
echo "### Frame parsing (bench_parse)"
echo
"${TP_BENCH_DIR:?run through bench/run.sh}/bench_parse" "${TP_BENCH_PARSE_SECONDS:-1.5}"
