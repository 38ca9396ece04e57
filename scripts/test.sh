#!/usr/bin/env bash
# test.sh - set everything up and run every test: formatting, unit and
# integration tests (real PostgreSQL, ClickHouse, Chromium, librdkafka's
# mock Kafka cluster), the same tests under ASan+UBSan, and each fuzz target
# for a short while.
#   TP_FUZZ_SECONDS=N   seconds per fuzz target (default 20)
#   TP_SKIP_SANITIZE=1  skip the sanitizer build (quicker local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

echo "== format"
scripts/check-format.sh

echo "== build and test"
scripts/build.sh build -DTP_TESTS=ON
ctest --test-dir build --output-on-failure -j2

if [ "${TP_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== ASan+UBSan build and test"
  scripts/build.sh build-asan -DTP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j2
fi

echo "== fuzz"
scripts/fuzz.sh "${TP_FUZZ_SECONDS:-20}"
echo "test.sh: all passed"
