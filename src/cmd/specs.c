/* specs.c - every command's spec (core/options.h): its help texts, the
 * option groups it takes (cmd/flags.h, rows in flags.def) and per-command
 * defaults. The cmd_*.c files are the wiring that uses the parsed values;
 * everything a user reads in --help is here or in flags.def. */
#include "cmd/commands.h"

#include "cmd/flags.h"
#include "core/err.h"
#include "sink/store_forms.h"

#include <stddef.h>
#include <string.h>

/* ---- tickpipe capture ---- */

const tp_cmd_spec tp_spec_capture = {
    .name = "capture",
    .synopsis = "[OPTIONS]",
    .about = "Connect to a Finnhub-compatible WebSocket feed, subscribe the symbols and print\n"
             "every trade as one JSON line {\"s\",\"p\",\"t\",\"v\",\"c\"} on stdout, or record the\n"
             "raw frames with their receive times (--record) for `tickpipe simulate --replay`.\n"
             "A summary (trades, frames, pings, errors, malformed, reconnects) goes to stderr\n"
             "on exit. SIGINT/SIGTERM stop cleanly. With --max-trades N exactly N lines are printed.\n",
    .epilog = "Exit status: 0 on a clean stop, 1 on a fatal error (bad URL, reconnect limit\n"
              "reached, token rejected with --max-reconnects), 2 on a usage error.\n"
              "\n"
              "Example:\n"
              "  tickpipe capture --ws-url ws://127.0.0.1:8765 --token t \\\n"
              "      --symbols AAPL,BINANCE:BTCUSDT --max-trades 1000\n",
    .groups = {&tp_flags_api, &tp_flags_feed, &tp_flags_capture, &tp_flags_stop, &tp_flags_log,
               &tp_flags_config},
};

/* ---- tickpipe process ---- */

/* Retention is off unless asked for: process may replay a topic's history
 * (a new group starts at the earliest offset), whose event times can be
 * older than any default, into a store shared with others. For the same
 * reason the door's bound on a trade's age is off (produce applies it at
 * the feed, against the true receive time). */
// clang-format off
static const tp_opt_default k_process_defaults[] = {
    {"retain-trades", "0", NULL},
    {"retain-candles-1s", "0", NULL},
    {"retain-candles-1m", "0", NULL},
    {"retain-averages", "0", NULL},
    {"retain-gaps", "0", NULL},
    {"max-trade-age", "0", "0 (a topic's history may be replayed; produce checks it at the feed)"},
    {NULL, NULL, NULL},
};
// clang-format on

const tp_cmd_spec tp_spec_process = {
    .name = "process",
    .synopsis = "[OPTIONS]",
    .about = "Consume Avro trade messages from Kafka in a consumer group, compute event-time\n"
             "windows (15 s running averages sliding by 5 s, 1 s and 1 min candles) and write\n"
             "trades and windows to a store. Offsets are committed only after the store has\n"
             "made the rows durable; a restart or rebalance resumes from them and rebuilds the\n"
             "open windows, so every trade is stored exactly once and no window is counted\n"
             "twice. Start more processes with the same --group to split the partitions.\n"
             "SIGINT/SIGTERM drain, flush, commit and exit 0; a store that is down is waited\n"
             "for at most --drain-timeout, and a second signal gives up at once.\n",
    .epilog = "Kafka security from the environment (applied before -X, so a password need not be\n"
              "on the command line): KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,\n"
              "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SSL_CA_LOCATION.\n"
              "\n"
              "Exit status: 0 after a clean stop (everything consumed is durable and committed),\n"
              "1 on a fatal error or when stopped while the store was down (the drain timed out\n"
              "or a second signal gave up; it says how many trades are not durable: their\n"
              "offsets stay uncommitted and they are read again on the next start), 2 on a\n"
              "usage error.\n"
              "\n"
              "Example:\n"
              "  tickpipe process --brokers 127.0.0.1:9092 --topic market --store " TP_STORE_DEFAULT_URL "\n",
    .groups = {&tp_flags_kafka, &tp_flags_consumer, &tp_flags_checks, &tp_flags_store, &tp_flags_windows,
               &tp_flags_durable, &tp_flags_stop, &tp_flags_progress, &tp_flags_log, &tp_flags_config},
    .defaults = k_process_defaults,
};

/* ---- tickpipe produce ---- */

const tp_cmd_spec tp_spec_produce = {
    .name = "produce",
    .synopsis = "[OPTIONS]",
    .about = "Read trades from a Finnhub-compatible WebSocket feed (or a recording) and send\n"
             "them to Kafka as Avro (schema FinnhubProducer.message, schemas/trades.avsc): one\n"
             "message per symbol per received frame, key = the symbol, timestamp = the frame's\n"
             "receive time. Idempotent producer, acks=all. While the cluster is away, messages\n"
             "wait in a bounded queue; when it is full the feed is not read (nothing is dropped).\n"
             "Messages wait for the cluster forever unless -X message.timeout.ms=MS says otherwise.\n"
             "SIGINT/SIGTERM stop, flush (see --flush-timeout) and report what was not\n"
             "delivered; a second signal stops waiting. With --max-trades N exactly N trades\n"
             "are produced.\n",
    .epilog = "Kafka security from the environment (applied before -X, so a password need not be\n"
              "on the command line): KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,\n"
              "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SSL_CA_LOCATION.\n"
              "\n"
              "Exit status: 0 when every trade read was delivered, 1 on a runtime failure (brokers\n"
              "unreachable, topic missing, undelivered trades, fatal feed error), 2 on a usage error.\n"
              "\n"
              "Example:\n"
              "  tickpipe produce --ws-url ws://127.0.0.1:8765 --token t \\\n"
              "      --symbols AAPL,BINANCE:BTCUSDT --brokers 127.0.0.1:9092 --topic market\n",
    .groups = {&tp_flags_api, &tp_flags_feed, &tp_flags_checks, &tp_flags_kafka, &tp_flags_producer,
               &tp_flags_stop, &tp_flags_progress, &tp_flags_log, &tp_flags_config},
};

/* ---- tickpipe run ---- */

static const tp_opt_default k_run_defaults[] = {
    {"symbols", "AAPL,MSFT,AMZN,NVDA,TSLA,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD", NULL},
    {"ws-url", NULL, "the feed's (wss://ws.finnhub.io for finnhub); the built-in simulator without a token"},
    {"rest-url", NULL, "the feed's (https://finnhub.io/api/v1 for finnhub); the simulator's without a token"},
    {"progress-interval", "10", NULL},
    {NULL, NULL, NULL},
};

const tp_cmd_spec tp_spec_run = {
    .name = "run",
    .synopsis = "[OPTIONS]",
    .about = "Run the whole pipeline in one process: the feed, processing and windows\n"
             "(15-second running averages, 1-second and 1-minute candles), the store, and\n"
             "the web dashboard with its REST API, live push and /metrics.\n"
             "With a Finnhub API token the feed is Finnhub; without one tickpipe starts its\n"
             "built-in simulator on loopback and reads it through the same WebSocket client.\n"
             "Ctrl-C (SIGINT) or SIGTERM drains, flushes the store and exits; a second one\n"
             "gives up on rows a store that is down has not taken.\n",
    .epilog = "Exit status: 0 after a clean drain (everything received is stored), 1 on a\n"
              "runtime failure (store unreachable at start, port in use, or trades not stored\n"
              "at exit: the drain timed out or a second signal gave up; it says how many),\n"
              "2 on a usage error (bad flag, store URL or --http address). A rejected token is\n"
              "logged on every attempt and retried with backoff (capped at 60 s), like any\n"
              "other feed failure. /healthz: 200 while feed and store work, else 503 with JSON\n"
              "naming what is wrong and since when.\n",
    .groups = {&tp_flags_api, &tp_flags_feed, &tp_flags_checks, &tp_flags_run, &tp_flags_store,
               &tp_flags_windows, &tp_flags_durable, &tp_flags_http, &tp_flags_stop, &tp_flags_progress,
               &tp_flags_log, &tp_flags_config},
    .defaults = k_run_defaults,
};

/* ---- tickpipe serve ---- */

const tp_cmd_spec tp_spec_serve = {
    .name = "serve",
    .synopsis = "[OPTIONS]",
    .about = "Serve the dashboard, the REST API, live WebSocket updates and Prometheus metrics\n"
             "over a store that `tickpipe process` (or `tickpipe run`) writes. New rows are\n"
             "found by polling the store and pushed to connected browsers. SIGINT/SIGTERM stop.\n",
    .epilog = "Endpoints:\n"
              "  /                     the dashboard\n"
              "  /api/symbols          symbols with trade count, last price and time\n"
              "  /api/trades?symbol=S&from=MS&to=MS&limit=N\n"
              "  /api/candles?symbol=S&interval=IV&from=MS&to=MS&limit=N\n"
              "                        IV: 1s, 5s, 1m, 5m, 15m, 1h, 4h, 1d... (any N s/m/h/d to 7d)\n"
              "  /api/averages?symbol=S&from=MS&to=MS&limit=N\n"
              "  /ws                   live trades, candles, averages and health (JSON messages)\n"
              "  /metrics              Prometheus text format\n"
              "  /healthz              \"ok\"\n"
              "\n"
              "Exit status: 0 on a clean stop, 1 if the server cannot start, 2 on a usage error.\n"
              "\n"
              "Example:\n"
              "  tickpipe serve --store postgresql://tickpipe@localhost/tickpipe --http 0.0.0.0:8080\n",
    .groups = {&tp_flags_store_reader, &tp_flags_http, &tp_flags_serve, &tp_flags_log, &tp_flags_config},
};

/* ---- tickpipe simulate ---- */

const tp_cmd_spec tp_spec_simulate = {
    .name = "simulate",
    .synopsis = "[OPTIONS]",
    .about = "Serve a Finnhub-compatible WebSocket feed (as wss://ws.finnhub.io) and Finnhub's REST\n"
             "symbol search (GET /api/v1/search?q=QUERY&token=TOKEN) on one port: a synthetic market\n"
             "(a random walk per symbol at realistic price levels: stocks such as AAPL, crypto such\n"
             "as BINANCE:BTCUSDT, forex such as OANDA:EUR_USD sent as v=0 price updates) or the\n"
             "replay of a recording made by `tickpipe capture --record`.\n"
             "\n"
             "Clients connect to ws://HOST:PORT?token=TOKEN and send\n"
             "{\"type\":\"subscribe\",\"symbol\":\"AAPL\"} (or \"unsubscribe\"); they get trade messages\n"
             "{\"data\":[{\"c\":[..],\"p\":..,\"s\":..,\"t\":..,\"v\":..}],\"type\":\"trade\"} for the "
             "subscribed\n"
             "symbols only, and {\"type\":\"ping\"} every --ping-interval seconds. A missing or wrong\n"
             "token gets {\"type\":\"error\",\"msg\":\"Invalid API key\"} and a close; one connection per\n"
             "token: a new connection with a token in use closes the older one with an error.\n",
    .epilog = "Ready line on stderr: \"simulate: listening on ws://HOST:PORT\". SIGINT/SIGTERM stop\n"
              "cleanly and print the server's counters. Exit status: 0 on a clean stop, 1 when the\n"
              "server cannot start (address in use, a recording that is not one), 2 on a usage\n"
              "error (a bad flag or value, a file that cannot be read).\n"
              "\n"
              "Example:\n"
              "  tickpipe simulate &\n"
              "  tickpipe capture --ws-url ws://127.0.0.1:8765 --token t \\\n"
              "      --symbols AAPL,BINANCE:BTCUSDT --max-trades 1000\n",
    .groups = {&tp_flags_sim_server, &tp_flags_sim_market, &tp_flags_sim_replay, &tp_flags_sim_faults,
               &tp_flags_log, &tp_flags_config},
};

/* ---- tickpipe symbols ---- */

const tp_cmd_spec tp_spec_symbols = {
    .name = "symbols",
    .synopsis = "[OPTIONS] QUERY",
    .about = "Search Finnhub's symbols (REST GET /search?q=QUERY) and print the matches as a\n"
             "table: symbol, display symbol, type, description.\n",
    .epilog = "Exit status: 0 with results printed (an empty search prints \"no symbols match\"),\n"
              "1 on an error (network, HTTP status, an answer that is not a symbol search), 2 on\n"
              "a usage error.\n"
              "\n"
              "Example:\n"
              "  FINNHUB_REST_URL=http://127.0.0.1:8765/api/v1 tickpipe symbols --token t apple\n",
    .groups = {&tp_flags_api, &tp_flags_symbols, &tp_flags_log, &tp_flags_config},
    .max_args = -1,
};

/* ---- tickpipe export ---- */

const tp_cmd_spec tp_spec_export = {
    .name = "export",
    .synopsis = "--table TABLE [OPTIONS]",
    .about = "Write one table of a store (trades, candles, averages or gaps) to a file or\n"
             "standard output as Parquet (zstd; timestamps as TIMESTAMP(MILLIS, UTC), symbols\n"
             "dictionary-encoded, column statistics), CSV or JSON lines. Rows come by symbol,\n"
             "then by time. Reads through the store's queries, as serve does: any store serve\n"
             "can read. The README's Export section gives each table's columns.\n",
    .epilog = "Exit status: 0 with every row written (the count on standard error), 1 on an\n"
              "error (nothing is left at --out then), 2 on a usage error.\n"
              "\n"
              "Examples:\n"
              "  tickpipe export --store sqlite:data/tickpipe.db --table trades --out trades.parquet\n"
              "  tickpipe export --table candles --symbol AAPL --from 2023-11-14T00:00:00Z --format csv\n",
    .groups = {&tp_flags_export, &tp_flags_range, &tp_flags_store_reader, &tp_flags_log, &tp_flags_config},
    .max_args = 0,
};

/* ---- tickpipe archive ---- */

const tp_cmd_spec tp_spec_archive = {
    .name = "archive",
    .synopsis = "--archive file:DIR [OPTIONS]",
    .about = "Write the days of a store as Parquet files (the tables and types of `export`),\n"
             "one per table and UTC day: DIR/table=TABLE/date=YYYY-MM-DD/part-FROM-TO.parquet,\n"
             "as DuckDB, Spark or pyarrow read them (DIR/table=trades/**/*.parquet). Candles and\n"
             "averages that are not final are left out. A day already in the archive is kept,\n"
             "never written again; a file appears whole or not at all (written under a\n"
             "temporary name, renamed). --from and --to are rounded down to their days; by\n"
             "default the seven days before the last one that ended an hour ago.\n",
    .epilog = "Exit status: 0 when every day is archived (counts on standard error), 1 on an\n"
              "error (the files published so far stay), 2 on a usage error.\n"
              "\n"
              "Example:\n"
              "  tickpipe archive --store sqlite:data/tickpipe.db --archive file:archive/\n"
              "  duckdb -c \"select count(*) from 'archive/table=trades/**/*.parquet'\"\n",
    .groups = {&tp_flags_archive, &tp_flags_range, &tp_flags_store_reader, &tp_flags_log, &tp_flags_config},
    .max_args = 0,
};

/* ---- tickpipe config ---- */

const tp_cmd_spec tp_spec_config = {
    .name = "config",
    .synopsis = "check FILE",
    .about = "Check a config file (YAML, one key per flag: the flag's long name) as every\n"
             "command reads it: each value goes through its flag's parser. Prints \"ok\" and the\n"
             "commands each key applies to, or every error with its line.\n",
    .epilog = "Exit status: 0 when the file is good, 2 when it is not (or on a usage error).\n"
              "\n"
              "Example:\n"
              "  tickpipe config check deploy/tickpipe.example.yaml\n",
    .groups = {&tp_flags_log},
    .min_args = 2,
    .max_args = 2,
};
