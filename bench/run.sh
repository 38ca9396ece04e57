#!/usr/bin/env bash
# bench/run.sh [NAME...] - build (Release) and run the benchmarks: every
# bench/bench_*.sh except soak (10 minutes; run it by name), or the ones
# named. Each prints its own Markdown table with ratios against a reference
# run made in the same run on the same machine, and RESULT lines (format in
# bench/README.md, "Result lines") that bench/summary.sh turns into one
# table. Results are written to bench/results/<name>.md and the table to
# bench/results/summary.md (not committed); with no NAME the table is also
# copied into bench/README.md between its summary markers.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_TYPE=Release
scripts/install-deps.sh --test >/dev/null || exit 1
scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=$BUILD_TYPE -DTP_TESTS=ON || exit 1
export TICKPIPE="$PWD/build-bench/tickpipe" TP_SOURCE_DIR="$PWD" TP_BINARY_DIR="$PWD/build-bench"
export TP_TOOLS_DIR="$PWD/build-bench/tests" TP_BENCH_DIR="$PWD/build-bench/bench"
mkdir -p bench/results
names=("$@")
if [ ${#names[@]} = 0 ]; then
  for f in bench/bench_*.sh; do
    n=$(basename "$f" .sh | sed 's/^bench_//')
    [ "$n" = soak ] || names+=("$n")
  done
fi
files=()
failed=0
for n in "${names[@]}"; do
  [ -f "bench/bench_$n.sh" ] || { echo "bench/run.sh: no bench/bench_$n.sh" >&2; exit 2; }
  echo "== bench $n"
  if ! bash "bench/bench_$n.sh" | tee "bench/results/$n.md"; then
    # a failed bench is a row of the summary, not the end of the run
    echo "RESULT|bench $n failed (see the output above)|0|-|-|-|value > 0" >>"bench/results/$n.md"
    failed=1
  fi
  files+=("bench/results/$n.md")
done
bash bench/summary.sh --header "$BUILD_TYPE" "${files[@]}" >bench/results/summary.md
echo
cat bench/results/summary.md
if [ $# = 0 ]; then
  # the README's copy of the summary, between its markers
  /usr/bin/python3 - bench/README.md bench/results/summary.md <<'PY'
import sys
readme, summary = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
b, e = "<!-- summary: begin -->\n", "<!-- summary: end -->"
i, j = text.index(b) + len(b), text.index(e)
open(readme, "w").write(text[:i] + summary + text[j:])
PY
  echo "bench/run.sh: summary copied into bench/README.md"
fi
exit $failed
