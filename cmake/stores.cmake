# stores.cmake - the one list of stores. Everything else is generated from
# it (cmake/store_table.cmake): the store table (store_table.c in the build
# tree), the embedded DDL and an option TP_STORE_<NAME> per store, ON by
# default; a store turned off is not compiled, linked or tested.
#
#   tp_store(NAME SOURCE DDL [PKG...])
#     NAME    the URL scheme, and the C names: SOURCE defines
#             `const tp_sink_ops tp_sink_NAME_ops`; the DDL file is embedded
#             as `const char tp_sql_NAME[]` (and tp_sql_NAME_len)
#     SOURCE  the store's one C file
#     DDL     its schema file under sql/, or "" for none
#     PKG     pkg-config modules the store links against
#
# The first entry is the default store. See docs/architecture.md, "Adding a
# store".
tp_store(sqlite     src/sink/sqlite.c     sql/sqlite.sql     sqlite3)
tp_store(postgresql src/sink/postgresql.c sql/postgresql.sql libpq)
tp_store(clickhouse src/sink/clickhouse.c sql/clickhouse.sql libcurl)
tp_store(cassandra  src/sink/cassandra.c  sql/cassandra.cql  openssl libcurl)
tp_store(null       src/sink/null.c       "")

# How help texts show a store's URL (default "NAME:..."), in list order, and
# what else the help and defaults need to know of it:
#
#   tp_store_form(NAME FORM [DEFAULT URL] [WRITE_ONLY])
#     DEFAULT     the URL --store defaults to when NAME is the first store of
#                 the build (every store has one: any may come first)
#     WRITE_ONLY  the store has no reader (its tp_sink_ops has no .reader):
#                 serve's help and default leave it out
#
# In the generated sink/store_forms.h: TP_STORE_URL_FORMS and
# TP_STORE_DEFAULT_URL (every store), TP_STORE_READER_URL_FORMS,
# TP_STORE_READER_DEFAULT_URL and TP_STORE_READER_SCHEMES (the readable ones).
tp_store_form(sqlite     "sqlite:PATH"                       DEFAULT "sqlite:data/tickpipe.db")
tp_store_form(postgresql "postgresql://..."                  DEFAULT "postgresql://localhost/tickpipe")
tp_store_form(clickhouse "clickhouse://HOST:8123/DB"         DEFAULT "clickhouse://localhost:8123/default")
tp_store_form(cassandra  "cassandra://HOST[:9042]/KEYSPACE"  DEFAULT "cassandra://localhost:9042/market")
tp_store_form(null       "null:"                             DEFAULT "null:" WRITE_ONLY)
