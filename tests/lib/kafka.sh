# kafka.sh - a real Apache Kafka cluster (KRaft mode) on loopback for the
# integration tests and benchmarks.
#
# The broker is Apache Kafka itself (org.apache.kafka:kafka_2.13, version in
# tests/kafka/pom.xml), run from its jars on the system JRE. Maven resolves
# the jars and their runtime dependencies from Maven Central once, into
# ${TP_CACHE:-$HOME/.cache/tickpipe}/kafka (outside the tree): `bash
# tests/lib/kafka.sh fetch` (scripts/install-deps.sh --test runs it), or the
# first kafka_start. Nothing is downloaded while tickpipe itself runs.
#
# Source after common.sh. Gives:
#   kafka_start [N]        N=1 (default): one node that is broker and
#                          controller (storage formatted --standalone).
#                          N=3: three nodes, each broker and controller, a
#                          static quorum of three voters. Sets BS (the
#                          bootstrap servers) and waits until all N brokers
#                          answer metadata (kcat -L). With KAFKA_SASL=1 each
#                          node also has a SASL_PLAINTEXT/PLAIN listener
#                          (user tickpipe, password $KAFKA_SASL_PASSWORD);
#                          BS_SASL lists those. Stopped and removed at exit.
#   kafka_topic NAME PARTS [RF] [MIN_ISR]   create a topic (tests/tools/
#                          kafka_admin), waiting until every partition has
#                          a leader
#   kafka_kill9 ID / kafka_stop ID / kafka_restart ID   one node: SIGKILL,
#                          SIGTERM (controlled shutdown) and wait, start
#                          again on the same ports and data
#   kafka_wait_brokers N   until metadata lists N live brokers
#   kafka_leader TOPIC P   the node id leading partition P
#   kafka_isr TOPIC P      the in-sync replicas of partition P ("1,2,3")
#   kafka_seq_breaks TOPIC [NODE]   producer sequence gaps or repeats in the
#                          topic's log (see there)
#
# Broker settings are the defaults except what makes a test cluster small
# and quick: 256 MB heaps, internal topics with few partitions, no initial
# rebalance delay, and a broker session of 3 s (a killed node is fenced and
# its partitions get new leaders within seconds, as with a tuned cluster).

KAFKA_POM="${TP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/kafka/pom.xml"
KAFKA_VERSION=$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$KAFKA_POM")
KAFKA_CACHE="${TP_CACHE:-$HOME/.cache/tickpipe}/kafka"
KAFKA_LIBS="$KAFKA_CACHE/$KAFKA_VERSION/libs"
KAFKA_HEAP="${KAFKA_HEAP:--Xmx256m -Xms64m}"
KAFKA_SASL_PASSWORD="${KAFKA_SASL_PASSWORD:-tp-secret-$$}"

# kafka_fetch: the broker's jars in the cache (Maven, once; later runs use
# the cache and need no network). Concurrent tests take turns on a lock.
kafka_fetch() {
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  command -v mvn >/dev/null || { echo "kafka.sh: mvn missing (scripts/install-deps.sh --test installs it)" >&2; return 1; }
  command -v java >/dev/null || { echo "kafka.sh: java missing (scripts/install-deps.sh --test installs it)" >&2; return 1; }
  mkdir -p "$KAFKA_CACHE"
  (
    flock 9
    [ -f "$KAFKA_LIBS/.complete" ] && exit 0
    rm -rf "$KAFKA_LIBS.tmp"
    echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION into $KAFKA_LIBS" >&2
    mvn -q -B -f "$KAFKA_POM" -Dmaven.repo.local="$KAFKA_CACHE/m2" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" >&2 || exit 1
    ls "$KAFKA_LIBS.tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || exit 1
    rm -rf "$KAFKA_LIBS" && mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS" && touch "$KAFKA_LIBS/.complete"
  ) 9>"$KAFKA_CACHE/.lock"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # run as a script: `kafka.sh fetch`
  set -euo pipefail
  [ "${1:-}" = fetch ] || { echo "usage: kafka.sh fetch" >&2; exit 2; }
  kafka_fetch
  echo "kafka.sh: Apache Kafka $KAFKA_VERSION in $KAFKA_LIBS"
  exit 0
fi

command -v kcat >/dev/null || fail "kcat missing (scripts/install-deps.sh --test installs it)"
KAFKA_N=0
KAFKA_DIR="$TMP/kafka"
declare -a KAFKA_PID KAFKA_PORT KAFKA_CPORT KAFKA_SPORT

# shellcheck disable=SC2206 # KAFKA_HEAP is a list of JVM flags
KAFKA_JAVA=(java $KAFKA_HEAP -XX:+UseSerialGC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.yaml" -cp "$KAFKA_LIBS/*")
_kafka_java() { "${KAFKA_JAVA[@]}" "$@"; }

_kafka_config() {
  local id=$1 n=$2 voters="" i listeners protos advertised
  for ((i = 1; i <= n; i++)); do voters+="${voters:+,}$i@127.0.0.1:${KAFKA_CPORT[i]}"; done
  listeners="PLAINTEXT://127.0.0.1:${KAFKA_PORT[id]},CONTROLLER://127.0.0.1:${KAFKA_CPORT[id]}"
  advertised="PLAINTEXT://127.0.0.1:${KAFKA_PORT[id]}"
  protos="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [ "${KAFKA_SASL:-0}" = 1 ]; then
    listeners+=",SASL_PLAINTEXT://127.0.0.1:${KAFKA_SPORT[id]}"
    advertised+=",SASL_PLAINTEXT://127.0.0.1:${KAFKA_SPORT[id]}"
    protos+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
  fi
  local rf=$((n < 3 ? n : 3))
  cat <<EOF
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$protos
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/$id/data
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
replica.lag.time.max.ms=10000
log.segment.bytes=16777216
EOF
  if [ "${KAFKA_SASL:-0}" = 1 ]; then
    cat <<EOF
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="tickpipe" password="$KAFKA_SASL_PASSWORD" user_tickpipe="$KAFKA_SASL_PASSWORD";
EOF
  fi
}

# _kafka_launch ID: start node ID (formatted already) in the background.
_kafka_launch() {
  local id=$1
  # exec: $! is the JVM itself, so kill -9 hits the broker, not a shell
  (exec "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_DIR/$id/server.properties" >>"$TMP/kafka-$id.log" 2>&1) &
  KAFKA_PID[id]=$!
}

# _kafka_alive PID: the process runs (a JVM that exited stays a zombie until
# it is waited for, and kill -0 succeeds on a zombie).
_kafka_alive() {
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$s" ] && [ "${s:0:1}" != Z ]
}

# _kafka_is_node PID ID: PID runs and is node ID's JVM (its command line
# names the node's server.properties), not a process that was given the
# pid after the node exited and bash reaped it (pids wrap within minutes
# on a busy machine).
_kafka_is_node() {
  _kafka_alive "$1" && ps -o args= -p "$1" 2>/dev/null | grep -qF "$KAFKA_DIR/$2/server.properties"
}

_kafka_brokers_up() {
  local want=$1 got
  got=$(kcat -L -b "$BS" -m 3 2>/dev/null | sed -n 's/^ \([0-9]*\) brokers:$/\1/p')
  [ "${got:-0}" = "$want" ]
}
# kafka_wait_brokers N [SECONDS]: metadata lists N live (unfenced) brokers.
kafka_wait_brokers() {
  local want=$1 t=${2:-120} i id
  for ((i = 0; i < t * 5; i++)); do
    _kafka_brokers_up "$want" && return 0
    for ((id = 1; id <= KAFKA_N; id++)); do
      [ -n "${KAFKA_PID[id]}" ] && ! _kafka_alive "${KAFKA_PID[id]}" &&
        fail "Kafka node $id exited: $(tail -20 "$TMP/kafka-$id.log")"
    done
    sleep 0.2
  done
  fail "Kafka: $want brokers not up after ${t}s: $(kcat -L -b "$BS" -m 3 2>&1 | head -8)"
}

kafka_start() {
  local n=${1:-1} id cid
  command -v java >/dev/null || fail "java missing (scripts/install-deps.sh --test installs default-jre-headless)"
  kafka_fetch || fail "cannot fetch the Kafka broker's jars (Maven Central); see above"
  KAFKA_N=$n
  mkdir -p "$KAFKA_DIR"
  cat >"$KAFKA_DIR/log4j2.yaml" <<'EOF'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Logger:
      - name: kafka
        level: INFO
      - name: org.apache.kafka
        level: INFO
      - name: state.change.logger
        level: WARN
      - name: kafka.request.logger
        level: WARN
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
EOF
  for ((id = 1; id <= n; id++)); do
    KAFKA_PORT[id]=$(free_port)
    KAFKA_CPORT[id]=$(free_port)
    KAFKA_SPORT[id]=$(free_port)
  done
  BS="" BS_SASL=""
  for ((id = 1; id <= n; id++)); do
    BS+="${BS:+,}127.0.0.1:${KAFKA_PORT[id]}"
    BS_SASL+="${BS_SASL:+,}127.0.0.1:${KAFKA_SPORT[id]}"
  done
  # Kafka's own form (22 url-safe base64 characters), never starting with
  # '-': the storage tool would read such an id as an option (as Kafka's
  # Uuid.randomUuid, which draws again in that case)
  cid=$(/usr/bin/python3 -c '
import base64, uuid
while True:
    c = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not c.startswith("-"):
        break
print(c)')
  on_exit kafka_cleanup
  for ((id = 1; id <= n; id++)); do
    mkdir -p "$KAFKA_DIR/$id"
    _kafka_config "$id" "$n" >"$KAFKA_DIR/$id/server.properties"
    local fmt=(format -t "$cid" -c "$KAFKA_DIR/$id/server.properties")
    # one node: a dynamic quorum of itself; three: the static voters above
    if [ "$n" = 1 ]; then
      sed -i 's/^controller.quorum.voters=.*/controller.quorum.bootstrap.servers=127.0.0.1:'"${KAFKA_CPORT[1]}"'/' \
        "$KAFKA_DIR/1/server.properties"
      fmt+=(--standalone)
    fi
    _kafka_java kafka.tools.StorageTool "${fmt[@]}" >>"$TMP/kafka-$id.log" 2>&1 ||
      fail "Kafka storage format failed: $(tail -5 "$TMP/kafka-$id.log")"
  done
  for ((id = 1; id <= n; id++)); do _kafka_launch "$id"; done
  kafka_wait_brokers "$n" 180
  echo "  Kafka $KAFKA_VERSION: $n node(s) up, bootstrap $BS" >&2
}

# Nodes are signalled only while _kafka_is_node says the pid is still theirs.
kafka_cleanup() {
  local id
  for ((id = 1; id <= KAFKA_N; id++)); do
    if [ -n "${KAFKA_PID[id]:-}" ]; then
      _kafka_is_node "${KAFKA_PID[id]}" "$id" && kill -9 "${KAFKA_PID[id]}" 2>/dev/null
      wait "${KAFKA_PID[id]}" 2>/dev/null || true # 137: killed, as meant
    fi
    KAFKA_PID[id]=""
  done
  return 0
}

kafka_kill9() {
  local id=$1
  [ -n "${KAFKA_PID[id]}" ] || return 0
  ! _kafka_is_node "${KAFKA_PID[id]}" "$id" || kill -9 "${KAFKA_PID[id]}" 2>/dev/null || true
  wait "${KAFKA_PID[id]}" 2>/dev/null || true
  KAFKA_PID[id]=""
}
kafka_stop() {
  local id=$1 pid i
  pid=${KAFKA_PID[id]}
  [ -n "$pid" ] || return 0
  ! _kafka_is_node "$pid" "$id" || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do _kafka_is_node "$pid" "$id" || break; sleep 0.1; done
  ! _kafka_is_node "$pid" "$id" || kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  KAFKA_PID[id]=""
}
# kafka_stop_all: SIGTERM to every node at once (a cluster shut down), then
# wait for each as kafka_stop does.
kafka_stop_all() {
  local id
  for ((id = 1; id <= KAFKA_N; id++)); do
    [ -z "${KAFKA_PID[id]}" ] || ! _kafka_is_node "${KAFKA_PID[id]}" "$id" || kill -TERM "${KAFKA_PID[id]}" 2>/dev/null || true
  done
  for ((id = 1; id <= KAFKA_N; id++)); do kafka_stop "$id"; done
}
kafka_restart() {
  [ -z "${KAFKA_PID[$1]}" ] || fail "kafka_restart $1: node still running"
  _kafka_launch "$1"
}

# kafka_topic NAME PARTITIONS [RF] [MIN_ISR]
kafka_topic() {
  local args=(--brokers "$BS" create "$1" "$2" "${3:-1}")
  [ -n "${4:-}" ] && args+=(--config "min.insync.replicas=$4")
  "$TP_TOOLS_DIR/kafka_admin" "${args[@]}" || fail "cannot create topic $1"
}

# kafka_leader TOPIC PARTITION / kafka_isr TOPIC PARTITION (from kcat -L)
kafka_leader() {
  kcat -L -b "$BS" -t "$1" -m 5 2>/dev/null | sed -n "s/^ *partition $2, leader \([0-9-]*\),.*/\1/p"
}
kafka_isr() {
  kcat -L -b "$BS" -t "$1" -m 5 2>/dev/null | sed -n "s/^ *partition $2, .*isrs: \([0-9,]*\).*/\1/p"
}

# kafka_batches TOPIC PARTITION [NODE]: the partition's record batches as
# the broker stored them, read from its log segments by Kafka's own
# DumpLogSegments: one line "BASE_OFFSET COUNT PRODUCER_ID BASE_SEQ LAST_SEQ
# CODEC" per batch.
kafka_batches() {
  local node=${3:-1} f files=()
  for f in "$KAFKA_DIR/$node/data/$1-$2"/*.log; do [ -e "$f" ] && files+=("$f"); done
  [ "${#files[@]}" -gt 0 ] || return 0
  _kafka_java kafka.tools.DumpLogSegments --files "$(IFS=,; echo "${files[*]}")" 2>/dev/null |
    awk '/^baseOffset:/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1);
           print v["baseOffset:"], v["count:"], v["producerId:"], v["baseSequence:"], v["lastSequence:"], v["compresscodec:"] }'
}

# kafka_seq_breaks TOPIC [NODE]: the idempotence check, on the node's log
# segments read by Kafka's own DumpLogSegments: per partition and producer
# (id, epoch) the batches' sequence numbers must run from 0 up without a
# gap (an acknowledged batch missing) or a repeat (a batch written twice).
# Prints one line per break; nothing when every sequence is whole.
kafka_seq_breaks() {
  local node=${2:-1} f files=()
  for f in "$KAFKA_DIR/$node/data/$1"-*/*.log; do [ -e "$f" ] && files+=("$f"); done
  [ "${#files[@]}" -gt 0 ] || return 0
  _kafka_java kafka.tools.DumpLogSegments --files "$(IFS=,; echo "${files[*]}")" 2>/dev/null |
    awk '/^Dumping / { part = $2; sub(/\/[^\/]*$/, "", part); sub(/.*\//, "", part) }
         /^baseOffset:/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1)
           if (v["producerId:"] == -1) next
           k = part " " v["producerId:"] " " v["producerEpoch:"]
           want = (k in last) ? last[k] + 1 : 0
           if (v["baseSequence:"] != want)
             print part ": producer " v["producerId:"] " epoch " v["producerEpoch:"] " at offset " v["baseOffset:"] \
               ": sequence " v["baseSequence:"] " where " want " was due"
           last[k] = v["lastSequence:"] }'
}

# kafka_destroy: stop every node and remove the cluster's data, so that
# kafka_start can start another cluster in the same script (benchmarks).
kafka_destroy() {
  kafka_cleanup
  rm -rf "$KAFKA_DIR"
  KAFKA_N=0
}
