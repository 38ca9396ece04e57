/* source.c - the WebSocket feed source and its replay mode. Everything a feed does its own way goes through
 * s->feed (feed.h): the request path with the token, the subscribe messages, the parser, the meaning of error
 * and close texts, symbol validation.
 *
 * Design. One lws context with one raw TCP client connection at a time
 * (with TLS over it for wss://, ws_tls.h: lws 4.1 cannot start TLS on a
 * raw client socket), serviced
 * by the thread in tp_source_run(). A 100 ms lws timer keeps lws_service()
 * returning so the loop can run the silence watchdog, the reconnect
 * schedule and the stop flag; tp_source_stop() sets an atomic flag and
 * calls lws_cancel_service() (a pipe write) under ctx_lock, so a stop from
 * another thread never wakes a context that is being destroyed.
 *
 * The WebSocket protocol over that connection is ws_frame.h: the upgrade
 * request and the check of its answer, then the frame decoder, which hands
 * each payload piece on where it lies in lws's read buffer. (libwebsockets'
 * own client parser copied every byte through a per-byte state machine,
 * about half of `tickpipe produce`'s instructions; tests compare the two.)
 * The decoder answers a ping with a pong and a close with a close; any
 * bytes from the server count as life for the silence watchdog.
 *
 * Frames go through tp_source_feed(), the socket-free part: it reassembles
 * a message from continuation frames and from lws's receive chunks into a
 * buffer bounded by max_frame_bytes (a larger message is counted, logged,
 * and the rest of it discarded; the connection goes on), then parses it
 * with the feed's parser into one reused tp_batch and calls on_batch. The
 * same function serves replay and the unit tests.
 *
 * Connection life: connect -> subscribe every symbol (one message per
 * writeable callback) -> read. Any close, handshake failure or watchdog
 * expiry schedules a reconnect after tp_source_backoff_ms(failures); the
 * failure count is reset only once a connection has delivered a ping or a
 * trade, so a server that accepts and then rejects us still backs off.
 * Being closed because the key is in use elsewhere waits at least the
 * feed's key_in_use_min_delay_ms (Finnhub: 10 s), so
 * two clients sharing a key do not evict each other in a tight loop.
 *
 * Connection and session: the per-connection state (socket, TLS, WebSocket
 * decoder, subscription progress, reassembly) is a `conn`; a tp_source has
 * two slots, so that before a venue's connection lifetime a successor can
 * be opened and subscribed while the old connection goes on, both feeding
 * the one session (see "handover" below). */
#include "feed/source.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/resolve.h"
#include "feed/dedupe.h"
#include "feed/gaps.h"
#include "feed/source_group.h"
#include "feed/record.h"
#include "feed/ws_frame.h"
#include "feed/ws_tls.h"

#include <ctype.h>
#include <libwebsockets.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MOD "source"
#define MAX_SEEN_TYPES 32
/* tickpipe_ingest_last_trade_timestamp_seconds{connection,symbol}: a series
 * per subscribed symbol (in a replay, per symbol seen), at most this many
 * per connection, so a feed sending odd symbols cannot grow /metrics
 * without bound. The table is open addressing at twice that size. */
#define LAST_TRADE_SERIES 256
#define LAST_TRADE_SLOTS 512

typedef struct last_trade_slot {
    char *symbol; /* NULL = empty */
    uint32_t len;
    tp_gauge *g;
} last_trade_slot;

typedef struct source_metrics {
    tp_counter *frames, *trades, *pings, *errors, *unknown, *malformed, *oversize, *reconnects, *bytes;
    tp_counter *duplicates, *duplicate_trades, *gaps, *handovers;
    tp_histogram *parse;
    /* Shared by every connection of the process (a source group runs
     * several): `connections` counts the WebSocket sources running,
     * `connected` those subscribed, each moved by +1/-1 on a transition, so
     * health is "connected == connections", not whichever wrote last. */
    tp_gauge *connected, *connections;
    /* the receive time of each symbol's last trade (run thread only) */
    last_trade_slot *last_trade; /* LAST_TRADE_SLOTS, NULL if out of memory */
    size_t last_trade_n;
    int last_trade_full_logged;
    int connection;
} source_metrics;

/* One WebSocket connection: its socket, TLS, WebSocket protocol state,
 * subscription progress and message reassembly. The session (parse, door,
 * dedupe, gaps, statistics, on_batch) is the tp_source's, shared by both
 * connections of a handover. */
typedef struct conn {
    struct lws *wsi;
    int active; /* a connection is being made or is open */
    int established;
    int retiring;       /* handed over: its close is under way, its data ignored */
    size_t sub_next;    /* next symbol to subscribe */
    int64_t opened_us;  /* when the upgrade was answered */
    int64_t last_rx_us; /* monotonic time of the last byte (or end of on_batch) */
    int64_t sub_due_us; /* the next subscribe message may go (feeds with max_msgs_per_s) */
    /* the WebSocket protocol on the raw connection (ws_frame.h) */
    int upgraded;       /* the server's 101 answer was checked */
    char ws_key[25];    /* Sec-WebSocket-Key sent */
    char hs_buf[16384]; /* the server's answer until its header is complete */
    size_t hs_len;
    tp_ws_decoder dec;
    unsigned char out[LWS_PRE + 2048]; /* the request, a pong or a close, sent when writeable */
    size_t out_len;
    int close_after_out; /* out is our close reply: drop the connection once it is sent */
    int64_t rx_ms;       /* receive time of the bytes being decoded */
    tp_ws_tls *tls_sess; /* wss://: this connection's TLS (ws_tls.h) */
    int tls_ready;       /* its handshake is complete */
    int64_t next_connect_us;
    /* every address of host, tried in turn until one connects (resolve.h):
     * this round's, the next to try, whether the next connect is that one
     * (not a new round), and why the ones before failed */
    tp_addr addrs[TP_RESOLVE_MAX];
    int naddrs, addr_next, next_is_addr;
    int tcp_up;               /* this connection's TCP is up */
    int64_t addr_deadline_us; /* give up on this address for the next (0: lws's own timeout; -1: given up) */
    char addr_errs[512];
    char *msg; /* reassembly buffer */
    size_t msg_len, msg_cap;
    int discarding; /* the current message went over max_frame */
    int delivered;  /* this connection has delivered a trade or ping */
    int silenced;   /* the watchdog dropped this connection */
    tp_feed_reason last_reason;
    char last_error[1024]; /* why the last connection ended */
} conn;

struct tp_source {
    const tp_feed_ops *feed;
    int counted_connected; /* this source's +1 in tickpipe_ingest_connected */
    /* configuration (owned copies) */
    char *url, *token, *rest_url, *replay_path;
    char **symbols;
    size_t nsymbols;
    size_t max_frame;
    int64_t stale_ms;
    int validate;
    double replay_speed;
    int max_reconnects;
    tp_source_batch_fn on_batch;
    void *ud;
    tp_source_frame_fn on_frame;
    void *frame_ud;

    /* frame handling */
    tp_batch batch;
    int64_t seq;        /* frame sequence number (origin.offset) */
    int stop_requested; /* on_batch returned nonzero */
    char *seen_types[MAX_SEEN_TYPES];
    size_t nseen_types;
    tp_dedupe *dedupe; /* exact repeats within the horizon; NULL = off */
    tp_gaps *gaps;     /* per-symbol holes across reconnects; NULL in replay */
    tp_gap_fn on_gap;
    void *gap_ud;
    tp_source_reject_fn on_reject;
    void *reject_ud;
    tp_trade_limits limits;
    int check_subscribed;
    tp_rejects rejects; /* the door's counts (core/trade_check.h) */
    int connection;     /* cfg.connection_index */

    /* stats (written by the run thread, read from anywhere) */
    _Atomic uint64_t st_frames, st_trades, st_pings, st_errors, st_unknown, st_malformed, st_oversize,
        st_reconnects, st_bytes, st_duplicates, st_duplicate_trades, st_gaps;
    source_metrics m;

    /* connection */
    _Atomic int stop;
    tp_source_group *group; /* several connections: everything goes there (source_group.h) */
    /* ctx_lock: tp_source_stop, called from other threads, wakes ctx only
     * while it lives (set under it, and ctx_dying before it is destroyed) */
    pthread_mutex_t ctx_lock;
    int ctx_dying;
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick;
    tp_ws_tls_ctx *tls_ctx; /* wss://: the CA store, loaded once per run */
    /* the connections: normally one (cur); during a handover also its
     * successor (next), and for a moment the old one closing (retiring) */
    conn slot[2];
    conn *cur;             /* the connection the session reads (subscribed or being made) */
    conn *next;            /* the successor being opened and subscribed, or NULL */
    conn *cn;              /* the connection whose event is being handled */
    unsigned char *joined; /* per symbol: the successor's trades joined the stream */
    size_t njoined;
    int64_t lifetime_ms, handover_before_ms; /* 0: no handover */
    int64_t handover_due_us;                 /* the successor must be ready by then, else the old one stays */
    int64_t handover_retry_us;               /* a failed handover is tried again no sooner */
    _Atomic uint64_t st_handovers;
    int failures; /* consecutive failed connections */
    int connects; /* connection attempts so far */
    uint64_t rnd;
    int fatal;
    char fatal_msg[2048];

    /* parsed URL */
    char host[256];
    char path[1024]; /* with ?token=..., never logged */
    char safe_url[512];
    int port, tls;
};

/* ---------------------------------------------------------------- utils */

static char *dupstr(const char *s) {
    return s ? strdup(s) : NULL;
}

static uint64_t next_rand(tp_source *s) {
    /* xorshift64*: jitter only, no need for quality */
    uint64_t x = s->rnd;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rnd = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void note_last_trades(tp_source *s, const tp_batch *b, int64_t recv_ms);
static void handover_filter(tp_source *s);
static void complete_handover(tp_source *s, const char *how);
static void connect_address(tp_source *s);

static void stat_add(_Atomic uint64_t *st, tp_counter *c, uint64_t n) {
    atomic_fetch_add_explicit(st, n, memory_order_relaxed);
    tp_counter_add(c, n);
}

int64_t tp_source_backoff_ms(int attempt, uint64_t rnd) {
    int64_t base = 500;
    for (int i = 0; i < attempt && base < 60000; i++) base *= 2;
    if (base > 60000) base = 60000;
    int64_t half = base / 2;
    return half + (int64_t)(rnd % (uint64_t)(half + 1));
}

static const char *reason_words(const tp_source *s, tp_feed_reason r) {
    return r == TP_FEED_REASON_OTHER ? NULL : s->feed->reason_words(r);
}

/* ------------------------------------------------------- frame handling */

static void note_unknown_type(tp_source *s, tp_str type) {
    for (size_t i = 0; i < s->nseen_types; i++)
        if (strlen(s->seen_types[i]) == type.len && !memcmp(s->seen_types[i], type.ptr, type.len)) return;
    char sample[128];
    tp_log_sample(type.ptr ? type.ptr : "", type.len, 64, sample, sizeof sample);
    tp_warn(MOD, "ignoring messages of unknown type \"%s\" (logged once per type)", sample);
    if (s->nseen_types < MAX_SEEN_TYPES) {
        char *c = strndup(type.ptr ? type.ptr : "", type.len);
        if (c) s->seen_types[s->nseen_types++] = c;
    }
}

static void handle_error_msg(tp_source *s, tp_str text) {
    char sample[300];
    tp_log_sample(text.ptr ? text.ptr : "", text.len, 256, sample, sizeof sample);
    tp_feed_reason r = s->feed->classify(text.ptr, text.len);
    const char *words = reason_words(s, r);
    if (words)
        tp_error(MOD, "server error: %s (server said: \"%s\")", words, sample);
    else
        tp_warn(MOD, "server error message: \"%s\"", sample);
    if (r != TP_FEED_REASON_OTHER) {
        s->cn->last_reason = r;
        snprintf(s->cn->last_error, sizeof s->cn->last_error, "%s (server said: \"%s\")", words, sample);
    }
}

static void report_gap(void *ud, const tp_feed_gap *g) {
    tp_source *s = ud;
    stat_add(&s->st_gaps, s->m.gaps, 1);
    tp_warn(MOD, "gap in %s on connection %d: no trades between %lld and %lld ms (%s; %.1f s)", g->symbol,
            g->connection, (long long)g->from_ms, (long long)g->to_ms, tp_gap_reason_name(g->reason),
            (double)(g->to_ms - g->from_ms) / 1000.0);
    if (s->on_gap) s->on_gap(s->gap_ud, g);
}

/* the subscription rule of the door (tp_symbol_pred) */
static int subscribed(void *gaps, tp_str symbol) {
    return tp_gaps_has(gaps, symbol);
}

/* The door: remove the trades that fail core/trade_check.h's rules (or
 * name a symbol this connection did not subscribe) from the batch, in
 * place, keeping the order of the others. */
static void check_trades(tp_source *s, int64_t recv_ms) {
    tp_batch *b = &s->batch;
    size_t kept = 0;
    tp_symbol_cache seen = {0}; /* feeds send runs of one symbol */
    int subs = s->check_subscribed && s->gaps;
    for (size_t i = 0; i < b->n; i++) {
        const tp_trade *t = &b->trades[i];
        tp_reject why =
            tp_symbol_cache_check(&seen, t, recv_ms, &s->limits, subs ? subscribed : NULL, s->gaps);
        if (why) {
            char where[48];
            snprintf(where, sizeof where, "connection %d", s->connection);
            tp_rejects_note(&s->rejects, why, t, recv_ms, where);
            if (s->on_reject) s->on_reject(s->reject_ud, t, why, recv_ms);
            continue;
        }
        if (kept != i) b->trades[kept] = *t;
        kept++;
    }
    b->n = kept;
}

static int handle_message(tp_source *s, const char *data, size_t len, int64_t recv_ms) {
    stat_add(&s->st_frames, s->m.frames, 1);
    if (s->on_frame) s->on_frame(s->frame_ud, data, len, recv_ms);
    tp_batch_reset(&s->batch);
    tp_msg_info info;
    char err[256];
    int64_t t0 = tp_mono_us();
    int rc = s->feed->parse(data, len, &s->batch, &info, err, sizeof err);
    tp_histogram_observe_us(s->m.parse, (uint64_t)(tp_mono_us() - t0));
    int64_t seq = s->seq++;
    if (rc) {
        uint64_t n = atomic_fetch_add_explicit(&s->st_malformed, 1, memory_order_relaxed) + 1;
        tp_counter_add(s->m.malformed, 1);
        if (n <= 10 || n % 1000 == 0) {
            char sample[256];
            tp_log_sample(data, len, 160, sample, sizeof sample);
            tp_warn(MOD, "skipping malformed frame #%llu (%zu bytes): %s; sample: %s", (unsigned long long)n,
                    len, err, sample);
        }
        tp_batch_reset(&s->batch);
        return 0;
    }
    int stop = 0;
    switch (info.type) {
    case TP_MSG_PING:
    case TP_MSG_HEARTBEAT:
        stat_add(&s->st_pings, s->m.pings, 1);
        s->cn->delivered = 1;
        break;
    case TP_MSG_CONTROL: s->cn->delivered = 1; break;
    case TP_MSG_ERROR:
        stat_add(&s->st_errors, s->m.errors, 1);
        handle_error_msg(s, info.text);
        break;
    case TP_MSG_UNKNOWN:
        stat_add(&s->st_unknown, s->m.unknown, 1);
        note_unknown_type(s, info.text);
        break;
    case TP_MSG_TRADE:
        s->cn->delivered = 1;
        if (s->cn == s->next && s->next) handover_filter(s);
        check_trades(s, recv_ms);
        if (s->batch.n == 0) break;
        if (s->dedupe) {
            /* by trade id where the venue numbers its trades, else the
             * whole message by content (dedupe.h) */
            size_t dropped = tp_dedupe_filter(s->dedupe, s->batch.trades, &s->batch.n, recv_ms);
            if (dropped) stat_add(&s->st_duplicate_trades, s->m.duplicate_trades, dropped);
            if (!s->batch.n) {
                stat_add(&s->st_duplicates, s->m.duplicates, 1);
                break;
            }
        }
        stat_add(&s->st_trades, s->m.trades, s->batch.n);
        note_last_trades(s, &s->batch, recv_ms);
        if (s->gaps) tp_gaps_trades(s->gaps, s->batch.trades, s->batch.n, recv_ms, report_gap, s);
        s->batch.recv_ms = recv_ms;
        for (size_t i = 0; i < s->batch.n; i++) s->batch.trades[i].recv_ms = recv_ms;
        snprintf(s->batch.origin.topic, sizeof s->batch.origin.topic, "feed");
        s->batch.origin.partition = -1;
        s->batch.origin.offset = seq;
        if (s->on_batch && s->on_batch(s->ud, &s->batch)) stop = 1;
        break;
    }
    tp_batch_reset(&s->batch);
    if (s->next && s->cn == s->next && s->njoined == s->nsymbols && s->next->sub_next >= s->nsymbols)
        complete_handover(s, "every symbol joined");
    return stop;
}

int tp_source_feed(tp_source *s, const void *data, size_t len, int last, int64_t recv_ms) {
    stat_add(&s->st_bytes, s->m.bytes, len);
    int stop = 0;
    if (!s->cn->discarding) {
        if (s->cn->msg_len + len > s->max_frame) {
            stat_add(&s->st_oversize, s->m.oversize, 1);
            tp_warn(MOD,
                    "rejecting a message larger than the limit of %zu bytes (--max-frame); skipping the rest "
                    "of it",
                    s->max_frame);
            s->cn->discarding = 1;
            s->cn->msg_len = 0;
        } else if (last && s->cn->msg_len == 0) {
            stop = handle_message(s, data, len, recv_ms); /* the common case: no copy */
        } else {
            if (s->cn->msg_len + len > s->cn->msg_cap) {
                size_t cap = s->cn->msg_cap ? s->cn->msg_cap : 65536;
                while (cap < s->cn->msg_len + len) cap *= 2;
                char *np = realloc(s->cn->msg, cap);
                if (!np) {
                    tp_error(MOD, "out of memory reassembling a %zu-byte message; skipping it",
                             s->cn->msg_len + len);
                    stat_add(&s->st_malformed, s->m.malformed, 1);
                    s->cn->discarding = 1;
                    s->cn->msg_len = 0;
                    goto end;
                }
                s->cn->msg = np;
                s->cn->msg_cap = cap;
            }
            if (len) memcpy(s->cn->msg + s->cn->msg_len, data, len);
            s->cn->msg_len += len;
            if (last) {
                size_t n = s->cn->msg_len;
                s->cn->msg_len = 0;
                stop = handle_message(s, s->cn->msg, n, recv_ms);
            }
        }
    }
end:
    if (last) s->cn->discarding = 0;
    if (stop) s->stop_requested = 1;
    return stop;
}

/* ------------------------------------------------------------ lifecycle */

void tp_source_config_default(tp_source_config *c) {
    memset(c, 0, sizeof *c);
    c->feed = tp_feed_default();
    c->url = c->feed->default_url;
    c->max_frame_bytes = 1u << 20;
    c->stale_timeout_ms = 90000;
    c->rest_url = c->feed->default_rest_url;
    c->replay_speed = 0;
    c->max_reconnects = -1;
}

/* The counters carry the connection's index as a label (connection="N"),
 * so one connection's reconnects or gaps show apart from the others';
 * sums over the label are the totals. The gauges are one series for the
 * whole group (each source adds +1/-1). */
static void register_metrics(source_metrics *m, int connection) {
    char l[32];
    snprintf(l, sizeof l, "connection=\"%d\"", connection);
    m->frames = tp_metrics_counter("tickpipe_ingest_frames_total", l, "WebSocket messages received");
    m->trades = tp_metrics_counter("tickpipe_ingest_trades_total", l, "Trades parsed from the feed");
    m->pings = tp_metrics_counter("tickpipe_ingest_pings_total", l, "Ping messages received");
    m->errors = tp_metrics_counter("tickpipe_ingest_errors_total", l, "Error messages sent by the server");
    m->unknown = tp_metrics_counter("tickpipe_ingest_unknown_total", l, "Messages of an unknown type");
    m->malformed = tp_metrics_counter("tickpipe_ingest_malformed_total", l, "Frames that failed to parse");
    m->oversize =
        tp_metrics_counter("tickpipe_ingest_oversize_total", l, "Messages over --max-frame, skipped");
    m->reconnects = tp_metrics_counter("tickpipe_ingest_reconnects_total", l, "Reconnections to the feed");
    m->bytes = tp_metrics_counter("tickpipe_ingest_bytes_total", l, "Payload bytes received from the feed");
    m->duplicates = tp_metrics_counter("tickpipe_ingest_duplicates_total", l,
                                       "Trade messages dropped as exact repeats (--dedupe-horizon)");
    m->duplicate_trades = tp_metrics_counter("tickpipe_ingest_duplicate_trades_total", l,
                                             "Trades in the messages dropped as exact repeats");
    m->gaps = tp_metrics_counter("tickpipe_ingest_gaps_total", l,
                                 "Holes in a symbol's trades across a disconnect or a silence (feed_gaps)");
    m->handovers = tp_metrics_counter(
        "tickpipe_feed_handovers_total", l,
        "Connections handed over to a successor before the venue's connection lifetime (--handover-before)");
    m->connection = connection;
    m->parse = tp_metrics_histogram("tickpipe_ingest_parse_seconds", NULL,
                                    "One observation per feed message: the seconds to parse it");
    m->connected = tp_metrics_gauge("tickpipe_ingest_connected", NULL, "Feed connections subscribed now");
    m->connections =
        tp_metrics_gauge("tickpipe_ingest_connections", NULL, "Feed connections running (connected or not)");
}

static uint32_t sym_hash(const char *p, uint32_t len) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < len; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

/* The gauge of a symbol's last trade: found, or added while add is set and
 * there is room; NULL otherwise. */
static tp_gauge *last_trade_gauge(source_metrics *m, const char *sym, uint32_t len, int add) {
    if (!m->last_trade) return NULL;
    for (uint32_t i = sym_hash(sym, len) & (LAST_TRADE_SLOTS - 1);; i = (i + 1) & (LAST_TRADE_SLOTS - 1)) {
        last_trade_slot *sl = &m->last_trade[i];
        if (!sl->symbol) {
            if (!add) return NULL;
            if (m->last_trade_n >= LAST_TRADE_SERIES) {
                if (!m->last_trade_full_logged)
                    tp_warn(MOD,
                            "connection %d: more than %d symbols; "
                            "tickpipe_ingest_last_trade_timestamp_seconds covers the first %d only",
                            m->connection, LAST_TRADE_SERIES, LAST_TRADE_SERIES);
                m->last_trade_full_logged = 1;
                return NULL;
            }
            /* the label: connection="N",symbol="..." with \ " and newline escaped */
            char l[64 + 2 * 256];
            int n = snprintf(l, sizeof l, "connection=\"%d\",symbol=\"", m->connection);
            for (uint32_t k = 0; k < len && k < 256; k++) {
                char c = sym[k];
                if (c == '\\' || c == '"') l[n++] = '\\';
                if (c == '\n') {
                    l[n++] = '\\';
                    c = 'n';
                }
                l[n++] = c;
            }
            l[n++] = '"';
            l[n] = '\0';
            sl->symbol = malloc(len ? len : 1);
            if (!sl->symbol) return NULL;
            memcpy(sl->symbol, sym, len);
            sl->len = len;
            sl->g =
                tp_metrics_gauge_scaled("tickpipe_ingest_last_trade_timestamp_seconds", l,
                                        "When the last trade of the symbol was received on the connection "
                                        "(absent before its first trade); time() minus it is its silence",
                                        1000);
            tp_gauge_clear(sl->g); /* until its first trade */
            m->last_trade_n++;
            return sl->g;
        }
        if (sl->len == len && !memcmp(sl->symbol, sym, len)) return sl->g;
    }
}

static void last_trade_free(source_metrics *m) {
    if (!m->last_trade) return;
    for (size_t i = 0; i < LAST_TRADE_SLOTS; i++) free(m->last_trade[i].symbol);
    free(m->last_trade);
    m->last_trade = NULL;
}

/* After the trades of one message: their symbols' last-trade gauges. With
 * a subscription list only its symbols count (added at start); a replay
 * adds what it sees. */
static void note_last_trades(tp_source *s, const tp_batch *b, int64_t recv_ms) {
    const char *prev = NULL;
    uint32_t prev_len = 0;
    for (size_t i = 0; i < b->n; i++) {
        const tp_str *sym = &b->trades[i].symbol;
        if (!sym->ptr || (prev && prev_len == sym->len && !memcmp(prev, sym->ptr, sym->len))) continue;
        prev = sym->ptr;
        prev_len = sym->len;
        tp_gauge *g = last_trade_gauge(&s->m, sym->ptr, sym->len, s->nsymbols == 0);
        if (g) tp_gauge_set(g, recv_ms);
    }
}

/* This source's part of tickpipe_ingest_connected: 0 or 1. */
static void set_connected(tp_source *s, int on) {
    if (s->cn != s->cur || on == s->counted_connected) return; /* a successor counts once it takes over */
    s->counted_connected = on;
    tp_gauge_add(s->m.connected, on ? 1 : -1);
}

static int parse_url(tp_source *s, char *err, size_t errlen) {
    tp_log_redact(s->url, s->safe_url, sizeof s->safe_url);
    char buf[1024];
    if (strlen(s->url) >= sizeof buf)
        return tp_seterr(err, errlen, TP_EINVAL, "the WebSocket URL is too long");
    snprintf(buf, sizeof buf, "%s", s->url);
    const char *prot, *ads, *path;
    int port;
    if (lws_parse_uri(buf, &prot, &ads, &port, &path) || !*ads)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "cannot parse the WebSocket URL '%s'; expected ws://HOST[:PORT][/PATH] or wss://...",
                         s->safe_url);
    if (!strcmp(prot, "wss") || !strcmp(prot, "https"))
        s->tls = 1;
    else if (!strcmp(prot, "ws") || !strcmp(prot, "http"))
        s->tls = 0;
    else
        return tp_seterr(err, errlen, TP_EINVAL, "the WebSocket URL '%s' must start with ws:// or wss://",
                         s->safe_url);
    s->port = port;
    snprintf(s->host, sizeof s->host, "%s", ads);
    /* the request path: the feed decides where the token goes */
    int rc = s->feed->connect_path(path, s->token, s->path, sizeof s->path, err, errlen);
    if (rc) return rc;
    if (!s->tls) {
        int loopback =
            !strcmp(s->host, "localhost") || !strncmp(s->host, "127.", 4) || !strcmp(s->host, "::1");
        if (!loopback && s->token && *s->token)
            tp_warn(MOD,
                    "%s is not encrypted (ws://) and not on loopback: the token travels in clear text; use "
                    "wss://",
                    s->safe_url);
    }
    return 0;
}

int tp_source_new(const tp_source_config *cfg, tp_source_batch_fn fn, void *ud, tp_source **out, char *err,
                  size_t errlen) {
    *out = NULL;
    tp_source_config def;
    tp_source_config_default(&def);
    if (!cfg) cfg = &def;
    if (!cfg->replay_path && cfg->nsymbols == 0)
        return tp_seterr(
            err, errlen, TP_EINVAL,
            "no symbols to subscribe: give --symbols or FINNHUB_STOCKS_TICKERS (e.g. AAPL,BINANCE:BTCUSDT)");
    tp_source *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    pthread_mutex_init(&s->ctx_lock, NULL);
    s->cur = s->cn = &s->slot[0];
    if (tp_source_group_needed(cfg)) {
        int rc = tp_source_group_new(cfg, fn, ud, &s->group, err, errlen);
        if (rc) {
            tp_source_free(s);
            return rc;
        }
        *out = s;
        return 0;
    }
    s->feed = cfg->feed ? cfg->feed : def.feed;
    s->url = dupstr(cfg->url ? cfg->url : s->feed->default_url);
    s->token = dupstr(cfg->token);
    s->rest_url = dupstr(cfg->rest_url ? cfg->rest_url : s->feed->default_rest_url);
    s->replay_path = dupstr(cfg->replay_path);
    s->max_frame = cfg->max_frame_bytes ? cfg->max_frame_bytes : def.max_frame_bytes;
    s->stale_ms = cfg->stale_timeout_ms;
    s->validate = cfg->validate;
    s->replay_speed = cfg->replay_speed;
    s->max_reconnects = cfg->max_reconnects;
    s->on_batch = fn;
    s->ud = ud;
    s->symbols = calloc(cfg->nsymbols ? cfg->nsymbols : 1, sizeof *s->symbols);
    int oom = !s->url || !s->rest_url || !s->symbols || (cfg->token && !s->token) ||
              (cfg->replay_path && !s->replay_path);
    for (size_t i = 0; !oom && i < cfg->nsymbols; i++) {
        s->symbols[i] = strdup(cfg->symbols[i]);
        if (!s->symbols[i]) oom = 1;
        s->nsymbols = i + 1;
    }
    tp_batch_init(&s->batch);
    register_metrics(&s->m, cfg->connection_index);
    s->connection = cfg->connection_index;
    s->limits = cfg->limits;
    s->check_subscribed = cfg->check_subscribed && !cfg->replay_path;
    /* the handover before the venue's connection lifetime (see "handover") */
    int64_t life = cfg->lifetime_ms > 0 ? cfg->lifetime_ms : cfg->lifetime_ms < 0 ? 0 : s->feed->lifetime_ms;
    if (life > 0 && !cfg->replay_path) {
        int64_t before = cfg->handover_before_ms > 0 ? cfg->handover_before_ms
                         : life / 5 < 300000         ? life / 5
                                                     : 300000;
        if (before >= life) {
            tp_warn(MOD,
                    "--handover-before %.1f s is not below the connection lifetime of %.1f s; using %.1f s",
                    (double)before / 1000.0, (double)life / 1000.0, (double)(life / 5) / 1000.0);
            before = life / 5;
        }
        if (before > 0) {
            s->lifetime_ms = life;
            s->handover_before_ms = before;
            s->joined = calloc(s->nsymbols ? s->nsymbols : 1, 1);
            if (!s->joined) oom = 1;
        }
    }
    tp_rejects_init(&s->rejects, "feed");
    s->m.last_trade = calloc(LAST_TRADE_SLOTS, sizeof *s->m.last_trade);
    for (size_t i = 0; s->m.last_trade && i < s->nsymbols; i++)
        last_trade_gauge(&s->m, s->symbols[i], (uint32_t)strlen(s->symbols[i]), 1);
    /* always: a horizon of 0 turns off only the content comparison, not
     * the dedupe by trade id */
    if (!oom && tp_dedupe_new(TP_SOURCE_DEDUPE_MESSAGES, cfg->dedupe_horizon_ms, &s->dedupe)) oom = 1;
    if (!oom && !cfg->replay_path &&
        tp_gaps_new((const char *const *)s->symbols, s->nsymbols, cfg->connection_index, &s->gaps))
        oom = 1;
    s->rnd = (uint64_t)tp_mono_us() ^ ((uint64_t)(uintptr_t)s << 16) ^ 0x9E3779B97F4A7C15ULL;
    if (!s->rnd) s->rnd = 1;
    if (oom) {
        tp_source_free(s);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    if (!s->replay_path) {
        int rc = parse_url(s, err, errlen);
        if (rc) {
            tp_source_free(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

void tp_source_set_gap_hook(tp_source *s, tp_gap_fn fn, void *ud) {
    if (s->group) tp_source_group_set_gap_hook(s->group, fn, ud);
    s->on_gap = fn;
    s->gap_ud = ud;
}

void tp_source_set_reject_hook(tp_source *s, tp_source_reject_fn fn, void *ud) {
    if (s->group) tp_source_group_set_reject_hook(s->group, fn, ud);
    s->on_reject = fn;
    s->reject_ud = ud;
}

void tp_source_set_frame_hook(tp_source *s, tp_source_frame_fn fn, void *ud) {
    if (s->group) tp_source_group_set_frame_hook(s->group, fn, ud);
    s->on_frame = fn;
    s->frame_ud = ud;
}

void tp_source_stop(tp_source *s) {
    if (s->group) tp_source_group_stop(s->group);
    pthread_mutex_lock(&s->ctx_lock);
    atomic_store(&s->stop, 1);
    if (s->ctx && !s->ctx_dying) lws_cancel_service(s->ctx);
    pthread_mutex_unlock(&s->ctx_lock);
}

void tp_source_get_stats(const tp_source *s, tp_source_stats *o) {
    if (s->group) {
        tp_source_group_get_stats(s->group, o);
        return;
    }
    tp_source *m = (tp_source *)s; /* atomics: loads need a non-const object */
    o->frames = atomic_load(&m->st_frames);
    o->trades = atomic_load(&m->st_trades);
    o->pings = atomic_load(&m->st_pings);
    o->errors = atomic_load(&m->st_errors);
    o->unknown = atomic_load(&m->st_unknown);
    o->malformed = atomic_load(&m->st_malformed);
    o->oversize = atomic_load(&m->st_oversize);
    o->reconnects = atomic_load(&m->st_reconnects);
    o->bytes = atomic_load(&m->st_bytes);
    o->duplicates = atomic_load(&m->st_duplicates);
    o->duplicate_trades = atomic_load(&m->st_duplicate_trades);
    o->gaps = atomic_load(&m->st_gaps);
    o->handovers = atomic_load(&m->st_handovers);
    for (int i = 0; i < TP_REJECT_N; i++) o->rejected[i] = atomic_load(&m->rejects.n[i]);
}

void tp_source_free(tp_source *s) {
    if (!s) return;
    tp_source_group_free(s->group);
    pthread_mutex_destroy(&s->ctx_lock);
    free(s->url);
    free(s->token);
    free(s->rest_url);
    free(s->replay_path);
    for (size_t i = 0; i < s->nsymbols; i++) free(s->symbols[i]);
    free(s->symbols);
    for (size_t i = 0; i < s->nseen_types; i++) free(s->seen_types[i]);
    for (int i = 0; i < 2; i++) {
        free(s->slot[i].msg);
        tp_ws_tls_free(s->slot[i].tls_sess);
    }
    free(s->joined);
    tp_dedupe_free(s->dedupe);
    tp_gaps_free(s->gaps);
    last_trade_free(&s->m);
    tp_batch_free(&s->batch);
    free(s);
}

/* ------------------------------------------------------------- network */

static int stopping(tp_source *s) {
    return atomic_load(&s->stop) || s->stop_requested || s->fatal;
}

static void release_conn(conn *c) {
    c->wsi = NULL;
    c->active = 0;
    c->established = 0;
    c->retiring = 0;
    c->naddrs = c->addr_next = c->next_is_addr = 0;
    c->addr_deadline_us = 0;
    c->msg_len = 0;
    c->discarding = 0;
}

/* Drop a connection at once (a successor given up) and free its slot. */
static void kill_conn(conn *c) {
    if (c->wsi) lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    release_conn(c);
}

static void handover_failed(tp_source *s, const char *why, int kill);
static void complete_handover(tp_source *s, const char *how);

static void schedule_reconnect(tp_source *s, const char *why) {
    conn *c = s->cn;
    if (c->retiring) { /* the old connection of a handover has closed */
        release_conn(c);
        return;
    }
    if (c == s->next) { /* the successor failed: the old connection goes on */
        handover_failed(s, why, 0);
        return;
    }
    if (s->next && s->next->established && !stopping(s)) {
        /* the venue closed the old connection before the successor had
         * joined every symbol: it takes over now */
        tp_info(MOD, "the old connection to %s closed during the handover (%s)", s->safe_url,
                why && *why        ? why
                : c->last_error[0] ? c->last_error
                                   : "closed");
        release_conn(c);
        complete_handover(s, "the old connection closed first");
        return;
    }
    if (s->next) { /* a successor not yet subscribed: a reconnect as usual */
        conn *n = s->next;
        s->next = NULL;
        kill_conn(n);
    }
    s->cn->wsi = NULL;
    s->cn->active = 0;
    s->cn->established = 0;
    s->cn->naddrs = s->cn->addr_next = s->cn->next_is_addr = 0; /* the next round resolves the name again */
    s->cn->addr_deadline_us = 0;
    set_connected(s, 0);
    if (stopping(s)) return;
    if (why && *why) snprintf(s->cn->last_error, sizeof s->cn->last_error, "%s", why);
    if (s->cn->delivered) s->failures = 0;
    if (s->gaps)
        tp_gaps_disconnect(s->gaps, s->cn->silenced                                   ? TP_GAP_SILENCE
                                    : s->cn->last_reason == TP_FEED_REASON_KEY_IN_USE ? TP_GAP_KEY_IN_USE
                                    : s->cn->last_reason == TP_FEED_REASON_BAD_TOKEN  ? TP_GAP_SERVER_ERROR
                                                                                      : TP_GAP_RECONNECT);
    s->cn->silenced = 0;
    int64_t delay = tp_source_backoff_ms(s->failures, next_rand(s));
    if (s->cn->last_reason == TP_FEED_REASON_KEY_IN_USE && delay < s->feed->key_in_use_min_delay_ms)
        delay = s->feed->key_in_use_min_delay_ms;
    s->failures++;
    s->cn->next_connect_us = tp_mono_us() + delay * 1000;
    tp_warn(MOD, "disconnected from %s: %s; reconnecting in %.1f s", s->safe_url,
            s->cn->last_error[0] ? s->cn->last_error : "connection closed", (double)delay / 1000.0);
}

static void on_tick(lws_sorted_usec_list_t *sul) {
    tp_source *s = lws_container_of(sul, tp_source, tick);
    lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, 100 * LWS_US_PER_MS);
}

/* This address did not connect: go on to the next address of the name
 * at once (1), or 0 when there is none left (or TCP was up: a failure
 * after that is the server's, not the address's). */
static int try_next_address(tp_source *s, const char *why) {
    if (s->cn->tcp_up || s->cn->addr_next >= s->cn->naddrs || s->cn->addr_next < 1 || stopping(s)) return 0;
    const char *failed = s->cn->addrs[s->cn->addr_next - 1].text, *next = s->cn->addrs[s->cn->addr_next].text;
    size_t o = strlen(s->cn->addr_errs);
    if (o < sizeof s->cn->addr_errs)
        snprintf(s->cn->addr_errs + o, sizeof s->cn->addr_errs - o, "%s%s: %s", o ? "; " : "", failed, why);
    tp_info(MOD, "cannot connect to %s at %s (%s); trying %s", s->safe_url, failed, why, next);
    s->cn->wsi = NULL;
    s->cn->active = 0;
    s->cn->addr_deadline_us = 0;
    s->cn->next_is_addr = 1;
    s->cn->next_connect_us = tp_mono_us();
    return 1;
}

/* The connect to this address failed (why): the next address, or, after
 * the last, the reconnect with every address's reason. */
static void address_failed(tp_source *s, const char *why) {
    const char *e = s->cn->addr_deadline_us < 0 ? "no answer within 2 s" : why;
    if (try_next_address(s, e)) return;
    char all[1024];
    if (s->cn->naddrs > 1)
        snprintf(all, sizeof all, "cannot connect to any address of %.200s: %.300s; %s: %.200s", s->host,
                 s->cn->addr_errs, s->cn->addrs[s->cn->naddrs - 1].text, e);
    else
        snprintf(all, sizeof all, "cannot connect: %.200s", e);
    schedule_reconnect(s, all);
}

static void on_connection_error(tp_source *s, struct lws *wsi, const char *in) {
    int status = lws_http_client_http_response(wsi);
    char why[256];
    if (status == 401 || status == 403) {
        s->cn->last_reason = TP_FEED_REASON_BAD_TOKEN;
        snprintf(why, sizeof why, "%s (HTTP %d)", reason_words(s, TP_FEED_REASON_BAD_TOKEN), status);
        tp_error(MOD, "connecting to %s: %s", s->safe_url, why);
    } else if (status >= 400) {
        snprintf(why, sizeof why, "the server refused the WebSocket upgrade with HTTP %d", status);
    } else {
        address_failed(s, in && *in ? in : "unknown error");
        return;
    }
    schedule_reconnect(s, why);
}

static void on_established(tp_source *s, struct lws *wsi) {
    s->cn->established = 1;
    s->cn->delivered = 0;
    s->cn->sub_next = 0;
    s->cn->sub_due_us = 0;
    s->cn->last_reason = TP_FEED_REASON_OTHER;
    s->cn->last_error[0] = '\0';
    s->cn->discarding = 0;
    s->cn->msg_len = 0;
    s->cn->last_rx_us = s->cn->opened_us = tp_mono_us();
    tp_info(MOD, "%s %s; subscribing %zu symbol%s",
            s->cn == s->next ? "handover: the successor connection is up at" : "connected to", s->safe_url,
            s->nsymbols, s->nsymbols == 1 ? "" : "s");
    lws_callback_on_writable(wsi);
}

/* Send the TLS records waiting (handshake, encrypted writes). -1 on a
 * failed write. Only from a writeable callback. */
static int flush_tls(tp_source *s, struct lws *wsi) {
    const uint8_t *c;
    size_t m = tp_ws_tls_pending(s->cn->tls_sess, &c);
    if (!m) return 0;
    /* lws keeps what the socket does not take now and sends it first */
    if (lws_write(wsi, (unsigned char *)c, m, LWS_WRITE_RAW) < (int)m) return -1;
    tp_ws_tls_consumed(s->cn->tls_sess, m);
    return 0;
}

/* Send bytes of the WebSocket stream (through TLS for wss://). -1 to drop
 * the connection. Only from a writeable callback. */
static int conn_send(tp_source *s, struct lws *wsi, const uint8_t *p, size_t n) {
    if (!s->cn->tls_sess) return lws_write(wsi, (unsigned char *)p, n, LWS_WRITE_RAW) < (int)n ? -1 : 0;
    char e[256];
    if (tp_ws_tls_write(s->cn->tls_sess, p, n, e, sizeof e)) {
        snprintf(s->cn->last_error, sizeof s->cn->last_error, "%s", e);
        return -1;
    }
    return flush_tls(s, wsi);
}

/* A client frame's mask: unpredictable, as RFC 6455 5.3 asks. */
static void make_mask(tp_source *s, uint8_t mask[4]) {
    if (RAND_bytes(mask, 4) != 1) {
        uint64_t r = next_rand(s);
        memcpy(mask, &r, 4);
    }
}

/* One subscribe message from symbol sub_next on: subscribe_many for up to
 * max_symbols_per_msg symbols when the feed has it (fewer if they do not
 * fit), else subscribe_msg for one. Its length, with *taken the symbols it
 * covers; 0 with *taken 1 for a symbol that fits no message. */
static int next_subscription(tp_source *s, char *msg, size_t cap, size_t *taken) {
    const tp_feed_ops *f = s->feed;
    size_t left = s->nsymbols - s->cn->sub_next;
    if (f->subscribe_many) {
        size_t k = f->max_symbols_per_msg > 0 && (size_t)f->max_symbols_per_msg < left
                       ? (size_t)f->max_symbols_per_msg
                       : left;
        for (; k > 0; k = k > 1 ? k / 2 : 0) {
            int n = f->subscribe_many((const char *const *)s->symbols + s->cn->sub_next, k, 1, msg, cap);
            if (n >= 0) {
                *taken = k;
                return n;
            }
        }
    } else {
        int n = f->subscribe_msg(s->symbols[s->cn->sub_next], 1, msg, cap);
        if (n >= 0) {
            *taken = 1;
            return n;
        }
    }
    *taken = 1;
    return 0;
}

/* The subscriptions, as many as fit 16 KiB per writeable callback, in one
 * write (one per callback cost a poll round each: about 1 ms per symbol on
 * a loaded machine before the first trade). A feed that limits the
 * messages a client sends (max_msgs_per_s) gets one message a callback, no
 * sooner than its pace allows: the service loop asks for the next
 * callback when it is due. -1 to drop the connection. */
static int send_subscriptions(tp_source *s, struct lws *wsi) {
    unsigned char buf[LWS_PRE + 16384];
    size_t used = 0, first = s->cn->sub_next;
    double rate = s->feed->max_msgs_per_s;
    if (rate > 0 && tp_mono_us() < s->cn->sub_due_us) return 0; /* the loop calls again */
    while (s->cn->sub_next < s->nsymbols) {
        char msg[8192];
        size_t taken = 0;
        int n = next_subscription(s, msg, sizeof msg, &taken);
        if (n <= 0) { /* a symbol too long for one message: never send half of one */
            tp_warn(MOD, "the subscription for %.64s... does not fit a message; skipped",
                    s->symbols[s->cn->sub_next]);
            s->cn->sub_next++;
            continue;
        }
        uint8_t mask[4];
        make_mask(s, mask);
        long fl =
            tp_ws_encode(TP_WS_TEXT, msg, (size_t)n, mask, buf + LWS_PRE + used, sizeof buf - LWS_PRE - used);
        if (fl < 0) break; /* full: the rest on the next callback */
        used += (size_t)fl;
        tp_debug(MOD, "subscribing %s%s", s->symbols[s->cn->sub_next], taken > 1 ? " and more" : "");
        s->cn->sub_next += taken;
        if (rate > 0) { /* one message, then wait for the pace */
            /* one a second to spare for the pongs, which count too (Binance) */
            s->cn->sub_due_us = tp_mono_us() + (int64_t)(1e6 / (rate > 1 ? rate - 1 : rate)) + 1;
            break;
        }
    }
    if (used && conn_send(s, wsi, buf + LWS_PRE, used)) {
        tp_warn(MOD, "cannot send the subscriptions for %s and the next %zu symbols", s->symbols[first],
                s->cn->sub_next - first - 1);
        return -1;
    }
    if (s->cn->sub_next < s->nsymbols) {
        if (rate <= 0) lws_callback_on_writable(wsi);
    } else {
        set_connected(s, 1);
    }
    return 0;
}

/* The close frame: code and reason, classified by the feed. */
static void on_peer_close(tp_source *s, const unsigned char *p, size_t len) {
    int code = len >= 2 ? (p[0] << 8) | p[1] : 0;
    const char *rs = len > 2 ? (const char *)p + 2 : "";
    size_t rl = len > 2 ? len - 2 : 0;
    char sample[200];
    tp_log_sample(rs, rl, 160, sample, sizeof sample);
    tp_feed_reason r = s->feed->classify(rs, rl);
    if (r != TP_FEED_REASON_OTHER) {
        s->cn->last_reason = r;
        snprintf(s->cn->last_error, sizeof s->cn->last_error, "%s (close code %d: \"%s\")",
                 reason_words(s, r), code, sample);
        tp_error(MOD, "the server closed the connection: %s", s->cn->last_error);
    } else if (!s->cn->last_error[0]) {
        snprintf(s->cn->last_error, sizeof s->cn->last_error,
                 "the server closed the connection (code %d%s%s%s)", code, rl ? ": \"" : "", sample,
                 rl ? "\"" : "");
    }
}

/* Queue one control frame (a pong, or our close reply) for the next
 * writeable callback. A pong not yet sent is replaced by a newer one (a
 * pong answers the latest ping, RFC 6455 5.5.3); a close goes after it. */
static void queue_control(tp_source *s, struct lws *wsi, int opcode, const uint8_t *p, size_t n) {
    if (s->cn->close_after_out) return;           /* nothing after our close */
    if (opcode == TP_WS_PONG) s->cn->out_len = 0; /* out holds at most a pong now: replace it */
    uint8_t mask[4];
    make_mask(s, mask);
    size_t room = sizeof s->cn->out - LWS_PRE - s->cn->out_len;
    long fl = tp_ws_encode(opcode, p, n, mask, s->cn->out + LWS_PRE + s->cn->out_len, room);
    if (fl < 0) return; /* a pong and a close (<= 131 bytes each) always fit */
    s->cn->out_len += (size_t)fl;
    s->cn->close_after_out = opcode == TP_WS_CLOSE;
    lws_callback_on_writable(wsi);
}

/* Decoder callbacks (ws_frame.h): ud is the connection's wsi, s its user. */
typedef struct rx_ctx {
    tp_source *s;
    struct lws *wsi;
} rx_ctx;

static int on_ws_data(void *ud, int opcode, const uint8_t *p, size_t n, int last) {
    (void)opcode; /* text or binary: the feed's parser decides what it is */
    tp_source *s = ((rx_ctx *)ud)->s;
    tp_source_feed(s, p, n, last, s->cn->rx_ms);
    return stopping(s);
}

static int on_ws_control(void *ud, int opcode, const uint8_t *p, size_t n) {
    rx_ctx *c = ud;
    if (opcode == TP_WS_PING) {
        /* a venue's keep-alive (Binance pings every 20 s): answered, and
         * it shows the connection works (the silence watchdog counts every
         * byte received; pings= counts ping messages only) */
        queue_control(c->s, c->wsi, TP_WS_PONG, p, n);
        c->s->cn->delivered = 1;
    } else if (opcode == TP_WS_CLOSE) {
        on_peer_close(c->s, p, n);
        /* echo the code (RFC 6455 5.5.1), then close once it is sent */
        queue_control(c->s, c->wsi, TP_WS_CLOSE, p, n >= 2 ? 2 : 0);
        return 1;
    }
    return 0;
}

/* The server's answer to the upgrade is not a WebSocket: the same words
 * as a failed connection. */
static void on_upgrade_refused(tp_source *s, int status, const char *e) {
    char why[512];
    if (status == 401 || status == 403) {
        s->cn->last_reason = TP_FEED_REASON_BAD_TOKEN;
        snprintf(why, sizeof why, "%s (HTTP %d)", reason_words(s, TP_FEED_REASON_BAD_TOKEN), status);
        tp_error(MOD, "connecting to %s: %s", s->safe_url, why);
    } else {
        snprintf(why, sizeof why, "%s", e);
    }
    schedule_reconnect(s, why);
}

static int decode_rx(tp_source *s, struct lws *wsi, const uint8_t *p, size_t n) {
    rx_ctx c = {s, wsi};
    char e[256];
    int rc = tp_ws_decode(&s->cn->dec, p, n, on_ws_data, on_ws_control, &c, e, sizeof e);
    if (rc < 0) {
        tp_warn(MOD, "closing the connection to %s: %s", s->safe_url, e);
        snprintf(s->cn->last_error, sizeof s->cn->last_error, "WebSocket protocol error: %s", e);
        return -1;
    }
    return 0;
}

/* Bytes from the server: the upgrade answer first, then frames. */
static int on_raw_rx(tp_source *s, struct lws *wsi, const uint8_t *in, size_t len) {
    s->cn->rx_ms = tp_now_ms();
    if (!s->cn->upgraded) {
        size_t room = sizeof s->cn->hs_buf - s->cn->hs_len, take = len < room ? len : room;
        memcpy(s->cn->hs_buf + s->cn->hs_len, in, take);
        s->cn->hs_len += take;
        size_t used = 0;
        int status = 0;
        char e[256];
        int rc = tp_ws_response(s->cn->hs_buf, s->cn->hs_len, s->cn->ws_key, &used, &status, e, sizeof e);
        if (rc == 1) return 0;
        if (rc < 0) {
            on_upgrade_refused(s, status, e);
            return -1;
        }
        s->cn->upgraded = 1;
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        on_established(s, wsi);
        /* frames that came with the answer */
        if (decode_rx(s, wsi, (const uint8_t *)s->cn->hs_buf + used, s->cn->hs_len - used)) return -1;
        in += take;
        len -= take;
    }
    if (len && !s->cn->close_after_out && decode_rx(s, wsi, in, len)) return -1;
    s->cn->last_rx_us = tp_mono_us(); /* after on_batch: time blocked there does not count */
    return stopping(s) ? -1 : 0;
}

/* Plaintext out of TLS: the same path as bytes from a plain socket. */
static int on_tls_plain(void *ud, const uint8_t *p, size_t n) {
    rx_ctx *c = ud;
    return on_raw_rx(c->s, c->wsi, p, n) ? 1 : 0;
}

/* Ciphertext from a wss:// server. */
static int on_tls_rx(tp_source *s, struct lws *wsi, const uint8_t *in, size_t len) {
    rx_ctx c = {s, wsi};
    int ready = 0;
    char e[256];
    int rc = tp_ws_tls_rx(s->cn->tls_sess, in, len, on_tls_plain, &c, &ready, e, sizeof e);
    if (rc < 0) {
        if (!s->cn->active) return -1; /* the plaintext path already ended this connection */
        if (rc == TP_EREFUSED) tp_error(MOD, "connecting to %s: %s", s->safe_url, e);
        schedule_reconnect(s, e);
        return -1;
    }
    if (rc == 1) return -1; /* the WebSocket side ended the connection */
    if (ready && !s->cn->tls_ready) {
        s->cn->tls_ready = 1;
        lws_callback_on_writable(wsi); /* the upgrade request can go now */
    }
    const uint8_t *pend;
    if (tp_ws_tls_pending(s->cn->tls_sess, &pend)) lws_callback_on_writable(wsi);
    return 0;
}

/* TCP is up (and TLS starts): send the upgrade request. */
static int on_raw_connected(tp_source *s, struct lws *wsi) {
    s->cn->tcp_up = 1;
    s->cn->addr_deadline_us = 0;
    if (s->tls) {
        char e[512];
        tp_ws_tls_free(s->cn->tls_sess);
        s->cn->tls_sess = NULL;
        s->cn->tls_ready = 0;
        if (tp_ws_tls_new(s->tls_ctx, s->host, &s->cn->tls_sess, e, sizeof e)) {
            schedule_reconnect(s, e);
            return -1;
        }
    }
    uint8_t nonce[16];
    if (RAND_bytes(nonce, sizeof nonce) != 1)
        for (size_t i = 0; i < sizeof nonce; i += 8) {
            uint64_t r = next_rand(s);
            memcpy(nonce + i, &r, 8);
        }
    tp_ws_make_key(nonce, s->cn->ws_key);
    long n = tp_ws_request(s->host, s->port, s->tls, s->path, s->cn->ws_key, (char *)s->cn->out + LWS_PRE,
                           sizeof s->cn->out - LWS_PRE);
    if (n < 0) {
        schedule_reconnect(s, "the WebSocket upgrade request does not fit (URL too long)");
        return -1;
    }
    s->cn->out_len = (size_t)n;
    /* a server that takes the connection but never answers the upgrade */
    snprintf(s->cn->last_error, sizeof s->cn->last_error,
             "no answer to the WebSocket upgrade (closed, or none within 20 s)");
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 20);
    lws_callback_on_writable(wsi);
    return 0;
}

static int on_raw_writeable(tp_source *s, struct lws *wsi) {
    if (s->cn->tls_sess) {
        if (flush_tls(s, wsi)) return -1;
        if (!s->cn->tls_ready) return 0; /* the handshake goes on */
    }
    if (s->cn->out_len) {
        size_t n = s->cn->out_len;
        s->cn->out_len = 0;
        if (conn_send(s, wsi, s->cn->out + LWS_PRE, n)) {
            if (!s->cn->last_error[0])
                snprintf(s->cn->last_error, sizeof s->cn->last_error, "cannot write to the server");
            return -1;
        }
        if (s->cn->close_after_out) return -1;
        if (s->cn->upgraded && s->cn->sub_next < s->nsymbols) lws_callback_on_writable(wsi);
        return 0;
    }
    if (s->cn->upgraded && s->cn->sub_next < s->nsymbols && send_subscriptions(s, wsi)) return -1;
    return 0;
}

/* ------------------------------------------------------------ handover */

/* A feed whose venue closes a connection after lifetime_ms (Binance: 24 h)
 * gets its successor handover_before_ms earlier: a second connection (the
 * other slot) subscribes the same symbols while the old one goes on. Both
 * feed the one session (door, dedupe, gaps, on_batch), so the trades they
 * both deliver are kept once. Per symbol, the successor's trades join the
 * stream once they continue it (a trade id at most one above the highest
 * the session has seen); until then they are dropped, because the old
 * connection still has them to deliver, and a jump would be reported as a
 * gap. Once every symbol has joined (or after half of handover_before_ms)
 * the successor becomes the connection and the old one is closed (close
 * code 1000). If the successor fails, the old one goes on and the handover
 * is tried again; if the old one is closed first, the successor takes over
 * at once. No reconnect is counted and no gap opened. */

static conn *other_slot(tp_source *s, const conn *c) {
    return c == &s->slot[0] ? &s->slot[1] : &s->slot[0];
}

static void start_handover(tp_source *s, int64_t now) {
    conn *n = other_slot(s, s->cur);
    if (n->active) return; /* the last handover's old connection is still closing */
    s->next = n;
    memset(s->joined, 0, s->nsymbols);
    s->njoined = 0;
    s->handover_due_us = now + s->handover_before_ms * 500;
    tp_info(MOD,
            "handover: the connection to %s is %.0f s old (the venue closes it at %.0f s); opening its "
            "successor",
            s->safe_url, (double)(now - s->cur->opened_us) / 1e6, (double)s->lifetime_ms / 1000.0);
    conn *was = s->cn;
    s->cn = n;
    n->last_reason = TP_FEED_REASON_OTHER;
    n->last_error[0] = '\0';
    n->addr_errs[0] = '\0';
    n->delivered = 0;
    n->silenced = 0;
    char e[512];
    int k = tp_resolve(s->host, n->addrs, TP_RESOLVE_MAX, e, sizeof e);
    if (k < 0) {
        handover_failed(s, e, 0);
    } else {
        n->naddrs = k;
        n->addr_next = 0;
        connect_address(s);
    }
    s->cn = was;
}

static void handover_failed(tp_source *s, const char *why, int kill) {
    conn *n = s->next;
    if (!n) return;
    s->next = NULL;
    int64_t retry_ms = s->handover_before_ms / 10 > 1000 ? s->handover_before_ms / 10 : 1000;
    tp_warn(
        MOD,
        "handover: the successor connection to %s failed (%s); the old one goes on; trying again in %.1f s",
        s->safe_url,
        why && *why        ? why
        : n->last_error[0] ? n->last_error
                           : "closed",
        (double)retry_ms / 1000.0);
    if (kill)
        kill_conn(n);
    else
        release_conn(n);
    s->handover_retry_us = tp_mono_us() + retry_ms * 1000;
}

static void complete_handover(tp_source *s, const char *how) {
    conn *old = s->cur, *n = s->next, *was = s->cn;
    if (!n) return;
    s->cur = n;
    s->next = NULL;
    uint64_t k = atomic_fetch_add_explicit(&s->st_handovers, 1, memory_order_relaxed) + 1;
    tp_counter_add(s->m.handovers, 1);
    tp_info(MOD,
            "handover #%llu on connection %d: the successor carries the %zu symbol%s (%s, %zu joined); "
            "closing the "
            "old connection",
            (unsigned long long)k, s->connection, s->nsymbols, s->nsymbols == 1 ? "" : "s", how, s->njoined);
    if (old->active && old->wsi) {
        /* a close frame (1000), then the socket; at most 2 s for it */
        static const uint8_t normal[2] = {0x03, 0xE8};
        s->cn = old;
        old->retiring = 1;
        old->established = 0;
        queue_control(s, old->wsi, TP_WS_CLOSE, normal, sizeof normal);
        lws_set_timeout(old->wsi, PENDING_TIMEOUT_USER_OK, 2);
        s->cn = was;
    } else {
        release_conn(old);
    }
    if (n->sub_next >= s->nsymbols) {
        conn *keep = s->cn;
        s->cn = n;
        set_connected(s, 1);
        s->cn = keep;
    }
}

/* The successor's trades that continue the session's stream, in place
 * (see above); marks the symbols that have joined. */
static void handover_filter(tp_source *s) {
    tp_batch *b = &s->batch;
    size_t kept = 0;
    for (size_t i = 0; i < b->n; i++) {
        const tp_trade *t = &b->trades[i];
        int64_t last = 0;
        size_t idx = 0;
        if (tp_gaps_last_id(s->gaps, t->symbol, &last, &idx))
            continue; /* not ours: the old one's door counts it */
        /* without a venue id a trade cannot be placed: the old connection's
         * copy counts. A symbol joins with the first trade that follows on
         * from what was taken (at most last + 1); from then on every trade
         * of it is kept, the rest of this message included (last moves only
         * after the message), and the dedupe by id drops what both send. */
        int keep = t->trade_id != 0 && (s->joined[idx] || last == 0 || t->trade_id <= last + 1);
        if ((keep || t->trade_id == 0) && !s->joined[idx]) {
            s->joined[idx] = 1;
            s->njoined++;
        }
        if (!keep) continue;
        if (kept != i) b->trades[kept] = *t;
        kept++;
    }
    b->n = kept;
}

/* From the service loop: start a handover when the connection is due,
 * drive the successor's connect and paced subscriptions, end it at its
 * deadline. */
static void handover_tick(tp_source *s, int64_t now) {
    if (s->lifetime_ms <= 0 || !s->gaps || stopping(s)) return;
    conn *p = s->cur, *n = s->next;
    if (!n) {
        if (p->established && p->sub_next >= s->nsymbols && now >= s->handover_retry_us &&
            now >= p->opened_us + (s->lifetime_ms - s->handover_before_ms) * 1000)
            start_handover(s, now);
        return;
    }
    conn *was = s->cn;
    s->cn = n;
    if (!n->active && n->next_is_addr && now >= n->next_connect_us) connect_address(s);
    if (s->next && n->wsi && !n->tcp_up && n->addr_deadline_us > 0 && now >= n->addr_deadline_us) {
        n->addr_deadline_us = -1;
        lws_set_timeout(n->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    if (s->next && n->wsi && n->upgraded && n->established && n->sub_next < s->nsymbols && !n->out_len &&
        s->feed->max_msgs_per_s > 0 && now >= n->sub_due_us)
        lws_callback_on_writable(n->wsi);
    if (s->next && now >= s->handover_due_us) {
        if (n->established && n->sub_next >= s->nsymbols)
            complete_handover(s, "deadline");
        else
            handover_failed(s, "not subscribed within half of --handover-before", 1);
    }
    s->cn = was;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    tp_source *s = wsi ? (tp_source *)lws_context_user(lws_get_context(wsi)) : NULL;
    /* which connection (slot) the event is for, set at connect; only that
     * connection's events: one given up for the next address may still be
     * closing */
    conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!s || !c || !c->active || (c->wsi && wsi != c->wsi))
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    conn *was = s->cn;
    s->cn = c;
    int rc = 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: on_connection_error(s, wsi, in); break;
    case LWS_CALLBACK_RAW_CONNECTED: rc = on_raw_connected(s, wsi); break;
    case LWS_CALLBACK_RAW_WRITEABLE: rc = on_raw_writeable(s, wsi); break;
    case LWS_CALLBACK_RAW_RX:
        /* a handed-over connection's data is the successor's too: ignored */
        if (!c->retiring) rc = c->tls_sess ? on_tls_rx(s, wsi, in, len) : on_raw_rx(s, wsi, in, len);
        break;
    case LWS_CALLBACK_RAW_CLOSE:
        if (!c->tcp_up)
            address_failed(s, "closed before it connected");
        else
            schedule_reconnect(s, c->last_error[0] ? NULL : "the connection was closed");
        break;
    default: rc = lws_callback_http_dummy(wsi, reason, user, in, len); break;
    }
    s->cn = was;
    return rc;
}

static const struct lws_protocols k_protocols[] = {
    {"tickpipe-feed", ws_callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_emit(int level, const char *line) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    tp_debug("lws", "%.*s", (int)n, line);
}

static void connect_address(tp_source *s);

static void try_connect(tp_source *s) {
    if (s->connects > 0) {
        if (s->max_reconnects >= 0 && (int)atomic_load(&s->st_reconnects) >= s->max_reconnects) {
            s->fatal = 1;
            snprintf(s->fatal_msg, sizeof s->fatal_msg, "gave up after %d reconnect%s to %s: %s",
                     s->max_reconnects, s->max_reconnects == 1 ? "" : "s", s->safe_url,
                     s->cn->last_error[0] ? s->cn->last_error : "connection lost");
            return;
        }
        stat_add(&s->st_reconnects, s->m.reconnects, 1);
        tp_info(MOD, "reconnecting to %s (reconnect #%llu)", s->safe_url,
                (unsigned long long)atomic_load(&s->st_reconnects));
    } else {
        tp_info(MOD, "connecting to %s", s->safe_url);
    }
    s->connects++;
    s->cn->last_reason = TP_FEED_REASON_OTHER;
    s->cn->last_error[0] = '\0';
    s->cn->addr_errs[0] = '\0';
    char e[512];
    int n = tp_resolve(s->host, s->cn->addrs, TP_RESOLVE_MAX, e, sizeof e);
    if (n < 0) {
        schedule_reconnect(s, e);
        return;
    }
    s->cn->naddrs = n;
    s->cn->addr_next = 0;
    connect_address(s);
}

/* Connect to the next address of the name (lws 4.1 goes on to a name's
 * next address itself but never polls that socket for the connect's end,
 * so each connect gets one numeric address). */
static void connect_address(tp_source *s) {
    const tp_addr *a = &s->cn->addrs[s->cn->addr_next++];
    if (s->cn->naddrs > 1) tp_debug(MOD, "connecting to %s at %s", s->safe_url, a->text);
    s->cn->last_error[0] = '\0';
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = s->ctx;
    ci.address = a->text;
    ci.port = s->port;
    ci.path = s->path;
    ci.host = s->host;
    ci.origin = s->host;
    ci.ssl_connection = 0; /* TLS is ours (ws_tls.h) */
    ci.protocol = NULL;
    ci.local_protocol_name = k_protocols[0].name;
    /* lws carries the bytes (TCP, TLS); the WebSocket protocol is ours (ws_frame.h) */
    ci.method = "RAW";
    ci.opaque_user_data = s->cn; /* which connection's events (ws_callback) */
    s->cn->wsi = NULL;
    s->cn->active = 1;
    s->cn->upgraded = 0;
    s->cn->hs_len = 0;
    s->cn->out_len = 0;
    s->cn->close_after_out = 0;
    tp_ws_decoder_init(&s->cn->dec);
    tp_ws_tls_free(s->cn->tls_sess); /* the last connection's, if any */
    s->cn->tls_sess = NULL;
    s->cn->tls_ready = 0;
    s->cn->tcp_up = 0;
    s->cn->next_is_addr = 0;
    /* another address waits: this one gets 2 s (RFC 8305 has the next
     * start after 250 ms beside it; one at a time, a little longer) */
    s->cn->addr_deadline_us = s->cn->addr_next < s->cn->naddrs ? tp_mono_us() + 2000000 : 0;
    s->cn->next_connect_us = INT64_MAX;
    /* a synchronous failure may already have run CONNECTION_ERROR, which
     * clears active and schedules the retry */
    struct lws *w = lws_client_connect_via_info(&ci);
    if (w && s->cn->active)
        s->cn->wsi = w;
    else if (!w && s->cn->active)
        schedule_reconnect(s, "cannot start the connection");
}

static int validate_symbols(tp_source *s, char *err, size_t errlen) {
    size_t kept = 0;
    char safe[512];
    tp_log_redact(s->rest_url, safe, sizeof safe);
    for (size_t i = 0; i < s->nsymbols; i++) {
        int exists = 0;
        char e[512];
        int rc = s->feed->symbol_exists(s->rest_url, s->token, s->symbols[i], &exists, e, sizeof e);
        if (rc == TP_EREFUSED) {
            /* a rejected token will not get better for the next symbols */
            return tp_seterr(err, errlen, rc, "cannot validate the tickers: %s", e);
        }
        if (rc) {
            tp_warn(MOD, "cannot validate ticker %s, subscribing it anyway: %s", s->symbols[i], e);
            exists = 1;
        } else if (!exists) {
            tp_warn(MOD, "skipping ticker %s: the symbol search at %s knows no symbol of that exact name",
                    s->symbols[i], safe);
        }
        if (exists)
            s->symbols[kept++] = s->symbols[i];
        else
            free(s->symbols[i]);
    }
    s->nsymbols = kept;
    if (!kept)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "none of the tickers exists (FINNHUB_VALIDATE_TICKERS=1); nothing to subscribe");
    return 0;
}

static int run_network(tp_source *s, char *err, size_t errlen) {
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = k_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = s;
    /* no TLS in lws: wss:// is ws_tls.h over the raw socket */
    info.options = 0;
    info.fd_limit_per_thread = 16;
    /* lws reads a raw socket into this buffer, one read per service call:
     * its default of 4 KiB was about one 50-trade message per read */
    info.pt_serv_buf_size = 256 * 1024;
    /* the system CA store only for wss:// (tens of ms of CPU a ws:// feed,
     * the simulator on loopback, never needs) */
    if (s->tls) {
        int rc = tp_ws_tls_ctx_new(&s->tls_ctx, err, errlen);
        if (rc) return rc;
    }
    struct lws_context *created = lws_create_context(&info);
    pthread_mutex_lock(&s->ctx_lock);
    s->ctx = created;
    pthread_mutex_unlock(&s->ctx_lock);
    if (!s->ctx) {
        tp_ws_tls_ctx_free(s->tls_ctx);
        s->tls_ctx = NULL;
        return tp_seterr(err, errlen, TP_ENOMEM, "cannot create the WebSocket client context");
    }
    tp_gauge_add(s->m.connections, 1);
    if (atomic_load(&s->stop)) goto done; /* stop came before the context existed */
    memset(&s->tick, 0, sizeof s->tick);
    lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, 100 * LWS_US_PER_MS);
    s->cn->next_connect_us = tp_mono_us();
    while (!stopping(s)) {
        int64_t now = tp_mono_us();
        s->cn = s->cur;
        if (!s->cn->active && now >= s->cn->next_connect_us) {
            if (s->cn->next_is_addr)
                connect_address(s);
            else
                try_connect(s);
            if (stopping(s)) break;
        }
        if (s->cn->wsi && !s->cn->tcp_up && s->cn->addr_deadline_us > 0 && now >= s->cn->addr_deadline_us) {
            /* no answer from this address: drop it (CONNECTION_ERROR goes on to the next) */
            s->cn->addr_deadline_us = -1;
            lws_set_timeout(s->cn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        if (s->cn->wsi && s->cn->established && s->stale_ms > 0 &&
            now - s->cn->last_rx_us > s->stale_ms * 1000) {
            tp_warn(MOD, "no message from %s for %.1f s (--stale-timeout); dropping the connection",
                    s->safe_url, (double)(now - s->cn->last_rx_us) / 1e6);
            snprintf(s->cn->last_error, sizeof s->cn->last_error,
                     "silent for longer than the stale timeout of %.1f s", (double)s->stale_ms / 1000.0);
            s->cn->established = 0;
            s->cn->silenced = 1;
            lws_set_timeout(s->cn->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        /* paced subscriptions (max_msgs_per_s): the next message is due */
        if (s->cn->wsi && s->cn->upgraded && s->cn->established && s->cn->sub_next < s->nsymbols &&
            !s->cn->out_len && s->feed->max_msgs_per_s > 0 && now >= s->cn->sub_due_us)
            lws_callback_on_writable(s->cn->wsi);
        handover_tick(s, now);
        s->cn = s->cur;
        if (lws_service(s->ctx, 0) < 0) break;
    }
done:
    lws_sul_cancel(&s->tick);
    struct lws_context *ctx = s->ctx;
    s->slot[0].wsi = s->slot[1].wsi = NULL;
    s->next = NULL;
    atomic_store(&s->stop, 1); /* suppress reconnect scheduling during destroy */
    pthread_mutex_lock(&s->ctx_lock);
    s->ctx_dying = 1;
    pthread_mutex_unlock(&s->ctx_lock);
    lws_context_destroy(ctx);
    pthread_mutex_lock(&s->ctx_lock);
    s->ctx = NULL;
    s->ctx_dying = 0;
    pthread_mutex_unlock(&s->ctx_lock);
    s->cn = s->cur;
    set_connected(s, 0);
    tp_gauge_add(s->m.connections, -1);
    for (int i = 0; i < 2; i++) {
        tp_ws_tls_free(s->slot[i].tls_sess);
        s->slot[i].tls_sess = NULL;
    }
    tp_ws_tls_ctx_free(s->tls_ctx);
    s->tls_ctx = NULL;
    if (s->fatal)
        return tp_seterr(err, errlen,
                         s->cn->last_reason == TP_FEED_REASON_BAD_TOKEN ? TP_EREFUSED : TP_EUNAVAIL, "%s",
                         s->fatal_msg);
    return 0;
}

/* -------------------------------------------------------------- replay */

static void sleep_us(int64_t us) {
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int run_replay(tp_source *s, char *err, size_t errlen) {
    tp_record_reader *r;
    int rc = tp_record_reader_open(s->replay_path, s->max_frame, &r, err, errlen);
    if (rc) return rc;
    int64_t first_rec = -1, start_us = tp_mono_us();
    while (!stopping(s) && !atomic_load(&s->stop)) {
        int64_t recv_ms;
        const char *frame;
        size_t len;
        rc = tp_record_next(r, &recv_ms, &frame, &len, err, errlen);
        if (rc == TP_EEOF) {
            rc = 0;
            break;
        }
        if (rc == TP_ELIMIT) {
            stat_add(&s->st_oversize, s->m.oversize, 1);
            tp_warn(MOD, "skipping a recorded frame over --max-frame: %s", err);
            continue;
        }
        if (rc) break;
        if (s->replay_speed > 0) {
            if (first_rec < 0) first_rec = recv_ms;
            int64_t due = start_us + (int64_t)((double)(recv_ms - first_rec) * 1000.0 / s->replay_speed);
            for (int64_t now = tp_mono_us(); now < due && !atomic_load(&s->stop); now = tp_mono_us())
                sleep_us(due - now > 100000 ? 100000 : due - now);
            if (atomic_load(&s->stop)) break;
        }
        tp_source_feed(s, frame, len, 1, recv_ms);
    }
    tp_record_reader_close(r);
    return rc;
}

int tp_source_run(tp_source *s, char *err, size_t errlen) {
    if (s->group) return tp_source_group_run(s->group, err, errlen);
    if (s->replay_path) return run_replay(s, err, errlen);
    if (s->validate && !s->feed->symbol_exists) {
        tp_warn(MOD, "the %s feed cannot check symbols; --validate is ignored", s->feed->name);
    } else if (s->validate) {
        int rc = validate_symbols(s, err, errlen);
        if (rc) return rc;
    }
    return run_network(s, err, errlen);
}
