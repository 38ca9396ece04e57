#!/usr/bin/env bash
# bench_parquet.sh - the Parquet writer (archive/parquet.c, through export's
# row writer) against pyarrow writing the same rows, the same options
# (zstd, dictionary-encoded symbol, statistics), in the same run: rows/s,
# CPU s per million rows, bytes per trade (run through bench/run.sh parquet).
# pyarrow comes from tests/lib/pyenv.sh's venv.
#   TP_BENCH_PARQUET_ROWS  rows (default 2000000)
set -euo pipefail
dir="${TP_BENCH_DIR:?run through bench/run.sh}"
src="$(cd "$(dirname "$0")/.." && pwd)"
n=${TP_BENCH_PARQUET_ROWS:-2000000}
py=$(bash "$src/tests/lib/pyenv.sh")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_parquet.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
line=$("$dir/bench_parquet" "$n" "$tmp/tickpipe.parquet")
ref=$("$py" - "$tmp/tickpipe.parquet" "$tmp/pyarrow.parquet" <<'PY'
import os, sys, time
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])  # the same rows, in memory before the clock starts
w0, c0 = time.perf_counter(), time.process_time()
pq.write_table(t, sys.argv[2], compression="zstd", compression_level=3, use_dictionary=["symbol"],
               write_statistics=True, row_group_size=131072)
w1, c1 = time.perf_counter(), time.process_time()
print(f"rows={t.num_rows} wall_s={w1 - w0:.4f} cpu_s={c1 - c0:.4f} bytes={os.path.getsize(sys.argv[2])}")
PY
)
get() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
echo "tickpipe: $line" >&2
echo "pyarrow:  $ref" >&2
tw=$(get "$line" wall_s) tc=$(get "$line" cpu_s) tb=$(get "$line" bytes)
pw=$(get "$ref" wall_s) pc=$(get "$ref" cpu_s) pb=$(get "$ref" bytes)
awk -v n="$n" -v tw="$tw" -v tc="$tc" -v tb="$tb" -v pw="$pw" -v pc="$pc" -v pb="$pb" 'BEGIN {
  printf "### Parquet archive writer (bench_parquet, %d trades)\n\n", n
  printf "| writer | rows/s | CPU s per M rows | bytes per trade |\n| --- | --- | --- | --- |\n"
  printf "| tickpipe | %.0f | %.3f | %.1f |\n", n / tw, tc * 1e6 / n, tb / n
  printf "| pyarrow (same rows, zstd 3, dictionary symbol) | %.0f | %.3f | %.1f |\n\n", n / pw, pc * 1e6 / n, pb / n
  printf "RESULT|parquet write rate|%.0f|rows/s|%.0f (pyarrow)|%.2f|-\n", n / tw, n / pw, (n / tw) / (n / pw)
  printf "RESULT|parquet write CPU|%.3f|CPU s per M rows|%.3f (pyarrow)|%.2f|-\n", tc * 1e6 / n, pc * 1e6 / n, tc / pc
  printf "RESULT|parquet bytes per trade|%.1f|bytes|%.1f (pyarrow)|%.2f|-\n", tb / n, pb / n, tb / pb
}'
