# cassandra.sh - sourced by integration tests (after common.sh): a throwaway
# Apache Cassandra 5.0 node on free loopback ports, with its data in a temp
# dir, stopped at exit. The server's jars come from Maven Central through
# tests/cassandra/pom.xml (`mvn dependency:copy-dependencies`) and are
# cached under ${TP_CACHE:-$HOME/.cache/tickpipe}/cassandra, outside git.
# PasswordAuthenticator is on (superuser cassandra/cassandra), so every
# test goes through the SASL handshake.
#   cass_start          fetch (first run only), configure, start; sets
#                       CASS_PORT (native), CASS_URL (keyspace tp_test,
#                       consistency ONE), CASS_USER, CASS_PASSWORD, and
#                       CASS_CA (the PEM certificate of the node: the native
#                       port also takes TLS, optional, with a self-signed
#                       certificate for 127.0.0.1)
#   cass_stop           stop the node (SIGTERM, then SIGKILL)
#   cass_kill           kill -9 the node (a crash)
#   cass_restart        start it again on the same ports and data, wait until
#                       it answers a query
#   cass_q CQL          run CQL through python3-cassandra (the oracle); rows
#                       as '|'-separated values, one per line
# Cassandra on a loaded 2-core machine takes a minute or more to start:
# start it once per test script.
#   bash tests/lib/cassandra.sh fetch   only fetch the jars (install-deps.sh --test)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ "${1:-}" = fetch ] || { echo "usage: bash tests/lib/cassandra.sh fetch" >&2; exit 2; }
  TP_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
  TMP=$(mktemp -d)
  trap 'rm -rf "$TMP"' EXIT
  fail() { echo "cassandra.sh: $*" >&2; exit 1; }
else
  command -v java >/dev/null || fail "java not found (scripts/install-deps.sh --test installs default-jre-headless)"
  /usr/bin/python3 -c 'import cassandra' 2>/dev/null ||
    fail "python3-cassandra not found (scripts/install-deps.sh --test)"
fi

CASS_CACHE="${TP_CACHE:-$HOME/.cache/tickpipe}/cassandra"
CASS_POM="$TP_SOURCE_DIR/tests/cassandra/pom.xml"
CASS_START_TIMEOUT=${CASS_START_TIMEOUT:-420}

# The jars of the pom's version, fetched once. The stamp names the pom's
# content, so a version bump fetches again.
cass_fetch() {
  local stamp
  stamp=$(sha256sum "$CASS_POM" | cut -c1-16)
  [ -f "$CASS_CACHE/lib-$stamp/.complete" ] && { CASS_LIB="$CASS_CACHE/lib-$stamp"; return 0; }
  command -v mvn >/dev/null || fail "mvn not found (scripts/install-deps.sh --test installs maven)"
  mkdir -p "$CASS_CACHE"
  rm -rf "$CASS_CACHE/lib-$stamp.tmp"
  mvn -q -B -f "$CASS_POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CASS_CACHE/lib-$stamp.tmp" >"$TMP/mvn.log" 2>&1 ||
    { tail -30 "$TMP/mvn.log" >&2; fail "cannot fetch Cassandra's jars with Maven (see above)"; }
  touch "$CASS_CACHE/lib-$stamp.tmp/.complete"
  mv "$CASS_CACHE/lib-$stamp.tmp" "$CASS_CACHE/lib-$stamp"
  CASS_LIB="$CASS_CACHE/lib-$stamp"
}

cass_start() {
  cass_fetch
  # Cassandra sizes its data directories from their file system's mount
  # entry and will not start without one; inside a chroot /tmp has none
  # visible, so its files go to /dev/shm there (a mount point of its own).
  local base=/tmp
  findmnt -T /tmp >/dev/null 2>&1 || base=/dev/shm
  CASS_DIR=$(mktemp -d "$base/tickpipe-cass.XXXXXX")
  on_exit "rm -rf '$CASS_DIR'"
  CASS_PORT=$(free_port)
  CASS_STORAGE_PORT=$(free_port)
  while [ "$CASS_STORAGE_PORT" = "$CASS_PORT" ]; do CASS_STORAGE_PORT=$(free_port); done
  CASS_USER=cassandra
  CASS_PASSWORD=cassandra
  keytool -genkeypair -alias node -keyalg EC -groupname secp256r1 -validity 30 -dname CN=127.0.0.1 \
    -ext SAN=ip:127.0.0.1 -keystore "$CASS_DIR/node.p12" -storetype PKCS12 -storepass tp-keystore \
    -keypass tp-keystore >"$CASS_DIR/keytool.log" 2>&1 || { cat "$CASS_DIR/keytool.log" >&2; fail "keytool failed"; }
  keytool -exportcert -rfc -alias node -keystore "$CASS_DIR/node.p12" -storepass tp-keystore \
    -file "$CASS_DIR/ca.pem" >>"$CASS_DIR/keytool.log" 2>&1 || fail "keytool -exportcert failed"
  CASS_CA="$CASS_DIR/ca.pem"
  cat >"$CASS_DIR/cassandra.yaml" <<YAML
cluster_name: tickpipe-test
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$CASS_STORAGE_PORT"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $CASS_STORAGE_PORT
native_transport_port: $CASS_PORT
start_native_transport: true
authenticator: PasswordAuthenticator
authorizer: CassandraAuthorizer
role_manager: CassandraRoleManager
data_file_directories:
  - $CASS_DIR/data
commitlog_directory: $CASS_DIR/commitlog
saved_caches_directory: $CASS_DIR/saved_caches
hints_directory: $CASS_DIR/hints
cdc_raw_directory: $CASS_DIR/cdc_raw
client_encryption_options:
  enabled: true
  optional: true
  keystore: $CASS_DIR/node.p12
  keystore_password: tp-keystore
  store_type: PKCS12
commitlog_sync: periodic
commitlog_sync_period: 10000ms
# Fixed sizes, so Cassandra does not size them from the file system's total
# space (which it cannot read in a chroot, and which is not the test's business)
commitlog_total_space: 256MiB
cdc_total_space: 64MiB
# the retention test expires tens of thousands of rows by TTL within seconds
# and its oracle scans whole tables: count those tombstones, do not fail on them
tombstone_failure_threshold: 10000000
auto_snapshot: false
snapshot_on_duplicate_row_detection: false
compaction_throughput: 0MiB/s
concurrent_compactors: 1
# the test machine is loaded: give requests time before they time out
read_request_timeout: 20000ms
range_request_timeout: 20000ms
write_request_timeout: 20000ms
request_timeout: 30000ms
YAML
  cat >"$CASS_DIR/logback.xml" <<XML
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$CASS_DIR/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
XML
  on_exit "cass_stop"
  cass_restart
  # a keyspace of the tests' own, made by tickpipe itself at first open
  CASS_URL="cassandra://$CASS_USER:$CASS_PASSWORD@127.0.0.1:$CASS_PORT/tp_test?consistency=ONE"
}

# The JVM options of Cassandra's own conf/jvm17-server.options (JPMS
# exports/opens the server needs on Java 17, Netty's), a small heap, and
# start-up delays a single test node does not need.
_cass_jvm_opts() {
  printf '%s\n' -Xms256m -Xmx512m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djdk.attach.allowAttachSelf=true \
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED \
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED \
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED \
    --add-exports java.sql/java.sql=ALL-UNNAMED \
    --add-exports java.base/java.lang.ref=ALL-UNNAMED \
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED \
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED \
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED \
    --add-opens java.base/java.lang.module=ALL-UNNAMED \
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED \
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED \
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED \
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED \
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED \
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED \
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED \
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
    --add-opens java.base/java.io=ALL-UNNAMED \
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED \
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED \
    --add-opens java.base/java.lang=ALL-UNNAMED \
    --add-opens java.base/java.util=ALL-UNNAMED \
    --add-opens java.base/java.nio=ALL-UNNAMED \
    -Dio.netty.tryReflectionSetAccessible=true \
    -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11 \
    -Dcassandra.config="file://$CASS_DIR/cassandra.yaml" \
    -Dlogback.configurationFile="$CASS_DIR/logback.xml" \
    -Dcassandra.storagedir="$CASS_DIR" -Dcassandra.logdir="$CASS_DIR" \
    -Dcassandra-foreground=yes \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.ring_delay_ms=100 \
    -Dcassandra.superuser_setup_delay_ms=0 -Dcassandra.migration_task_wait_in_seconds=0 \
    -Dcassandra.initial_token=0
}

# Answers a query as the superuser: the node is up and auth is set up.
_cass_ready() {
  /usr/bin/python3 - "$CASS_PORT" <<'PY' >/dev/null 2>&1
import sys
from cassandra.cluster import Cluster
from cassandra.auth import PlainTextAuthProvider
c = Cluster(["127.0.0.1"], port=int(sys.argv[1]), protocol_version=4, connect_timeout=10,
            auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
s = c.connect()
s.execute("SELECT release_version FROM system.local", timeout=20).one()
c.shutdown()
PY
}

cass_restart() {
  local opts
  mapfile -t opts < <(_cass_jvm_opts)
  java "${opts[@]}" -cp "$CASS_DIR:$CASS_LIB/*" org.apache.cassandra.service.CassandraDaemon \
    >>"$CASS_DIR/stdout.log" 2>&1 &
  CASS_PID=$!
  local i
  for ((i = 0; i < CASS_START_TIMEOUT * 2; i++)); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$CASS_PORT") 2>/dev/null && _cass_ready; then return 0; fi
    kill -0 "$CASS_PID" 2>/dev/null || break
    sleep 0.5
  done
  tail -40 "$CASS_DIR/stdout.log" >&2 2>/dev/null
  grep -E "ERROR|Exception" "$CASS_DIR/system.log" 2>/dev/null | tail -20 >&2
  fail "Cassandra did not start within ${CASS_START_TIMEOUT}s"
}

cass_kill() {
  kill -9 "$CASS_PID" 2>/dev/null || true
  wait "$CASS_PID" 2>/dev/null || true
}

cass_stop() {
  [ -n "${CASS_PID:-}" ] || return 0
  kill "$CASS_PID" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$CASS_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$CASS_PID" 2>/dev/null || true
  wait "$CASS_PID" 2>/dev/null || true
}

cass_q() {
  /usr/bin/python3 - "$CASS_PORT" "$1" <<'PY'
import sys
from cassandra.cluster import Cluster
from cassandra.auth import PlainTextAuthProvider
c = Cluster(["127.0.0.1"], port=int(sys.argv[1]), protocol_version=4,
            auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
s = c.connect()
for row in s.execute(sys.argv[2], timeout=60):
    print("|".join("" if v is None else str(v) for v in row))
c.shutdown()
PY
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cass_fetch
  echo "cassandra.sh: jars in $CASS_LIB"
fi
