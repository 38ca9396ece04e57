#!/usr/bin/env bash
# bench/summary.sh [--header BUILD_TYPE] FILE... - the summary table of a
# benchmark run: every RESULT line of the given result files (the output of
# bench/bench_*.sh, as bench/run.sh saves it under bench/results/), one row
# each, with met / not met against the line's own target. With --header,
# first the machine, the build type and the versions of the libraries and
# servers the benchmarks use.
#
# A result line (see bench/README.md, "Result lines") is
#   RESULT|name|value|unit|reference|ratio|target
# name      the figure, e.g. "produce CPU, 50 trades/message"
# value     a number (the figure itself)
# unit      e.g. "CPU s per M trades", "trades/s", "MB", "ms"
# reference the reference run's figure and what it is, free text; "-" = none
# ratio     value / reference as a number (0.82), or "-"
# target    "value OP N" or "ratio OP N" with OP one of <= >= < >; "-" = none
# Lines that do not start with "RESULT|" are ignored; a RESULT line with a
# wrong number of fields or a target that does not parse is reported as
# "bad line" (in the met column), never dropped silently.
set -euo pipefail
header=""
if [ "${1:-}" = --header ]; then
  header=$2
  shift 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)

ver() { # the first that answers: a pkg-config module, then a Debian package
  local v
  v=$(pkg-config --modversion "$1" 2>/dev/null) || v=""
  v=${v%-} # libwebsockets' .pc says "4.1.6-"
  [ -n "$v" ] || v=$(dpkg-query -W -f='${Version}' "$2" 2>/dev/null) || v=""
  echo "${v:-not installed}"
}

if [ -n "$header" ]; then
  pgv=$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -1)
  pgv=$([ -n "$pgv" ] && "$pgv" --version | awk '{print $3}' || echo "not installed")
  chv=$(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null || true)
  kv=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$src/tests/kafka/pom.xml" 2>/dev/null || true)
  cv=$(sed -n 's|.*<cassandra.version>\(.*\)</cassandra.version>.*|\1|p' "$src/tests/cassandra/pom.xml" 2>/dev/null || true)
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  echo "## Summary ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "- machine: $(nproc) cores, ${cpu:-unknown CPU}, $(awk 'NR == 1 {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM;" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) when the summary was written"
  echo "- build: $header, $(cc --version | head -1)"
  echo "- librdkafka $(ver rdkafka librdkafka-dev), libwebsockets $(ver libwebsockets libwebsockets-dev)," \
    "SQLite $(ver sqlite3 libsqlite3-dev), PostgreSQL $pgv, ClickHouse ${chv:-not installed}," \
    "Kafka ${kv:-?} (tests/lib/kafka.sh), Cassandra ${cv:-?} (tests/lib/cassandra.sh)"
  echo
fi

echo "| bench | figure | value | unit | reference (same run) | ratio | target | met |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for f in "$@"; do
  [ -f "$f" ] || continue
  b=$(basename "$f" .md)
  awk -F'|' -v bench="$b" '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    function isnum(s) { return s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
    /^RESULT\|/ {
      if (NF != 7) { printf "| %s | (a RESULT line with %d fields) | | | | | | bad line (want 7 fields) |\n", bench, NF; next }
      name = trim($2); v = trim($3); unit = trim($4); ref = trim($5); r = trim($6); t = trim($7)
      met = "-"
      if (t != "-" && t != "") {
        n = split(t, w, /[ \t]+/)
        x = (w[1] == "value") ? v : (w[1] == "ratio") ? r : "?"
        if (n != 3 || !isnum(w[3]) || (w[2] != "<=" && w[2] != ">=" && w[2] != "<" && w[2] != ">") || !isnum(x)) {
          met = "bad line (target \"" t "\")"
        } else {
          x += 0; y = w[3] + 0
          ok = (w[2] == "<=") ? x <= y : (w[2] == ">=") ? x >= y : (w[2] == "<") ? x < y : x > y
          met = ok ? "met" : "**not met**"
        }
      }
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", bench, name, v, unit, ref, r, t, met
    }' "$f"
done
