#!/usr/bin/env bash
# deploy_stack.sh - the Compose stack's tickpipe services, run as Compose
# resolves them (docker-compose config, profiles postgresql and simulator)
# but as processes on loopback instead of containers: the command lines and
# environments are taken from the resolved file, and only the addresses
# change (kafka:9092 -> a real Apache Kafka from tests/lib/kafka.sh,
# postgresql -> a throwaway PostgreSQL from tests/lib/postgres.sh, the
# 0.0.0.0 listen addresses -> free loopback ports). The topics are made as
# the topic step makes them (its partition count read from its command).
# Checks: trades reach PostgreSQL, both processors get partitions of the one
# group, serve's /healthz passes the image's health check and its API lists
# the symbols, and SIGTERM drains every stage to exit 0.
# Then the same for the Helm chart on the same Kafka and PostgreSQL: the
# chart rendered with their addresses as values, each workload's args and
# environment (ConfigMap, Secret and pod-name references resolved and $(VAR)
# expanded as the kubelet does) run as processes, one per replica, process's
# named as the StatefulSet names its pods (ConfigMap volumes as files in
# $TMP, the config file among them); only the 0.0.0.0 listen addresses
# move to loopback. More trades must reach the store through the chart's
# stages, each process member under its pod name as static member id.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/kafka.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
source "$TP_SOURCE_DIR/tests/deploy/lib.sh"
start=$(date +%s)
render_compose "$TMP/compose" once
cfg="$TMP/compose/postgresql.yaml"

# service NAME: its command (one word a line) and environment (KEY=VALUE a
# line) from the resolved file, into $TMP/NAME.args and $TMP/NAME.env
service() {
  /usr/bin/python3 - "$cfg" "$1" "$TMP/$1" <<'EOF' || fail "service $1 not in the resolved compose file"
import sys, yaml
cfg, name, out = sys.argv[1:]
s = yaml.safe_load(open(cfg))["services"][name]
cmd = s["command"] if isinstance(s["command"], list) else s["command"].split()
# bind mounts: a path under a mount's target in the command or environment
# is the mounted file of the checkout
binds = {}
for v in s.get("volumes") or []:
    src, dst = (v["source"], v["target"]) if isinstance(v, dict) else v.split(":")[:2]
    if src.startswith("/"):
        binds[dst] = src
def local(w):
    for dst, src in binds.items():
        if w == dst or w.startswith(dst + "/"):
            return src + w[len(dst):]
    return w
open(out + ".args", "w").write("".join(local(str(w)) + "\n" for w in cmd))
open(out + ".env", "w").write("".join("%s=%s\n" % (k, local(str(v))) for k, v in (s.get("environment") or {}).items()))
EOF
}
# start_service NAME LOGNAME SED: start tickpipe with the service's args and
# environment, both rewritten by the sed script SED
start_service() {
  local name=$1 log=$2 sedscript=$3 args envs
  mapfile -t args < <(sed -e "$sedscript" "$TMP/$name.args")
  mapfile -t envs < <(sed -e "$sedscript" "$TMP/$name.env")
  bg "$log" env "${envs[@]}" "$TICKPIPE" "${args[@]}"
}
for s in kafka-init simulate produce process-postgresql-1 process-postgresql-2 serve-postgresql; do service "$s"; done
parts=$(tr '\n' ' ' <"$TMP/kafka-init.args" | sed -n 's/.*--partitions \([0-9][0-9]*\).*/\1/p')
[ -n "$parts" ] || fail "no --partitions in the topic step: $(cat "$TMP/kafka-init.args")"

kafka_start 1
pg_start
kafka_topic market "$parts"
kafka_topic market.dlq "$parts"
sim_port=$(free_port)
http_port=$(free_port)
pg_hostport=${PG_URL#*@}
pg_hostport=${pg_hostport%%/*}
rewrite="s|kafka:9092|$BS|g; s|0\.0\.0\.0:8765|127.0.0.1:$sim_port|; s|0\.0\.0\.0:8080|127.0.0.1:$http_port|;
  s|0\.0\.0\.0:9100|127.0.0.1:0|;
  s|^TICKPIPE_STORE=postgresql://.*|TICKPIPE_STORE=$PG_URL|; s|^FINNHUB_WS_URL=.*|FINNHUB_WS_URL=ws://127.0.0.1:$sim_port|"
grep -q '^TICKPIPE_STORE=postgresql://tickpipe:.*@postgresql/tickpipe$' "$TMP/process-postgresql-1.env" ||
  fail "the processors' store is not the stack's PostgreSQL: $(cat "$TMP/process-postgresql-1.env")"
start_service simulate sim "$rewrite"
wait_port "$sim_port" 30
start_service produce prod "$rewrite"
start_service process-postgresql-1 proc1 "$rewrite"
start_service process-postgresql-2 proc2 "$rewrite"
start_service serve-postgresql serve "$rewrite"
wait_port "$http_port" 30

# a stage that exits (a flag the command lacks, a bad address) fails the
# test at once, with its log, instead of at the end of a wait
alive() {
  local p pid
  for p in sim prod proc1 proc2 serve; do
    pid=$(eval echo "\$PID_$p")
    kill -0 "$pid" 2>/dev/null || fail "$p exited early: $(tail -5 "$TMP/$p.log")"
  done
}
stored() { alive && [ "$(psql_q 'SELECT count(*) FROM trades' 2>/dev/null || echo 0)" -ge "$1" ]; }
both_assigned() { alive && grep -q 'assigned market \[' "$TMP/proc1.log" && grep -q 'assigned market \[' "$TMP/proc2.log"; }
wait_for 120 both_assigned
wait_for 120 stored 1000
ok "simulate -> produce -> Kafka ($parts partitions) -> 2 processors -> PostgreSQL: $(psql_q 'SELECT count(*) FROM trades') trades stored"
TP_HEALTHCHECK_CMDLINE=/proc/$PID_serve/cmdline "$TP_SOURCE_DIR/deploy/tickpipe-healthcheck" >"$TMP/hc" 2>&1 ||
  fail "serve's health check: $(cat "$TMP/hc")"
n_sym=$(curl -fsS "http://127.0.0.1:$http_port/api/symbols" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d if isinstance(d, list) else d.get("symbols", [])))')
[ "$n_sym" -ge 1 ] || fail "serve lists no symbols"
ok "serve: the image's health check passes on the --http of its command line; /api/symbols lists $n_sym symbols"
# produce and the processors serve --metrics (moved to a free loopback port)
for p in prod proc1 proc2; do
  murl=$(sed -n 's|.*metrics at \(http://127.0.0.1:[0-9]*\)/metrics.*|\1|p' "$TMP/$p.log" | head -1)
  [ -n "$murl" ] || fail "$p prints no metrics address: $(tail -3 "$TMP/$p.log")"
  curl -fsS "$murl/metrics" >"$TMP/$p.metrics" || fail "$p: $murl/metrics"
  grep -q '^tickpipe_build_info{' "$TMP/$p.metrics" || fail "$p: no tickpipe_build_info on $murl/metrics"
  wait_for 30 curl -fsS -o /dev/null "$murl/readyz"
done
ok "produce and both processors answer /metrics and /readyz on their --metrics address"

# SIGTERM, as `docker compose stop` sends: each stage drains and exits 0
for p in prod proc1 proc2 serve sim; do
  pid=$(eval echo "\$PID_$p")
  kill -TERM "$pid"
  rc=0
  timeout 60 tail --pid="$pid" -f /dev/null || fail "$p did not stop within 60 s of SIGTERM"
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || fail "$p exited $rc after SIGTERM: $(tail -5 "$TMP/$p.log")"
done
ok "SIGTERM: produce, both processors, serve and simulate drained and exited 0 ($(($(date +%s) - start)) s)"

# --- the chart's Deployments on the same servers -----------------------------
helm_bin
start_service simulate sim2 "$rewrite"
wait_port "$sim_port" 30
"$HELM" template tp "$TP_SOURCE_DIR/deploy/helm/tickpipe" --kube-version "$DEPLOY_KUBE_VERSION" \
  --set kafka.brokers="$BS" --set store.url="$PG_URL" --set finnhub.token=t --set config.max-limit=321 \
  --set finnhub.wsUrl="ws://127.0.0.1:$sim_port" >"$TMP/chart.yaml" || fail "helm template"
# deployment NAME: the container's args and its environment of the
# Deployment or StatefulSet NAME, with configMapKeyRef and secretKeyRef
# resolved and $(VAR) in args expanded (as the kubelet does; the pod's name
# stays @POD_NAME@ for the caller), into $TMP/NAME.args and $TMP/NAME.env;
# prints the replica count
deployment() {
  /usr/bin/python3 - "$TMP/chart.yaml" "$1" "$TMP/$1" <<'EOF' || fail "Deployment $1 not rendered"
import os, sys, yaml
path, name, out = sys.argv[1:]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
data = {}
for d in docs:
    if d["kind"] == "ConfigMap":
        data[("cm", d["metadata"]["name"])] = d.get("data", {})
    if d["kind"] == "Secret":
        data[("secret", d["metadata"]["name"])] = d.get("stringData", {})
dep = next(d for d in docs if d["kind"] in ("Deployment", "StatefulSet") and d["metadata"]["name"] == name)
c = dep["spec"]["template"]["spec"]["containers"][0]
# ConfigMap volumes: their files under out.mnt/MOUNTPATH, and a path under a
# mount path in an argument or variable points there
vols = {v["name"]: v for v in dep["spec"]["template"]["spec"].get("volumes", [])}
mounts = {}
for m in c.get("volumeMounts", []):
    cmv = vols[m["name"]].get("configMap")
    if not cmv:
        continue
    d = out + ".mnt" + m["mountPath"]
    os.makedirs(d, exist_ok=True)
    cm = data[("cm", cmv["name"])]
    for it in cmv.get("items") or [{"key": k, "path": k} for k in cm]:
        open(os.path.join(d, it["path"]), "w").write(cm[it["key"]])
    mounts[m["mountPath"]] = d
def local(v):
    for mp, d in mounts.items():
        if v.startswith(mp + "/"):
            return d + v[len(mp):]
    return v
env, envd = [], {}
for e in c.get("env", []):
    if "value" in e:
        v = e["value"]
    else:
        vf = e["valueFrom"]
        if "fieldRef" in vf:
            assert vf["fieldRef"]["fieldPath"] == "metadata.name", vf
            v = "@POD_NAME@"
        else:
            kind, ref = ("cm", vf["configMapKeyRef"]) if "configMapKeyRef" in vf else ("secret", vf["secretKeyRef"])
            v = data[(kind, ref["name"])][ref["key"]]
    env.append("%s=%s" % (e["name"], local(v)))
    envd[e["name"]] = local(v)
import re
args = [local(re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: envd.get(m.group(1), m.group(0)), str(a))) for a in c["args"]]
open(out + ".args", "w").write("".join(a + "\n" for a in args))
open(out + ".env", "w").write("".join(x + "\n" for x in env))
print(dep["spec"]["replicas"])
EOF
}
before=$(psql_q 'SELECT count(*) FROM trades')
loopback="s|0\.0\.0\.0:9100|127.0.0.1:0|"
deployment tp-tickpipe-produce >/dev/null
start_service tp-tickpipe-produce cprod "$loopback"
replicas=$(deployment tp-tickpipe-process)
[ "$replicas" -ge 2 ] || fail "the chart's process has $replicas replicas by default, want at least 2"
grep -qx -- '--member-id' "$TMP/tp-tickpipe-process.args" && grep -qx '@POD_NAME@' "$TMP/tp-tickpipe-process.args" ||
  fail "the chart's process is not --member-id <pod name>: $(tr '\n' ' ' <"$TMP/tp-tickpipe-process.args")"
chart_procs=()
for ((i = 1; i <= replicas; i++)); do
  # the StatefulSet's pods are <name>-0, <name>-1, ...
  start_service tp-tickpipe-process "cproc$i" "$loopback; s|@POD_NAME@|tp-tickpipe-process-$((i - 1))|"
  chart_procs+=("cproc$i")
done
deployment tp-tickpipe-serve >/dev/null
start_service tp-tickpipe-serve cserve "s|0\.0\.0\.0:8080|127.0.0.1:$http_port|"
wait_port "$http_port" 30
calive() {
  local p pid
  for p in sim2 cprod "${chart_procs[@]}" cserve; do
    pid=$(eval echo "\$PID_$p")
    kill -0 "$pid" 2>/dev/null || fail "$p (from the chart) exited early: $(tail -5 "$TMP/$p.log")"
  done
}
chart_assigned() {
  local p
  calive
  for p in "${chart_procs[@]}"; do grep -q 'assigned market \[' "$TMP/$p.log" || return 1; done
}
chart_stored() { calive && [ "$(psql_q 'SELECT count(*) FROM trades' 2>/dev/null || echo 0)" -ge $((before + 500)) ]; }
wait_for 120 chart_assigned
wait_for 120 chart_stored
for ((i = 1; i <= replicas; i++)); do
  grep -q "static group member tp-tickpipe-process-$((i - 1))" "$TMP/cproc$i.log" ||
    fail "cproc$i is not the static member tp-tickpipe-process-$((i - 1)): $(grep -m1 'static group' "$TMP/cproc$i.log")"
done
TP_HEALTHCHECK_CMDLINE=/proc/$PID_cserve/cmdline "$TP_SOURCE_DIR/deploy/tickpipe-healthcheck" >"$TMP/hc2" 2>&1 ||
  fail "the chart's serve: $(cat "$TMP/hc2")"
curl -fsS -o /dev/null "http://127.0.0.1:$http_port/healthz" || fail "the chart's probe path /healthz"
# the chart's config file (values: config, mounted from the ConfigMap) is read: max-limit 321
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/api/trades?symbol=AAPL&limit=322")
[ "$code" = 400 ] || fail "limit=322 over the config file's max-limit 321: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/api/trades?symbol=AAPL&limit=321")
[ "$code" = 200 ] || fail "limit=321, the config file's max-limit: HTTP $code"
for p in cprod "${chart_procs[@]}" cserve sim2; do
  pid=$(eval echo "\$PID_$p")
  kill -TERM "$pid"
  rc=0
  timeout 60 tail --pid="$pid" -f /dev/null || fail "$p did not stop within 60 s of SIGTERM"
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || fail "$p exited $rc after SIGTERM: $(tail -5 "$TMP/$p.log")"
done
ok "the chart's produce, $replicas processors and serve (args, env and config file as rendered) stored $(($(psql_q 'SELECT count(*) FROM trades') - before)) more trades, serve healthy, SIGTERM exit 0 ($(($(date +%s) - start)) s)"
