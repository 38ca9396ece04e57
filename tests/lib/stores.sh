# stores.sh - sourced by the tests that run one scenario on several stores
# (run_hostile, run_restart, run_retention), after common.sh.
#
# stores_use VAR DEFAULT: the stores to test, $stores, are the words of the
# environment variable VAR, else DEFAULT (sqlite, pg, ch, cass); sources the
# server helpers (tests/lib/*.sh) of those listed. An unknown name fails at
# once, naming VAR.
stores_use() {
  local s
  stores=${!1:-$2}
  for s in $stores; do
    case $s in
      sqlite) ;;
      pg) source "$TP_SOURCE_DIR/tests/lib/postgres.sh" ;;
      ch) source "$TP_SOURCE_DIR/tests/lib/clickhouse.sh" ;;
      cass) source "$TP_SOURCE_DIR/tests/lib/cassandra.sh" ;;
      *) fail "$1: unknown store '$s' (sqlite, pg, ch, cass)" ;;
    esac
  done
}
# each_store FN DBFILE: for each of $stores in turn, start its server and
# run FN KIND URL WHERE: KIND is the store's name above, URL the --store URL,
# WHERE what tests/lib/window_oracle.py takes (the SQLite file $TMP/DBFILE,
# the PostgreSQL URL, ClickHouse's TCP_PORT:USER:PASSWORD:DB, Cassandra's
# PORT/KEYSPACE).
each_store() {
  local fn=$1 db="$TMP/$2" s
  for s in $stores; do
    case $s in
      sqlite) "$fn" sqlite "sqlite:$db" "$db" ;;
      pg) pg_start; "$fn" pg "$PG_URL" "$PG_URL" ;;
      ch) ch_start; "$fn" ch "$CH_URL" "$CH_TCP_PORT:tp:$CH_PASSWORD:tickpipe" ;;
      cass) cass_start; "$fn" cass "$CASS_URL" "$CASS_PORT/tp_test" ;;
    esac
  done
}
