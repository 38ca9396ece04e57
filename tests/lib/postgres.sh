# postgres.sh - sourced by integration tests (after common.sh): a throwaway
# PostgreSQL server from Debian's postgresql package on a free loopback
# port, with its data in a temp dir, stopped at exit.
#   pg_start            initdb + start; sets PG_PORT, PG_URL (user tp with a
#                       password, database tickpipe), PG_PASSWORD, PG_ADMIN_URL
#   pg_kill             kill -9 the postmaster (a crash, not a shutdown)
#   pg_restart          start it again on the same port and data
#   psql_q SQL          run SQL as the tp user, unaligned, no headers
# As root (CI) the server runs as the postgres user through runuser.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG_BIN/initdb" ] || fail "PostgreSQL server binaries not found (apt-get install postgresql)"

_pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  PG_DIR=$(mktemp -d /tmp/tickpipe-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  on_exit "rm -rf '$PG_DIR'"
  PG_PORT=$(free_port)
  PG_PASSWORD='pw-s3cr3t-Zq9'
  _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; fail "initdb failed"; }
  cat >"$PG_DIR/data/pg_hba.conf" <<HBA
local all all trust
host all tp 127.0.0.1/32 scram-sha-256
host all postgres 127.0.0.1/32 trust
HBA
  on_exit "pg_stop"
  pg_restart
  psql -X -q -v ON_ERROR_STOP=1 "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
    -c "CREATE USER tp PASSWORD '$PG_PASSWORD'" -c "CREATE DATABASE tickpipe OWNER tp" >/dev/null ||
    fail "cannot create the test user and database"
  PG_URL="postgresql://tp:$PG_PASSWORD@127.0.0.1:$PG_PORT/tickpipe"
  PG_ADMIN_URL="postgresql://postgres@127.0.0.1:$PG_PORT/tickpipe"
}

pg_restart() {
  local i
  for i in 1 2 3; do
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 && return 0
    sleep 1
  done
  cat "$PG_DIR/server.log" >&2
  fail "PostgreSQL did not start"
}

pg_kill() {
  local pid kids="" f p pp _
  pid=$(head -1 "$PG_DIR/data/postmaster.pid")
  # its children (backends, walwriter, ...) outlive it briefly; a new
  # postmaster refuses to start while they hold the old shared memory
  for f in /proc/[0-9]*/stat; do
    read -r p _ _ pp _ <"$f" 2>/dev/null || continue
    [ "$pp" = "$pid" ] && kids+=" $p"
  done
  kill -9 "$pid"
  for p in $pid $kids; do
    for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
}

pg_stop() {
  [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
}

psql_q() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" -c "$1"; }
