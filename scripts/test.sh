#!/usr/bin/env bash
# test.sh - set everything up and run every test: formatting, unit and
# integration tests (real PostgreSQL, ClickHouse, Apache Cassandra, Apache
# Kafka, Chromium), the same tests under ASan+UBSan (less a few that run
# no code of tickpipe's the others do not, see below), and each fuzz target
# for a short while. Each pass prints its wall time.
#   TP_FUZZ_SECONDS=N   seconds per fuzz target (default 20)
#   TP_SKIP_SANITIZE=1  skip the sanitizer builds (quicker local runs)
# The ThreadSanitizer pass runs the unit tests and the integration tests
# that need no Kafka (http_*, run_*, serve_*): librdkafka's threads are
# started through C11 thrd_create, which ThreadSanitizer cannot follow, so
# anything that starts a Kafka client crashes under it.
set -euo pipefail
cd "$(dirname "$0")/.."
t_all=$SECONDS
t_pass=$SECONDS
# pass_done NAME: print the wall time of the pass that just ended
pass_done() {
  echo "== $1 took $((SECONDS - t_pass)) s (total $((SECONDS - t_all)) s)"
  t_pass=$SECONDS
}
scripts/install-deps.sh --test
pass_done "install"

echo "== format"
scripts/check-format.sh
pass_done "format"

echo "== build and test"
scripts/build.sh build -DTP_TESTS=ON
ctest --test-dir build --output-on-failure -j2
pass_done "build and test"

if [ "${TP_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== ASan+UBSan build and test"
  scripts/build.sh build-asan -DTP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  # Left out: what exercises no tickpipe code the other tests do not
  # (manifests, rules and tables checked as text, Grafana's SQL) and the two
  # longest failure scenarios (broker loss on three nodes; ClickHouse and
  # Cassandra restarts), whose code paths the shorter Kafka, drain and
  # restart tests run under the sanitizers too.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2 \
    -E '^integration\.(kafka_failures|run_restart_servers|deploy_(helm|compose|image|flags)|metrics_alerts|grafana_sql|flags_tables|bench_summary)$'
  pass_done "ASan+UBSan build and test"
fi

if [ "${TP_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== ThreadSanitizer build and test (unit, http_*, run_*, serve_*)"
  scripts/build.sh build-tsan -DTP_TSAN=ON -DTP_TESTS=ON
  tsan_logs="$PWD/build-tsan/tsan-logs"
  rm -rf "$tsan_logs" && mkdir -p "$tsan_logs"
  # Reports go to files too, so a race in a server a test runs in the
  # background (whose log the test deletes when it passes) is not missed.
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$tsan_logs/tsan" \
    ctest --test-dir build-tsan --output-on-failure -j2 -R '^(unit\.|integration\.(http_|run_|serve_))'
  if compgen -G "$tsan_logs/tsan.*" >/dev/null; then
    cat "$tsan_logs"/tsan.*
    echo "test.sh: ThreadSanitizer reported the above" >&2
    exit 1
  fi
  pass_done "ThreadSanitizer build and test"
fi

echo "== fuzz"
scripts/fuzz.sh "${TP_FUZZ_SECONDS:-20}"
pass_done "fuzz"
echo "test.sh: all passed in $((SECONDS - t_all)) s"
