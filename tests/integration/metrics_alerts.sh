#!/usr/bin/env bash
# metrics_alerts.sh - the monitoring files as Prometheus and Grafana read
# them: deploy/prometheus/alerts.yaml passes `promtool check rules` and its
# unit tests (`promtool test rules alerts_test.yaml`: each alert fires on the
# series it is for, at the time it should, and stays quiet on healthy ones),
# the Compose stack's prometheus.yml passes `promtool check config`, and the
# operations dashboard uses only the provisioned Prometheus data source.
# (metrics_conventions.sh runs the dashboard's queries and the rules on a
# real Prometheus scraping real stages.)
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v promtool >/dev/null || fail "promtool missing (apt-get install prometheus)"
dir="$TP_SOURCE_DIR/deploy/prometheus"
promtool check rules "$dir/alerts.yaml" >"$TMP/check.log" 2>&1 || fail "promtool check rules: $(cat "$TMP/check.log")"
n=$(sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p' "$TMP/check.log")
[ "${n:-0}" -ge 9 ] || fail "alerts.yaml has ${n:-0} rules: $(cat "$TMP/check.log")"
(cd "$dir" && promtool test rules alerts_test.yaml) >"$TMP/test.log" 2>&1 || fail "promtool test rules: $(cat "$TMP/test.log")"
ok "alerts.yaml: $n rules pass promtool check rules and their unit tests"
# every alert of alerts.yaml has a unit test
for a in $(sed -n 's/^ *- alert: *\([A-Za-z]*\).*/\1/p' "$dir/alerts.yaml"); do
  grep -q "alertname: $a\$" "$dir/alerts_test.yaml" || fail "alert $a has no unit test"
done
ok "every alert of alerts.yaml has a unit test"
promtool check config "$dir/prometheus.yml" >"$TMP/config.log" 2>&1 || fail "promtool check config: $(cat "$TMP/config.log")"
ok "the Compose stack's prometheus.yml passes promtool check config (with the rules)"
/usr/bin/python3 - "$TP_SOURCE_DIR/deploy/grafana" <<'PYEOF' || fail "the operations dashboard and its data source disagree"
import json, re, sys
root = sys.argv[1]
ds = open(root + "/provisioning/datasources/prometheus.yaml").read()
uid = re.search(r"^\s*uid:\s*(\S+)", ds, re.M).group(1)
assert re.search(r"^\s*type:\s*prometheus\s*$", ds, re.M), "data source type must be prometheus"
d = json.load(open(root + "/dashboards/tickpipe-operations.json"))
uids = {p["datasource"]["uid"] for p in d["panels"] if "datasource" in p}
uids |= {t["datasource"]["uid"] for p in d["panels"] for t in p.get("targets", [])}
assert uids == {uid}, f"panels use {uids}, provisioning defines {uid}"
titles = " | ".join(p["title"] for p in d["panels"])
for want in ["Trades in per second", "Feed silence", "gaps", "Trades stored per second", "Receipt -> durable",
             "Consumer lag", "Store errors", "Stages up"]:
    assert want in titles, f"no panel for {want}: {titles}"
old = json.load(open(root + "/dashboards/tickpipe.json"))
assert d["uid"] != old["uid"], "the two dashboards share a uid"
PYEOF
ok "the operations dashboard uses the provisioned Prometheus data source and has the panels the docs name"
