/* cmd_capture.c - `tickpipe capture`: connect to a feed and print its
 * trades as JSON lines, or record its raw frames for `simulate --replay`.
 *
 * A thin shell over the source (feed/source.h): flags and environment are
 * turned into a tp_source_config, trades are written by the batch callback,
 * raw frames by the frame hook. Stopping (SIGINT/SIGTERM, --duration via
 * SIGALRM, --max-trades via the callback) goes through tp_source_stop, so
 * the recording is flushed and the summary printed in every case. */
#include "cmd/commands.h"

#include "codec/finnhub_json.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "feed/record.h"
#include "feed/source.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tp_source *volatile g_capture_src;

static void on_signal(int sig) {
    (void)sig;
    tp_source *s = g_capture_src;
    if (s) tp_source_stop(s);
}

static void usage(FILE *f) {
    fprintf(
        f, "Usage: tickpipe capture [OPTIONS]\n"
           "\n"
           "Connect to a Finnhub-compatible WebSocket feed, subscribe the symbols and print\n"
           "every trade as one JSON line {\"s\",\"p\",\"t\",\"v\",\"c\"} on stdout, or record the\n"
           "raw frames with their receive times (--record) for `tickpipe simulate --replay`.\n"
           "A summary (trades, frames, pings, errors, malformed, reconnects) goes to stderr\n"
           "on exit. SIGINT/SIGTERM stop cleanly.\n"
           "\n"
           "Feed:\n"
           "  --ws-url URL          WebSocket URL (env FINNHUB_WS_URL; default wss://ws.finnhub.io)\n"
           "  --token TOKEN         API token, sent as ?token= (env FINNHUB_API_TOKEN); never logged\n"
           "  --symbols LIST        symbols to subscribe: AAPL,BINANCE:BTCUSDT or a JSON list\n"
           "                        (env FINNHUB_STOCKS_TICKERS)\n"
           "  --validate            check each symbol with the REST symbol search first and skip\n"
           "                        unknown ones (env FINNHUB_VALIDATE_TICKERS=1)\n"
           "  --rest-url URL        REST base URL (env FINNHUB_REST_URL; default https://finnhub.io/api/v1)\n"
           "  --max-frame BYTES     reject messages larger than this (default 1048576)\n"
           "  --stale-timeout S     reconnect after S seconds without any message (default 90; 0 = off)\n"
           "  --max-reconnects N    give up (exit 1) after N reconnects (default: never)\n"
           "  --replay FILE         read frames from a recording instead of the network\n"
           "  --speed X             replay speed: 1 = as recorded, 0 = as fast as possible (default 0)\n"
           "\n"
           "Output and stopping:\n"
           "  --record FILE         write the raw frames with receive times to FILE instead of\n"
           "                        printing trades\n"
           "  --print               print the trades on stdout as well when recording\n"
           "  --max-trades N        stop after N trades (exactly N lines are printed)\n"
           "  --duration S          stop after S seconds\n"
           "  --log-level LEVEL     error, warn, info (default) or debug (env TICKPIPE_LOG)\n"
           "  -h, --help            this help\n"
           "\n"
           "Exit status: 0 on a clean stop, 1 on a fatal error (bad URL, reconnect limit\n"
           "reached, token rejected with --max-reconnects), 2 on a usage error.\n"
           "\n"
           "Example:\n"
           "  tickpipe capture --ws-url ws://127.0.0.1:8765 --token t \\\n"
           "      --symbols AAPL,BINANCE:BTCUSDT --max-trades 1000\n");
}

typedef struct capture_state {
    FILE *out;
    int print;
    uint64_t printed, max_trades;
    tp_record_writer *rec;
    int rec_failed;
    int out_failed;
    char line[65536];
} capture_state;

static int on_batch(void *ud, tp_batch *b) {
    capture_state *st = ud;
    if (st->print) {
        for (size_t i = 0; i < b->n; i++) {
            if (st->max_trades && st->printed >= st->max_trades) break;
            int n = tp_finnhub_trade_json(&b->trades[i], st->line, sizeof st->line - 1);
            if (n < 0) {
                tp_warn("capture", "a trade of %u-byte symbol does not fit the output line; skipped",
                        b->trades[i].symbol.len);
                continue;
            }
            st->line[n++] = '\n';
            if (fwrite(st->line, 1, (size_t)n, st->out) != (size_t)n) {
                st->out_failed = errno ? errno : EIO;
                return 1;
            }
            st->printed++;
        }
        if (fflush(st->out)) {
            st->out_failed = errno ? errno : EIO;
            return 1;
        }
    } else {
        st->printed += b->n;
    }
    if (st->max_trades && st->printed >= st->max_trades) return 1;
    return st->rec_failed;
}

static void on_frame(void *ud, const char *frame, size_t len, int64_t recv_ms) {
    capture_state *st = ud;
    if (!st->rec || st->rec_failed) return;
    if (tp_record_write(st->rec, recv_ms, frame, len)) {
        tp_error("capture", "cannot write to the recording; stopping");
        st->rec_failed = 1;
        tp_source_stop(g_capture_src);
    }
}

enum {
    OPT_WS_URL = 256,
    OPT_TOKEN,
    OPT_SYMBOLS,
    OPT_VALIDATE,
    OPT_REST_URL,
    OPT_MAX_FRAME,
    OPT_STALE,
    OPT_MAX_RECONNECTS,
    OPT_REPLAY,
    OPT_SPEED,
    OPT_RECORD,
    OPT_PRINT,
    OPT_MAX_TRADES,
    OPT_DURATION,
    OPT_LOG_LEVEL,
};

int tp_cmd_capture(int argc, char **argv) {
    static const struct option opts[] = {
        {"ws-url", required_argument, NULL, OPT_WS_URL},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"symbols", required_argument, NULL, OPT_SYMBOLS},
        {"validate", no_argument, NULL, OPT_VALIDATE},
        {"rest-url", required_argument, NULL, OPT_REST_URL},
        {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
        {"stale-timeout", required_argument, NULL, OPT_STALE},
        {"max-reconnects", required_argument, NULL, OPT_MAX_RECONNECTS},
        {"replay", required_argument, NULL, OPT_REPLAY},
        {"speed", required_argument, NULL, OPT_SPEED},
        {"record", required_argument, NULL, OPT_RECORD},
        {"print", no_argument, NULL, OPT_PRINT},
        {"max-trades", required_argument, NULL, OPT_MAX_TRADES},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *f_url = NULL, *f_token = NULL, *f_symbols = NULL, *f_rest = NULL, *f_replay = NULL,
               *f_record = NULL;
    int f_validate = 0, f_print = 0;
    int64_t max_frame = 1 << 20, max_reconnects = -1, max_trades = 0;
    double stale_s = 90, speed = 0, duration = 0;
    char err[512];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'h': usage(stdout); return 0;
        case OPT_WS_URL: f_url = optarg; break;
        case OPT_TOKEN: f_token = optarg; break;
        case OPT_SYMBOLS: f_symbols = optarg; break;
        case OPT_VALIDATE: f_validate = 1; break;
        case OPT_REST_URL: f_rest = optarg; break;
        case OPT_REPLAY: f_replay = optarg; break;
        case OPT_RECORD: f_record = optarg; break;
        case OPT_PRINT: f_print = 1; break;
        case OPT_MAX_FRAME:
            rc = tp_cfg_parse_i64(optarg, "--max-frame", 64, INT64_C(1) << 32, &max_frame, err, sizeof err);
            break;
        case OPT_STALE:
            rc = tp_cfg_parse_double(optarg, "--stale-timeout", 0, 86400, &stale_s, err, sizeof err);
            break;
        case OPT_MAX_RECONNECTS:
            rc = tp_cfg_parse_i64(optarg, "--max-reconnects", -1, 1000000000, &max_reconnects, err,
                                  sizeof err);
            break;
        case OPT_SPEED: rc = tp_cfg_parse_double(optarg, "--speed", 0, 1e6, &speed, err, sizeof err); break;
        case OPT_MAX_TRADES:
            rc = tp_cfg_parse_i64(optarg, "--max-trades", 1, INT64_MAX, &max_trades, err, sizeof err);
            break;
        case OPT_DURATION:
            rc = tp_cfg_parse_double(optarg, "--duration", 0.001, 1e9, &duration, err, sizeof err);
            break;
        case OPT_LOG_LEVEL: rc = tp_cfg_log_level(optarg, err, sizeof err); break;
        default:
            fprintf(stderr,
                    "tickpipe capture: unknown or incomplete option '%s'; see 'tickpipe capture --help'\n",
                    argv[optind - 1]);
            return 2;
        }
        if (rc) {
            fprintf(stderr, "tickpipe capture: %s\n", err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tickpipe capture: unexpected argument '%s'; see 'tickpipe capture --help'\n",
                argv[optind]);
        return 2;
    }

    tp_source_config cfg;
    tp_source_config_default(&cfg);
    cfg.url = tp_cfg_str(f_url, "FINNHUB_WS_URL", "wss://ws.finnhub.io");
    cfg.token = tp_cfg_str(f_token, "FINNHUB_API_TOKEN", NULL);
    cfg.rest_url = tp_cfg_str(f_rest, "FINNHUB_REST_URL", "https://finnhub.io/api/v1");
    cfg.validate = f_validate || tp_cfg_env_flag("FINNHUB_VALIDATE_TICKERS");
    cfg.max_frame_bytes = (size_t)max_frame;
    cfg.stale_timeout_ms = (int64_t)(stale_s * 1000.0);
    cfg.max_reconnects = (int)max_reconnects;
    cfg.replay_path = f_replay;
    cfg.replay_speed = speed;
    tp_symbols syms = {0};
    const char *symtext = tp_cfg_str(f_symbols, "FINNHUB_STOCKS_TICKERS", NULL);
    if (symtext && tp_symbols_parse(symtext, &syms, err, sizeof err)) {
        fprintf(stderr, "tickpipe capture: %s\n", err);
        return 2;
    }
    cfg.symbols = (const char *const *)syms.items;
    cfg.nsymbols = syms.n;
    if (!f_replay && (!cfg.token || !*cfg.token)) {
        fprintf(stderr, "tickpipe capture: no API token: give --token or set FINNHUB_API_TOKEN "
                        "(any token works with `tickpipe simulate`)\n");
        tp_symbols_free(&syms);
        return 2;
    }

    capture_state *st = calloc(1, sizeof *st);
    if (!st) {
        tp_symbols_free(&syms);
        fprintf(stderr, "tickpipe capture: out of memory\n");
        return 1;
    }
    st->out = stdout;
    st->print = !f_record || f_print;
    st->max_trades = (uint64_t)max_trades;

    tp_source *src = NULL;
    int rc = tp_source_new(&cfg, on_batch, st, &src, err, sizeof err);
    tp_symbols_free(&syms); /* the source copied them */
    if (rc) {
        fprintf(stderr, "tickpipe capture: %s\n", err);
        free(st);
        return 2;
    }
    if (f_record) {
        if (tp_record_writer_open(f_record, &st->rec, err, sizeof err)) {
            fprintf(stderr, "tickpipe capture: %s\n", err);
            tp_source_free(src);
            free(st);
            return 1;
        }
        tp_source_set_frame_hook(src, on_frame, st);
    }

    g_capture_src = src;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (duration > 0) tp_cfg_alarm_after(duration);

    int64_t t0 = tp_mono_us();
    char rerr[512] = "";
    int run_rc = tp_source_run(src, rerr, sizeof rerr);

    tp_cfg_alarm_after(0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    g_capture_src = NULL;

    int status = 0;
    if (fflush(stdout) && !st->out_failed) st->out_failed = errno ? errno : EIO;
    if (st->rec) {
        if (tp_record_writer_close(st->rec) && !st->rec_failed) st->rec_failed = 1;
        if (st->rec_failed) {
            fprintf(stderr, "tickpipe capture: the recording %s is incomplete: a write failed\n", f_record);
            status = 1;
        }
    }
    if (st->out_failed && st->out_failed != EPIPE) {
        fprintf(stderr, "tickpipe capture: cannot write to stdout: %s\n", strerror(st->out_failed));
        status = 1;
    }
    if (run_rc) {
        fprintf(stderr, "tickpipe capture: %s\n", rerr);
        status = 1;
    }
    tp_source_stats ss;
    tp_source_get_stats(src, &ss);
    fprintf(stderr,
            "summary: trades=%llu frames=%llu pings=%llu errors=%llu malformed=%llu reconnects=%llu "
            "unknown=%llu oversize=%llu printed=%llu seconds=%.3f\n",
            (unsigned long long)ss.trades, (unsigned long long)ss.frames, (unsigned long long)ss.pings,
            (unsigned long long)ss.errors, (unsigned long long)ss.malformed,
            (unsigned long long)ss.reconnects, (unsigned long long)ss.unknown,
            (unsigned long long)ss.oversize, (unsigned long long)(st->print ? st->printed : 0),
            (double)(tp_mono_us() - t0) / 1e6);
    tp_source_free(src);
    free(st);
    return status;
}
