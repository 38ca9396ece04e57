/* test_source.c - the feed source's frame handling without a socket
 * (tp_source_feed: reassembly, size limit, parsing, counting, batches),
 * reconnect backoff, error classification, configuration errors, and the
 * network loop's give-up and stop paths against local sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/metrics.h"
#include "feed/source.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *read_fixture(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/feed/%s", TP_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* What on_batch saw: a deep copy of every trade plus the batch metadata. */
typedef struct seen {
    tp_batch trades;
    int calls;
    int64_t offsets[64];
    int64_t recv[64];
    char topic[64][128];
    int32_t partition[64];
    int stop_after; /* return 1 on this call number (1-based), 0 = never */
} seen;

static int on_batch(void *ud, tp_batch *b) {
    seen *s = ud;
    if (s->calls < 64) {
        s->offsets[s->calls] = b->origin.offset;
        s->recv[s->calls] = b->recv_ms;
        snprintf(s->topic[s->calls], sizeof s->topic[0], "%s", b->origin.topic);
        s->partition[s->calls] = b->origin.partition;
    }
    for (size_t i = 0; i < b->n; i++) {
        assert_int_equal(b->trades[i].recv_ms, b->recv_ms);
        assert_non_null(tp_batch_copy_trade(&s->trades, &b->trades[i]));
    }
    s->calls++;
    return s->stop_after && s->calls == s->stop_after;
}

static const char *const k_syms[] = {"AAPL", "BINANCE:BTCUSDT"};

static tp_source *new_source(seen *sn, size_t max_frame) {
    tp_source_config cfg;
    tp_source_config_default(&cfg);
    cfg.url = "ws://127.0.0.1:9/";
    cfg.token = "secret";
    cfg.symbols = k_syms;
    cfg.nsymbols = 2;
    if (max_frame) cfg.max_frame_bytes = max_frame;
    memset(sn, 0, sizeof *sn);
    tp_batch_init(&sn->trades);
    tp_source *s = NULL;
    char err[256];
    assert_int_equal(tp_source_new(&cfg, on_batch, sn, &s, err, sizeof err), 0);
    return s;
}

static void free_source(tp_source *s, seen *sn) {
    tp_source_free(s);
    tp_batch_free(&sn->trades);
}

static void feed_fixture(tp_source *s, const char *name, int64_t recv_ms) {
    size_t len;
    char *f = read_fixture(name, &len);
    assert_int_equal(tp_source_feed(s, f, len, 1, recv_ms), 0);
    free(f);
}

static void assert_str(tp_str s, const char *want) {
    assert_non_null(s.ptr);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.ptr, want, s.len);
}

static void assert_stats(tp_source *s, uint64_t frames, uint64_t trades, uint64_t pings, uint64_t errors,
                         uint64_t unknown, uint64_t malformed, uint64_t oversize) {
    tp_source_stats st;
    tp_source_get_stats(s, &st);
    assert_int_equal(st.frames, frames);
    assert_int_equal(st.trades, trades);
    assert_int_equal(st.pings, pings);
    assert_int_equal(st.errors, errors);
    assert_int_equal(st.unknown, unknown);
    assert_int_equal(st.malformed, malformed);
    assert_int_equal(st.oversize, oversize);
    assert_int_equal(st.reconnects, 0);
}

static void test_trade_frame(void **state) {
    (void)state;
    seen sn;
    tp_source *s = new_source(&sn, 0);
    feed_fixture(s, "trade_two.json", 1700000000123);
    assert_int_equal(sn.calls, 1);
    assert_int_equal(sn.trades.n, 2);
    tp_trade *t = &sn.trades.trades[0];
    assert_str(t->symbol, "BINANCE:BTCUSDT");
    assert_true(t->price == 7296.89);
    assert_true(t->volume == 0.011467);
    assert_int_equal(t->ts_ms, 1575526691134);
    assert_int_equal(t->ncond, 2);
    assert_str(t->cond[0], "1");
    assert_str(t->cond[1], "12");
    assert_int_equal(t->recv_ms, 1700000000123);
    t = &sn.trades.trades[1];
    assert_str(t->symbol, "AAPL");
    assert_true(t->price == 261.74);
    assert_true(t->volume == 100);
    assert_int_equal(t->ncond, TP_COND_NULL);
    assert_string_equal(sn.topic[0], "feed");
    assert_int_equal(sn.partition[0], -1);
    assert_int_equal(sn.offsets[0], 0);
    assert_int_equal(sn.recv[0], 1700000000123);
    assert_stats(s, 1, 2, 0, 0, 0, 0, 0);
    free_source(s, &sn);
}

/* Every frame gets a sequence number, pings and errors included, so origin
 * offsets are stable for a given stream of frames (replay gives the same). */
static void test_ping_error_unknown_sequence(void **state) {
    (void)state;
    seen sn;
    tp_source *s = new_source(&sn, 0);
    feed_fixture(s, "ping.json", 1);
    feed_fixture(s, "error.json", 2);
    feed_fixture(s, "unknown_news.json", 3);
    feed_fixture(s, "unknown_news.json", 4);
    feed_fixture(s, "trade_v0.json", 5);
    assert_int_equal(sn.calls, 1);
    assert_int_equal(sn.offsets[0], 4);
    assert_int_equal(sn.trades.n, 1);
    assert_str(sn.trades.trades[0].symbol, "OANDA:EUR_USD");
    assert_true(sn.trades.trades[0].volume == 0.0);
    assert_true(sn.trades.trades[0].price == 1.08456);
    assert_int_equal(sn.trades.trades[0].ncond, TP_COND_NULL);
    assert_stats(s, 5, 1, 1, 1, 2, 0, 0);
    free_source(s, &sn);
}

static void test_malformed_skipped(void **state) {
    (void)state;
    seen sn;
    tp_source *s = new_source(&sn, 0);
    feed_fixture(s, "malformed_truncated.json", 1);
    assert_int_equal(tp_source_feed(s, "not json at all", 15, 1, 2), 0);
    assert_int_equal(tp_source_feed(s, "", 0, 1, 3), 0);
    assert_int_equal(sn.calls, 0);
    feed_fixture(s, "trade_two.json", 4);
    assert_int_equal(sn.calls, 1);
    assert_int_equal(sn.trades.n, 2);
    assert_int_equal(sn.offsets[0], 3);
    assert_stats(s, 4, 2, 0, 0, 0, 3, 0);
    free_source(s, &sn);
}

static void test_edge_case_trades(void **state) {
    (void)state;
    seen sn;
    tp_source *s = new_source(&sn, 0);
    feed_fixture(s, "trade_exponent_empty_c.json", 1);
    feed_fixture(s, "trade_unicode_no_c.json", 2);
    assert_int_equal(sn.trades.n, 2);
    tp_trade *t = &sn.trades.trades[0];
    assert_str(t->symbol, "MSFT");
    assert_true(t->price == 150.0);
    assert_true(t->volume == 20.0);
    assert_int_equal(t->ts_ms, INT64_C(1700000000000));
    assert_int_equal(t->ncond, 0);
    t = &sn.trades.trades[1];
    assert_str(t->symbol, "\xc3\x89TF:\xe2\x82\xac");
    assert_int_equal(t->ncond, TP_COND_NULL);
    assert_stats(s, 2, 2, 0, 0, 0, 0, 0);
    free_source(s, &sn);
}

/* A message split at every possible point (as continuation frames or lws
 * receive chunks) gives exactly what the whole message gives. */
static void test_fragmented_every_split(void **state) {
    (void)state;
    size_t len;
    char *f = read_fixture("trade_two.json", &len);
    seen whole;
    tp_source *w = new_source(&whole, 0);
    assert_int_equal(tp_source_feed(w, f, len, 1, 7), 0);
    for (size_t cut = 0; cut <= len; cut++) {
        for (size_t cut2 = cut; cut2 <= len; cut2 += 17) {
            seen sn;
            tp_source *s = new_source(&sn, 0);
            assert_int_equal(tp_source_feed(s, f, cut, 0, 7), 0);
            assert_int_equal(tp_source_feed(s, f + cut, cut2 - cut, 0, 7), 0);
            assert_int_equal(sn.calls, 0);
            assert_int_equal(tp_source_feed(s, f + cut2, len - cut2, 1, 7), 0);
            assert_int_equal(sn.calls, 1);
            assert_int_equal(sn.trades.n, whole.trades.n);
            for (size_t i = 0; i < sn.trades.n; i++) {
                tp_trade *a = &sn.trades.trades[i], *b = &whole.trades.trades[i];
                assert_true(tp_str_eq(a->symbol, b->symbol));
                assert_true(a->price == b->price);
                assert_true(a->volume == b->volume);
                assert_int_equal(a->ts_ms, b->ts_ms);
                assert_int_equal(a->ncond, b->ncond);
            }
            assert_stats(s, 1, 2, 0, 0, 0, 0, 0);
            free_source(s, &sn);
        }
    }
    free_source(w, &whole);
    free(f);
}

/* Over the limit: counted once, the rest of that message discarded, the
 * next message parsed normally. */
static void test_oversize_rejected_then_recovers(void **state) {
    (void)state;
    size_t len;
    char *f = read_fixture("trade_two.json", &len);
    assert_true(len > 100);
    seen sn;
    tp_source *s = new_source(&sn, 100);
    /* in three pieces: the second crosses the limit, the third is discarded */
    assert_int_equal(tp_source_feed(s, f, 60, 0, 1), 0);
    assert_int_equal(tp_source_feed(s, f + 60, 60, 0, 1), 0);
    assert_int_equal(tp_source_feed(s, f + 120, len - 120, 1, 1), 0);
    assert_int_equal(sn.calls, 0);
    /* in one piece */
    assert_int_equal(tp_source_feed(s, f, len, 1, 2), 0);
    assert_int_equal(sn.calls, 0);
    /* a message of exactly the limit passes, in pieces */
    char msg[100];
    memset(msg, ' ', sizeof msg);
    memcpy(msg, "{\"type\":\"ping\"}", 15);
    assert_int_equal(tp_source_feed(s, msg, 50, 0, 3), 0);
    assert_int_equal(tp_source_feed(s, msg + 50, 50, 1, 3), 0);
    feed_fixture(s, "trade_v0.json", 4);
    assert_int_equal(sn.calls, 1);
    assert_int_equal(sn.offsets[0], 1);
    assert_stats(s, 2, 1, 1, 0, 0, 0, 2);
    free_source(s, &sn);
    free(f);
}

static void test_stop_from_callback(void **state) {
    (void)state;
    seen sn;
    tp_source *s = new_source(&sn, 0);
    sn.stop_after = 2;
    size_t len;
    char *f = read_fixture("trade_two.json", &len);
    assert_int_equal(tp_source_feed(s, f, len, 1, 1), 0);
    assert_int_equal(tp_source_feed(s, f, len, 1, 1), 1);
    free(f);
    free_source(s, &sn);
}

typedef struct hook_seen {
    int n;
    size_t lens[8];
} hook_seen;

static void on_frame(void *ud, const char *frame, size_t len, int64_t recv_ms) {
    hook_seen *h = ud;
    (void)frame;
    assert_int_equal(recv_ms, 42);
    if (h->n < 8) h->lens[h->n] = len;
    h->n++;
}

static void test_frame_hook_sees_every_frame(void **state) {
    (void)state;
    seen sn;
    tp_source *s = new_source(&sn, 0);
    hook_seen h = {0};
    tp_source_set_frame_hook(s, on_frame, &h);
    feed_fixture(s, "ping.json", 42);
    feed_fixture(s, "malformed_truncated.json", 42);
    assert_int_equal(tp_source_feed(s, "{\"type\":", 8, 0, 42), 0);
    assert_int_equal(tp_source_feed(s, "\"ping\"}", 7, 1, 42), 0);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.lens[0], 15);
    assert_int_equal(h.lens[2], 15);
    free_source(s, &sn);
}

/* tickpipe_ingest_last_trade_timestamp_seconds: a subscribed symbol's
 * series is the receive time of its last trade in seconds, absent before
 * its first trade; a symbol not subscribed gets none; a source without a
 * subscription list (a replay) adds the symbols it sees, at most 256. */
static void test_last_trade_series(void **state) {
    (void)state;
    tp_source_config cfg;
    tp_source_config_default(&cfg);
    cfg.url = "ws://127.0.0.1:9/";
    cfg.token = "secret";
    cfg.symbols = k_syms;
    cfg.nsymbols = 2;
    cfg.connection_index = 77;
    seen sn;
    memset(&sn, 0, sizeof sn);
    tp_batch_init(&sn.trades);
    tp_source *s = NULL;
    char err[256];
    assert_int_equal(tp_source_new(&cfg, on_batch, &sn, &s, err, sizeof err), 0);
    const char *f = "{\"type\":\"trade\",\"data\":[{\"s\":\"AAPL\",\"p\":1,\"v\":1,\"t\":5},"
                    "{\"s\":\"MSFT\",\"p\":2,\"v\":1,\"t\":5}]}";
    assert_int_equal(tp_source_feed(s, f, strlen(f), 1, 1765112345678), 0);
    double v = 0;
    const char *name = "tickpipe_ingest_last_trade_timestamp_seconds";
    assert_int_equal(tp_metrics_value(name, "connection=\"77\",symbol=\"AAPL\"", &v), 0);
    assert_true(v > 1765112345.677 && v < 1765112345.679);
    assert_int_equal(tp_metrics_value(name, "connection=\"77\",symbol=\"MSFT\"", &v), -1);
    char *text = tp_metrics_render(NULL);
    assert_non_null(strstr(text,
                           "tickpipe_ingest_last_trade_timestamp_seconds{connection=\"77\",symbol=\"AAPL\"} "
                           "1765112345.678\n"));
    assert_null(strstr(text, "connection=\"77\",symbol=\"BINANCE:BTCUSDT\""));
    free(text);
    free_source(s, &sn);

    cfg.symbols = NULL;
    cfg.nsymbols = 0;
    cfg.replay_path = "/nonexistent/recording";
    cfg.connection_index = 78;
    memset(&sn, 0, sizeof sn);
    tp_batch_init(&sn.trades);
    assert_int_equal(tp_source_new(&cfg, on_batch, &sn, &s, err, sizeof err), 0);
    for (int i = 0; i < 300; i++) {
        char frame[128];
        int n = snprintf(frame, sizeof frame,
                         "{\"type\":\"trade\",\"data\":[{\"s\":\"S%d\",\"p\":1,\"v\":1,\"t\":5}]}", i);
        assert_int_equal(tp_source_feed(s, frame, (size_t)n, 1, 1000 + i), 0);
    }
    text = tp_metrics_render(NULL);
    size_t count = 0;
    for (const char *p = text;
         (p = strstr(p, "tickpipe_ingest_last_trade_timestamp_seconds{connection=\"78\"")); p++)
        count++;
    assert_int_equal(count, 256);
    assert_non_null(strstr(text, "{connection=\"78\",symbol=\"S255\"} 1.255\n"));
    assert_null(strstr(text, "{connection=\"78\",symbol=\"S256\"}"));
    free(text);
    free_source(s, &sn);
}

static void test_backoff(void **state) {
    (void)state;
    assert_int_equal(tp_source_backoff_ms(0, 0), 250);
    assert_int_equal(tp_source_backoff_ms(0, 250), 500);
    assert_int_equal(tp_source_backoff_ms(1, 0), 500);
    assert_int_equal(tp_source_backoff_ms(3, 2000), 4000);
    int64_t prev_max = 0;
    for (int a = 0; a < 40; a++) {
        int64_t lo = INT64_MAX, hi = 0;
        for (uint64_t r = 0; r < 2000; r += 7) {
            int64_t d = tp_source_backoff_ms(a, r * 2654435761u);
            if (d < lo) lo = d;
            if (d > hi) hi = d;
        }
        assert_true(hi <= 60000);
        assert_true(lo >= hi / 2 - 1);
        assert_true(hi >= prev_max);
        prev_max = hi;
    }
    assert_int_equal(tp_source_backoff_ms(1000, 30000), 60000);
    assert_int_equal(tp_source_backoff_ms(1000, 0), 30000);
}

static void test_classify(void **state) {
    (void)state;
    const char *a = "Connection closed: API key is being used elsewhere";
    assert_int_equal(tp_feed_finnhub.classify(a, strlen(a)), TP_FEED_REASON_KEY_IN_USE);
    const char *b = "Invalid API key";
    assert_int_equal(tp_feed_finnhub.classify(b, strlen(b)), TP_FEED_REASON_BAD_TOKEN);
    const char *c = "Invalid token";
    assert_int_equal(tp_feed_finnhub.classify(c, strlen(c)), TP_FEED_REASON_BAD_TOKEN);
    const char *d = "Subscribing to too many symbols";
    assert_int_equal(tp_feed_finnhub.classify(d, strlen(d)), TP_FEED_REASON_OTHER);
    assert_int_equal(tp_feed_finnhub.classify(NULL, 0), TP_FEED_REASON_OTHER);
}

static void test_config_errors(void **state) {
    (void)state;
    tp_source_config cfg;
    tp_source *s = NULL;
    char err[512];
    tp_source_config_default(&cfg);
    assert_string_equal(cfg.url, "wss://ws.finnhub.io");
    assert_int_equal(cfg.stale_timeout_ms, 90000);
    assert_int_equal(cfg.max_reconnects, -1);
    assert_int_equal(tp_source_new(&cfg, on_batch, NULL, &s, err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, "no symbols"));
    cfg.symbols = k_syms;
    cfg.nsymbols = 2;
    cfg.token = "SECRETTOKEN";
    cfg.url = "ftp://example.com/?token=SECRETTOKEN";
    assert_int_equal(tp_source_new(&cfg, on_batch, NULL, &s, err, sizeof err), TP_EINVAL);
    assert_non_null(strstr(err, "ws://"));
    assert_null(strstr(err, "SECRETTOKEN"));
    assert_null(s);
    cfg.url = "wss://ws.finnhub.io";
    assert_int_equal(tp_source_new(&cfg, on_batch, NULL, &s, err, sizeof err), 0);
    tp_source_free(s);
}

/* A port where nothing listens: every attempt fails; with max_reconnects 2
 * the run gives up after exactly 2 reconnects and says why. */
static void test_gives_up_after_max_reconnects(void **state) {
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al); /* bound, not listening: connections are refused */
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d", ntohs(a.sin_port));
    tp_source_config cfg;
    tp_source_config_default(&cfg);
    cfg.url = url;
    cfg.token = "t";
    cfg.symbols = k_syms;
    cfg.nsymbols = 2;
    cfg.max_reconnects = 2;
    tp_source *s;
    char err[2048];
    assert_int_equal(tp_source_new(&cfg, on_batch, NULL, &s, err, sizeof err), 0);
    int rc = tp_source_run(s, err, sizeof err);
    assert_true(rc < 0);
    assert_non_null(strstr(err, "gave up after 2 reconnects"));
    tp_source_stats st;
    tp_source_get_stats(s, &st);
    assert_int_equal(st.reconnects, 2);
    tp_source_free(s);
    close(fd);
}

static void *stopper(void *arg) {
    tp_source *s = arg;
    usleep(300000);
    tp_source_stop(s);
    return NULL;
}

/* A server that accepts TCP but never answers the handshake: run() must
 * still return 0 once stop is called from another thread. */
static void test_stop_from_other_thread(void **state) {
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", ntohs(a.sin_port));
    tp_source_config cfg;
    tp_source_config_default(&cfg);
    cfg.url = url;
    cfg.token = "t";
    cfg.symbols = k_syms;
    cfg.nsymbols = 2;
    tp_source *s;
    char err[512];
    assert_int_equal(tp_source_new(&cfg, on_batch, NULL, &s, err, sizeof err), 0);
    pthread_t th;
    pthread_create(&th, NULL, stopper, s);
    assert_int_equal(tp_source_run(s, err, sizeof err), 0);
    pthread_join(th, NULL);
    tp_source_free(s);
    close(fd);
}

/* The race of a stop against the end of tp_source_run: a thread calls
 * tp_source_stop without pause while the source starts, runs and destroys
 * its context; under ThreadSanitizer (or ASan: a use after free) the old
 * read of a freed context shows; here every run must also end. */
typedef struct hammer {
    tp_source *s;
    _Atomic int done;
    long stops;
} hammer;

static void *hammer_main(void *arg) {
    hammer *h = arg;
    while (!atomic_load(&h->done)) {
        tp_source_stop(h->s);
        h->stops++;
    }
    tp_source_stop(h->s); /* once more after run returned: the context is gone */
    return NULL;
}

static void test_stop_races_destroy(void **state) {
    (void)state;
    for (int i = 0; i < 20; i++) {
        tp_source_config cfg;
        tp_source_config_default(&cfg);
        cfg.url = "ws://127.0.0.1:9/"; /* discard port: refused at once */
        cfg.token = "t";
        cfg.symbols = k_syms;
        cfg.nsymbols = 2;
        tp_source *s;
        char err[512];
        assert_int_equal(tp_source_new(&cfg, on_batch, NULL, &s, err, sizeof err), 0);
        hammer h = {.s = s};
        pthread_t th;
        pthread_create(&th, NULL, hammer_main, &h);
        if (i % 2) usleep(2000); /* half the runs start with the stops already coming */
        assert_int_equal(tp_source_run(s, err, sizeof err), 0);
        atomic_store(&h.done, 1);
        pthread_join(th, NULL);
        assert_true(h.stops > 0);
        tp_source_free(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_races_destroy),
        cmocka_unit_test(test_trade_frame),
        cmocka_unit_test(test_ping_error_unknown_sequence),
        cmocka_unit_test(test_malformed_skipped),
        cmocka_unit_test(test_edge_case_trades),
        cmocka_unit_test(test_fragmented_every_split),
        cmocka_unit_test(test_oversize_rejected_then_recovers),
        cmocka_unit_test(test_stop_from_callback),
        cmocka_unit_test(test_frame_hook_sees_every_frame),
        cmocka_unit_test(test_last_trade_series),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_gives_up_after_max_reconnects),
        cmocka_unit_test(test_stop_from_other_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
