/* flags.h - the option groups the commands share (core/options.h says how
 * a table becomes getopt, --help and usage errors).
 *
 * Each group is one table of entries and one struct its values go into.
 * A command takes a group by listing it in its tp_cmd_spec and passing a
 * struct of the group's type to tp_cmd_parse, in the same order.
 *
 *   group            struct             taken by
 *   tp_flags_api     tp_api_flags       run, capture, produce, symbols
 *   tp_flags_feed    tp_feed_flags      run, capture, produce
 *   tp_flags_kafka   tp_kafka_flags     produce, process
 *   tp_flags_store   tp_store_flags     run, process, serve
 *   tp_flags_windows tp_windows_flags   run, process
 *   tp_flags_http    tp_http_flags      run, serve
 *   tp_flags_stop    tp_stop_flags      run, capture, produce, process
 *   tp_flags_progress tp_progress_flags run, produce, process
 *   tp_flags_log     tp_log_flags       every command
 *
 * To add a flag to a group:
 *   1. add its field to the group's struct below;
 *   2. add one entry to the group's table in flags.c (name, argument,
 *      environment variable, default as a string the parser accepts, unit,
 *      one help line, type, offsetof the field, range);
 *   3. use the field where the group's values are consumed;
 *   4. run scripts/readme-flags.sh to regenerate the README's flag tables
 *      (tests/integration/flags_tables.sh fails until --help and the
 *      README both name it).
 * A flag only one command takes goes in that command's own group (in its
 * cmd_*.c), the same way. A renamed flag keeps its old spelling as an
 * entry with .alias_of = "new-name" (warned about, hidden from --help),
 * and the README's "Renamed flags" list says so.
 *
 * Times are int64_t milliseconds whatever unit the flag is given in.
 * Strings point into argv or the environment. Main thread only. */
#ifndef TP_CMD_FLAGS_H
#define TP_CMD_FLAGS_H

#include "core/config.h"
#include "core/options.h"
#include "kafka/kafka_conf.h"

#include <stdint.h>

/* Finnhub account: the token and the REST base URL. */
typedef struct tp_api_flags {
    const char *token;
    const char *rest_url;
} tp_api_flags;

/* The WebSocket feed (or a recording of it). */
typedef struct tp_feed_flags {
    const char *ws_url;
    const char *symbols; /* text: comma or JSON list; see tp_symbols_parse */
    int validate;
    int64_t max_frame;
    int64_t stale_timeout_ms;
    int64_t max_reconnects; /* -1 = never give up */
    const char *replay;
    double speed;
} tp_feed_flags;

typedef struct tp_kafka_flags {
    const char *brokers; /* NULL: KAFKA_SERVER/KAFKA_PORT (tp_cfg_brokers) */
    const char *topic;
    tp_kafka_props props; /* -X KEY=VALUE; free with tp_kafka_props_free */
} tp_kafka_flags;

typedef struct tp_store_flags {
    const char *store;
} tp_store_flags;

typedef struct tp_windows_flags {
    int64_t allowed_lateness_ms;
    int64_t emit_interval_ms;
    int64_t idle_expiry_ms;
    int64_t flush_interval_ms;
    int64_t flush_max_trades;
} tp_windows_flags;

typedef struct tp_http_flags {
    const char *listen;
    int64_t max_limit;
} tp_http_flags;

typedef struct tp_stop_flags {
    int64_t max_trades;  /* 0 = no limit */
    int64_t duration_ms; /* 0 = no limit */
} tp_stop_flags;

typedef struct tp_progress_flags {
    int64_t interval_ms; /* 0 = off */
} tp_progress_flags;

typedef struct tp_log_flags {
    const char *level;
} tp_log_flags;

extern const tp_opt_group tp_flags_api, tp_flags_feed, tp_flags_kafka, tp_flags_store, tp_flags_windows,
    tp_flags_http, tp_flags_stop, tp_flags_progress, tp_flags_log;

/* The store schemes for help texts ("sqlite:PATH, postgresql://..."). */
#define TP_FLAGS_STORE_SCHEMES                                                                               \
    "sqlite:PATH, postgresql://..., clickhouse://HOST:8123/DB, cassandra://HOST[:9042]/KEYSPACE, null:"

#endif
