#!/usr/bin/env bash
# bench/run.sh [NAME...] - build (Release) and run the benchmarks: every
# bench/bench_*.sh, or the ones named. Each prints a Markdown table with
# ratios against a reference run made in the same run on the same machine.
# Results are written to bench/results/<name>.md (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test >/dev/null
scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release
export TICKPIPE="$PWD/build-bench/tickpipe" TP_SOURCE_DIR="$PWD" TP_BINARY_DIR="$PWD/build-bench"
export TP_TOOLS_DIR="$PWD/build-bench/tests" TP_BENCH_DIR="$PWD/build-bench/bench"
mkdir -p bench/results
names=("$@")
if [ ${#names[@]} = 0 ]; then
  for f in bench/bench_*.sh; do names+=("$(basename "$f" .sh | sed 's/^bench_//')"); done
fi
for n in "${names[@]}"; do
  echo "== bench $n"
  bash "bench/bench_$n.sh" | tee "bench/results/$n.md"
done
