#!/usr/bin/env bash
# install-deps.sh - install everything tickpipe needs to build, run and test,
# from Debian's packages (and the dashboard's JavaScript from npm; with --test
# also the Kafka broker's jars for the tests, from Maven Central, and the
# Parquet tests' pyarrow and DuckDB wheels from PyPI into a venv).
# Idempotent: packages already present are skipped by apt. Needs root (or sudo).
#   scripts/install-deps.sh          build + run
#   scripts/install-deps.sh --test   also the test servers and tools
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

build_pkgs=(build-essential cmake pkg-config git ca-certificates
  libwebsockets-dev librdkafka-dev libavro-dev libjansson-dev libcurl4-openssl-dev
  libsqlite3-dev libpq-dev libssl-dev libyaml-dev libzstd-dev tzdata)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev clang-format sqlite3 postgresql
  clickhouse-server clickhouse-client python3 python3-avro kcat prometheus chromium
  curl procps iproute2 time default-jre-headless maven docker-compose python3-yaml)
# Commands the tests and bench/ run beyond Debian's minimal system
# (debootstrap --variant=minbase: coreutils, grep, sed, mawk, util-linux,
# mount, libc-bin and little else; no bc, no openssl, no ps). Checked by
# tests/lib/common.sh's `need`.
test_pkgs+=(openssl valgrind)
# The Cassandra tests: Debian's Python driver as the oracle that reads rows
# back (the JRE and Maven above run the server).
test_pkgs+=(python3-cassandra)
# Python's zoneinfo reads the IANA time zones from tzdata: the oracle of the
# market-hours checks (America/New_York).
test_pkgs+=(tzdata)
# The REST answers validated against /api/openapi.json's schemas
# (JSON Schema 2020-12): tests/integration/http_openapi.sh.
test_pkgs+=(python3-jsonschema)
# The Parquet oracles (pyarrow, DuckDB: pinned PyPI wheels, test-only) live
# in a venv outside the tree that tests/lib/pyenv.sh builds from Debian's
# python3.
test_pkgs+=(python3-venv)

pkgs=("${build_pkgs[@]}")
[ "$want_test" = 1 ] && pkgs+=("${test_pkgs[@]}")
# node and npm bundle the dashboard's chart library at build time; a machine
# that already has node (from any source) keeps it.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
# go builds the deploy tests' helm and runs their Kubernetes schema checks
# (tests/deploy/); a machine that already has go keeps it.
[ "$want_test" = 1 ] && ! command -v go >/dev/null 2>&1 && pkgs+=(golang-go)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Apache Cassandra's jars (Maven Central) into the test cache, outside the tree, once.
if [ "$want_test" = 1 ]; then bash tests/lib/cassandra.sh fetch; fi

if [ -f web/package.json ]; then
  (cd web && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; \
    else npm install --no-audit --no-fund --loglevel=error; fi)
fi
# The Apache Kafka broker the Kafka tests run: its jars from Maven Central
# into the test cache (outside the tree), once.
if [ "$want_test" = 1 ]; then bash tests/lib/kafka.sh fetch; fi
# pyarrow and DuckDB for the Parquet tests (tests/lib/pyenv.sh), once.
if [ "$want_test" = 1 ]; then bash tests/lib/pyenv.sh >/dev/null; fi
# helm for the chart tests (built once from the Go module proxy) and the Go
# schema checks of tests/deploy/, into the test cache.
if [ "$want_test" = 1 ]; then bash tests/deploy/prepare.sh; fi
echo "install-deps: ok"
