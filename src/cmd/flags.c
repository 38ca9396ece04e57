/* flags.c - the shared option groups; flags.h says how to add a flag.
 *
 * The help line of an entry says what the flag does in every command that
 * takes it; what is special to one command goes in that command's about
 * text, not here. Ranges are in the entry's unit. */
#include "cmd/flags.h"

#include "core/err.h"
#include "core/log.h"

#include <stddef.h>
#include <string.h>

#define TP_I64_MAX 9e18 /* as a double: INT64_MAX would round up past it */

static int parse_kafka_prop(const char *arg, void *field, char *err, size_t errlen) {
    return tp_kafka_props_add(field, arg, err, errlen);
}

static int parse_log_level(const char *arg, void *field, char *err, size_t errlen) {
    int rc = tp_cfg_log_level(arg, err, errlen);
    if (!rc) *(const char **)field = arg;
    return rc;
}

static const tp_opt k_api[] = {
    {.name = "token",
     .arg = "TOKEN",
     .env = "FINNHUB_API_TOKEN",
     .help = "Finnhub API token, sent as ?token=; never logged",
     .type = TP_OPT_STR,
     .off = offsetof(tp_api_flags, token)},
    {.name = "rest-url",
     .arg = "URL",
     .env = "FINNHUB_REST_URL",
     .def = "https://finnhub.io/api/v1",
     .help = "REST base URL (symbol search, --validate)",
     .type = TP_OPT_STR,
     .off = offsetof(tp_api_flags, rest_url)},
    {0},
};
const tp_opt_group tp_flags_api = {"api", "Finnhub account", k_api};

static const tp_opt k_feed[] = {
    {.name = "ws-url",
     .arg = "URL",
     .env = "FINNHUB_WS_URL",
     .def = "wss://ws.finnhub.io",
     .help = "WebSocket feed URL (wss:// is verified against the system's CA store; ws:// for loopback)",
     .type = TP_OPT_STR,
     .off = offsetof(tp_feed_flags, ws_url)},
    {.name = "symbols",
     .arg = "LIST",
     .env = "FINNHUB_STOCKS_TICKERS",
     .help = "symbols to subscribe: AAPL,BINANCE:BTCUSDT or a JSON list [\"AAPL\",\"MSFT\"]",
     .type = TP_OPT_STR,
     .off = offsetof(tp_feed_flags, symbols)},
    {.name = "validate",
     .env = "FINNHUB_VALIDATE_TICKERS",
     .help = "check each symbol with the REST symbol search first and skip unknown ones",
     .type = TP_OPT_SWITCH,
     .off = offsetof(tp_feed_flags, validate)},
    {.name = "max-frame",
     .arg = "BYTES",
     .def = "1048576",
     .unit = "bytes",
     .help = "reject messages larger than this (counted as oversize, logged)",
     .type = TP_OPT_INT,
     .off = offsetof(tp_feed_flags, max_frame),
     .min = 64,
     .max = 4294967296.0},
    {.name = "stale-timeout",
     .arg = "S",
     .def = "90",
     .unit = "s",
     .help = "reconnect after this long without any message; 0 = off",
     .type = TP_OPT_TIME,
     .off = offsetof(tp_feed_flags, stale_timeout_ms),
     .max = 86400},
    {.name = "max-reconnects",
     .arg = "N",
     .def = "-1",
     .def_doc = "never",
     .help = "give up (exit 1) after N reconnects; -1 = never",
     .type = TP_OPT_INT,
     .off = offsetof(tp_feed_flags, max_reconnects),
     .min = -1,
     .max = 1000000000},
    {.name = "replay",
     .arg = "FILE",
     .help = "read frames from a recording (capture --record) instead of the network; no token or "
             "symbols needed",
     .type = TP_OPT_STR,
     .off = offsetof(tp_feed_flags, replay)},
    {.name = "speed",
     .arg = "X",
     .def = "0",
     .help = "replay speed: 1 = as recorded, 0 = as fast as possible",
     .type = TP_OPT_NUM,
     .off = offsetof(tp_feed_flags, speed),
     .max = 1e6},
    {0},
};
const tp_opt_group tp_flags_feed = {"feed", "Feed", k_feed};

static const tp_opt k_kafka[] = {
    {.name = "brokers",
     .arg = "LIST",
     .env_doc = "KAFKA_SERVER, KAFKA_PORT",
     .def_doc = "localhost:9092",
     .help = "bootstrap servers host:port,... (KAFKA_SERVER:KAFKA_PORT when not given)",
     .type = TP_OPT_STR,
     .off = offsetof(tp_kafka_flags, brokers)},
    {.name = "topic",
     .arg = "NAME",
     .env = "KAFKA_TOPIC_NAME",
     .def = "market",
     .help = "Kafka topic of the trades",
     .type = TP_OPT_STR,
     .off = offsetof(tp_kafka_flags, topic),
     .min = 1},
    {.name = "kafka-property",
     .short_name = 'X',
     .arg = "KEY=VALUE",
     .help = "any librdkafka property, applied last (repeatable), e.g. -X message.timeout.ms=60000",
     .type = TP_OPT_CUSTOM,
     .off = offsetof(tp_kafka_flags, props),
     .parse = parse_kafka_prop,
     .repeatable = 1},
    {0},
};
const tp_opt_group tp_flags_kafka = {"kafka", "Kafka", k_kafka};

static const tp_opt k_store[] = {
    {.name = "store",
     .arg = "URL",
     .env = "TICKPIPE_STORE",
     .def = "sqlite:data/tickpipe.db",
     .help = "the store: " TP_FLAGS_STORE_SCHEMES,
     .type = TP_OPT_STR,
     .off = offsetof(tp_store_flags, store),
     .min = 1},
    {0},
};
const tp_opt_group tp_flags_store = {"store", "Store", k_store};

static const tp_opt k_windows[] = {
    {.name = "allowed-lateness",
     .arg = "S",
     .def = "15",
     .unit = "s",
     .help = "event-time lateness before a window is final",
     .type = TP_OPT_TIME,
     .off = offsetof(tp_windows_flags, allowed_lateness_ms),
     .max = 86400},
    {.name = "emit-interval",
     .arg = "S",
     .def = "1",
     .unit = "s",
     .help = "upsert open windows at most this often",
     .type = TP_OPT_TIME,
     .off = offsetof(tp_windows_flags, emit_interval_ms),
     .max = 3600,
     .warn_above = 60},
    {.name = "idle-expiry",
     .arg = "S",
     .def = "600",
     .unit = "s",
     .help = "forget a symbol idle this long in event time",
     .type = TP_OPT_TIME,
     .off = offsetof(tp_windows_flags, idle_expiry_ms),
     .max = 1e7},
    {.name = "flush-interval",
     .arg = "MS",
     .def = "200",
     .unit = "ms",
     .help = "make pending rows durable at least this often",
     .type = TP_OPT_TIME,
     .off = offsetof(tp_windows_flags, flush_interval_ms),
     .min = 1,
     .max = 3600000},
    {.name = "flush-max-trades",
     .arg = "N",
     .def = "20000",
     .help = "... or as soon as this many trades are pending",
     .type = TP_OPT_INT,
     .off = offsetof(tp_windows_flags, flush_max_trades),
     .min = 1,
     .max = 100000000},
    {0},
};
const tp_opt_group tp_flags_windows = {"windows", "Windows and flushing", k_windows};

static const tp_opt k_http[] = {
    {.name = "http",
     .arg = "ADDR:PORT",
     .env = "TICKPIPE_HTTP",
     .def = "127.0.0.1:8080",
     .help = "dashboard, REST API, /ws and /metrics; port 0 = any free port (printed at start), "
             "0.0.0.0:PORT = every address",
     .type = TP_OPT_STR,
     .off = offsetof(tp_http_flags, listen),
     .min = 1},
    {.name = "max-limit",
     .arg = "N",
     .def = "5000",
     .help = "largest limit= a REST query may ask for",
     .type = TP_OPT_INT,
     .off = offsetof(tp_http_flags, max_limit),
     .min = 1,
     .max = 1000000},
    {0},
};
const tp_opt_group tp_flags_http = {"http", "HTTP", k_http};

static const tp_opt k_stop[] = {
    {.name = "max-trades",
     .arg = "N",
     .help = "stop (and drain) after N trades",
     .type = TP_OPT_INT,
     .off = offsetof(tp_stop_flags, max_trades),
     .min = 1,
     .max = TP_I64_MAX},
    {.name = "duration",
     .arg = "S",
     .unit = "s",
     .help = "stop (and drain) after this long",
     .type = TP_OPT_TIME,
     .off = offsetof(tp_stop_flags, duration_ms),
     .min = 0.001,
     .max = 1e9},
    {0},
};
const tp_opt_group tp_flags_stop = {"stop", "Stopping", k_stop};

static const tp_opt k_progress[] = {
    {.name = "progress-interval",
     .arg = "S",
     .def = "5",
     .unit = "s",
     .help = "a progress line on stderr this often; 0 = off",
     .type = TP_OPT_TIME,
     .off = offsetof(tp_progress_flags, interval_ms),
     .max = 86400},
    {.name = "progress",
     .arg = "S",
     .alias_of = "progress-interval",
     .help = "old name of --progress-interval"},
    {0},
};
const tp_opt_group tp_flags_progress = {"progress", "Progress", k_progress};

static const tp_opt k_log[] = {
    {.name = "log-level",
     .arg = "LEVEL",
     .env = "TICKPIPE_LOG",
     .def_doc = "info",
     .help = "error, warn, info or debug",
     .type = TP_OPT_CUSTOM,
     .off = offsetof(tp_log_flags, level),
     .parse = parse_log_level},
    {0},
};
const tp_opt_group tp_flags_log = {"log", "Logging", k_log};
