#!/usr/bin/env bash
# deploy_helm.sh - the Helm chart (deploy/helm/tickpipe): `helm lint` and
# `helm template` with the default values and with each store, the rendered
# manifests strictly decoded into the k8s.io/api types and checked against
# each other (tests/deploy/manifests_test.go; with every option on too:
# ServiceMonitor, Ingress, Kafdrop), and the chart's own guard
# (process replicas above the partition count) refusing to render.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/deploy/lib.sh"
chart="$TP_SOURCE_DIR/deploy/helm/tickpipe"
start=$(date +%s)
helm_bin
for s in default "${DEPLOY_STORES[@]}" monitoring; do
  args=()
  case $s in
    default) ;;
    monitoring) args=(--set metrics.serviceMonitor.enabled=true --set serve.ingress.enabled=true --set kafdrop.enabled=true) ;;
    *) args=(--set "store.type=$s") ;;
  esac
  "$HELM" lint --strict "$chart" "${args[@]}" >"$TMP/lint-$s.log" 2>&1 || { cat "$TMP/lint-$s.log"; fail "helm lint ($s)"; }
done
ok "helm lint --strict: default values, ${DEPLOY_STORES[*]}, and ServiceMonitor, Ingress and Kafdrop on"
render_chart "$TMP/chart"
grep -q 'TICKPIPE_STORE: "postgresql://tickpipe:p%40ss%2Fw%3Ard@db.example:5432/tickpipe"' "$TMP/chart/postgresql.yaml" ||
  fail "the PostgreSQL URL is not built (or not percent-encoded): $(grep TICKPIPE_STORE "$TMP/chart/postgresql.yaml")"
grep -q 'TICKPIPE_STORE: "clickhouse://ch.example:8123/tickpipe?user=default&password=pw"' "$TMP/chart/clickhouse.yaml" ||
  fail "the ClickHouse URL: $(grep TICKPIPE_STORE "$TMP/chart/clickhouse.yaml")"
grep -q 'TICKPIPE_STORE: "cassandra://u:pw@c1:9042,c2:9042/market?replication=dc1:3"' "$TMP/chart/cassandra.yaml" ||
  fail "the Cassandra URL: $(grep TICKPIPE_STORE "$TMP/chart/cassandra.yaml")"
ok "helm template: $(ls "$TMP/chart"/*.yaml | wc -l) value sets rendered, store URLs as documented"
# the optional objects render only when asked for, and as asked
for k in ServiceMonitor Ingress; do
  ! grep -q "^kind: $k\$" "$TMP/chart/default.yaml" || fail "the default values render a $k"
  grep -q "^kind: $k\$" "$TMP/chart/monitoring.yaml" || fail "monitoring values render no $k"
done
! grep -q 'kafdrop' "$TMP/chart/default.yaml" || fail "the default values render Kafdrop"
grep -q 'image: "obsidiandynamics/kafdrop:' "$TMP/chart/monitoring.yaml" || fail "kafdrop.enabled renders no Kafdrop"
grep -q '^kind: StatefulSet$' "$TMP/chart/default.yaml" || fail "process is not a StatefulSet"
grep -q 'prometheus.io/scrape: "true"' "$TMP/chart/default.yaml" || fail "no scrape annotations by default"
! grep -q 'prometheus.io/scrape' "$TMP/chart/no-annotations.yaml" || fail "metrics.podAnnotations=false keeps the annotations"
grep -q -- '- "0.0.0.0:9200"' "$TMP/chart/monitoring.yaml" || fail "metrics.port is not the --metrics port"
ok "ServiceMonitor, Ingress and Kafdrop render only when enabled; process is a StatefulSet; scrape annotations follow metrics.podAnnotations"
rc=0
"$HELM" template tp "$chart" --kube-version "$DEPLOY_KUBE_VERSION" --set process.replicas=7 >/dev/null 2>"$TMP/too-many.err" || rc=$?
[ "$rc" != 0 ] || fail "7 process replicas over 6 partitions rendered"
grep -q "process.replicas (7) exceeds kafka.partitions (6)" "$TMP/too-many.err" || fail "no reason given: $(cat "$TMP/too-many.err")"
rc=0
"$HELM" template tp "$chart" --kube-version "$DEPLOY_KUBE_VERSION" --set store.type=mysql >/dev/null 2>"$TMP/bad-store.err" || rc=$?
[ "$rc" != 0 ] && grep -q 'store.type must be one of the following: "postgresql", "clickhouse", "cassandra"' "$TMP/bad-store.err" ||
  fail "an unknown store type rendered or gave no reason: $(cat "$TMP/bad-store.err")"
rc=0
"$HELM" template tp "$chart" --kube-version "$DEPLOY_KUBE_VERSION" --set process.replicas=two >/dev/null 2>"$TMP/bad-n.err" || rc=$?
[ "$rc" != 0 ] && grep -q 'process.replicas: Invalid type. Expected: integer' "$TMP/bad-n.err" ||
  fail "a non-numeric replica count rendered or gave no reason: $(cat "$TMP/bad-n.err")"
ok "the chart refuses more process replicas than partitions, an unknown store and a bad count (values.schema.json), saying why"
DEPLOY_MANIFESTS="$TMP/chart" deploy_go_test 'TestManifests|TestStrictDecodingRejects'
ok "rendered manifests decode strictly into k8s.io/api types and agree with each other ($(($(date +%s) - start)) s)"
# values: config becomes the config file every pod reads; it checks, and the
# default (no settings) is an empty file.
"$HELM" template tp "$chart" --kube-version "$DEPLOY_KUBE_VERSION" --set config.allowed-lateness=30s \
  --set config.max-limit=1000 --set 'config.symbols={AAPL,MSFT}' >"$TMP/config.yaml" || fail "helm template with config"
for case in config default; do
  f="$TMP/config.yaml"
  [ "$case" = config ] || f="$TMP/chart/default.yaml"
  python3 - "$f" "$TMP/tickpipe-$case.yaml" <<'PY' || fail "no tickpipe.yaml in the ConfigMap ($case)"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cm = [d for d in docs if d["kind"] == "ConfigMap" and "tickpipe.yaml" in d.get("data", {})]
open(sys.argv[2], "w").write(cm[0]["data"]["tickpipe.yaml"])
mounted = [d for d in docs if d["kind"] == "Deployment"]
for d in mounted:
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "TICKPIPE_CONFIG", "value": "/etc/tickpipe/tickpipe.yaml"} in c["env"], d["metadata"]["name"]
    assert any(m["mountPath"] == "/etc/tickpipe" for m in c["volumeMounts"]), d["metadata"]["name"]
PY
  "$TICKPIPE" config check "$TMP/tickpipe-$case.yaml" >"$TMP/check-$case.out" 2>&1 ||
    fail "the chart's config file ($case) does not check: $(cat "$TMP/check-$case.out")"
done
grep -qx '  allowed-lateness: run, process' "$TMP/check-config.out" || fail "config values: $(cat "$TMP/check-config.out")"
"$TICKPIPE" serve --config "$TMP/tickpipe-config.yaml" --print-config | grep -qx "max-limit: 1000  # file $TMP/tickpipe-config.yaml:.*" ||
  fail "serve does not take max-limit from the chart's config file"
ok "values: config is the config file (/etc/tickpipe/tickpipe.yaml, TICKPIPE_CONFIG) of every pod, and it checks"
