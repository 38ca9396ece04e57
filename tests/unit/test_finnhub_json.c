/* test_finnhub_json.c - the hand-written Finnhub frame parser and trade
 * writer.
 *
 * Every frame is parsed by tp_finnhub_parse and by the jansson reference
 * tp_finnhub_parse_ref (return code, message type, text, trades field by
 * field with doubles bit for bit, batch untouched on error), and then the
 * values that matter are asserted explicitly, so a bug shared by both
 * parsers still fails. Fixtures are in tests/fixtures/feed/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../lib/finnhub_compare.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parsed {
    tp_batch b, r;
    tp_parse_result rh, rr;
} parsed;

static const char PRELOAD[] =
    "{\"type\":\"trade\",\"data\":[{\"s\":\"PRE\",\"p\":1,\"t\":2,\"v\":3,\"c\":[\"x\"]}]}";

/* Parse with both parsers into batches that already hold one trade, and
 * fail the test if they disagree in any way. Trades of this frame start at
 * index 1. */
static void parse_both(parsed *P, const char *frame, size_t len) {
    tp_batch_init(&P->b);
    tp_batch_init(&P->r);
    P->b.arena.block_size = 512; /* rewinds across arena blocks */
    P->r.arena.block_size = 512;
    tp_msg_info info;
    assert_int_equal(tp_finnhub_parse(PRELOAD, sizeof PRELOAD - 1, &P->b, &info, NULL, 0), 0);
    assert_int_equal(tp_finnhub_parse_ref(PRELOAD, sizeof PRELOAD - 1, &P->r, &info, NULL, 0), 0);
    char why[600];
    const char *d = tp_finnhub_compare(frame, len, &P->b, &P->r, &P->rh, &P->rr, why, sizeof why);
    if (d) fail_msg("parsers disagree on %.200s: %s", frame, d);
}

static void done(parsed *P) {
    /* The preloaded trade is intact whatever happened. */
    assert_true(P->b.n >= 1);
    assert_int_equal(P->b.trades[0].symbol.len, 3);
    assert_memory_equal(P->b.trades[0].symbol.ptr, "PRE", 3);
    assert_int_equal(P->b.trades[0].ncond, 1);
    assert_memory_equal(P->b.trades[0].cond[0].ptr, "x", 1);
    tp_batch_free(&P->b);
    tp_batch_free(&P->r);
}

static char *load_fixture(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/feed/%s", TP_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void parse_fixture(parsed *P, const char *name) {
    size_t len;
    char *buf = load_fixture(name, &len);
    parse_both(P, buf, len);
    free(buf);
}

static void expect_str(tp_str s, const char *want) {
    assert_non_null(s.ptr);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.ptr, want, s.len);
}

static void expect_bits(double got, double want) {
    if (memcmp(&got, &want, sizeof got)) fail_msg("double %.17g != %.17g (bits differ)", got, want);
}

static void expect_rejected(const char *name) {
    parsed P;
    parse_fixture(&P, name);
    assert_int_equal(P.rh.rc, TP_EPARSE);
    assert_int_equal(P.b.n, 1);
    assert_true(strlen(P.rh.err) > 10);
    done(&P);
}

static void test_ping(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "ping.json");
    assert_int_equal(P.rh.rc, 0);
    assert_int_equal(P.rh.info.type, TP_MSG_PING);
    assert_int_equal(P.rh.info.ntrades, 0);
    assert_int_equal(P.b.n, 1);
    done(&P);
}

static void test_error(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "error.json");
    assert_int_equal(P.rh.rc, 0);
    assert_int_equal(P.rh.info.type, TP_MSG_ERROR);
    expect_str(P.rh.info.text, "Subscribing to too many symbols");
    done(&P);
    /* msg missing or not a string: empty text; repeated: the last. */
    const char *f1 = "{\"type\":\"error\"}", *f2 = "{\"msg\":5,\"type\":\"error\"}",
               *f3 = "{\"msg\":\"a\",\"type\":\"error\",\"msg\":\"b\\u00e9\"}";
    parse_both(&P, f1, strlen(f1));
    expect_str(P.rh.info.text, "");
    done(&P);
    parse_both(&P, f2, strlen(f2));
    expect_str(P.rh.info.text, "");
    done(&P);
    parse_both(&P, f3, strlen(f3));
    expect_str(P.rh.info.text, "b\xc3\xa9");
    done(&P);
}

static void test_unknown_type(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "unknown_news.json");
    assert_int_equal(P.rh.rc, 0);
    assert_int_equal(P.rh.info.type, TP_MSG_UNKNOWN);
    expect_str(P.rh.info.text, "news");
    assert_int_equal(P.b.n, 1);
    done(&P);
}

static void test_malformed(void **st) {
    (void)st;
    expect_rejected("malformed_truncated.json");
    expect_rejected("trailing_garbage.json");
    expect_rejected("invalid_utf8_overlong.json");
    expect_rejected("invalid_utf8_surrogate.json");
    expect_rejected("nul_in_string.json");
    expect_rejected("nul_after_number.json");
    /* Every prefix of a valid frame is rejected and leaves the batch alone. */
    size_t len;
    char *buf = load_fixture("trade_two.json", &len);
    for (size_t n = 0; n < len; n++) {
        parsed P;
        parse_both(&P, buf, n);
        assert_int_equal(P.rh.rc, TP_EPARSE);
        assert_int_equal(P.b.n, 1);
        done(&P);
    }
    free(buf);
}

static void test_trade_two(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_two.json");
    assert_int_equal(P.rh.rc, 0);
    assert_int_equal(P.rh.info.type, TP_MSG_TRADE);
    assert_int_equal(P.rh.info.ntrades, 2);
    const tp_trade *a = &P.b.trades[1], *b = &P.b.trades[2];
    expect_str(a->symbol, "BINANCE:BTCUSDT");
    expect_bits(a->price, 7296.89);
    expect_bits(a->volume, 0.011467);
    assert_int_equal(a->ts_ms, 1575526691134LL);
    assert_int_equal(a->ncond, 2);
    expect_str(a->cond[0], "1");
    expect_str(a->cond[1], "12");
    expect_str(b->symbol, "AAPL");
    expect_bits(b->price, 261.74);
    expect_bits(b->volume, 100.0);
    assert_int_equal(b->ncond, TP_COND_NULL);
    done(&P);
}

static void test_exponent_empty_c(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_exponent_empty_c.json");
    assert_int_equal(P.rh.rc, 0);
    const tp_trade *t = &P.b.trades[1];
    expect_bits(t->price, 150.0);
    expect_bits(t->volume, 20.0);
    assert_int_equal(t->ts_ms, 1700000000000LL);
    assert_int_equal(t->ncond, 0);
    done(&P);
}

static void test_unicode_no_c(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_unicode_no_c.json");
    assert_int_equal(P.rh.rc, 0);
    expect_str(P.b.trades[1].symbol, "\xc3\x89TF:\xe2\x82\xac");
    assert_int_equal(P.b.trades[1].ncond, TP_COND_NULL);
    done(&P);
}

static void test_v0(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_v0.json");
    assert_int_equal(P.rh.rc, 0);
    expect_str(P.b.trades[1].symbol, "OANDA:EUR_USD");
    expect_bits(P.b.trades[1].volume, 0.0);
    expect_bits(P.b.trades[1].price, 1.08456);
    done(&P);
}

static void test_c_null_item(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_c_null_item.json");
    assert_int_equal(P.rh.rc, 0);
    const tp_trade *t = &P.b.trades[1];
    assert_int_equal(t->ncond, 3);
    expect_str(t->cond[0], "1");
    assert_null(t->cond[1].ptr);
    expect_str(t->cond[2], "");
    done(&P);
}

static void test_nested_unknown(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_nested_unknown.json");
    assert_int_equal(P.rh.rc, 0);
    assert_int_equal(P.rh.info.ntrades, 1);
    expect_str(P.b.trades[1].symbol, "MSFT");
    expect_bits(P.b.trades[1].price, 2.5);
    assert_int_equal(P.b.trades[1].ncond, TP_COND_NULL);
    done(&P);
}

static void test_duplicate_keys(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_duplicate_keys.json");
    assert_int_equal(P.rh.rc, 0);
    assert_int_equal(P.rh.info.type, TP_MSG_TRADE);
    assert_int_equal(P.rh.info.ntrades, 1); /* the first "data" is replaced */
    const tp_trade *t = &P.b.trades[1];
    expect_str(t->symbol, "BINANCE:ETHUSDT");
    expect_bits(t->price, 2000.5);
    assert_int_equal(t->ncond, TP_COND_NULL);
    done(&P);
}

static void test_whitespace(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_whitespace.json");
    assert_int_equal(P.rh.rc, 0);
    expect_str(P.b.trades[1].symbol, "AAPL");
    assert_int_equal(P.b.trades[1].ts_ms, 1700000000004LL);
    assert_int_equal(P.b.trades[1].ncond, 2);
    done(&P);
}

static void test_escapes_edges(void **st) {
    (void)st;
    parsed P;
    parse_fixture(&P, "trade_escapes_edges.json");
    assert_int_equal(P.rh.rc, 0);
    const tp_trade *t = &P.b.trades[1];
    expect_str(t->symbol, "\xf0\x9f\x98\x80:\xc3\xa9\xe2\x82\xac/\"\\\b\f\n\r\t");
    expect_bits(t->price, 0.0); /* "-0" is the integer 0 */
    expect_bits(t->volume, -0.0);
    assert_int_equal(t->ts_ms, INT64_MAX);
    done(&P);
}

/* Small frames: {frame, expected return code}; each also against the ref. */
static void test_table(void **st) {
    (void)st;
    static const struct {
        const char *frame;
        int rc;
    } cases[] = {
        {"{\"type\":\"ping\"}", 0},
        {"{\"\\u0074ype\":\"p\\u0069ng\"}", 0},
        {"{}", TP_EPARSE},
        {"[]", TP_EPARSE},
        {"\"ping\"", TP_EPARSE},
        {"", TP_EPARSE},
        {"{\"type\":1}", TP_EPARSE},
        {"{\"type\":\"trade\"}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":{}}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[]}", 0},
        {"{\"type\":\"trade\",\"data\":[1]}", TP_EPARSE},
        {"{\"type\":\"ping\",\"data\":[1]}", 0},
        {"{\"type\":\"trade\",\"data\":[{\"p\":1,\"t\":1,\"v\":1}]}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":\"1\",\"t\":1,\"v\":1}]}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1.5,\"v\":1}]}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":9.1e15,\"v\":1}]}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":9e15,\"v\":1}]}", 0},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":-9223372036854775808,\"v\":1}]}", 0},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":9223372036854775808,\"v\":1}]}",
         TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":-9223372036854775809}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":1e309}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":-1e309}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":1e-400}", 0},
        {"{\"type\":\"ping\",\"x\":0e999999999999}", 0},
        {"{\"type\":\"ping\",\"x\":01}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":1.}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":.5}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":1e}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":+1}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":tru}", TP_EPARSE},
        {"{\"type\":\"ping\",\"x\":nulls}", TP_EPARSE},
        {"{\"type\":\"ping\",}", TP_EPARSE},
        {"{\"type\":\"ping\" \"x\":1}", TP_EPARSE},
        {"{'type':'ping'}", TP_EPARSE},
        {"{\"type\":\"ping\"}}", TP_EPARSE},
        {"{\"type\":\"p\\ing\"}", TP_EPARSE},
        {"{\"type\":\"\\u00zz\"}", TP_EPARSE},
        {"{\"type\":\"\\ud800\"}", TP_EPARSE},
        {"{\"type\":\"\\udc00\"}", TP_EPARSE},
        {"{\"type\":\"\\ud800\\u0041\"}", TP_EPARSE},
        {"{\"type\":\"\\u0000\"}", TP_EPARSE},
        {"{\"type\\u0000\":\"ping\"}", TP_EPARSE},
        {"{\"type\":\"a\tb\"}", TP_EPARSE},
        {"{\"type\":\"\xf4\x90\x80\x80\"}", TP_EPARSE},
        {"{\"type\":\"\xf0\x9f\x98\"}", TP_EPARSE},
        {"\xef\xbb\xbf{\"type\":\"ping\"}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1,\"v\":1,\"c\":\"1\"}]}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1,\"v\":1,\"c\":[1]}]}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1,\"v\":1,\"c\":[[]]}]}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1,\"v\":1,\"c\":[null,\"x\"]}]}", 0},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1,\"v\":1,\"c\":false}]}", TP_EPARSE},
        {"{\"type\":\"trade\",\"data\":[{\"\\u0073\":\"A\",\"p\":1,\"t\":1,\"v\":1}]}", 0},
        {"{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1,\"v\":1}],\"type\":\"ping\"}", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parsed P;
        parse_both(&P, cases[i].frame, strlen(cases[i].frame));
        if (P.rh.rc != cases[i].rc)
            fail_msg("case %zu %s: rc %d, want %d (%s)", i, cases[i].frame, P.rh.rc, cases[i].rc, P.rh.err);
        if (P.rh.rc == TP_EPARSE && !strstr(P.rh.err, "byte") && !strstr(P.rh.err, "type") &&
            !strstr(P.rh.err, "data"))
            fail_msg("case %zu: unclear error \"%s\"", i, P.rh.err);
        done(&P);
    }
}

static void test_numbers(void **st) {
    (void)st;
    /* Values strtod must give, compared with strtod itself and with the ref. */
    static const char *nums[] = {"0.1",
                                 "7296.89",
                                 "1.7976931348623157e308",
                                 "4.9e-324",
                                 "2.2250738585072014e-308",
                                 "123456789012345678901234567890.0",
                                 "0.30000000000000004",
                                 "9007199254740993.0",
                                 "1e23",
                                 "8.589973e9",
                                 "-1.5E-7",
                                 "1.00000000000000011102230246251565404236316680908203125",
                                 "3.14159265358979323846264338327950288",
                                 "1e-400",
                                 "-0.0",
                                 "0e10"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char frame[512];
        int n = snprintf(frame, sizeof frame,
                         "{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":%s,\"t\":1,\"v\":%s}]}", nums[i],
                         nums[i]);
        parsed P;
        parse_both(&P, frame, (size_t)n);
        if (P.rh.rc) fail_msg("%s rejected: %s", nums[i], P.rh.err);
        expect_bits(P.b.trades[1].price, strtod(nums[i], NULL));
        expect_bits(P.b.trades[1].volume, strtod(nums[i], NULL));
        done(&P);
    }
}

static uint64_t xorshift(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Number tokens longer than the parser's stack copy (strtod on the heap). */
static void test_numbers_long(void **st) {
    (void)st;
    char num[700], frame[1600];
    memset(num, '7', 600);
    num[0] = '0';
    num[1] = '.';
    strcpy(num + 600, "e-5");
    int n =
        snprintf(frame, sizeof frame,
                 "{\"type\":\"trade\",\"x\":%s,\"data\":[{\"s\":\"A\",\"p\":%s,\"t\":1,\"v\":1}]}", num, num);
    parsed P;
    parse_both(&P, frame, (size_t)n);
    assert_int_equal(P.rh.rc, 0);
    expect_bits(P.b.trades[1].price, strtod(num, NULL));
    done(&P);
    /* 600 digits before an exponent of 1: far past a double, in a skipped value too. */
    num[0] = '7';
    num[1] = '7';
    strcpy(num + 600, "e1");
    n = snprintf(frame, sizeof frame, "{\"type\":\"ping\",\"x\":[%s]}", num);
    parse_both(&P, frame, (size_t)n);
    assert_int_equal(P.rh.rc, TP_EPARSE);
    assert_non_null(strstr(P.rh.err, "range"));
    done(&P);
}

/* Random number tokens of every shape: same double as strtod (or the
 * 64-bit integer), same verdict as the reference. */
static void test_numbers_random(void **st) {
    (void)st;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
#define RND() xorshift(&x)
    for (int i = 0; i < 20000; i++) {
        char num[128];
        size_t n = 0;
        if (RND() % 3 == 0) num[n++] = '-';
        int nint = (int)(RND() % 22);
        if (nint == 0 || RND() % 4 == 0) {
            num[n++] = '0';
        } else {
            num[n++] = (char)('1' + RND() % 9);
            for (int k = 1; k < nint; k++) num[n++] = (char)('0' + RND() % 10);
        }
        int real = 0;
        if (RND() % 2) {
            real = 1;
            num[n++] = '.';
            int nf = 1 + (int)(RND() % 22);
            for (int k = 0; k < nf; k++) num[n++] = (char)('0' + (RND() % 3 ? RND() % 10 : 0));
        }
        if (RND() % 2) {
            real = 1;
            num[n++] = RND() % 2 ? 'e' : 'E';
            int r = (int)(RND() % 3);
            if (r) num[n++] = r == 1 ? '+' : '-';
            n += (size_t)snprintf(num + n, sizeof num - n, "%d",
                                  (int)(RND() % (uint64_t)(RND() % 2 ? 30 : 400)));
        }
        num[n] = '\0';
        char frame[300];
        int fl = snprintf(frame, sizeof frame,
                          "{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":%s,\"t\":1,\"v\":1}]}", num);
        parsed P;
        parse_both(&P, frame, (size_t)fl);
        if (real) {
            double want = strtod(num, NULL);
            if (isinf(want)) {
                assert_int_equal(P.rh.rc, TP_EPARSE);
            } else {
                if (P.rh.rc) fail_msg("%s rejected: %s", num, P.rh.err);
                expect_bits(P.b.trades[1].price, want);
            }
        } else {
            errno = 0;
            long long v = strtoll(num, NULL, 10);
            if (errno == ERANGE) {
                assert_int_equal(P.rh.rc, TP_EPARSE);
            } else {
                if (P.rh.rc) fail_msg("%s rejected: %s", num, P.rh.err);
                expect_bits(P.b.trades[1].price, (double)v);
            }
        }
        done(&P);
    }
#undef RND
}

static void test_big_frame(void **st) {
    (void)st;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    n += (size_t)snprintf(buf + n, cap - n, "{\"data\":[");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(buf + n, cap - n,
                              "%s{\"c\":[\"%d\"],\"p\":%d.%02d,\"s\":\"SYM%d\",\"t\":%lld,\"v\":%d}",
                              i ? "," : "", i % 40, 100 + i, i % 100, i % 7, 1700000000000LL + i, i);
    n += (size_t)snprintf(buf + n, cap - n, "],\"type\":\"trade\"}");
    parsed P;
    parse_both(&P, buf, n);
    assert_int_equal(P.rh.rc, 0);
    assert_int_equal(P.rh.info.ntrades, 5000);
    const tp_trade *t = &P.b.trades[1 + 4321];
    expect_str(t->symbol, "SYM2"); /* 4321 % 7 */
    expect_bits(t->price, 4421.21);
    assert_int_equal(t->ts_ms, 1700000004321LL);
    expect_str(t->cond[0], "1"); /* 4321 % 40 */
    done(&P);
    /* The same frame with a bad last trade: nothing of it is kept. */
    char *last = NULL;
    for (char *q = buf; (q = strstr(q, "\"s\":")); q++) last = q;
    last[1] = 'x'; /* the last trade loses its "s" */
    parse_both(&P, buf, n);
    assert_int_equal(P.rh.rc, TP_EPARSE);
    assert_int_equal(P.b.n, 1);
    done(&P);
    free(buf);
}

static char *nested(int levels, const char *inner, size_t *len) {
    size_t cap = (size_t)levels * 2 + 64;
    char *buf = malloc(cap);
    size_t n = (size_t)snprintf(buf, cap, "{\"type\":\"ping\",\"x\":");
    for (int i = 0; i < levels; i++) buf[n++] = '[';
    n += (size_t)snprintf(buf + n, cap - n, "%s", inner);
    for (int i = 0; i < levels; i++) buf[n++] = ']';
    buf[n++] = '}';
    *len = n;
    return buf;
}

static void test_deep_nesting(void **st) {
    (void)st;
    /* The root is level 1, "x"'s value level 2: 2046 arrays put "1" at level
     * 2048 (the limit), 2047 put it one level too deep. */
    struct {
        int levels;
        const char *inner;
        int rc;
    } cases[] = {{2046, "1", 0},
                 {2047, "1", TP_EPARSE},
                 {2047, "", 0},
                 {2048, "", TP_EPARSE},
                 {200000, "", TP_EPARSE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        char *buf = nested(cases[i].levels, cases[i].inner, &len);
        parsed P;
        parse_both(&P, buf, len);
        if (P.rh.rc != cases[i].rc) fail_msg("%d levels: rc %d (%s)", cases[i].levels, P.rh.rc, P.rh.err);
        done(&P);
        free(buf);
    }
    /* Far too deep for any recursive parser: only ours runs on it (jansson
     * stops at 2048 too, but this checks that no stack is used per level). */
    size_t len;
    char *buf = nested(4000000, "", &len);
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    char err[256];
    assert_int_equal(tp_finnhub_parse(buf, len, &b, &info, err, sizeof err), TP_EPARSE);
    assert_non_null(strstr(err, "nesting"));
    tp_batch_free(&b);
    free(buf);
}

static void test_max_trades(void **st) {
    (void)st;
    const char *f =
        "{\"type\":\"trade\",\"data\":[{\"s\":\"A\",\"p\":1,\"t\":1,\"v\":1},{\"s\":\"B\",\"p\":1,\"t\":1,"
        "\"v\":1,\"c\":[\"a\",\"b\"]}]}";
    tp_batch b, r;
    tp_batch_init(&b);
    tp_batch_init(&r);
    b.max_trades = r.max_trades = 2;
    tp_parse_result rh, rr;
    char why[600];
    assert_null(tp_finnhub_compare(f, strlen(f), &b, &r, &rh, &rr, why, sizeof why));
    assert_int_equal(rh.rc, 0);
    assert_null(tp_finnhub_compare(f, strlen(f), &b, &r, &rh, &rr, why, sizeof why));
    assert_int_equal(rh.rc, TP_EPARSE);
    assert_non_null(strstr(rh.err, "too many trades"));
    assert_int_equal(b.n, 2);
    tp_batch_free(&b);
    tp_batch_free(&r);
}

/* ---- writer ---- */

static void check_line(const tp_trade *t, const char *want) {
    char line[512];
    int n = tp_finnhub_trade_json(t, line, sizeof line);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(line));
    if (want) assert_string_equal(line, want);
    /* jansson reads the same values back, reals as reals. */
    json_error_t je;
    json_t *o = json_loadb(line, (size_t)n, 0, &je);
    if (!o) fail_msg("not JSON: %s (%s)", line, je.text);
    assert_true(json_is_real(json_object_get(o, "p")));
    expect_bits(json_real_value(json_object_get(o, "p")), t->price);
    expect_bits(json_real_value(json_object_get(o, "v")), t->volume);
    assert_int_equal(json_integer_value(json_object_get(o, "t")), t->ts_ms);
    json_t *s = json_object_get(o, "s");
    assert_int_equal(json_string_length(s), t->symbol.len);
    assert_memory_equal(json_string_value(s), t->symbol.ptr, t->symbol.len);
    json_decref(o);
    /* Our own parser reads it back identical. */
    char frame[600];
    int fl = snprintf(frame, sizeof frame, "{\"type\":\"trade\",\"data\":[%s]}", line);
    tp_batch b;
    tp_batch_init(&b);
    tp_msg_info info;
    assert_int_equal(tp_finnhub_parse(frame, (size_t)fl, &b, &info, NULL, 0), 0);
    assert_null(tp_cmp_trade(&b.trades[0], t));
    tp_batch_free(&b);
    /* Every too-small buffer fails cleanly. */
    for (int k = 0; k <= n; k++) assert_int_equal(tp_finnhub_trade_json(t, line, (size_t)k), -1);
    assert_int_equal(tp_finnhub_trade_json(t, line, (size_t)n + 1), n);
}

static void test_trade_json(void **st) {
    (void)st;
    tp_str conds[3] = {{"1", 1}, {NULL, 0}, {"12", 2}};
    tp_trade t = {0};
    t.symbol = (tp_str){"BINANCE:BTCUSDT", 15};
    t.price = 7296.89;
    t.volume = 0.011467;
    t.ts_ms = 1575526691134LL;
    t.ncond = 3;
    t.cond = conds;
    check_line(&t, "{\"s\":\"BINANCE:BTCUSDT\",\"p\":7296.89,\"t\":1575526691134,\"v\":0.011467,\"c\":[\"1\","
                   "null,\"12\"]}");
    t.ncond = TP_COND_NULL;
    t.price = 100;
    t.volume = -0.0;
    t.ts_ms = -5;
    check_line(&t, "{\"s\":\"BINANCE:BTCUSDT\",\"p\":100.0,\"t\":-5,\"v\":-0.0,\"c\":null}");
    t.ncond = 0;
    t.price = 0.1 + 0.2;
    t.volume = 1e300;
    t.symbol = (tp_str){"a\"b\\c\n\x01\x1f\xc3\xa9/", 11};
    check_line(
        &t,
        "{\"s\":\"a\\\"b\\\\c\\n\\u0001\\u001f\xc3\xa9/\",\"p\":0.30000000000000004,\"t\":-5,\"v\":1e+300,"
        "\"c\":[]}");
    t.price = 5e-324;
    t.volume = 1.7976931348623157e308;
    check_line(&t, NULL);
    /* Invalid UTF-8 in a symbol still gives a valid line. */
    t.symbol = (tp_str){"\xff"
                        "A",
                        2};
    char line[256];
    assert_true(tp_finnhub_trade_json(&t, line, sizeof line) > 0);
    assert_non_null(strstr(line, "\"s\":\"\\ufffdA\""));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping),           cmocka_unit_test(test_error),
        cmocka_unit_test(test_unknown_type),   cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_trade_two),      cmocka_unit_test(test_exponent_empty_c),
        cmocka_unit_test(test_unicode_no_c),   cmocka_unit_test(test_v0),
        cmocka_unit_test(test_c_null_item),    cmocka_unit_test(test_nested_unknown),
        cmocka_unit_test(test_duplicate_keys), cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_escapes_edges),  cmocka_unit_test(test_table),
        cmocka_unit_test(test_numbers),        cmocka_unit_test(test_numbers_random),
        cmocka_unit_test(test_numbers_long),   cmocka_unit_test(test_big_frame),
        cmocka_unit_test(test_deep_nesting),   cmocka_unit_test(test_max_trades),
        cmocka_unit_test(test_trade_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
