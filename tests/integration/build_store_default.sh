#!/usr/bin/env bash
# build_store_default.sh - a build without SQLite (-DTP_STORE_SQLITE=OFF)
# has the first store it does have as its default, and its help offers no
# sqlite: (cmake/stores.cmake: the first entry of the build is the
# default). Configures only (no compiling): the generated store table and
# sink/store_forms.h are what the binary's defaults and help come from
# (flags.def, specs.c; test_sink checks the table against them).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
need cmake:cmake
configure() { # DIR ARGS...
  local dir=$1; shift
  cmake -S "$TP_SOURCE_DIR" -B "$dir" -DTP_TESTS=OFF "$@" >"$dir.log" 2>&1
}
hdr() { sed -n "s/^#define $2 \"\\(.*\\)\"$/\\1/p" "$1/generated/sink/store_forms.h"; }

configure "$TMP/b" -DTP_STORE_SQLITE=OFF || fail "configure without SQLite failed: $(tail -5 "$TMP/b.log")"
[ "$(hdr "$TMP/b" TP_STORE_DEFAULT_URL)" = "postgresql://localhost/tickpipe" ] ||
  fail "default store without SQLite: '$(hdr "$TMP/b" TP_STORE_DEFAULT_URL)'"
[ "$(hdr "$TMP/b" TP_STORE_READER_DEFAULT_URL)" = "postgresql://localhost/tickpipe" ] ||
  fail "serve's default store without SQLite: '$(hdr "$TMP/b" TP_STORE_READER_DEFAULT_URL)'"
forms=$(hdr "$TMP/b" TP_STORE_URL_FORMS)
[ "$forms" = "postgresql://..., clickhouse://HOST:8123/DB, cassandra://HOST[:9042]/KEYSPACE, null:" ] ||
  fail "store forms without SQLite: '$forms'"
[ "$(hdr "$TMP/b" TP_STORE_READER_URL_FORMS)" = "postgresql://..., clickhouse://HOST:8123/DB, cassandra://HOST[:9042]/KEYSPACE" ] ||
  fail "serve's store forms without SQLite: '$(hdr "$TMP/b" TP_STORE_READER_URL_FORMS)'"
grep -A1 'tp_sink_k_stores\[\] = {' "$TMP/b/store_table.c" | grep -q '&tp_sink_postgresql_ops' ||
  fail "the store table does not start with postgresql: $(cat "$TMP/b/store_table.c")"
if grep -q sqlite "$TMP/b/store_table.c" "$TMP/b/generated/sink/store_forms.h"; then
  fail "a build without SQLite still names it: $(grep sqlite "$TMP/b/store_table.c" "$TMP/b/generated/sink/store_forms.h")"
fi
ok "without SQLite the default store is postgresql://localhost/tickpipe and no help offers sqlite:"

# the default build: SQLite first, null: offered to writers only
configure "$TMP/d" || fail "configure failed: $(tail -5 "$TMP/d.log")"
[ "$(hdr "$TMP/d" TP_STORE_DEFAULT_URL)" = "sqlite:data/tickpipe.db" ] || fail "default store: '$(hdr "$TMP/d" TP_STORE_DEFAULT_URL)'"
case "$(hdr "$TMP/d" TP_STORE_URL_FORMS)" in sqlite:PATH,*", null:") ;; *) fail "forms: '$(hdr "$TMP/d" TP_STORE_URL_FORMS)'" ;; esac
case "$(hdr "$TMP/d" TP_STORE_READER_URL_FORMS)" in *null:*) fail "serve's forms offer null:" ;; esac
ok "the default build: sqlite:data/tickpipe.db first; serve's forms without null:"

# a build that serve could read nothing from is refused at configure time
off=(-DTP_STORE_SQLITE=OFF -DTP_STORE_POSTGRESQL=OFF -DTP_STORE_CLICKHOUSE=OFF -DTP_STORE_CASSANDRA=OFF)
if configure "$TMP/n" "${off[@]}"; then fail "a build with only null: configured"; fi
grep -q "every store that can be read is turned off" "$TMP/n.log" || fail "only null: not explained: $(tail -5 "$TMP/n.log")"
ok "a build with only the write-only null: store is refused, saying why"
