/* test_ws_frame.c - the feed's WebSocket framing (feed/ws_frame.h) against
 * two oracles: the generator's own record of what it framed, and
 * libwebsockets' client, which reads the same byte stream from a loopback
 * server. Streams are random (seeded, so a failure repeats): text and
 * binary messages of 7-, 16- and 64-bit lengths split into continuation
 * frames (empty ones too), pings and pongs between the fragments, and a
 * close frame at the end, written to the socket in random small pieces.
 * The same stream then goes through the whole feed source (tp_source over a
 * real socket): the messages its frame hook sees, the pongs and the close
 * echo it sends back, and its masked subscription frames are checked by
 * the server. Plus the handshake and the protocol violations a client must
 * refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "feed/source.h"
#include "feed/ws_frame.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}

static uint64_t rnd_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_range(uint64_t *s, size_t lo, size_t hi) { /* [lo, hi] */
    return lo + (size_t)(rnd_next(s) % (hi - lo + 1));
}

/* What a client saw: every message (opcode byte then payload, as one
 * record in `msgs` with its length in `lens`), the pongs it got, the pings
 * it got, and the close payload. */
#define MAXREC 512
typedef struct seen {
    buf msgs;
    size_t lens[MAXREC];
    int ops[MAXREC];
    size_t nmsgs;
    buf pings, pongs; /* payloads, each prefixed with a length byte */
    buf close;
    int closed;
    buf cur; /* the message being reassembled */
} seen;

static void seen_msg(seen *s, int op, const void *p, size_t n) {
    assert_true(s->nmsgs < MAXREC);
    s->ops[s->nmsgs] = op;
    s->lens[s->nmsgs++] = n;
    put(&s->msgs, p, n);
}

static void seen_ctl(buf *b, const void *p, size_t n) {
    uint8_t l = (uint8_t)n;
    put(b, &l, 1);
    put(b, p, n);
}

static void seen_free(seen *s) {
    free(s->msgs.p);
    free(s->pings.p);
    free(s->pongs.p);
    free(s->close.p);
    free(s->cur.p);
    memset(s, 0, sizeof *s);
}

static void assert_same(const seen *a, const seen *b) {
    assert_int_equal(a->nmsgs, b->nmsgs);
    for (size_t i = 0; i < a->nmsgs; i++) {
        assert_int_equal(a->ops[i], b->ops[i]);
        assert_int_equal(a->lens[i], b->lens[i]);
    }
    assert_int_equal(a->msgs.n, b->msgs.n);
    assert_memory_equal(a->msgs.p, b->msgs.p, a->msgs.n);
    assert_int_equal(a->pongs.n, b->pongs.n);
    if (a->pongs.n) assert_memory_equal(a->pongs.p, b->pongs.p, a->pongs.n);
    assert_int_equal(a->closed, b->closed);
    assert_int_equal(a->close.n, b->close.n);
    if (a->close.n) assert_memory_equal(a->close.p, b->close.p, a->close.n);
}

/* -------------------------------------------------------- the streams */

static void frame(buf *b, int fin, int op, const uint8_t *p, size_t n, int long_len) {
    uint8_t h[10];
    size_t hl;
    h[0] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (long_len || n > 65535) { /* a 64-bit length, also for a short payload (allowed) */
        h[1] = 127;
        for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    } else if (n > 125) {
        h[1] = 126;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        hl = 4;
    } else {
        h[1] = (uint8_t)n;
        hl = 2;
    }
    put(b, h, hl);
    put(b, p, n);
}

static void random_payload(uint64_t *r, int text, uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t v = rnd_next(r);
        p[i] = text ? (uint8_t)(' ' + v % 95) : (uint8_t)v;
    }
}

static void control(uint64_t *r, buf *stream, seen *truth) {
    uint8_t p[125];
    size_t n = rnd_range(r, 0, 125);
    random_payload(r, 0, p, n);
    if (rnd_next(r) % 2) {
        frame(stream, 1, TP_WS_PING, p, n, 0);
        seen_ctl(&truth->pings, p, n);
    } else {
        frame(stream, 1, TP_WS_PONG, p, n, 0);
        seen_ctl(&truth->pongs, p, n);
    }
}

/* nmsgs messages framed into stream, recorded in truth. */
static void make_stream(uint64_t seed, size_t nmsgs, buf *stream, seen *truth) {
    uint64_t r = seed;
    uint8_t *p = malloc(300000);
    assert_non_null(p);
    for (size_t m = 0; m < nmsgs; m++) {
        int text = rnd_next(&r) % 3 != 0;
        size_t bucket = rnd_next(&r) % 10, n;
        if (bucket < 5)
            n = rnd_range(&r, 1, 125);
        else if (bucket < 8)
            n = rnd_range(&r, 126, 65535);
        else
            n = rnd_range(&r, 65536, 250000);
        random_payload(&r, text, p, n);
        seen_msg(truth, text ? TP_WS_TEXT : TP_WS_BINARY, p, n);
        size_t nfrag = rnd_range(&r, 1, 5), off = 0;
        for (size_t f = 0; f < nfrag; f++) {
            int fin = f + 1 == nfrag;
            size_t len = fin ? n - off : rnd_range(&r, 0, n - off);
            frame(stream, fin, f == 0 ? (text ? TP_WS_TEXT : TP_WS_BINARY) : TP_WS_CONT, p + off, len,
                  rnd_next(&r) % 8 == 0);
            off += len;
            if (rnd_next(&r) % 3 == 0) control(&r, stream, truth);
        }
    }
    static const uint8_t close_payload[] = {0x03, 0xE8, 'b', 'y', 'e'};
    frame(stream, 1, TP_WS_CLOSE, close_payload, sizeof close_payload, 0);
    truth->closed = 1;
    put(&truth->close, close_payload, sizeof close_payload);
    free(p);
}

/* ------------------------------------------------ through the decoder */

static int dec_data(void *ud, int op, const uint8_t *p, size_t n, int last) {
    seen *s = ud;
    put(&s->cur, p, n);
    if (last) {
        seen_msg(s, op, s->cur.p, s->cur.n);
        s->cur.n = 0;
    }
    return 0;
}

static int dec_control(void *ud, int op, const uint8_t *p, size_t n) {
    seen *s = ud;
    if (op == TP_WS_PING) seen_ctl(&s->pings, p, n);
    if (op == TP_WS_PONG) seen_ctl(&s->pongs, p, n);
    if (op == TP_WS_CLOSE) {
        s->closed = 1;
        put(&s->close, p, n);
        return 1;
    }
    return 0;
}

/* The stream in pieces of at most maxpiece bytes (1 = byte by byte). */
static void decode_pieces(const buf *stream, size_t maxpiece, uint64_t seed, seen *out) {
    tp_ws_decoder d;
    tp_ws_decoder_init(&d);
    uint64_t r = seed;
    size_t off = 0;
    int rc = 0;
    char err[256] = "";
    while (off < stream->n && rc == 0) {
        size_t n = rnd_range(&r, 1, maxpiece);
        if (n > stream->n - off) n = stream->n - off;
        rc = tp_ws_decode(&d, stream->p + off, n, dec_data, dec_control, out, err, sizeof err);
        off += n;
    }
    if (rc < 0) fail_msg("decoder: %s", err);
    assert_int_equal(rc, 1); /* stopped at the close, which is the last frame */
    assert_int_equal(off, stream->n);
}

static void test_decoder_against_generator(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        buf stream = {0};
        seen truth = {0};
        make_stream(seed * 7919, 30, &stream, &truth);
        size_t pieces[] = {1, 7, 300, 70000, stream.n};
        for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
            if (pieces[i] == 1 && seed > 2) continue; /* byte by byte is slow under ASan: two streams */
            seen got = {0};
            decode_pieces(&stream, pieces[i], seed, &got);
            assert_same(&truth, &got);
            assert_int_equal(truth.pings.n, got.pings.n);
            assert_memory_equal(truth.pings.p, got.pings.p, truth.pings.n);
            seen_free(&got);
        }
        seen_free(&truth);
        free(stream.p);
    }
}

/* ------------------------------------------------- a loopback server */

typedef struct server {
    int lfd, cfd, port;
    const buf *stream;
    uint64_t seed;
    pthread_t th;
    /* what the client sent after the handshake */
    seen from_client; /* pongs in .pongs, close in .close, text frames in msgs */
    char request[4096];
    int ok;
    int wait_texts;    /* text frames (subscriptions) to await before the stream */
    _Atomic int texts; /* text frames received so far */
} server;

static int read_full(int fd, uint8_t *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

/* The client's frames until its close or EOF. */
static void *server_reader(void *arg) {
    server *sv = arg;
    int fd = sv->cfd;
    for (;;) {
        uint8_t h[14];
        if (read_full(fd, h, 2)) break;
        if (!(h[1] & 0x80)) { /* client frames must be masked */
            sv->ok = 0;
            break;
        }
        uint64_t n = h[1] & 0x7F;
        if (n == 126) {
            if (read_full(fd, h + 2, 2)) break;
            n = ((uint64_t)h[2] << 8) | h[3];
        } else if (n == 127) {
            if (read_full(fd, h + 2, 8)) break;
            n = 0;
            for (int i = 0; i < 8; i++) n = (n << 8) | h[2 + i];
        }
        uint8_t mask[4];
        if (n > 1 << 20 || read_full(fd, mask, 4)) break;
        uint8_t *p = malloc(n + 1);
        if (read_full(fd, p, n)) {
            free(p);
            break;
        }
        for (uint64_t i = 0; i < n; i++) p[i] ^= mask[i & 3];
        int op = h[0] & 0x0F;
        if (op == TP_WS_PONG) seen_ctl(&sv->from_client.pongs, p, n);
        if (op == TP_WS_TEXT) {
            seen_msg(&sv->from_client, op, p, n);
            atomic_fetch_add(&sv->texts, 1);
        }
        if (op == TP_WS_CLOSE) {
            sv->from_client.closed = 1;
            put(&sv->from_client.close, p, n);
        }
        free(p);
        if (op == TP_WS_CLOSE) break;
    }
    return NULL;
}

static void accept_key(const char *key, char out[32]) {
    char cat[128];
    snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, strlen(cat), sha);
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < 20; i += 3) {
        uint32_t v = (uint32_t)sha[i] << 16 | (i + 1 < 20 ? (uint32_t)sha[i + 1] << 8 : 0) |
                     (i + 2 < 20 ? sha[i + 2] : 0);
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < 20 ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < 20 ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* One connection: the handshake, then the stream in small random writes
 * (the first piece in the same write as the 101 answer), then wait for
 * the client's close echo. */
static void *server_main(void *arg) {
    server *sv = arg;
    int fd = accept(sv->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t n = 0;
    while (n < sizeof sv->request - 1 && !strstr(sv->request, "\r\n\r\n")) {
        ssize_t r = recv(fd, sv->request + n, sizeof sv->request - 1 - n, 0);
        if (r <= 0) {
            close(fd);
            return NULL;
        }
        n += (size_t)r;
        sv->request[n] = '\0';
    }
    const char *k = strcasestr(sv->request, "Sec-WebSocket-Key:");
    char key[64] = "", acc[32];
    if (k) sscanf(k + 18, " %63[^\r\n ]", key);
    accept_key(key, acc);
    buf out = {0};
    char resp[256];
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n\r\n",
                      acc);
    put(&out, resp, (size_t)rl);
    pthread_t rd;
    sv->cfd = fd;
    pthread_create(&rd, NULL, server_reader, sv);
    uint64_t r = sv->seed;
    size_t off = 0, first = sv->wait_texts ? 0 : rnd_range(&r, 1, 64);
    if (first > sv->stream->n) first = sv->stream->n;
    put(&out, sv->stream->p, first);
    off = first;
    sv->ok = 1;
    if (send(fd, out.p, out.n, MSG_NOSIGNAL) != (ssize_t)out.n) sv->ok = 0;
    /* a feed sends trades once subscribed: wait for the subscriptions */
    for (int i = 0; i < 60000 && atomic_load(&sv->texts) < sv->wait_texts; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    if (atomic_load(&sv->texts) < sv->wait_texts) sv->ok = 0;
    while (sv->ok && off < sv->stream->n) {
        size_t m = rnd_range(&r, 1, rnd_next(&r) % 4 ? 200 : 20000);
        if (m > sv->stream->n - off) m = sv->stream->n - off;
        ssize_t w = send(fd, sv->stream->p + off, m, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    pthread_join(rd, NULL);
    shutdown(fd, SHUT_RDWR);
    close(fd);
    free(out.p);
    return NULL;
}

static void server_start(server *sv, const buf *stream, uint64_t seed, int wait_texts) {
    memset(sv, 0, sizeof *sv);
    sv->wait_texts = wait_texts;
    sv->stream = stream;
    sv->seed = seed;
    sv->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sv->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(sv->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(sv->lfd, 4), 0);
    socklen_t al = sizeof a;
    getsockname(sv->lfd, (struct sockaddr *)&a, &al);
    sv->port = ntohs(a.sin_port);
    pthread_create(&sv->th, NULL, server_main, sv);
}

static void server_join(server *sv) {
    pthread_join(sv->th, NULL);
    close(sv->lfd);
}

/* Each pong the client sent answers a ping of the stream, in order (a
 * client may answer only the latest of several pings, RFC 6455 5.5.3). */
static void assert_pongs_answer_pings(const buf *pongs, const buf *pings) {
    size_t i = 0, j = 0;
    while (i < pongs->n) {
        size_t pl = pongs->p[i];
        int found = 0;
        while (j < pings->n) {
            size_t ql = pings->p[j];
            int same = ql == pl && !memcmp(pings->p + j + 1, pongs->p + i + 1, pl);
            j += 1 + ql;
            if (same) {
                found = 1;
                break;
            }
        }
        if (!found) fail_msg("a pong answers no ping of the stream");
        i += 1 + pl;
    }
}

/* --------------------------------------------- libwebsockets as oracle */

typedef struct lws_run {
    seen got;
    int done;
} lws_run;

static int oracle_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    lws_run *o = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_CLIENT_RECEIVE:
        put(&o->got.cur, in, len);
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            seen_msg(&o->got, lws_frame_is_binary(wsi) ? TP_WS_BINARY : TP_WS_TEXT, o->got.cur.p,
                     o->got.cur.n);
            o->got.cur.n = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG: seen_ctl(&o->got.pongs, in, len); break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        o->got.closed = 1;
        put(&o->got.close, in, len);
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED: o->done = 1; break;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols oracle_protocols[] = {
    {"oracle", oracle_cb, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void run_lws(int port, lws_run *o) {
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = oracle_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = o;
    struct lws_context *ctx = lws_create_context(&info);
    assert_non_null(ctx);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = "127.0.0.1";
    ci.port = port;
    ci.path = "/";
    ci.host = "127.0.0.1";
    ci.origin = "127.0.0.1";
    ci.local_protocol_name = "oracle";
    assert_non_null(lws_client_connect_via_info(&ci));
    time_t t0 = time(NULL);
    while (!o->done && time(NULL) - t0 < 120) lws_service(ctx, 0);
    lws_context_destroy(ctx);
    assert_true(o->done);
}

/* ------------------------------------------- the feed source as client */

typedef struct src_run {
    seen got;
} src_run;

static void on_src_frame(void *ud, const char *frame_bytes, size_t len, int64_t recv_ms) {
    (void)recv_ms;
    src_run *r = ud;
    seen_msg(&r->got, 0, frame_bytes, len);
}

static int on_src_batch(void *ud, tp_batch *b) {
    (void)ud;
    (void)b;
    return 0;
}

static void run_source(int port, src_run *r) {
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
    const char *syms[] = {"AAPL", "BINANCE:BTCUSDT"};
    tp_source_config c;
    tp_source_config_default(&c);
    c.url = url;
    c.token = "t";
    c.symbols = syms;
    c.nsymbols = 2;
    c.max_reconnects = 0;
    c.stale_timeout_ms = 0;
    tp_source *s;
    char err[512];
    assert_int_equal(tp_source_new(&c, on_src_batch, r, &s, err, sizeof err), 0);
    tp_source_set_frame_hook(s, on_src_frame, r);
    int rc = tp_source_run(s, err, sizeof err);
    /* the server's close, then no reconnect allowed */
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err, "gave up after 0 reconnects"));
    assert_non_null(strstr(err, "code 1000"));
    tp_source_free(s);
}

static void test_against_libwebsockets(void **state) {
    (void)state;
    for (uint64_t seed = 11; seed <= 13; seed++) {
        buf stream = {0};
        seen truth = {0};
        make_stream(seed * 104729, 25, &stream, &truth);

        seen dec = {0};
        decode_pieces(&stream, 1500, seed, &dec);

        server sv;
        server_start(&sv, &stream, seed, 0);
        lws_run o;
        memset(&o, 0, sizeof o);
        run_lws(sv.port, &o);
        server_join(&sv);
        assert_true(sv.ok);
        /* libwebsockets and the decoder agree, and both agree with the truth */
        assert_same(&o.got, &dec);
        assert_same(&truth, &dec);
        assert_pongs_answer_pings(&sv.from_client.pongs, &truth.pings);
        assert_true(sv.from_client.closed);
        seen_free(&o.got);
        seen_free(&sv.from_client);

        /* the whole feed source over the same stream */
        server_start(&sv, &stream, seed + 100, 2);
        src_run r;
        memset(&r, 0, sizeof r);
        run_source(sv.port, &r);
        server_join(&sv);
        assert_true(sv.ok);
        assert_int_equal(r.got.nmsgs, truth.nmsgs);
        assert_int_equal(r.got.msgs.n, truth.msgs.n);
        assert_memory_equal(r.got.msgs.p, truth.msgs.p, truth.msgs.n);
        for (size_t i = 0; i < truth.nmsgs; i++) assert_int_equal(r.got.lens[i], truth.lens[i]);
        assert_pongs_answer_pings(&sv.from_client.pongs, &truth.pings);
        if (truth.pings.n) assert_true(sv.from_client.pongs.n > 0);
        /* its close echo carries the server's code; its subscriptions were masked text frames */
        assert_true(sv.from_client.closed);
        assert_int_equal(sv.from_client.close.n, 2);
        assert_memory_equal(sv.from_client.close.p, "\x03\xE8", 2);
        assert_int_equal(sv.from_client.nmsgs, 2);
        /* the path as libwebsockets sent it (the feed's "/" + the URL's "/") */
        if (!strstr(sv.request, "GET //?token=t HTTP/1.1\r\n")) fail_msg("request: %s", sv.request);
        assert_non_null(strstr(sv.request, "Sec-WebSocket-Version: 13\r\n"));
        const char *sub = (const char *)sv.from_client.msgs.p;
        assert_true(sv.from_client.lens[0] > 0 && memmem(sub, sv.from_client.lens[0], "AAPL", 4));
        seen_free(&r.got);
        seen_free(&sv.from_client);
        seen_free(&dec);
        seen_free(&truth);
        free(stream.p);
    }
}

/* ------------------------------------------------ violations, handshake */

static int expect_violation(const uint8_t *p, size_t n, const char *words) {
    tp_ws_decoder d;
    tp_ws_decoder_init(&d);
    seen s = {0};
    char err[256] = "";
    int rc = tp_ws_decode(&d, p, n, dec_data, dec_control, &s, err, sizeof err);
    seen_free(&s);
    if (rc != TP_EPARSE || !strstr(err, words)) fail_msg("rc %d, err '%s', expected '%s'", rc, err, words);
    return 0;
}

static void test_violations(void **state) {
    (void)state;
    expect_violation((const uint8_t *)"\x81\x81\0\0\0\0x", 7, "masked");
    expect_violation((const uint8_t *)"\xC1\x01x", 3, "reserved bits");
    expect_violation((const uint8_t *)"\x83\x01x", 3, "unknown data opcode");
    expect_violation((const uint8_t *)"\x8B\x00", 2, "unknown control opcode");
    expect_violation((const uint8_t *)"\x09\x00", 2, "fragmented WebSocket control");
    expect_violation((const uint8_t *)"\x89\x7E\x00\x7E", 4, "control frame of 126 bytes");
    expect_violation((const uint8_t *)"\x80\x01x", 3, "continuation frame outside");
    expect_violation((const uint8_t *)"\x01\x01x\x81\x01y", 6, "new WebSocket message inside");
    expect_violation((const uint8_t *)"\x81\x7F\x80\0\0\0\0\0\0\0", 10, "top bit");
}

static void test_handshake(void **state) {
    (void)state;
    /* RFC 6455 1.3's example key and accept */
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    char req[512];
    assert_true(tp_ws_request("ws.example.com", 443, 1, "/?token=x", key, req, sizeof req) > 0);
    assert_int_equal(strncmp(req, "GET /?token=x HTTP/1.1\r\n", 24), 0);
    assert_non_null(strstr(req, "\r\nHost: ws.example.com\r\n"));
    assert_non_null(strstr(req, "\r\nOrigin: https://ws.example.com\r\n"));
    assert_non_null(strstr(req, "\r\n\r\n"));
    assert_int_equal(strstr(req, "\r\n\r\n")[4], '\0');
    assert_true(tp_ws_request("127.0.0.1", 8765, 0, "/", key, req, sizeof req) > 0);
    assert_non_null(strstr(req, "Host: 127.0.0.1:8765\r\n"));
    assert_non_null(strstr(req, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    assert_int_equal(tp_ws_request("h", 80, 0, "/", key, req, 20), -1);

    const char *good = "HTTP/1.1 101 Switching Protocols\r\nupgrade:  WebSocket \r\nConnection: keep-alive, "
                       "Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
    size_t used = 0;
    int status = 0;
    char err[256];
    size_t gl = strlen(good);
    for (size_t cut = 0; cut < gl - 4; cut++) /* any part of the header: read more */
        assert_int_equal(tp_ws_response(good, cut, key, &used, &status, err, sizeof err), 1);
    assert_int_equal(tp_ws_response(good, gl, key, &used, &status, err, sizeof err), 0);
    assert_int_equal(used, gl - 4);
    assert_int_equal(status, 101);

    const char *bad_accept = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
    assert_int_equal(tp_ws_response(bad_accept, strlen(bad_accept), key, &used, &status, err, sizeof err),
                     TP_EPARSE);
    assert_non_null(strstr(err, "Sec-WebSocket-Accept"));
    const char *refused = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(tp_ws_response(refused, strlen(refused), key, &used, &status, err, sizeof err),
                     TP_EREFUSED);
    assert_int_equal(status, 401);
    const char *not_http = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
    assert_int_equal(tp_ws_response(not_http, strlen(not_http), key, &used, &status, err, sizeof err),
                     TP_EPARSE);
    const char *ext = "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: "
                      "permessage-deflate\r\n\r\n";
    assert_int_equal(tp_ws_response(ext, strlen(ext), key, &used, &status, err, sizeof err), TP_EPARSE);
    char *huge = malloc(20000);
    memset(huge, 'a', 20000);
    assert_int_equal(tp_ws_response(huge, 20000, key, &used, &status, err, sizeof err), TP_EPARSE);
    free(huge);

    /* a client frame: masked, lengths in all three sizes */
    uint8_t payload[70000], out[70020];
    memset(payload, 'z', sizeof payload);
    const uint8_t mask[4] = {1, 2, 3, 4};
    size_t sizes[] = {0, 125, 126, 65535, 65536, 70000};
    size_t hdrs[] = {6, 6, 8, 8, 14, 14};
    for (size_t i = 0; i < 6; i++) {
        long n = tp_ws_encode(TP_WS_TEXT, payload, sizes[i], mask, out, sizeof out);
        assert_int_equal(n, (long)(sizes[i] + hdrs[i]));
        assert_int_equal(out[0], 0x81);
        assert_true(out[1] & 0x80);
        for (size_t j = 0; j < sizes[i]; j++) assert_int_equal(out[hdrs[i] + j] ^ mask[j & 3], 'z');
    }
    assert_int_equal(tp_ws_encode(TP_WS_TEXT, payload, 100, mask, out, 105), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoder_against_generator),
        cmocka_unit_test(test_violations),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_against_libwebsockets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
