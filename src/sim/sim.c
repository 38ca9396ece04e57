/* sim.c - the simulator: a libwebsockets server, Finnhub-compatible by
 * default; a personality (personality.h, --feed) makes it speak another
 * venue's protocol (how clients subscribe, how trades are written,
 * keep-alive, connection lifetime) over the same market, rate and faults.
 *
 * One lws context with one vhost and one protocol serves both sides of the
 * port: WebSocket upgrades (any path, ?token= required) and plain HTTP GETs
 * (the REST symbol search /api/v1/search?q=). Everything runs in the single
 * service thread, so connection state needs no locks; only the counters are
 * atomics, read by tp_sim_get_stats from other threads.
 *
 * Sending is pull-driven: a connection asks for LWS_CALLBACK_SERVER_WRITEABLE
 * when it has something to say, and each writeable callback writes exactly
 * one message (a queued control message first: errors, pings, then trades).
 * With --rate 0 (or a replay at speed 0) a connection re-arms itself after
 * every frame, so the kernel's socket buffer paces the stream: the server
 * sends exactly as fast as the client reads. With a finite rate, a 5 ms
 * timer tick works out how many trades each connection is due (rate times
 * the time since its first subscription) and arms the connections that owe
 * trades; a client that falls more than a second behind loses the backlog
 * rather than growing it without bound. The same tick drives pings, the
 * injected faults and the stop check.
 *
 * Trade frames are formatted by hand into a buffer each connection reuses
 * (market.c), so the hot path neither allocates nor touches jansson; the
 * control side (client messages, the REST answer) uses jansson.
 *
 * Holes (--holes-log): the oracle of the gaps a client must report. Each
 * connection remembers, per subscription, the event time of the newest
 * trade it delivered intact (a malformed frame delivers nothing). When the
 * connection is lost to a fault (a drop, a silence, its key used by a newer
 * connection) or closed, those times become orphans of its token; the
 * first trade of the symbol delivered on a later connection with the same
 * token closes the orphan and writes one JSON line: the trades the market
 * would have made in between were sent to nobody. A second loss before the
 * symbol traded again keeps the first orphan (as the client keeps its
 * first open gap). Orphans are looked up only at a subscription's first
 * trade, so the hot path pays one store per trade. Synthetic market only. */
#include "sim/sim.h"

#include "codec/finnhub_json.h"
#include "core/config.h"
#include "core/err.h"
#include "core/listen.h"
#include "core/log.h"
#include "core/trade.h"
#include "feed/record.h"
#include "sim/market.h"
#include "sim/personality.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MOD "simulate"
#define TICK_US 5000
#define MAX_SUBS 1000
#define MAX_CLIENT_MSG 4096
#define MAX_CTL 4096 /* control messages waiting on one connection */
#define MAX_ANSWER 65536
#define REPLAY_SETTLE_US 100000
#define CTL_LEN 256

/* What Finnhub-compatible clients are told. tp_source_classify (feed/source.c)
 * recognises "API key" as a rejected token and "in use" as a second
 * connection with the same key. */
#define MSG_BAD_TOKEN "Invalid API key"
#define MSG_KEY_IN_USE "API key in use by another connection; one connection per API key is allowed"
#define MSG_TOO_MANY "Subscribing to too many symbols"
#define MSG_INJECTED "Simulated server error (fault injection)"

typedef struct tp_sim tp_sim;

typedef struct ctl_msg {
    char *text;
    size_t len;
    int close_after; /* close with reason text after sending (code close_code) */
    int close_code;
    char reason[120];
} ctl_msg;

/* A symbol's newest delivered event time on a lost connection. */
typedef struct orphan {
    char *token;
    const tp_market_sym *sym;
    int64_t from_ms;
    const char *reason;
    uint64_t conn_id;
    int64_t from_id; /* id venues: the newest delivered trade id */
} orphan;

typedef struct conn {
    struct conn *next;
    struct lws *wsi;
    tp_sim *sim;
    uint64_t id;
    char token[256];
    int authorized;
    tp_market_sym **subs;
    size_t nsubs, capsubs;
    int64_t *sub_last_ms; /* holes: newest delivered event time per sub, INT64_MIN = none */
    int64_t *sub_last_id; /* holes, id venues: newest delivered trade id per sub */
    int ping_frame;       /* a WebSocket ping is due (personalities with ws_ping) */
    int market_lost;      /* lost_market() ran */
    uint32_t *pick;       /* holes: the subs of the frame being built */
    size_t cap_pick;
    int orphaned;       /* holes: its subs are orphans already */
    int malformed_last; /* the last frame sent was mangled */
    /* timing (monotonic us) */
    int64_t open_us, next_ping_us, next_error_us, drop_at_us, silent_at_us, end_of_life_us;
    int silent;
    int closing;       /* close frame sent or about to be; send nothing else */
    size_t repeat_len; /* --repeat-rate: the trade frame in buf goes out again next */
    int close_now;
    int close_code;
    char close_reason[120];
    /* control messages waiting to go out before trades */
    ctl_msg *ctl;
    int nctl, capctl;
    /* venues with recent trades (personality recent_msg): the symbols a
     * client message subscribed, written after its answer */
    tp_market_sym **fresh;
    size_t nfresh, capfresh;
    int subscribed_once; /* a subscription arrived (subscribe_deadline_s) */
    int64_t next_heartbeat_us;
    /* rate accounting */
    int64_t rate_t0_us;
    uint64_t rate_sent;
    uint64_t rng;
    /* the frame buffer, reused: LWS_PRE bytes of headroom, then the message */
    unsigned char *buf;
    size_t cap;
    /* the client's message being reassembled */
    char rx[MAX_CLIENT_MSG];
    size_t rx_len;
    int rx_over;
    /* replay */
    tp_record_reader *rr;
    int replay_done, have_frame;
    const char *frame;
    size_t frame_len;
    int64_t frame_ms, first_ms, replay_t0_us, replay_start_us;
    uint64_t pass_sent;
    tp_batch batch;
} conn;

typedef struct pss {
    conn *c;
    unsigned char *body; /* HTTP answer, LWS_PRE bytes of headroom */
    size_t body_len;
} pss;

struct tp_sim {
    tp_sim_config cfg;
    const tp_sim_personality *pers; /* the venue spoken (personality.h) */
    double lifetime_s;              /* --lifetime, else the personality's */
    char *listen_s, *token_s, *replay_s, *cert_s, *key_s;
    char host[256];
    int want_port;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct lws_protocols protocols[2];
    int port;
    tp_market *market;
    conn *conns;
    int nconns;
    uint64_t next_conn_id;
    uint64_t fault_rng;
    lws_sorted_usec_list_t tick;
    atomic_int stop;
    volatile int *ext_stop;
    int finished; /* max_trades reached */
    int done;     /* finished and every client gone */
    pthread_t thread;
    int thread_started;
    FILE *holes; /* --holes-log, line-buffered; service thread only */
    orphan *orphans;
    size_t norphans, cap_orphans;
    _Atomic uint64_t st_connections, st_rejected, st_kicked, st_trades, st_frames, st_pings, st_errors,
        st_malformed, st_drops, st_searches, st_repeats;
};

static void add(_Atomic uint64_t *c, uint64_t n) {
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

void tp_sim_config_default(tp_sim_config *c) {
    memset(c, 0, sizeof *c);
    c->listen = "127.0.0.1:8765";
    c->token = NULL;
    c->rate = 50;
    c->batch = 10;
    c->seed = 1;
    c->ping_interval_s = 60;
    c->replay_speed = 1;
    c->lifetime_s = -1;
}

/* ------------------------------------------------------------ helpers */

static int ensure_cap(conn *c, size_t need) {
    if (LWS_PRE + need <= c->cap) return 0;
    size_t cap = c->cap ? c->cap : 16384;
    while (cap < LWS_PRE + need) cap *= 2;
    unsigned char *nb = realloc(c->buf, cap);
    if (!nb) return -1;
    c->buf = nb;
    c->cap = cap;
    return 0;
}

static void ctl_push(conn *c, const char *json, size_t len, int close_after, int code, const char *reason) {
    if (c->nctl >= MAX_CTL) return;
    if (c->nctl == c->capctl) {
        int cap = c->capctl ? c->capctl * 2 : 8;
        ctl_msg *nc = realloc(c->ctl, (size_t)cap * sizeof *nc);
        if (!nc) return;
        c->ctl = nc;
        c->capctl = cap;
    }
    char *text = malloc(len ? len : 1);
    if (!text) return;
    ctl_msg *m = &c->ctl[c->nctl++];
    m->text = text;
    memcpy(m->text, json, len);
    m->len = len;
    m->close_after = close_after;
    m->close_code = code;
    snprintf(m->reason, sizeof m->reason, "%s", reason ? reason : "");
    lws_callback_on_writable(c->wsi);
}

static void ctl_clear(conn *c) {
    for (int i = 0; i < c->nctl; i++) free(c->ctl[i].text);
    c->nctl = 0;
}

static void ctl_error(conn *c, const char *msg, int close_after, int code) {
    char j[CTL_LEN];
    int n = snprintf(j, sizeof j, "{\"type\":\"error\",\"msg\":\"%s\"}", msg);
    if (n > 0 && (size_t)n < sizeof j) ctl_push(c, j, (size_t)n, close_after, code, msg);
}

/* Another live connection of the same client (token) listens to ms: a
 * client's connection and its successor while one hands over to the other.
 * The market then goes on being heard when c ends: no hole. */
static int listened_elsewhere(const conn *c, const tp_market_sym *ms) {
    for (const conn *o = c->sim->conns; o; o = o->next) {
        if (o == c || !o->authorized || o->closing || strcmp(o->token, c->token)) continue;
        for (size_t i = 0; i < o->nsubs; i++)
            if (o->subs[i] == ms) return 1;
    }
    return 0;
}

static int is_subscribed(const conn *c, const char *s, size_t len) {
    for (size_t i = 0; i < c->nsubs; i++)
        if (strlen(c->subs[i]->name) == len && memcmp(c->subs[i]->name, s, len) == 0) return 1;
    return 0;
}

/* The connection is lost (reason): its delivered times become orphans. */
static void holes_orphan(conn *c, const char *reason) {
    tp_sim *s = c->sim;
    if (!s->holes || c->orphaned || !c->authorized) return;
    c->orphaned = 1;
    for (size_t i = 0; i < c->nsubs; i++) {
        if (c->sub_last_ms[i] == INT64_MIN || listened_elsewhere(c, c->subs[i])) continue;
        int have = 0;
        for (size_t j = 0; j < s->norphans && !have; j++)
            have = s->orphans[j].sym == c->subs[i] && !strcmp(s->orphans[j].token, c->token);
        if (have) continue; /* lost twice before it traded again: the first loss counts */
        if (s->norphans == s->cap_orphans) {
            size_t cap = s->cap_orphans ? s->cap_orphans * 2 : 64;
            orphan *no = realloc(s->orphans, cap * sizeof *no);
            if (!no) return;
            s->orphans = no;
            s->cap_orphans = cap;
        }
        char *tok = strdup(c->token);
        if (!tok) return;
        s->orphans[s->norphans++] = (orphan){.token = tok,
                                             .sym = c->subs[i],
                                             .from_ms = c->sub_last_ms[i],
                                             .reason = reason,
                                             .conn_id = c->id,
                                             .from_id = c->sub_last_id ? c->sub_last_id[i] : 0};
    }
}

/* The first trade of sub i on c was delivered at ts_ms: close its orphan. */
static void holes_close(conn *c, size_t i, int64_t ts_ms, int64_t first_id) {
    tp_sim *s = c->sim;
    for (size_t j = 0; j < s->norphans; j++) {
        orphan *o = &s->orphans[j];
        if (o->sym != c->subs[i] || strcmp(o->token, c->token)) continue;
        json_t *line = json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:s}", "symbol", o->sym->name, "from_ms",
                                 (json_int_t)o->from_ms, "to_ms", (json_int_t)ts_ms, "reason", o->reason,
                                 "lost_connection", (json_int_t)o->conn_id, "connection", (json_int_t)c->id,
                                 "token", o->token);
        /* id venues: the trade ids nobody received, from_id..to_id (none
         * when to_id < from_id) */
        if (line && c->sim->pers->trade_msg) {
            json_object_set_new(line, "from_id", json_integer((json_int_t)(o->from_id + 1)));
            json_object_set_new(line, "to_id", json_integer((json_int_t)(first_id - 1)));
        }
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text) fprintf(s->holes, "%s\n", text);
        free(text);
        json_decref(line);
        free(o->token);
        s->orphans[j] = s->orphans[--s->norphans];
        return;
    }
}

static void conn_free(conn *c) {
    if (c->rr) tp_record_reader_close(c->rr);
    tp_batch_free(&c->batch);
    ctl_clear(c);
    free(c->ctl);
    free(c->fresh);
    free(c->sub_last_ms);
    free(c->sub_last_id);
    free(c->pick);
    free(c->subs);
    free(c->buf);
    free(c);
}

static void unlink_conn(tp_sim *s, conn *c) {
    for (conn **pp = &s->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            s->nconns--;
            return;
        }
}

/* ------------------------------------------------------- client messages */

tp_sim_msg tp_sim_parse_client_msg(const char *data, size_t len, char *sym, size_t symlen) {
    json_error_t je;
    if (symlen) sym[0] = '\0';
    json_t *root = json_loadb(data, len, 0, &je);
    const char *type = root ? json_string_value(json_object_get(root, "type")) : NULL;
    json_t *js = root ? json_object_get(root, "symbol") : NULL;
    const char *v = json_string_value(js);
    size_t vl = v ? json_string_length(js) : 0;
    tp_sim_msg m;
    if (!type)
        m = TP_SIM_MSG_INVALID;
    else if (strcmp(type, "subscribe") && strcmp(type, "unsubscribe"))
        m = TP_SIM_MSG_UNKNOWN_TYPE;
    else if (!v || !vl || vl >= symlen || memchr(v, '\0', vl))
        m = TP_SIM_MSG_BAD_SYMBOL;
    else {
        memcpy(sym, v, vl + 1);
        m = strcmp(type, "subscribe") ? TP_SIM_MSG_UNSUBSCRIBE : TP_SIM_MSG_SUBSCRIBE;
    }
    json_decref(root);
    return m;
}

/* Subscribe c to sym (once; within the symbol limit). */
static void sub_add(conn *c, const char *sym) {
    tp_sim *s = c->sim;
    size_t sl = strlen(sym);
    if (is_subscribed(c, sym, sl)) return;
    size_t limit = s->cfg.max_symbols > 0 && s->cfg.max_symbols < MAX_SUBS ? s->cfg.max_symbols : MAX_SUBS;
    if (c->nsubs >= limit) {
        tp_info(MOD, "connection %llu: %s not subscribed: the limit is %zu symbols per connection",
                (unsigned long long)c->id, sym, limit);
        ctl_error(c, MSG_TOO_MANY, 0, 0);
        return;
    }
    tp_market_sym *ms = tp_market_get(s->market, sym, sl);
    if (ms && c->nsubs == c->capsubs) {
        size_t cap = c->capsubs ? c->capsubs * 2 : 16;
        tp_market_sym **ns = realloc(c->subs, cap * sizeof *ns);
        if (ns) c->subs = ns;
        int64_t *nl = ns ? realloc(c->sub_last_ms, cap * sizeof *nl) : NULL;
        if (nl) c->sub_last_ms = nl;
        int64_t *ni = nl ? realloc(c->sub_last_id, cap * sizeof *ni) : NULL;
        if (ni) {
            c->sub_last_id = ni;
            c->capsubs = cap;
        }
    }
    if (ms && c->nsubs < c->capsubs) {
        if (!c->nsubs) {
            c->rate_t0_us = tp_mono_us();
            c->rate_sent = 0;
        }
        c->sub_last_ms[c->nsubs] = INT64_MIN;
        c->sub_last_id[c->nsubs] = 0;
        c->subs[c->nsubs++] = ms;
        tp_debug(MOD, "connection %llu subscribed %s", (unsigned long long)c->id, ms->name);
    }
}

static void sub_remove(conn *c, const char *sym) {
    for (size_t i = 0; i < c->nsubs; i++)
        if (!strcmp(c->subs[i]->name, sym)) {
            c->subs[i] = c->subs[--c->nsubs];
            c->sub_last_ms[i] = c->sub_last_ms[c->nsubs];
            c->sub_last_id[i] = c->sub_last_id[c->nsubs];
            break;
        }
}

/* subscribe: 1, or 2 without the venue's recent trades (Kraken's
 * "snapshot":false) */
static void on_personality_sub(void *ud, int subscribe, const char *name) {
    conn *c = ud;
    if (!subscribe) {
        sub_remove(c, name);
        return;
    }
    c->subscribed_once = 1;
    size_t before = c->nsubs;
    sub_add(c, name);
    if (c->nsubs == before || subscribe != 1 || !c->sim->pers->recent_msg) return;
    if (c->nfresh == c->capfresh) {
        size_t cap = c->capfresh ? c->capfresh * 2 : 16;
        tp_market_sym **nf = realloc(c->fresh, cap * sizeof *nf);
        if (!nf) return;
        c->fresh = nf;
        c->capfresh = cap;
    }
    c->fresh[c->nfresh++] = c->subs[c->nsubs - 1];
}

/* The trades of ms last sent (personality recent_max of them), a ring. */
typedef struct recent_ring {
    size_t head, n;
    tp_trade t[];
} recent_ring;

static void recent_note(tp_sim *s, tp_market_sym *ms, const char *obj, size_t ol, int64_t id) {
    size_t cap = (size_t)s->pers->recent_max;
    if (!cap) return;
    recent_ring *r = ms->recent;
    if (!r && !(r = ms->recent = calloc(1, sizeof *r + cap * sizeof r->t[0]))) return;
    tp_trade t;
    if (tp_sim_trade_from_obj(obj, ol, id, &t)) return;
    t.symbol.ptr = ms->name;
    t.symbol.len = (uint32_t)strlen(ms->name);
    if (r->n < cap) {
        r->t[(r->head + r->n++) % cap] = t;
    } else {
        r->t[r->head] = t;
        r->head = (r->head + 1) % cap;
    }
}

/* After a client message's answer: the recent trades of each symbol it
 * subscribed (Coinbase's last_match, Kraken's snapshot). */
static void push_recent(conn *c) {
    tp_sim *s = c->sim;
    size_t cap = (size_t)s->pers->recent_max;
    size_t outcap = cap * 400 + 256 + 2 * TP_SIM_MAX_SYMBOL * 6;
    tp_trade *t = malloc((cap ? cap : 1) * sizeof *t);
    char *out = malloc(outcap);
    for (size_t i = 0; t && out && i < c->nfresh; i++) {
        recent_ring *r = c->fresh[i]->recent;
        size_t n = r ? r->n : 0;
        for (size_t k = 0; k < n; k++) t[k] = r->t[(r->head + k) % cap];
        size_t len = s->pers->recent_msg(t, n, out, outcap);
        if (len) ctl_push(c, out, len, 0, 0, NULL);
    }
    c->nfresh = 0;
    free(t);
    free(out);
}

static void handle_client_message(conn *c, const char *data, size_t len) {
    tp_sim *s = c->sim;
    if (s->pers->client_msg) { /* another venue's protocol (personality.h) */
        char *answer = malloc(MAX_ANSWER);
        if (!answer) return;
        c->nfresh = 0;
        size_t n = s->pers->client_msg(data, len, on_personality_sub, c, answer, MAX_ANSWER);
        /* an answer of several messages (one per symbol: Kraken) is one a line */
        for (size_t a = 0; a < n;) {
            const char *nl = memchr(answer + a, '\n', n - a);
            size_t e = nl ? (size_t)(nl - answer) : n;
            if (e > a) ctl_push(c, answer + a, e - a, 0, 0, NULL);
            a = e + 1;
        }
        free(answer);
        push_recent(c);
        if (s->replay_s && !c->rr) c->replay_start_us = tp_mono_us() + REPLAY_SETTLE_US;
        lws_callback_on_writable(c->wsi);
        return;
    }
    char sym[TP_SIM_MAX_SYMBOL + 1];
    tp_sim_msg m = tp_sim_parse_client_msg(data, len, sym, sizeof sym);
    if (m == TP_SIM_MSG_INVALID) {
        ctl_error(c, "Invalid message: expected {\\\"type\\\":\\\"subscribe\\\",\\\"symbol\\\":...}", 0, 0);
    } else if (m == TP_SIM_MSG_UNKNOWN_TYPE) {
        ctl_error(c, "Unknown message type", 0, 0);
    } else if (m == TP_SIM_MSG_BAD_SYMBOL) {
        ctl_error(c, "Invalid symbol", 0, 0);
    } else if (m == TP_SIM_MSG_SUBSCRIBE) {
        sub_add(c, sym);
        /* a replay starts once the subscriptions have settled, so its first
         * frames are not filtered against a half-made subscription list */
        if (s->replay_s && !c->rr) c->replay_start_us = tp_mono_us() + REPLAY_SETTLE_US;
        lws_callback_on_writable(c->wsi);
    } else {
        sub_remove(c, sym);
    }
}

/* ------------------------------------------------------------ sending */

static int write_msg(conn *c, size_t len) {
    int n = lws_write(c->wsi, c->buf + LWS_PRE, len, LWS_WRITE_TEXT);
    return n < (int)len ? -1 : 0;
}

/* Replace the frame in the buffer with something no parser accepts. */
static size_t make_malformed(conn *c, size_t len) {
    char *f = (char *)c->buf + LWS_PRE;
    uint64_t r = tp_sim_rand(&c->sim->fault_rng);
    static const char *const garbage[] = {
        "{\"data\":[{\"c\":null,\"p\":\"NaN\",\"s\":\"AAPL\",\"t\":1,\"v\":1}],\"type\":\"trade\"}",
        "not json at all",
        "{\"type\":\"trade\",\"data\":[{\"p\":1.5,\"s\":\"AAPL\",\"t\":1,\"v\":1}]",
        "{\"data\":[{\"p\":190.1,\"s\":\"AAPL\",\"t\":1700000000000,\"v\":1,}],\"type\":\"trade\"}",
        "[]",
    };
    size_t ng = sizeof garbage / sizeof garbage[0];
    /* a proper prefix; always for another venue (the garbage below is
     * Finnhub-shaped, and a cut JSON object is malformed anywhere) */
    if (len > 2 && ((r & 1) || c->sim->pers->trade_msg)) return 1 + (size_t)((r >> 8) % (len - 1));
    const char *g = garbage[(r >> 8) % ng];
    size_t gl = strlen(g);
    if (ensure_cap(c, gl) == 0) {
        f = (char *)c->buf + LWS_PRE;
        memcpy(f, g, gl);
        return gl;
    }
    return 1;
}

/* Send len bytes from the buffer as a frame carrying ntrades trades, maybe
 * mangled by the malformed-frame fault. */
static int send_frame(conn *c, size_t len, uint64_t ntrades) {
    tp_sim *s = c->sim;
    c->malformed_last = 0;
    if (s->cfg.malformed_rate > 0 && tp_sim_rand01(&s->fault_rng) < s->cfg.malformed_rate) {
        c->malformed_last = 1;
        len = make_malformed(c, len);
        add(&s->st_malformed, 1);
        ntrades = 0;
    }
    if (write_msg(c, len)) return -1;
    add(&s->st_frames, 1);
    if (ntrades) add(&s->st_trades, ntrades);
    /* one writeable callback writes one message: the repeat waits in buf
     * (nothing else writes there before it goes) for the next callback */
    if (ntrades && s->cfg.repeat_rate > 0 && tp_sim_rand01(&s->fault_rng) < s->cfg.repeat_rate) {
        c->repeat_len = len;
        lws_callback_on_writable(c->wsi);
    }
    return 0;
}

static uint64_t trades_left(tp_sim *s) {
    if (!s->cfg.max_trades) return UINT64_MAX;
    uint64_t sent = atomic_load_explicit(&s->st_trades, memory_order_relaxed);
    return sent >= s->cfg.max_trades ? 0 : s->cfg.max_trades - sent;
}

static uint64_t trades_due(conn *c, int64_t now) {
    tp_sim *s = c->sim;
    if (s->cfg.rate <= 0) return UINT64_MAX;
    double allowed = s->cfg.rate * (double)(now - c->rate_t0_us) / 1e6;
    uint64_t a = (uint64_t)allowed;
    if (a > c->rate_sent + (uint64_t)s->cfg.rate + 1) c->rate_sent = a - (uint64_t)s->cfg.rate; /* 1 s max */
    return a > c->rate_sent ? a - c->rate_sent : 0;
}

/* One trade as one message, in the personality's words (trade_msg), with
 * the symbol's trade id: the market's count of its trades, which goes on
 * across connections. */

/* A trade of ms that c sent goes to every other live connection of the
 * same client subscribed to ms too (a venue sends each trade to every
 * subscriber: a connection and its successor during a handover both get
 * it), after what they were sent before: queued with their control
 * messages, which go before their own next trade. */
static void fan_out(conn *c, const tp_market_sym *ms, const char *msg, size_t len, int64_t ts, int64_t id) {
    for (conn *o = c->sim->conns; o; o = o->next) {
        if (o == c || !o->authorized || o->closing || o->silent || strcmp(o->token, c->token)) continue;
        for (size_t i = 0; i < o->nsubs; i++) {
            if (o->subs[i] != ms) continue;
            if (o->nctl >= MAX_CTL) {
                tp_warn(MOD, "connection %llu reads too slowly: a trade of %s not sent to it",
                        (unsigned long long)o->id, ms->name);
                break;
            }
            ctl_push(o, msg, len, 0, 0, NULL);
            if (c->sim->holes) {
                if (o->sub_last_ms[i] == INT64_MIN) holes_close(o, i, ts, id);
                o->sub_last_ms[i] = ts;
                o->sub_last_id[i] = id;
            }
            break;
        }
    }
}

static int send_market_one(conn *c, size_t pick, int64_t ts) {
    tp_sim *s = c->sim;
    tp_market_sym *ms = c->subs[pick];
    char obj[TP_SIM_MAX_SYMBOL * 6 + 200];
    if (tp_market_trade_max(ms) > sizeof obj || ensure_cap(c, sizeof obj + 400)) return -1;
    size_t ol = tp_market_trade_json(ms, ts, obj);
    int64_t id = (int64_t)ms->trades;
    size_t len = s->pers->trade_msg(obj, ol, id, (char *)c->buf + LWS_PRE);
    char copy[CTL_LEN];
    int fan = len < sizeof copy && listened_elsewhere(c, ms);
    if (fan) memcpy(copy, c->buf + LWS_PRE, len);
    c->rate_sent += 1;
    if (send_frame(c, len, 1)) return -1;
    if (fan && !c->malformed_last) fan_out(c, ms, copy, len, ts, id);
    if (!c->malformed_last) recent_note(s, ms, obj, ol, id);
    if (s->holes && !c->malformed_last) {
        if (c->sub_last_ms[pick] == INT64_MIN) holes_close(c, pick, ts, id);
        c->sub_last_ms[pick] = ts;
        c->sub_last_id[pick] = id;
    }
    return 0;
}

static int send_market(conn *c) {
    tp_sim *s = c->sim;
    int64_t now = tp_mono_us();
    uint64_t due = trades_due(c, now);
    uint64_t n = (uint64_t)(s->cfg.batch > 0 && !s->pers->trade_msg ? s->cfg.batch : 1);
    if (due < n) n = due;
    uint64_t left = trades_left(s);
    if (left < n) n = left;
    if (!n) {
        if (!left) s->finished = 1;
        return 0;
    }
    int64_t ts = tp_now_ms();
    /* market hours (market.h): only the symbols whose market is open trade;
     * with none open the connection gets its pings only */
    size_t nopen = 0;
    for (size_t i = 0; i < c->nsubs; i++) nopen += (size_t)tp_market_trading(s->market, c->subs[i], ts);
    if (!nopen) {
        if (due != UINT64_MAX) c->rate_sent += due; /* no backlog builds up while closed */
        return 0;
    }
    if (s->pers->trade_msg) { /* one trade a message, the same draw as a batch of one */
        size_t k = nopen == 1 ? 0 : (size_t)(tp_sim_rand(&c->rng) % nopen), j = 0;
        if (nopen < c->nsubs)
            for (;; j++)
                if (tp_market_trading(s->market, c->subs[j], ts) && !k--) break;
        if (send_market_one(c, nopen < c->nsubs ? j : k, ts)) return -1;
        if (trades_left(s) == 0) {
            s->finished = 1;
            return 0;
        }
        if (s->cfg.rate <= 0 || due > n) lws_callback_on_writable(c->wsi);
        return 0;
    }
    size_t maxsym = 0;
    for (size_t i = 0; i < c->nsubs; i++)
        if (c->subs[i]->json_len > maxsym) maxsym = c->subs[i]->json_len;
    if (ensure_cap(c, 32 + n * (maxsym + 161))) return -1;
    if (s->holes && c->cap_pick < n) {
        uint32_t *np = realloc(c->pick, n * sizeof *np);
        if (!np) return -1;
        c->pick = np;
        c->cap_pick = n;
    }
    char *f = (char *)c->buf + LWS_PRE, *o = f;
    memcpy(o, "{\"data\":[", 9);
    o += 9;
    for (uint64_t i = 0; i < n; i++) {
        if (i) *o++ = ',';
        /* the same draw as without market hours when every symbol is open */
        size_t k = nopen == 1 ? 0 : (size_t)(tp_sim_rand(&c->rng) % nopen), j = 0;
        if (nopen < c->nsubs)
            for (;; j++)
                if (tp_market_trading(s->market, c->subs[j], ts) && !k--) break;
        size_t pick = nopen < c->nsubs ? j : k;
        if (s->holes) c->pick[i] = (uint32_t)pick;
        o += tp_market_trade_json(c->subs[pick], ts, o);
    }
    memcpy(o, "],\"type\":\"trade\"}", 17);
    o += 17;
    c->rate_sent += n;
    if (send_frame(c, (size_t)(o - f), n)) return -1;
    if (s->holes && !c->malformed_last)
        for (uint64_t i = 0; i < n; i++) {
            size_t k = c->pick[i];
            if (c->sub_last_ms[k] == INT64_MIN) holes_close(c, k, ts, 0);
            c->sub_last_ms[k] = ts;
        }
    if (trades_left(s) == 0) {
        s->finished = 1;
        return 0;
    }
    if (s->cfg.rate <= 0 || due > n) lws_callback_on_writable(c->wsi);
    return 0;
}

/* The next frame of the recording for this connection: a trade frame is
 * sent whole when every trade in it is subscribed, rebuilt from the
 * subscribed trades when only some are, skipped when none is; pings and
 * errors are skipped (the simulator sends its own); anything else (unknown
 * types, frames that do not parse) is passed on as recorded. With
 * replay_raw every trade frame goes out as recorded. */
static int send_replay(conn *c) {
    tp_sim *s = c->sim;
    if (!c->rr || c->replay_done || s->finished) return 0;
    char err[512];
    for (int iter = 0; iter < 256; iter++) {
        if (!c->have_frame) {
            int64_t ms;
            int rc = tp_record_next(c->rr, &ms, &c->frame, &c->frame_len, err, sizeof err);
            if (rc == TP_ELIMIT) {
                tp_warn(MOD, "replay: %s; skipped", err);
                continue;
            }
            if (rc == TP_EEOF) {
                if (s->cfg.replay_loop && c->pass_sent > 0 && tp_record_rewind(c->rr) == 0) {
                    c->pass_sent = 0;
                    c->first_ms = -1;
                    c->replay_t0_us = tp_mono_us();
                    continue;
                }
                tp_info(MOD, "replay finished for connection %llu", (unsigned long long)c->id);
                c->replay_done = 1;
                return 0;
            }
            if (rc) {
                tp_error(MOD, "replay stopped: %s", err);
                c->replay_done = 1;
                return 0;
            }
            c->have_frame = 1;
            c->frame_ms = ms;
            if (c->first_ms < 0) c->first_ms = ms;
        }
        if (s->cfg.replay_speed > 0) {
            int64_t due = c->replay_t0_us +
                          (int64_t)((double)(c->frame_ms - c->first_ms) * 1000.0 / s->cfg.replay_speed);
            if (tp_mono_us() < due) return 0; /* the tick re-arms us */
        }
        tp_batch_reset(&c->batch);
        tp_msg_info info;
        int prc = tp_finnhub_parse(c->frame, c->frame_len, &c->batch, &info, err, sizeof err);
        size_t len = 0;
        uint64_t ntrades = 0;
        if (prc || info.type == TP_MSG_UNKNOWN) {
            if (ensure_cap(c, c->frame_len)) return -1;
            memcpy(c->buf + LWS_PRE, c->frame, c->frame_len);
            len = c->frame_len;
        } else if (info.type == TP_MSG_TRADE) {
            size_t keep = 0;
            for (size_t i = 0; i < c->batch.n; i++)
                keep += is_subscribed(c, c->batch.trades[i].symbol.ptr, c->batch.trades[i].symbol.len);
            if (s->cfg.replay_raw) keep = c->batch.n;
            if (keep == c->batch.n && keep) {
                if (ensure_cap(c, c->frame_len)) return -1;
                memcpy(c->buf + LWS_PRE, c->frame, c->frame_len);
                len = c->frame_len;
            } else if (keep) {
                if (ensure_cap(c, c->frame_len + 64)) return -1;
                char *o = (char *)c->buf + LWS_PRE, *f = o;
                memcpy(o, "{\"data\":[", 9);
                o += 9;
                size_t k = 0;
                for (size_t i = 0; i < c->batch.n; i++) {
                    const tp_trade *t = &c->batch.trades[i];
                    if (!is_subscribed(c, t->symbol.ptr, t->symbol.len)) continue;
                    if (k++) *o++ = ',';
                    size_t room = c->cap - LWS_PRE - (size_t)(o - f) - 20;
                    int w = tp_finnhub_trade_json(t, o, room);
                    if (w < 0) return -1;
                    o += w;
                }
                memcpy(o, "],\"type\":\"trade\"}", 17);
                o += 17;
                len = (size_t)(o - f);
            }
            ntrades = keep;
        }
        c->have_frame = 0;
        if (!len) continue; /* ping, error, or nothing subscribed */
        c->pass_sent++;
        if (send_frame(c, len, ntrades)) return -1;
        if (s->cfg.max_trades && trades_left(s) == 0) s->finished = 1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    lws_callback_on_writable(c->wsi);
    return 0;
}

static int on_writable(conn *c) {
    tp_sim *s = c->sim;
    if (c->close_now) {
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->close_reason,
                         strlen(c->close_reason));
        return -1;
    }
    if (c->ping_frame && !c->closing) { /* the venue's keep-alive: a WebSocket ping */
        c->ping_frame = 0;
        if (ensure_cap(c, 0) || lws_write(c->wsi, c->buf + LWS_PRE, 0, LWS_WRITE_PING) < 0) return -1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->repeat_len && !c->closing) {
        size_t len = c->repeat_len;
        c->repeat_len = 0;
        if (write_msg(c, len)) return -1;
        add(&s->st_repeats, 1);
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->nctl) {
        ctl_msg m = c->ctl[0];
        memmove(&c->ctl[0], &c->ctl[1], (size_t)(c->nctl - 1) * sizeof c->ctl[0]);
        c->nctl--;
        if (ensure_cap(c, m.len)) {
            free(m.text);
            return -1;
        }
        memcpy(c->buf + LWS_PRE, m.text, m.len);
        free(m.text);
        if (write_msg(c, m.len)) return -1;
        if (m.close_after) {
            c->closing = 1;
            c->close_now = 1;
            c->close_code = m.close_code;
            snprintf(c->close_reason, sizeof c->close_reason, "%s", m.reason);
        }
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (!c->authorized || c->closing || c->silent || !c->nsubs || s->finished) return 0;
    return s->replay_s ? send_replay(c) : send_market(c);
}

/* ------------------------------------------------------------ the tick */

/* c is lost to a fault or its lifetime: for a venue with trade ids, the
 * market goes on trading its symbols while nobody listens, so the next
 * connection's first trade id leaves a hole (1 to 4 trades) the holes log
 * names exactly. Once per connection, however it ends. */
static void lost_market(conn *c) {
    if (!c->sim->pers->trade_msg || c->market_lost) return;
    c->market_lost = 1;
    for (size_t i = 0; i < c->nsubs; i++)
        if (!listened_elsewhere(c, c->subs[i])) c->subs[i]->trades += 1 + tp_sim_rand(&c->rng) % 4;
}

static void on_tick(lws_sorted_usec_list_t *sul) {
    tp_sim *s = lws_container_of(sul, tp_sim, tick);
    int64_t now = tp_mono_us();
    for (conn *c = s->conns; c; c = c->next) {
        if (!c->authorized || c->closing) continue;
        if (s->cfg.drop_every_s > 0 && now >= c->drop_at_us) {
            tp_info(MOD, "fault injection: dropping connection %llu", (unsigned long long)c->id);
            add(&s->st_drops, 1);
            lost_market(c);
            holes_orphan(c, "reconnect");
            c->closing = 1;
            c->close_now = 1;
            c->close_code = LWS_CLOSE_STATUS_GOINGAWAY;
            snprintf(c->close_reason, sizeof c->close_reason, "simulated connection drop");
            lws_callback_on_writable(c->wsi);
            continue;
        }
        if (s->lifetime_s > 0 && now >= c->end_of_life_us) { /* the venue's connection lifetime */
            tp_info(MOD, "connection %llu reached its lifetime of %.0f s; closing it",
                    (unsigned long long)c->id, s->lifetime_s);
            lost_market(c);
            holes_orphan(c, "lifetime");
            c->closing = 1;
            c->close_now = 1;
            c->close_code = LWS_CLOSE_STATUS_GOINGAWAY;
            snprintf(c->close_reason, sizeof c->close_reason, "connection lifetime reached");
            lws_callback_on_writable(c->wsi);
            continue;
        }
        if (s->cfg.silent_after_s > 0 && !c->silent && now >= c->silent_at_us) {
            tp_info(MOD, "fault injection: connection %llu falls silent", (unsigned long long)c->id);
            c->silent = 1;
            holes_orphan(c, "silence");
        }
        if (s->pers->subscribe_deadline_s > 0 && !c->subscribed_once &&
            now >= c->open_us + (int64_t)(s->pers->subscribe_deadline_s * 1e6)) {
            tp_info(MOD, "connection %llu did not subscribe within %.0f s; closing it",
                    (unsigned long long)c->id, s->pers->subscribe_deadline_s);
            ctl_clear(c);
            c->closing = 1;
            if (s->pers->deadline_error) {
                const char *e = s->pers->deadline_error;
                ctl_push(c, e, strlen(e), 1, LWS_CLOSE_STATUS_POLICY_VIOLATION, "subscribe deadline");
            } else {
                c->close_now = 1;
                c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
                snprintf(c->close_reason, sizeof c->close_reason, "subscribe deadline");
                lws_callback_on_writable(c->wsi);
            }
            continue;
        }
        if (c->silent) continue;
        if (s->pers->heartbeat_msg && s->pers->heartbeat_s > 0 && c->nsubs && now >= c->next_heartbeat_us) {
            c->next_heartbeat_us = now + (int64_t)(s->pers->heartbeat_s * 1e6);
            char hb[TP_SIM_MAX_SYMBOL * 6 + 400];
            int64_t ms_now = tp_now_ms();
            for (size_t i = 0; i < (s->pers->heartbeat_per_symbol ? c->nsubs : 1); i++) {
                size_t n = s->pers->heartbeat_msg(
                    s->pers->heartbeat_per_symbol ? c->subs[i]->name : NULL,
                    s->pers->heartbeat_per_symbol ? (int64_t)c->subs[i]->trades : 0, ms_now, hb, sizeof hb);
                if (n) ctl_push(c, hb, n, 0, 0, NULL);
            }
            add(&s->st_pings, 1);
        }
        if (s->cfg.ping_interval_s > 0 && now >= c->next_ping_us && !s->pers->heartbeat_msg) {
            c->next_ping_us = now + (int64_t)(s->cfg.ping_interval_s * 1e6);
            if (s->pers->ws_ping) {
                c->ping_frame = 1;
                lws_callback_on_writable(c->wsi);
            } else {
                ctl_push(c, "{\"type\":\"ping\"}", 15, 0, 0, NULL);
            }
            add(&s->st_pings, 1);
        }
        if (s->cfg.error_every_s > 0 && now >= c->next_error_us) {
            c->next_error_us = now + (int64_t)(s->cfg.error_every_s * 1e6);
            ctl_error(c, MSG_INJECTED, 0, 0);
            add(&s->st_errors, 1);
        }
        if (c->nsubs && !s->finished) {
            if (s->replay_s && !c->rr && !c->replay_done && now >= c->replay_start_us) {
                char err[512];
                if (tp_record_reader_open(s->replay_s, 0, &c->rr, err, sizeof err)) {
                    tp_error(MOD, "cannot replay: %s", err);
                    c->replay_done = 1;
                } else {
                    c->replay_t0_us = now;
                    c->first_ms = -1;
                    lws_callback_on_writable(c->wsi);
                }
            } else if (s->replay_s) {
                if (c->have_frame || (c->rr && !c->replay_done)) lws_callback_on_writable(c->wsi);
            } else if (s->cfg.rate > 0 && trades_due(c, now) > 0) {
                lws_callback_on_writable(c->wsi);
            }
        }
    }
    if (s->finished && !s->nconns) s->done = 1;
    lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
}

/* --------------------------------------------------------------- HTTP */

static int ci_contains(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (!n) return 1;
    for (const char *p = hay; *p; p++)
        if (!strncasecmp(p, needle, n)) return 1;
    return 0;
}

/* Finnhub's answer: exact symbol matches first, then symbols starting with
 * the query, then any symbol or description containing it. */
static char *search_json(const char *q) {
    size_t n;
    const tp_market_info *k = tp_market_known(&n);
    json_t *res = json_array();
    size_t ql = strlen(q);
    for (int pass = 0; pass < 3 && ql; pass++) {
        for (size_t i = 0; i < n; i++) {
            int exact = !strcasecmp(k[i].symbol, q) || !strcasecmp(k[i].display, q);
            int prefix = !exact && (!strncasecmp(k[i].symbol, q, ql) || !strncasecmp(k[i].display, q, ql));
            int any = !exact && !prefix &&
                      (ci_contains(k[i].symbol, q) || ci_contains(k[i].display, q) ||
                       ci_contains(k[i].description, q));
            if ((pass == 0 && exact) || (pass == 1 && prefix) || (pass == 2 && any))
                json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s}", "description", k[i].description,
                                                     "displaySymbol", k[i].display, "symbol", k[i].symbol,
                                                     "type", k[i].type));
        }
    }
    json_t *root = json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(res), "result", res);
    char *out = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return out;
}

static int http_answer(struct lws *wsi, pss *p, unsigned int status, const char *ctype, const char *body) {
    size_t bl = strlen(body);
    p->body = malloc(LWS_PRE + bl + 1);
    if (!p->body) return -1;
    memcpy(p->body + LWS_PRE, body, bl);
    p->body_len = bl;
    unsigned char hb[LWS_PRE + 1024], *start = hb + LWS_PRE, *o = start, *end = hb + sizeof hb - 1;
    if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)bl, &o, end)) return -1;
    if (lws_finalize_write_http_header(wsi, start, &o, end)) return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int handle_http(tp_sim *s, struct lws *wsi, pss *p, const char *path) {
    char tbuf[300], qbuf[300];
    if (!strcmp(path, "/api/v1/search") || !strcmp(path, "/api/v1/search/")) {
        add(&s->st_searches, 1);
        const char *tok = lws_get_urlarg_by_name(wsi, "token=", tbuf, sizeof tbuf);
        int ok = tok && *tok && (!s->token_s || !strcmp(tok, s->token_s));
        if (!ok) return http_answer(wsi, p, 401, "application/json", "{\"error\":\"Invalid API key\"}");
        const char *q = lws_get_urlarg_by_name(wsi, "q=", qbuf, sizeof qbuf);
        char *body = search_json(q ? q : "");
        if (!body) return -1;
        int rc = http_answer(wsi, p, 200, "application/json", body);
        free(body);
        return rc;
    }
    if (!strcmp(path, "/"))
        return http_answer(wsi, p, 200, "text/plain",
                           "tickpipe simulate: a Finnhub-compatible feed.\n"
                           "WebSocket: connect to this address with ?token=TOKEN and send\n"
                           "  {\"type\":\"subscribe\",\"symbol\":\"AAPL\"}\n"
                           "REST: GET /api/v1/search?q=QUERY&token=TOKEN\n");
    return http_answer(wsi, p, 404, "application/json", "{\"error\":\"Not found\"}");
}

/* ----------------------------------------------------------- callback */

static void conn_established(tp_sim *s, struct lws *wsi, pss *p) {
    conn *c = calloc(1, sizeof *c);
    if (!c) return;
    p->c = c;
    c->wsi = wsi;
    c->sim = s;
    c->id = s->next_conn_id++;
    c->rng = s->cfg.seed * 0x9e3779b97f4a7c15ull + c->id;
    tp_batch_init(&c->batch);
    int64_t now = tp_mono_us();
    c->open_us = now;
    c->next_ping_us = now + (int64_t)(s->cfg.ping_interval_s * 1e6);
    c->next_error_us = now + (int64_t)(s->cfg.error_every_s * 1e6);
    c->drop_at_us = now + (int64_t)(s->cfg.drop_every_s * 1e6);
    c->silent_at_us = now + (int64_t)(s->cfg.silent_after_s * 1e6);
    c->end_of_life_us = now + (int64_t)(s->lifetime_s * 1e6);
    c->next = s->conns;
    s->conns = c;
    s->nconns++;
    add(&s->st_connections, 1);

    if (!s->pers->needs_token) { /* public data: everyone is welcome, all as one client */
        c->authorized = 1;
        if (s->pers->greeting) ctl_push(c, s->pers->greeting, strlen(s->pers->greeting), 0, 0, NULL);
        tp_debug(MOD, "connection %llu established", (unsigned long long)c->id);
        return;
    }
    char tbuf[sizeof c->token + 8];
    const char *tok = lws_get_urlarg_by_name(wsi, "token=", tbuf, sizeof tbuf);
    if (tok) snprintf(c->token, sizeof c->token, "%s", tok);
    if (!tok || !*tok || (s->token_s && strcmp(tok, s->token_s))) {
        tp_info(MOD, "connection %llu: %s token; rejected", (unsigned long long)c->id,
                tok && *tok ? "wrong" : "no");
        add(&s->st_rejected, 1);
        ctl_error(c, MSG_BAD_TOKEN, 1, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        return;
    }
    c->authorized = 1;
    /* one connection per token: the newer one wins, as on Finnhub */
    for (conn *o = s->conns; o; o = o->next) {
        if (o == c || !o->authorized || o->closing || strcmp(o->token, c->token)) continue;
        tp_info(MOD, "connection %llu uses the same token as connection %llu; closing the older one",
                (unsigned long long)c->id, (unsigned long long)o->id);
        add(&s->st_kicked, 1);
        holes_orphan(o, "key_in_use");
        ctl_clear(o);
        ctl_error(o, MSG_KEY_IN_USE, 1, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        o->closing = 1; /* no more trades; the queued message still goes */
    }
    tp_debug(MOD, "connection %llu established", (unsigned long long)c->id);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct lws_vhost *vh = lws_get_vhost(wsi);
    tp_sim *s = vh ? (tp_sim *)lws_get_vhost_user(vh) : NULL;
    pss *p = user;
    if (!s) return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (handle_http(s, wsi, p, in ? (const char *)in : "/")) return -1;
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!p || !p->body) break;
        int n = lws_write(wsi, p->body + LWS_PRE, p->body_len, LWS_WRITE_HTTP_FINAL);
        free(p->body);
        p->body = NULL;
        if (n < (int)p->body_len) return -1;
        if (lws_http_transaction_completed(wsi)) return -1;
        return 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
        if (p && p->body) {
            free(p->body);
            p->body = NULL;
        }
        break;
    case LWS_CALLBACK_ESTABLISHED: conn_established(s, wsi, p); return 0;
    case LWS_CALLBACK_RECEIVE: {
        conn *c = p ? p->c : NULL;
        if (!c) return -1;
        if (c->rx_len + len > sizeof c->rx - 1)
            c->rx_over = 1;
        else {
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
        }
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            if (c->rx_over)
                ctl_error(c, "Message too long", 0, 0);
            else if (c->authorized && !c->closing)
                handle_client_message(c, c->rx, c->rx_len);
            c->rx_len = 0;
            c->rx_over = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        conn *c = p ? p->c : NULL;
        if (!c) return -1;
        return on_writable(c);
    }
    case LWS_CALLBACK_CLOSED: {
        conn *c = p ? p->c : NULL;
        if (!c) break;
        tp_debug(MOD, "connection %llu closed", (unsigned long long)c->id);
        lost_market(c);
        holes_orphan(c, "reconnect");
        unlink_conn(s, c);
        conn_free(c);
        p->c = NULL;
        if (s->finished && !s->nconns) s->done = 1;
        return 0;
    }
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ------------------------------------------------------- personalities */

/* generated from cmake/feeds.cmake (sim_personalities.c in the build tree) */
extern const tp_sim_personality *const tp_sim_k_personalities[];
extern const size_t tp_sim_k_npersonalities;
extern const char tp_sim_k_personality_names[];

const tp_sim_personality *tp_sim_personality_find(const char *name) {
    static const tp_sim_personality plain_finnhub = {.name = "finnhub", .needs_token = 1};
    if (!name) return tp_sim_k_npersonalities ? tp_sim_k_personalities[0] : &plain_finnhub;
    for (size_t i = 0; i < tp_sim_k_npersonalities; i++)
        if (!strcmp(tp_sim_k_personalities[i]->name, name)) return tp_sim_k_personalities[i];
    return NULL;
}

const char *tp_sim_personality_names(void) {
    return tp_sim_k_personality_names;
}

/* ------------------------------------------------------- start, stop */

static void lws_log_emit(int level, const char *line) {
    (void)level;
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    tp_debug("lws", "%.*s", (int)n, line);
}

static char *dup_or_null(const char *v) {
    return v ? strdup(v) : NULL;
}

static void sim_free(tp_sim *s) {
    if (!s) return;
    if (s->ctx) lws_context_destroy(s->ctx);
    while (s->conns) { /* normally freed by LWS_CALLBACK_CLOSED during destroy */
        conn *c = s->conns;
        s->conns = c->next;
        conn_free(c);
    }
    tp_market_free(s->market);
    if (s->holes) fclose(s->holes);
    for (size_t i = 0; i < s->norphans; i++) free(s->orphans[i].token);
    free(s->orphans);
    free(s->listen_s);
    free(s->token_s);
    free(s->replay_s);
    free(s->cert_s);
    free(s->key_s);
    free(s);
}

/* "host:port", "[v6]:port", ":port" or "port". */
static int parse_listen(tp_sim *s, const char *l, char *err, size_t errlen) {
    tp_listen_addr la; /* core/listen.h: the one listen-address parser; names are resolved here */
    int lrc = tp_listen_parse(l, "--listen", "127.0.0.1:8765", &la, err, errlen);
    if (lrc) return lrc;
    s->want_port = la.port;
    if (!la.host[0]) {
        s->host[0] = '\0';
        return 0;
    }
    const char *host = la.host;
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc || !ai)
        return tp_seterr(err, errlen, TP_EINVAL, "--listen: cannot resolve '%s': %s", host, gai_strerror(rc));
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, s->host, sizeof s->host, NULL, 0, NI_NUMERICHOST)) {
        freeaddrinfo(ai);
        return tp_seterr(err, errlen, TP_EINVAL, "--listen: cannot use '%s'", host);
    }
    freeaddrinfo(ai);
    if (!strcmp(s->host, "0.0.0.0") || !strcmp(s->host, "::")) s->host[0] = '\0';
    return 0;
}

/* Bind the address once ourselves: lws only logs why a bind failed. */
static int check_bindable(tp_sim *s, char *err, size_t errlen) {
    if (!s->want_port) return 0;
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", s->want_port);
    if (getaddrinfo(s->host[0] ? s->host : NULL, port, &hints, &ai) || !ai) return 0;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    int rc = 0;
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
            rc = tp_seterr(err, errlen, TP_EIO, "cannot listen on %s: %s", s->cfg.listen, strerror(errno));
        close(fd);
    }
    freeaddrinfo(ai);
    return rc;
}

static int sim_create(const tp_sim_config *cfg, tp_sim **out, char *err, size_t errlen) {
    *out = NULL;
    if (cfg->batch < 1) return tp_seterr(err, errlen, TP_EINVAL, "the batch size must be at least 1");
    if (cfg->rate < 0) return tp_seterr(err, errlen, TP_EINVAL, "the rate must not be negative");
    if (cfg->malformed_rate < 0 || cfg->malformed_rate > 1)
        return tp_seterr(err, errlen, TP_EINVAL, "the malformed rate must lie between 0 and 1");
    if (cfg->repeat_rate < 0 || cfg->repeat_rate > 1)
        return tp_seterr(err, errlen, TP_EINVAL, "the repeat rate must lie between 0 and 1");
    if ((cfg->tls_cert && *cfg->tls_cert) != (cfg->tls_key && *cfg->tls_key))
        return tp_seterr(err, errlen, TP_EINVAL,
                         "TLS needs both a certificate (--tls-cert) and a key (--tls-key)");
    const tp_sim_personality *pers = tp_sim_personality_find(cfg->feed);
    if (!pers)
        return tp_seterr(err, errlen, TP_EINVAL, "--feed '%s' is not one of %s", cfg->feed,
                         tp_sim_personality_names());
    if (pers->trade_msg && cfg->replay_path && *cfg->replay_path)
        return tp_seterr(err, errlen, TP_EINVAL, "--replay serves Finnhub recordings: not with --feed %s",
                         pers->name);
    tp_sim *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->pers = pers;
    s->lifetime_s = cfg->lifetime_s >= 0 ? cfg->lifetime_s : pers->lifetime_s;
    s->listen_s = strdup(cfg->listen ? cfg->listen : "127.0.0.1:8765");
    s->token_s = cfg->token && *cfg->token ? strdup(cfg->token) : NULL;
    s->replay_s = cfg->replay_path && *cfg->replay_path ? strdup(cfg->replay_path) : NULL;
    s->cert_s = dup_or_null(cfg->tls_cert && *cfg->tls_cert ? cfg->tls_cert : NULL);
    s->key_s = dup_or_null(cfg->tls_key && *cfg->tls_key ? cfg->tls_key : NULL);
    s->cfg.listen = s->listen_s;
    s->cfg.token = s->token_s;
    s->cfg.replay_path = s->replay_s;
    s->cfg.tls_cert = s->cert_s;
    s->cfg.tls_key = s->key_s;
    s->fault_rng = cfg->seed ^ 0x5eed5eed5eed5eedull;
    s->market = tp_market_new(cfg->seed);
    if (s->market)
        tp_market_set_hours(s->market, cfg->market_hours,
                            cfg->market_time_ms ? cfg->market_time_ms - tp_now_ms() : 0);
    int rc;
    if (!s->listen_s || !s->market) {
        rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = parse_listen(s, s->listen_s, err, errlen))) goto fail;
    if (s->replay_s) { /* fail now, not at the first subscription */
        tp_record_reader *r;
        if ((rc = tp_record_reader_open(s->replay_s, 0, &r, err, errlen))) goto fail;
        tp_record_reader_close(r);
    }
    for (const char *f = s->cert_s; f; f = f == s->cert_s ? s->key_s : NULL)
        if (access(f, R_OK) != 0) {
            rc = tp_seterr(err, errlen, TP_EINVAL, "cannot read %s: %s", f, strerror(errno));
            goto fail;
        }
    if ((rc = check_bindable(s, err, errlen))) goto fail;
    if (cfg->holes_log && *cfg->holes_log) {
        if (s->replay_s) {
            rc = tp_seterr(err, errlen, TP_EINVAL,
                           "--holes-log works with the synthetic market only, not --replay");
            goto fail;
        }
        if (!(s->holes = fopen(cfg->holes_log, "a"))) {
            rc = tp_seterr(err, errlen, TP_EINVAL, "cannot open the holes log %s: %s", cfg->holes_log,
                           strerror(errno));
            goto fail;
        }
        setvbuf(s->holes, NULL, _IOLBF, 0);
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    s->protocols[0] =
        (struct lws_protocols){"tickpipe-sim", callback, sizeof(pss), MAX_CLIENT_MSG, 0, NULL, 0};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.gid = -1;
    info.uid = -1;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        rc = tp_seterr(err, errlen, TP_ENOMEM, "cannot create the WebSocket server context");
        goto fail;
    }
    memset(&info, 0, sizeof info);
    info.port = s->want_port;
    info.iface = s->host[0] ? s->host : NULL;
    info.protocols = s->protocols;
    info.user = s;
    info.vhost_name = "tickpipe-sim";
    info.alpn = "http/1.1";
    if (s->host[0] && !strchr(s->host, ':')) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (s->cert_s) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT; /* lws enables a vhost's TLS only with it */
        info.ssl_cert_filepath = s->cert_s;
        info.ssl_private_key_filepath = s->key_s;
    }
    s->vh = lws_create_vhost(s->ctx, &info);
    if (!s->vh) {
        rc = tp_seterr(err, errlen, TP_EIO, "cannot listen on %s%s", s->listen_s,
                       s->cert_s ? " (or the TLS certificate/key is not usable)" : "");
        goto fail;
    }
    s->port = lws_get_vhost_listen_port(s->vh);
    lws_sul_schedule(s->ctx, 0, &s->tick, on_tick, TICK_US);
    *out = s;
    return 0;
fail:
    sim_free(s);
    return rc;
}

static void ready(tp_sim *s) {
    tp_info(MOD, "listening on %s://%s:%d (%s; batch %d; seed %llu)", s->cert_s ? "wss" : "ws",
            s->host[0] ? s->host : "0.0.0.0", s->port, s->replay_s ? "replay" : "synthetic market",
            s->cfg.batch, (unsigned long long)s->cfg.seed);
    if (s->cfg.on_ready) s->cfg.on_ready(s->cfg.ready_ud, s->port);
}

static int stopping(tp_sim *s) {
    /* ext_stop is set by another thread (simulate's signal thread): read it atomically */
    return atomic_load(&s->stop) || (s->ext_stop && __atomic_load_n(s->ext_stop, __ATOMIC_ACQUIRE)) ||
           s->done;
}

static void serve_loop(tp_sim *s) {
    while (!stopping(s))
        if (lws_service(s->ctx, 0) < 0) break;
    lws_sul_cancel(&s->tick);
}

static void *thread_main(void *ud) {
    serve_loop(ud);
    return NULL;
}

int tp_sim_start(const tp_sim_config *cfg, tp_sim **out, char *err, size_t errlen) {
    tp_sim *s;
    int rc = sim_create(cfg, &s, err, errlen);
    if (rc) return rc;
    ready(s);
    if (pthread_create(&s->thread, NULL, thread_main, s)) {
        sim_free(s);
        return tp_seterr(err, errlen, TP_ENOMEM, "cannot start the simulator thread");
    }
    s->thread_started = 1;
    *out = s;
    return 0;
}

int tp_sim_port(const tp_sim *s) {
    return s ? s->port : -1;
}

void tp_sim_stop(tp_sim *s) {
    if (!s) return;
    atomic_store(&s->stop, 1);
    lws_cancel_service(s->ctx);
    if (s->thread_started) pthread_join(s->thread, NULL);
    sim_free(s);
}

void tp_sim_get_stats(const tp_sim *s, tp_sim_stats *o) {
    memset(o, 0, sizeof *o);
    if (!s) return;
    tp_sim *m = (tp_sim *)s;
    o->connections = atomic_load(&m->st_connections);
    o->rejected = atomic_load(&m->st_rejected);
    o->kicked = atomic_load(&m->st_kicked);
    o->trades = atomic_load(&m->st_trades);
    o->frames = atomic_load(&m->st_frames);
    o->pings = atomic_load(&m->st_pings);
    o->errors = atomic_load(&m->st_errors);
    o->malformed = atomic_load(&m->st_malformed);
    o->drops = atomic_load(&m->st_drops);
    o->searches = atomic_load(&m->st_searches);
    o->repeats = atomic_load(&m->st_repeats);
}

int tp_sim_serve(const tp_sim_config *cfg, volatile int *stop, char *err, size_t errlen) {
    tp_sim *s;
    int rc = sim_create(cfg, &s, err, errlen);
    if (rc) return rc;
    s->ext_stop = stop;
    ready(s);
    serve_loop(s);
    tp_sim_stats st;
    tp_sim_get_stats(s, &st);
    tp_info(MOD,
            "stopped: connections=%llu rejected=%llu kicked=%llu trades=%llu frames=%llu pings=%llu "
            "errors=%llu malformed=%llu drops=%llu searches=%llu repeats=%llu",
            (unsigned long long)st.connections, (unsigned long long)st.rejected,
            (unsigned long long)st.kicked, (unsigned long long)st.trades, (unsigned long long)st.frames,
            (unsigned long long)st.pings, (unsigned long long)st.errors, (unsigned long long)st.malformed,
            (unsigned long long)st.drops, (unsigned long long)st.searches, (unsigned long long)st.repeats);
    sim_free(s);
    return 0;
}
