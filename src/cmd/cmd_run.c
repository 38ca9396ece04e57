/* cmd_run.c - `tickpipe run`: the whole pipeline in one process.
 *
 *   feed (Finnhub with a token, else the built-in simulator on loopback,
 *   read through the same WebSocket client)
 *     -> source thread -> bounded hand-off queue (backpressure)
 *     -> pipeline thread: ids, windows, store, durable
 *     -> HTTP: dashboard, REST, live push (/ws), /metrics
 *
 * Ids: a live feed has no Kafka offsets, so each run stamps its batches
 * with origin topic "feed:<run nonce>" and the frame sequence number; ids
 * are unique across runs and still deterministic within one.
 *
 * Stopping: SIGINT/SIGTERM (or --duration / --max-trades) stop the source;
 * the pipeline thread drains the queue, flushes every open window and
 * commits, then the HTTP server and the simulator stop. A second signal
 * while a store is unreachable abandons the pending rows (said in plain
 * words) instead of waiting forever. */
#include "cmd/commands.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "feed/source.h"
#include "http/http.h"
#include "process/pipeline.h"
#include "sim/sim.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUN_DEFAULT_SYMBOLS "AAPL,MSFT,AMZN,NVDA,TSLA,BINANCE:BTCUSDT,BINANCE:ETHUSDT,OANDA:EUR_USD"

static void usage(FILE *f) {
    fprintf(f, "Usage: tickpipe run [OPTIONS]\n"
               "\n"
               "Run the whole pipeline in one process: the feed, processing and windows\n"
               "(15-second running averages, 1-second and 1-minute candles), the store, and\n"
               "the web dashboard with its REST API, live push and /metrics.\n"
               "With a Finnhub API token the feed is Finnhub; without one tickpipe starts its\n"
               "built-in simulator on loopback and reads it through the same WebSocket client.\n"
               "Ctrl-C (SIGINT) or SIGTERM drains, flushes the store and exits.\n"
               "\n"
               "Feed:\n"
               "  --token TOKEN         Finnhub API token (env FINNHUB_API_TOKEN); none = simulator\n"
               "  --ws-url URL          WebSocket URL (env FINNHUB_WS_URL; default wss://ws.finnhub.io,\n"
               "                        or the built-in simulator when there is no token)\n"
               "  --symbols LIST        symbols: AAPL,BINANCE:BTCUSDT or a JSON list (env\n"
               "                        FINNHUB_STOCKS_TICKERS; default " RUN_DEFAULT_SYMBOLS ")\n"
               "  --validate            check each symbol with the REST symbol search first\n"
               "                        (env FINNHUB_VALIDATE_TICKERS=1)\n"
               "  --rest-url URL        REST base URL (env FINNHUB_REST_URL; default\n"
               "                        https://finnhub.io/api/v1, or the simulator's)\n"
               "  --stale-timeout S     reconnect after S seconds of silence (default 90; 0 = off)\n"
               "  --sim-rate N          simulator: trades/s in total (default 200)\n"
               "  --sim-batch N         simulator: trades per message at most (default 20)\n"
               "  --sim-seed N          simulator: random seed (default: from the clock)\n"
               "\n"
               "Processing and storage:\n"
               "  --store URL           sqlite:PATH, postgresql://..., clickhouse://host:8123/db\n"
               "                        (env TICKPIPE_STORE; default sqlite:data/tickpipe.db)\n"
               "  --allowed-lateness S  event-time lateness before a window is final (default 15)\n"
               "  --emit-interval MS    upsert open windows at most this often (default 1000)\n"
               "  --flush-interval MS   longest a trade waits for its commit (default 200); commits\n"
               "                        run back to back (group commit), usually far sooner\n"
               "\n"
               "HTTP:\n"
               "  --http ADDR:PORT      dashboard, REST API, /ws, /metrics (env TICKPIPE_HTTP;\n"
               "                        default 127.0.0.1:8080; port 0 = any free port)\n"
               "  --no-http             run without the HTTP server\n"
               "\n"
               "Stopping and logging:\n"
               "  --max-trades N        stop after N trades\n"
               "  --drain-timeout S     on stop, store what was received for at most S seconds\n"
               "                        (default 30), then exit 1 saying how many trades were\n"
               "                        not stored; a second Ctrl-C/SIGTERM gives up at once\n"
               "  --duration S          stop after S seconds\n"
               "  --log-level LEVEL     error, warn, info (default) or debug (env TICKPIPE_LOG)\n"
               "  -h, --help            this help\n"
               "\n"
               "Exit status: 0 after a clean drain (everything received is stored), 1 on a\n"
               "runtime failure (store unreachable at start, port in use, or trades not stored\n"
               "at exit: the drain timed out or a second signal gave up; it says how many),\n"
               "2 on a usage error (bad flag, store URL or --http address). A rejected token is\n"
               "logged on every attempt and retried with backoff (capped at 60 s), like any\n"
               "other feed failure.\n");
}

/* ---- the hand-off queue: source thread -> pipeline thread ------------- */

typedef struct qitem {
    struct qitem *next;
    tp_batch b;
} qitem;

typedef struct run_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    qitem *head, *tail, *free_list;
    size_t trades, max_trades; /* queued trades and the bound */
    int closed;                /* the source is done */
    int aborted;               /* the pipeline gave up: producers stop waiting */
} run_queue;

typedef struct run_state {
    run_queue q;
    tp_source *src;
    tp_pipeline *pipe;
    tp_http *http;
    char origin_topic[64];
    uint64_t max_trades;
    _Atomic uint64_t accepted;
    _Atomic int stopping;
    _Atomic int signals;
    int64_t drain_us;        /* --drain-timeout */
    _Atomic int drain_armed; /* the drain's deadline is set */
    tp_counter *m_queue_full;
    tp_gauge *m_queue_depth;
} run_state;

static run_state *volatile g_run;

/* The drain has --drain-timeout from the first stop (signal, --duration,
 * --max-trades, the feed ending); async-signal-safe. */
static void arm_drain(run_state *r) {
    if (!r->pipe || atomic_exchange(&r->drain_armed, 1)) return;
    tp_pipeline_stop_at(r->pipe, tp_mono_us() + r->drain_us);
}

static void on_signal(int sig) {
    run_state *r = g_run;
    if (!r) return;
    if (sig == SIGALRM) {
        atomic_store(&r->stopping, 1);
        arm_drain(r);
        if (r->src) tp_source_stop(r->src);
        return;
    }
    int n = atomic_fetch_add(&r->signals, 1);
    atomic_store(&r->stopping, 1);
    arm_drain(r);
    if (r->src) tp_source_stop(r->src);
    if (n >= 1 && r->pipe) tp_pipeline_stop(r->pipe); /* second signal: stop retrying the store */
}

static void abs_deadline_us(struct timespec *ts, int64_t us) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += us / 1000000;
    ts->tv_nsec += (long)(us % 1000000) * 1000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void abs_deadline(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Source thread: copy the frame's trades into a queued batch. Blocks while
 * the queue is full (backpressure: the source reads nothing meanwhile). */
static int on_batch(void *ud, tp_batch *b) {
    run_state *r = ud;
    run_queue *q = &r->q;
    size_t take = b->n;
    if (r->max_trades) {
        uint64_t acc = atomic_load(&r->accepted);
        if (acc >= r->max_trades) return 1;
        if (acc + take > r->max_trades) take = (size_t)(r->max_trades - acc);
    }
    pthread_mutex_lock(&q->mu);
    int warned = 0;
    while (q->trades >= q->max_trades && !q->aborted && !atomic_load(&r->stopping)) {
        if (!warned) {
            tp_counter_add(r->m_queue_full, 1);
            warned = 1;
        }
        /* timed: a signal handler sets stopping but cannot signal the
         * condition; with the store down nothing else would wake us */
        struct timespec ts;
        abs_deadline(&ts, 100);
        pthread_cond_timedwait(&q->not_full, &q->mu, &ts);
    }
    if (q->aborted) {
        pthread_mutex_unlock(&q->mu);
        return 1;
    }
    qitem *it = q->free_list;
    if (it) {
        q->free_list = it->next;
    }
    pthread_mutex_unlock(&q->mu);
    if (!it) {
        it = calloc(1, sizeof *it);
        if (!it) {
            tp_error("run", "out of memory queueing %zu trades; stopping", take);
            return 1;
        }
        tp_batch_init(&it->b);
    }
    tp_batch_reset(&it->b);
    for (size_t i = 0; i < take; i++) {
        if (!tp_batch_copy_trade(&it->b, &b->trades[i])) {
            tp_error("run", "out of memory queueing trades; stopping");
            tp_batch_free(&it->b);
            free(it);
            return 1;
        }
    }
    it->b.recv_ms = b->recv_ms;
    it->b.origin = b->origin;
    snprintf(it->b.origin.topic, sizeof it->b.origin.topic, "%s", r->origin_topic);
    it->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->trades += it->b.n;
    tp_gauge_set(r->m_queue_depth, (int64_t)q->trades);
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    uint64_t acc = atomic_fetch_add(&r->accepted, take) + take;
    return r->max_trades && acc >= r->max_trades;
}

static void *source_thread(void *arg) {
    run_state *r = arg;
    static char err[512];
    int rc = tp_source_run(r->src, err, sizeof err);
    if (rc) tp_error("run", "feed stopped: %s", err);
    pthread_mutex_lock(&r->q.mu);
    if (atomic_load(&r->signals) == 1 && !r->q.aborted)
        tp_info("run",
                "stopping: the feed is closed; storing the %zu queued trades and the open windows "
                "(a second Ctrl-C gives up on rows the store has not accepted)",
                r->q.trades);
    r->q.closed = 1;
    pthread_cond_broadcast(&r->q.not_empty);
    pthread_mutex_unlock(&r->q.mu);
    return (void *)(intptr_t)rc;
}

static void on_durable(void *ud, const tp_trade *t, size_t nt, const tp_candle *c, size_t nc,
                       const tp_average *a, size_t na) {
    run_state *r = ud;
    if (!r->http) return;
    if (nt) tp_http_publish_trades(r->http, t, nt);
    if (nc) tp_http_publish_candles(r->http, c, nc);
    if (na) tp_http_publish_averages(r->http, a, na);
}

/* Pipeline thread (the caller's): take queued batches, add, flush when due.
 * Returns 0 after a clean drain, 1 if rows could not be made durable. */
static int pipeline_loop(run_state *r, int64_t flush_interval_ms) {
    run_queue *q = &r->q;
    int64_t last_progress = tp_mono_us();
    uint64_t last_trades = 0;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        if (!q->head && !q->closed) {
            struct timespec ts;
            int64_t due_us = tp_pipeline_flush_in_us(r->pipe); /* group commit: wait no longer */
            abs_deadline_us(&ts,
                            due_us >= 0 ? due_us : (flush_interval_ms > 0 ? flush_interval_ms : 200) * 1000);
            pthread_cond_timedwait(&q->not_empty, &q->mu, &ts);
        }
        qitem *it = q->head;
        if (it) {
            q->head = it->next;
            if (!q->head) q->tail = NULL;
            q->trades -= it->b.n;
            tp_gauge_set(r->m_queue_depth, (int64_t)q->trades);
            pthread_cond_signal(&q->not_full);
        }
        int done = !it && q->closed;
        int closing = q->closed;
        pthread_mutex_unlock(&q->mu);
        if (closing || atomic_load(&r->stopping)) arm_drain(r);
        if ((closing || atomic_load(&r->stopping)) && tp_pipeline_stopped(r->pipe)) {
            if (it) { /* not added: give it back so the count at exit includes it */
                pthread_mutex_lock(&q->mu);
                it->next = q->head;
                q->head = it;
                if (!q->tail) q->tail = it;
                q->trades += it->b.n;
                pthread_mutex_unlock(&q->mu);
            }
            goto give_up;
        }

        if (it) {
            if (tp_pipeline_add(r->pipe, &it->b)) {
                tp_error("run", "out of memory adding %zu trades to the pipeline", it->b.n);
            }
            tp_batch_reset(&it->b);
            pthread_mutex_lock(&q->mu);
            it->next = q->free_list;
            q->free_list = it;
            pthread_mutex_unlock(&q->mu);
        }
        if (done) break;
        if (tp_pipeline_flush_due(r->pipe, tp_now_ms())) {
            if (tp_pipeline_flush(r->pipe, 0)) goto give_up; /* stopped while the store was failing */
        }
        int64_t now = tp_mono_us();
        if (now - last_progress >= 10 * 1000000LL) {
            tp_pipeline_stats ps;
            tp_pipeline_get_stats(r->pipe, &ps);
            tp_source_stats ss;
            tp_source_get_stats(r->src, &ss);
            double secs = (double)(now - last_progress) / 1e6;
            tp_info("run", "%.0f trades/s, %llu trades stored, %llu late, %llu reconnects, %llu store errors",
                    (double)(ps.trades - last_trades) / secs, (unsigned long long)ps.trades,
                    (unsigned long long)ps.late, (unsigned long long)ss.reconnects,
                    (unsigned long long)ps.store_errors);
            last_trades = ps.trades;
            last_progress = now;
        }
    }
    if (!tp_pipeline_flush(r->pipe, 1)) return 0;
give_up:
    pthread_mutex_lock(&q->mu);
    q->aborted = 1;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
    tp_source_stop(r->src);
    return 1;
}

static void queue_free(run_queue *q) {
    qitem *lists[2] = {q->head, q->free_list};
    for (int i = 0; i < 2; i++) {
        for (qitem *it = lists[i]; it;) {
            qitem *next = it->next;
            tp_batch_free(&it->b);
            free(it);
            it = next;
        }
    }
    q->head = q->tail = q->free_list = NULL;
}

/* sqlite:data/tickpipe.db -> make sure data/ exists (the store creates the
 * file, not its directory, on some setups; harmless if it does). */
static void ensure_sqlite_dir(const char *url) {
    if (strncmp(url, "sqlite:", 7)) return;
    const char *path = url + 7;
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return;
    char dir[1024];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return;
    memcpy(dir, path, n);
    dir[n] = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0755);
            *p = '/';
        }
    }
    mkdir(dir, 0755);
}

enum {
    OPT_TOKEN = 256,
    OPT_WS_URL,
    OPT_SYMBOLS,
    OPT_VALIDATE,
    OPT_REST_URL,
    OPT_STALE,
    OPT_SIM_RATE,
    OPT_SIM_BATCH,
    OPT_SIM_SEED,
    OPT_STORE,
    OPT_LATENESS,
    OPT_EMIT,
    OPT_FLUSH,
    OPT_HTTP,
    OPT_NO_HTTP,
    OPT_MAX_TRADES,
    OPT_DURATION,
    OPT_LOG_LEVEL,
    OPT_DRAIN,
};

int tp_cmd_run(int argc, char **argv) {
    static const struct option opts[] = {
        {"token", required_argument, NULL, OPT_TOKEN},
        {"ws-url", required_argument, NULL, OPT_WS_URL},
        {"symbols", required_argument, NULL, OPT_SYMBOLS},
        {"validate", no_argument, NULL, OPT_VALIDATE},
        {"rest-url", required_argument, NULL, OPT_REST_URL},
        {"stale-timeout", required_argument, NULL, OPT_STALE},
        {"sim-rate", required_argument, NULL, OPT_SIM_RATE},
        {"sim-batch", required_argument, NULL, OPT_SIM_BATCH},
        {"sim-seed", required_argument, NULL, OPT_SIM_SEED},
        {"store", required_argument, NULL, OPT_STORE},
        {"allowed-lateness", required_argument, NULL, OPT_LATENESS},
        {"emit-interval", required_argument, NULL, OPT_EMIT},
        {"flush-interval", required_argument, NULL, OPT_FLUSH},
        {"http", required_argument, NULL, OPT_HTTP},
        {"no-http", no_argument, NULL, OPT_NO_HTTP},
        {"max-trades", required_argument, NULL, OPT_MAX_TRADES},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"drain-timeout", required_argument, NULL, OPT_DRAIN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *f_token = NULL, *f_url = NULL, *f_symbols = NULL, *f_rest = NULL, *f_store = NULL,
               *f_http = NULL;
    int f_validate = 0, no_http = 0;
    double stale_s = 90, sim_rate = 200, lateness_s = 15, duration = 0, drain_s = 30;
    int64_t sim_batch = 20, sim_seed = -1, emit_ms = 1000, flush_ms = 200, max_trades = 0;
    char err[512];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'h': usage(stdout); return 0;
        case OPT_TOKEN: f_token = optarg; break;
        case OPT_WS_URL: f_url = optarg; break;
        case OPT_SYMBOLS: f_symbols = optarg; break;
        case OPT_VALIDATE: f_validate = 1; break;
        case OPT_REST_URL: f_rest = optarg; break;
        case OPT_STORE: f_store = optarg; break;
        case OPT_HTTP: f_http = optarg; break;
        case OPT_NO_HTTP: no_http = 1; break;
        case OPT_STALE:
            rc = tp_cfg_parse_double(optarg, "--stale-timeout", 0, 86400, &stale_s, err, sizeof err);
            break;
        case OPT_SIM_RATE:
            rc = tp_cfg_parse_double(optarg, "--sim-rate", 0.001, 1e9, &sim_rate, err, sizeof err);
            break;
        case OPT_SIM_BATCH:
            rc = tp_cfg_parse_i64(optarg, "--sim-batch", 1, 10000, &sim_batch, err, sizeof err);
            break;
        case OPT_SIM_SEED:
            rc = tp_cfg_parse_i64(optarg, "--sim-seed", 0, INT64_MAX, &sim_seed, err, sizeof err);
            break;
        case OPT_LATENESS:
            rc = tp_cfg_parse_double(optarg, "--allowed-lateness", 0, 86400, &lateness_s, err, sizeof err);
            break;
        case OPT_EMIT:
            rc = tp_cfg_parse_i64(optarg, "--emit-interval", 0, 3600000, &emit_ms, err, sizeof err);
            break;
        case OPT_FLUSH:
            rc = tp_cfg_parse_i64(optarg, "--flush-interval", 1, 3600000, &flush_ms, err, sizeof err);
            break;
        case OPT_MAX_TRADES:
            rc = tp_cfg_parse_i64(optarg, "--max-trades", 1, INT64_MAX, &max_trades, err, sizeof err);
            break;
        case OPT_DURATION:
            rc = tp_cfg_parse_double(optarg, "--duration", 0.001, 1e9, &duration, err, sizeof err);
            break;
        case OPT_LOG_LEVEL: rc = tp_cfg_log_level(optarg, err, sizeof err); break;
        case OPT_DRAIN:
            rc = tp_cfg_parse_double(optarg, "--drain-timeout", 0, 86400, &drain_s, err, sizeof err);
            break;
        default:
            fprintf(stderr, "tickpipe run: unknown or incomplete option '%s'; see 'tickpipe run --help'\n",
                    argv[optind - 1]);
            return 2;
        }
        if (rc) {
            fprintf(stderr, "tickpipe run: %s\n", err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tickpipe run: unexpected argument '%s'; see 'tickpipe run --help'\n", argv[optind]);
        return 2;
    }

    const char *token = tp_cfg_str(f_token, "FINNHUB_API_TOKEN", NULL);
    const char *store_url = tp_cfg_str(f_store, "TICKPIPE_STORE", "sqlite:data/tickpipe.db");
    const char *http_listen = tp_cfg_str(f_http, "TICKPIPE_HTTP", "127.0.0.1:8080");
    tp_symbols syms = {0};
    const char *symtext = tp_cfg_str(f_symbols, "FINNHUB_STOCKS_TICKERS", RUN_DEFAULT_SYMBOLS);
    if (tp_symbols_parse(symtext, &syms, err, sizeof err) || syms.n == 0) {
        fprintf(stderr, "tickpipe run: %s\n", syms.n ? err : "no symbols to subscribe");
        tp_symbols_free(&syms);
        return 2;
    }

    int status = 1;
    run_state *r = calloc(1, sizeof *r);
    tp_sim *sim = NULL;
    pthread_t src_thread;
    int src_started = 0;
    char ws_url[256], rest_url[256];
    if (!r) {
        fprintf(stderr, "tickpipe run: out of memory\n");
        tp_symbols_free(&syms);
        return 1;
    }
    pthread_mutex_init(&r->q.mu, NULL);
    pthread_cond_init(&r->q.not_empty, NULL);
    pthread_cond_init(&r->q.not_full, NULL);
    r->q.max_trades = 200000;
    r->max_trades = (uint64_t)max_trades;
    r->drain_us = (int64_t)(drain_s * 1e6);
    r->m_queue_full = tp_metrics_counter("tickpipe_run_queue_full_total", NULL,
                                         "Times the feed waited for processing (backpressure)");
    r->m_queue_depth = tp_metrics_gauge("tickpipe_run_queue_trades", NULL, "Trades waiting to be processed");
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(r->origin_topic, sizeof r->origin_topic, "feed:%llx-%lx-%x", (unsigned long long)tp_now_ms(),
                 (long)ts.tv_nsec, (unsigned)getpid());
    }

    tp_source_config scfg;
    tp_source_config_default(&scfg);
    scfg.stale_timeout_ms = (int64_t)(stale_s * 1000.0);
    scfg.validate = f_validate || tp_cfg_env_flag("FINNHUB_VALIDATE_TICKERS");
    scfg.symbols = (const char *const *)syms.items;
    scfg.nsymbols = syms.n;

    if (token && *token) {
        scfg.url = tp_cfg_str(f_url, "FINNHUB_WS_URL", "wss://ws.finnhub.io");
        scfg.token = token;
        scfg.rest_url = tp_cfg_str(f_rest, "FINNHUB_REST_URL", "https://finnhub.io/api/v1");
        char red[300];
        tp_log_redact(scfg.url, red, sizeof red);
        tp_info("run", "feed: %s (%zu symbols)", red, syms.n);
    } else {
        tp_sim_config sc;
        tp_sim_config_default(&sc);
        sc.listen = "127.0.0.1:0";
        sc.token = "tickpipe-local";
        sc.rate = sim_rate;
        sc.batch = (int)sim_batch;
        sc.seed = sim_seed >= 0 ? (uint64_t)sim_seed : (uint64_t)tp_now_ms();
        if (tp_sim_start(&sc, &sim, err, sizeof err)) {
            fprintf(stderr, "tickpipe run: cannot start the built-in simulator: %s\n", err);
            goto out;
        }
        snprintf(ws_url, sizeof ws_url, "ws://127.0.0.1:%d", tp_sim_port(sim));
        snprintf(rest_url, sizeof rest_url, "http://127.0.0.1:%d/api/v1", tp_sim_port(sim));
        scfg.url = f_url ? f_url : ws_url;
        scfg.token = sc.token;
        scfg.rest_url = f_rest ? f_rest : rest_url;
        tp_info("run",
                "no FINNHUB_API_TOKEN: using the built-in simulator at %s (%.0f trades/s, %zu symbols)",
                ws_url, sim_rate, syms.n);
    }

    tp_pipeline_config pcfg;
    tp_pipeline_config_default(&pcfg);
    ensure_sqlite_dir(store_url);
    pcfg.store_url = store_url;
    pcfg.win.allowed_lateness_ms = (int64_t)(lateness_s * 1000.0);
    pcfg.win.emit_interval_ms = emit_ms;
    pcfg.flush_interval_ms = flush_ms;
    pcfg.on_durable = on_durable;
    pcfg.on_durable_ud = r;
    int orc = tp_pipeline_new(&pcfg, &r->pipe, err, sizeof err);
    if (orc) {
        fprintf(stderr, "tickpipe run: %s\n", err);
        status = orc == TP_EINVAL ? 2 : 1; /* a bad URL is a usage error */
        goto out;
    }

    if (!no_http) {
        tp_http_config hcfg;
        tp_http_config_default(&hcfg);
        hcfg.listen = http_listen;
        hcfg.store_url = store_url;
        int hrc = tp_http_start(&hcfg, &r->http, err, sizeof err);
        if (hrc) {
            fprintf(stderr, "tickpipe run: %s\n", err);
            status = hrc == TP_EINVAL ? 2 : 1; /* a bad address is a usage error, as in serve */
            goto out;
        }
        char host[128];
        snprintf(host, sizeof host, "%s", http_listen);
        char *colon = strrchr(host, ':');
        if (colon) *colon = 0;
        if (!*host || !strcmp(host, "0.0.0.0")) snprintf(host, sizeof host, "127.0.0.1");
        fprintf(stderr, "tickpipe: dashboard at http://%s:%d/\n", host, tp_http_port(r->http));
    }

    if (tp_source_new(&scfg, on_batch, r, &r->src, err, sizeof err)) {
        fprintf(stderr, "tickpipe run: %s\n", err);
        goto out;
    }

    g_run = r;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (duration > 0) tp_cfg_alarm_after(duration);

    if (pthread_create(&src_thread, NULL, source_thread, r)) {
        fprintf(stderr, "tickpipe run: cannot start the feed thread\n");
        goto out;
    }
    src_started = 1;
    int prc = pipeline_loop(r, flush_ms);
    void *src_rc = NULL;
    pthread_join(src_thread, &src_rc);
    src_started = 0;

    tp_pipeline_stats ps;
    tp_pipeline_get_stats(r->pipe, &ps);
    tp_source_stats ss;
    tp_source_get_stats(r->src, &ss);
    size_t undelivered = r->q.trades + ps.pending;
    fprintf(stderr,
            "summary: trades=%llu stored=%llu late=%llu frames=%llu pings=%llu errors=%llu malformed=%llu "
            "reconnects=%llu store_errors=%llu flushes=%llu durable_p50_ms=%lld durable_p99_ms=%lld "
            "durable_p999_ms=%lld\n",
            (unsigned long long)ss.trades, (unsigned long long)ps.trades, (unsigned long long)ps.late,
            (unsigned long long)ss.frames, (unsigned long long)ss.pings, (unsigned long long)ss.errors,
            (unsigned long long)ss.malformed, (unsigned long long)ss.reconnects,
            (unsigned long long)ps.store_errors, (unsigned long long)ps.flushes,
            (long long)tp_pipeline_latency_quantile_ms(&ps, 0.5),
            (long long)tp_pipeline_latency_quantile_ms(&ps, 0.99),
            (long long)tp_pipeline_latency_quantile_ms(&ps, 0.999));
    if (prc) {
        fprintf(stderr,
                "tickpipe run: %s: %zu trades received were not stored (the store did not take them in "
                "time; see the store errors above)\n",
                atomic_load(&r->signals) >= 2 ? "gave up on a second signal"
                                              : "the drain timed out (--drain-timeout)",
                undelivered);
        status = 1;
    } else if (src_rc && !atomic_load(&r->stopping) && !r->max_trades) {
        status = 1; /* the feed failed on its own (e.g. token rejected) */
    } else {
        status = 0;
    }

out:
    if (src_started) {
        tp_source_stop(r->src);
        pthread_mutex_lock(&r->q.mu);
        r->q.aborted = 1;
        pthread_cond_broadcast(&r->q.not_full);
        pthread_mutex_unlock(&r->q.mu);
        pthread_join(src_thread, NULL);
    }
    tp_cfg_alarm_after(0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    g_run = NULL;
    if (r->http) tp_http_stop(r->http);
    if (r->src) tp_source_free(r->src);
    if (r->pipe) tp_pipeline_free(r->pipe);
    if (sim) tp_sim_stop(sim);
    queue_free(&r->q);
    pthread_mutex_destroy(&r->q.mu);
    pthread_cond_destroy(&r->q.not_empty);
    pthread_cond_destroy(&r->q.not_full);
    free(r);
    tp_symbols_free(&syms);
    return status;
}
