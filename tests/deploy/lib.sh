# tests/deploy/lib.sh - sourced by tests/integration/deploy_*.sh after
# tests/lib/common.sh: renders the Compose stack and the Helm chart into
# files and runs the Go checks in tests/deploy/ on them.
TP_CACHE=${TP_CACHE:-$HOME/.cache/tickpipe}
DEPLOY_PROFILES=(default postgresql clickhouse cassandra simulator)
DEPLOY_STORES=(postgresql clickhouse cassandra)
DEPLOY_KUBE_VERSION=1.29.0

# The Go checks' module and build caches live in the tickpipe cache, so a
# second run compiles nothing.
deploy_go_env() {
  command -v go >/dev/null 2>&1 || fail "no go command: run scripts/install-deps.sh --test (golang-go)"
  export GOPATH="$TP_CACHE/go" GOMODCACHE="$TP_CACHE/go/pkg/mod" GOCACHE="$TP_CACHE/go-build"
  export GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
}

# render_compose DIR [once]: `docker-compose config` of every profile into
# DIR/<profile>.yaml, with deploy/.env.example as the .env. Debian's
# docker-compose 1.29 validates the file against its compose_spec.json and
# prints the same resolved file whatever the profile (the Go checks select
# each profile's services); with "once" it runs once and copies the result
# (about 3 s saved per profile on a loaded machine).
render_compose() {
  local dir=$1 once=${2:-} p args
  command -v docker-compose >/dev/null 2>&1 || fail "no docker-compose: run scripts/install-deps.sh --test"
  mkdir -p "$dir"
  for p in "${DEPLOY_PROFILES[@]}"; do
    if [ -n "$once" ] && [ "$p" != default ]; then
      cp "$dir/default.yaml" "$dir/$p.yaml"
      continue
    fi
    args=()
    [ "$p" = default ] || args=(--profile "$p")
    docker-compose -f "$TP_SOURCE_DIR/deploy/compose.yaml" --env-file "$TP_SOURCE_DIR/deploy/.env.example" \
      "${args[@]}" config >"$dir/$p.yaml" 2>"$dir/$p.err" ||
      fail "docker-compose config, profile $p: $(cat "$dir/$p.err")"
  done
}

# helm_bin: sets HELM (built once, cached).
helm_bin() {
  HELM=$("$TP_SOURCE_DIR/tests/deploy/helm.sh") || fail "could not build helm (see above)"
}

# render_chart DIR: `helm template` of the chart with the default values and
# with each store and the other value sets the docs describe, into
# DIR/<case>.yaml. Sets DEPLOY_EXTERNAL_SECRETS for the existing-Secret case.
render_chart() {
  local dir=$1 chart="$TP_SOURCE_DIR/deploy/helm/tickpipe"
  mkdir -p "$dir"
  local -A cases=(
    [default]=""
    [postgresql]="--set store.type=postgresql --set store.postgresql.host=db.example --set store.postgresql.password=p@ss/w:rd --set finnhub.token=t"
    [clickhouse]="--set store.type=clickhouse --set store.clickhouse.host=ch.example --set store.clickhouse.password=pw --set process.replicas=3"
    [cassandra]="--set store.type=cassandra --set store.cassandra.hosts={c1,c2} --set store.cassandra.user=u --set store.cassandra.password=pw --set store.cassandra.params=replication=dc1:3 --set process.replicas=6"
    [existing]="--set store.existingSecret=my-store --set finnhub.existingSecret=my-token --set kafka.createTopic=true --set kafka.saslPassword=s --set kafka.properties.security\\.protocol=SASL_SSL --set kafka.properties.sasl\\.mechanisms=SCRAM-SHA-512 --set serve.replicas=2 --set process.podDisruptionBudget.enabled=false"
    [monitoring]="--set metrics.serviceMonitor.enabled=true --set metrics.serviceMonitor.labels.release=kube-prometheus-stack --set metrics.port=9200 --set serve.ingress.enabled=true --set serve.ingress.className=nginx --set serve.ingress.tls[0].secretName=tp-tls --set serve.ingress.tls[0].hosts[0]=tickpipe.example.com --set kafdrop.enabled=true"
    [no-annotations]="--set metrics.podAnnotations=false --set serve.ingress.enabled=true --set serve.ingress.hosts[0].host= --set serve.ingress.hosts[0].paths[0].path=/tickpipe"
  )
  local c
  for c in "${!cases[@]}"; do
    # shellcheck disable=SC2086 # the case strings are word lists
    "$HELM" template tp "$chart" --kube-version "$DEPLOY_KUBE_VERSION" ${cases[$c]} >"$dir/$c.yaml" 2>"$dir/$c.err" ||
      fail "helm template ($c): $(cat "$dir/$c.err")"
  done
  export DEPLOY_EXTERNAL_SECRETS=my-store,my-token
}

# deploy_go_test REGEX: run the Go checks whose names match REGEX.
deploy_go_test() {
  deploy_go_env
  (cd "$TP_SOURCE_DIR/tests/deploy" && go test -count=1 -v -run "$1" ./...) >"$TMP/go-test.log" 2>&1 ||
    { cat "$TMP/go-test.log"; fail "go test -run '$1' in tests/deploy"; }
  grep -E '^(=== RUN|--- |ok|PASS|FAIL)|: (profile|chart|tp|default|postgresql|clickhouse|cassandra|existing|monitoring|no-annotations)|invocations' "$TMP/go-test.log" | grep -v '^=== RUN' || true
}
