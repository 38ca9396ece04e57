#!/usr/bin/env bash
# tests/deploy/helm.sh - print the path of a helm binary for the chart tests,
# building it once with `go install` through the Go module proxy (Debian has
# no helm package). Cached as ${TP_CACHE:-$HOME/.cache/tickpipe}/bin/helm-VERSION;
# the module and build caches of the build are temporary and removed after.
#
# Why helm v3.11.3: it is the newest helm whose module builds with Go 1.19,
# the golang-go of Debian bookworm that scripts/install-deps.sh --test
# installs on a fresh machine (later helms need Go 1.20 and up); a newer
# Go in PATH builds it as well. Its default Kubernetes version for
# `helm template` is 1.20, so the tests pass --kube-version.
set -euo pipefail
HELM_VERSION=v3.11.3
cache=${TP_CACHE:-$HOME/.cache/tickpipe}
bin=$cache/bin/helm-$HELM_VERSION
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null 2>&1 ||
  { echo "helm.sh: no go command to build helm with: run scripts/install-deps.sh --test (golang-go)" >&2; exit 1; }
mkdir -p "$cache/bin"
exec 9>"$cache/bin/.helm.lock"
flock 9 # two tests may ask at once (ctest -j2): one builds, the other waits
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
tmp=$(mktemp -d "$cache/bin/.helm-build.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
echo "helm.sh: building helm $HELM_VERSION with $(go version) (once; about 2 minutes on 2 cores)" >&2
start=$(date +%s)
env GOPATH="$tmp/gopath" GOMODCACHE="$tmp/gopath/pkg/mod" GOCACHE="$tmp/gocache" GOBIN="$tmp/bin" \
  GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0 \
  go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
"$tmp/bin/helm" version --short >&2
mv "$tmp/bin/helm" "$bin"
echo "helm.sh: built in $(($(date +%s) - start)) s: $bin" >&2
echo "$bin"
