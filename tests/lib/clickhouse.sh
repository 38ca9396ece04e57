# clickhouse.sh - sourced by integration tests (after common.sh): a
# throwaway ClickHouse server from Debian's clickhouse-server package on
# free loopback ports, with a generated minimal config and its data in a
# temp dir, stopped at exit.
#   ch_start            sets CH_HTTP_PORT, CH_TCP_PORT, CH_PASSWORD and CH_URL
#                       (user tp with a password, database tickpipe)
#   ch_kill             kill -9 the server (a crash, not a shutdown)
#   ch_restart          start it again on the same ports and data
#   ch_q SQL            run SQL with clickhouse-client, TSV out
command -v clickhouse-server >/dev/null || fail "clickhouse-server not found (apt-get install clickhouse-server)"

ch_start() {
  CH_DIR=$(mktemp -d /tmp/tickpipe-ch.XXXXXX)
  on_exit "rm -rf '$CH_DIR'"
  CH_HTTP_PORT=$(free_port)
  CH_TCP_PORT=$(free_port)
  while [ "$CH_TCP_PORT" = "$CH_HTTP_PORT" ]; do CH_TCP_PORT=$(free_port); done
  CH_PASSWORD='ch-s3cr3t-Kx7'
  cat >"$CH_DIR/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$CH_DIR/server.log</log><errorlog>$CH_DIR/error.log</errorlog></logger>
  <http_port>$CH_HTTP_PORT</http_port>
  <tcp_port>$CH_TCP_PORT</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$CH_DIR/data/</path>
  <tmp_path>$CH_DIR/tmp/</tmp_path>
  <user_files_path>$CH_DIR/user_files/</user_files_path>
  <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
  <users_config>$CH_DIR/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
</yandex>
XML
  cat >"$CH_DIR/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <tp><password>$CH_PASSWORD</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></tp>
  </users>
  <quotas><default></default></quotas>
</yandex>
XML
  CH_URL="clickhouse://127.0.0.1:$CH_HTTP_PORT/tickpipe?user=tp&password=$CH_PASSWORD"
  on_exit "ch_stop"
  ch_restart
}

ch_restart() {
  clickhouse-server --config-file="$CH_DIR/config.xml" >"$CH_DIR/stdout.log" 2>&1 &
  CH_PID=$!
  local i
  for ((i = 0; i < 600; i++)); do
    [ "$(curl -s "http://127.0.0.1:$CH_HTTP_PORT/ping" 2>/dev/null)" = "Ok." ] && return 0
    kill -0 "$CH_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$CH_DIR/stdout.log" "$CH_DIR/error.log" >&2 2>/dev/null
  fail "ClickHouse did not start"
}

ch_kill() {
  kill -9 "$CH_PID" 2>/dev/null || true
  wait "$CH_PID" 2>/dev/null || true
}

ch_stop() {
  [ -n "${CH_PID:-}" ] || return 0
  kill "$CH_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$CH_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$CH_PID" 2>/dev/null || true
  wait "$CH_PID" 2>/dev/null || true
}

ch_q() { clickhouse-client --host 127.0.0.1 --port "$CH_TCP_PORT" --user tp --password "$CH_PASSWORD" -q "$1"; }
