/* flags.h - the option groups of the commands (core/options.h says how
 * a table becomes getopt, --help and usage errors).
 *
 * Every flag is one row of flags.def: its group, name, argument, type, the
 * field its value goes to, default, unit, range and help line. A group is a
 * section of --help and one struct of values; a command's spec (specs.c)
 * lists the groups it takes, and every command parses into one tp_cmd_args
 * (below), so the value of a flag has the same place, type and unit in
 * every command.
 *
 *   group        values              taken by
 *   api          tp_api_flags        run, capture, produce, symbols
 *   feed         tp_feed_flags       run, capture, produce
 *   checks       tp_checks_flags     run, produce, process
 *   kafka        tp_kafka_flags      produce, process
 *   store        tp_store_flags      run, process, serve
 *   windows      tp_windows_flags    run, process
 *   http         tp_http_flags       run, serve
 *   stop         tp_stop_flags       run, capture, produce, process
 *   progress     tp_progress_flags   run, produce, process
 *   durable      tp_durable_flags    run, process (drain timeout, retention)
 *   log          tp_log_flags        every command
 *   config       tp_config_flags     every command but config (--config, --print-config)
 *   store        tp_store_flags      (and export, archive)
 *   range        tp_export_flags     export, archive (--from, --to)
 *   capture, consumer, producer, run, serve, sim_*, symbols, export, archive: one command each
 *
 * To add a flag:
 *   1. add its field to the group's struct below;
 *   2. add one TP_FLAG row to the group's section of flags.def (the
 *      columns are explained at its top);
 *   3. use args.<group>.<field> where the command consumes the group;
 *   4. run scripts/readme-flags.sh to regenerate the README's flag tables
 *      (tests/integration/flags_tables.sh fails until --help and the
 *      README both name it).
 * A new group: its struct and member in tp_cmd_args, a TP_GROUP line in
 * flags.c, its rows in flags.def, and the group in the specs that take it.
 * A renamed flag keeps its old spelling as a row with
 * .alias_of = "new-name" (warned about, hidden from --help), and the
 * README's "Renamed flags" list says so.
 *
 * Times are int64_t milliseconds whatever unit the flag is given in.
 * Strings point into argv or the environment. Main thread only. */
#ifndef TP_CMD_FLAGS_H
#define TP_CMD_FLAGS_H

#include "core/config.h"
#include "core/options.h"
#include "kafka/kafka_conf.h"

#include <stdint.h>

/* Finnhub account: the tokens and the REST base URL. */
#define TP_MAX_TOKEN_ARGS 64
typedef struct tp_token_args {
    const char *arg[TP_MAX_TOKEN_ARGS]; /* each --token (or FINNHUB_API_TOKEN): a token or a comma list */
    size_t n;
} tp_token_args;
typedef struct tp_api_flags {
    tp_token_args token; /* split and completed by tp_api_tokens (cmd/feed_config.h) */
    const char *rest_url;
} tp_api_flags;

/* The WebSocket feed (or a recording of it). */
typedef struct tp_feed_flags {
    const char *name; /* --feed: a tp_feed_ops name (feed/feed.h) */
    const char *ws_url;
    const char *symbols; /* text: comma or JSON list; see tp_symbols_parse */
    int validate;
    int64_t max_frame;
    int64_t stale_timeout_ms;
    int64_t max_reconnects;         /* -1 = never give up */
    int64_t dedupe_horizon_ms;      /* 0 = keep repeated messages */
    int64_t max_symbols;            /* per connection; 0 = no limit */
    int64_t connection_lifetime_ms; /* 0 = the feed's */
    int64_t handover_before_ms;     /* 0 = a fifth of the lifetime, at most 5 min */
    const char *replay;
    double speed;
} tp_feed_flags;

/* The door (core/trade_check.h): how far a trade's time may be from its
 * receive time. */
typedef struct tp_checks_flags {
    int64_t max_age_ms, max_ahead_ms; /* 0 = no bound */
} tp_checks_flags;

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

/* The config file (core/config_file.h; applied by core/options.c). */
typedef struct tp_config_flags {
    const char *file;
    int print;
} tp_config_flags;

typedef struct tp_capture_flags {
    const char *record;
    int print;
} tp_capture_flags;

typedef struct tp_consumer_flags {
    const char *group, *dlq, *member_id, *metrics;
    int64_t partition_idle_ms;
} tp_consumer_flags;

typedef struct tp_producer_flags {
    const char *dlq; /* "" = no dead-letter copies */
    const char *compression, *metrics;
    int64_t linger_ms, partitions, rf, min_isr, connect_ms, flush_ms;
    int create_topic;
} tp_producer_flags;

typedef struct tp_run_flags {
    double sim_rate;
    int64_t sim_batch, sim_seed;
    int no_http;
    int64_t queue_trades;
} tp_run_flags;

/* How long a stop may take, and how long the store keeps rows (0 = forever). */
typedef struct tp_durable_flags {
    int64_t drain_ms;
    int64_t retain_trades_ms, retain_c1s_ms, retain_c1m_ms, retain_avg_ms, retain_gaps_ms;
} tp_durable_flags;

typedef struct tp_serve_flags {
    int64_t poll_ms;
} tp_serve_flags;

/* simulate's four groups (server, market, replay, faults) share one struct */
typedef struct tp_sim_flags {
    const char *listen, *token, *tls_cert, *tls_key, *replay, *holes_log;
    int64_t ping_ms, batch, seed, max_trades, drop_ms, silent_ms, error_ms, max_symbols;
    double rate, speed, malformed, repeat;
    int loop;
    int replay_raw;
    int market_hours;
    const char *market_time;
    const char *feed;    /* --feed: a simulator personality (sim/personality.h) */
    int64_t lifetime_ms; /* --lifetime; 0 = the venue's */
} tp_sim_flags;

typedef struct tp_symbols_flags {
    int exact;
    int64_t timeout_ms;
} tp_symbols_flags;

typedef struct tp_export_flags {
    const char *table, *format, *out, *symbol, *from, *to; /* export and range */
    const char *archive;                                   /* archive */
} tp_export_flags;

/* What every command parses into (a command fills only its groups). */
typedef struct tp_cmd_args {
    tp_api_flags api;
    tp_feed_flags feed;
    tp_checks_flags checks;
    tp_kafka_flags kafka;
    tp_store_flags store;
    tp_windows_flags windows;
    tp_http_flags http;
    tp_stop_flags stop;
    tp_progress_flags progress;
    tp_log_flags log;
    tp_config_flags config;
    tp_capture_flags capture;
    tp_consumer_flags consumer;
    tp_producer_flags producer;
    tp_run_flags run;
    tp_durable_flags durable;
    tp_serve_flags serve;
    tp_sim_flags sim;
    tp_symbols_flags symbols;
    tp_export_flags export_;
} tp_cmd_args;

/* Zero everything (the -X list too) before tp_cmd_parse; free what parsing
 * allocated (the -X list) after the command. */
void tp_cmd_args_init(tp_cmd_args *a);
void tp_cmd_args_free(tp_cmd_args *a);

extern const tp_opt tp_flag_table[]; /* every row of flags.def, then {0} */

struct tp_pipeline_config;
/* The pipeline settings run and process both take from their flags: the
 * store, windows, flushing and retention, trades at most max_ahead_ms
 * ahead of the clock (--max-trade-ahead); pc starts from
 * tp_pipeline_config_default(). What differs (callbacks, rebuild, the
 * watermark's source) the command sets after. */
void tp_flags_pipeline_config(struct tp_pipeline_config *pc, const tp_store_flags *sf,
                              const tp_windows_flags *wf, const tp_durable_flags *df, int64_t max_ahead_ms);

extern const tp_opt_group tp_flags_api, tp_flags_feed, tp_flags_checks, tp_flags_kafka, tp_flags_store,
    tp_flags_store_reader, tp_flags_windows, tp_flags_http, tp_flags_stop, tp_flags_progress, tp_flags_log,
    tp_flags_config, tp_flags_capture, tp_flags_consumer, tp_flags_producer, tp_flags_run, tp_flags_durable,
    tp_flags_serve, tp_flags_sim_server, tp_flags_sim_market, tp_flags_sim_replay, tp_flags_sim_faults,
    tp_flags_symbols, tp_flags_export, tp_flags_range, tp_flags_archive;

#endif
