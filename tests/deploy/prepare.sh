#!/usr/bin/env bash
# tests/deploy/prepare.sh - run by scripts/install-deps.sh --test: build the
# deploy tests' helm (tests/deploy/helm.sh) and compile the Go checks once,
# so the first test run on a new machine spends its time testing, not
# building (a fresh helm build takes 2-9 minutes on 2 loaded cores, close to
# ctest's per-test timeout). Everything goes to ${TP_CACHE:-$HOME/.cache/tickpipe}.
set -euo pipefail
cd "$(dirname "$0")"
TP_CACHE=${TP_CACHE:-$HOME/.cache/tickpipe}
./helm.sh >/dev/null
export GOPATH="$TP_CACHE/go" GOMODCACHE="$TP_CACHE/go/pkg/mod" GOCACHE="$TP_CACHE/go-build"
export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
go test -count=1 -run '^$' ./... >/dev/null
echo "deploy tests: helm and the Go checks are ready"
