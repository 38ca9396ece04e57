#!/usr/bin/env bash
# fuzz.sh [SECONDS] - build the libFuzzer targets with clang and run each for
# SECONDS (default 20), starting from the seed corpus in fuzz/corpus/NAME,
# with the dictionary fuzz/<NAME without fuzz_>.dict when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
CC=clang cmake -S . -B build-fuzz -DTP_FUZZ=ON -DTP_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=()
for src in fuzz/fuzz_*.c; do targets+=(--target "$(basename "$src" .c)"); done
cmake --build build-fuzz -j"$(nproc)" "${targets[@]}"
shopt -s nullglob
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  work="build-fuzz/corpus-$name"
  mkdir -p "$work"
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  dict=()
  [ -f "fuzz/${name#fuzz_}.dict" ] && dict=("-dict=fuzz/${name#fuzz_}.dict")
  echo "fuzz: $name for ${secs}s"
  "build-fuzz/fuzz/$name" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 "${dict[@]}" \
    -artifact_prefix="build-fuzz/$name-" "$work" "${seeds[@]}" 2>"build-fuzz/$name.log" \
    || { tail -40 "build-fuzz/$name.log"; echo "fuzz: $name FAILED"; exit 1; }
  grep -E '^#[0-9]+.*DONE' "build-fuzz/$name.log" | tail -1 || true
done
