#!/usr/bin/env bash
# run.sh - set everything up and run the whole pipeline on its embedded
# defaults: the built-in simulator (or Finnhub when FINNHUB_API_TOKEN is
# set), SQLite at data/tickpipe.db, dashboard on http://127.0.0.1:8080.
# Extra arguments go to `tickpipe run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DTP_TESTS=OFF
exec ./build/tickpipe run "$@"
