/* test_http.c - unit tests of the HTTP side's pure parts: REST parameter
 * checking (through tp_http_api over an in-memory SQLite store, and the
 * write-only null store's 501), the row formatters
 * (checked by parsing their JSON back with jansson), and the metrics
 * lookups the health push uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/metrics.h"
#include "http/http.h"
#include "http/http_internal.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static tp_http_resp api_on(tp_http_store *st, const char *path, const char *a0, const char *a1,
                           const char *a2) {
    char *args[3];
    int n = 0;
    if (a0) args[n++] = (char *)a0;
    if (a1) args[n++] = (char *)a1;
    if (a2) args[n++] = (char *)a2;
    tp_http_resp r = {0};
    tp_http_api(st, 100, path, args, n, &r);
    return r;
}

/* an empty in-memory SQLite store: answers every query with no rows */
static tp_http_store g_mem = {.url = "sqlite::memory:"};

static tp_http_resp api(const char *path, const char *a0, const char *a1, const char *a2) {
    return api_on(&g_mem, path, a0, a1, a2);
}

static void expect_error(const char *path, const char *a0, const char *a1, const char *a2, int status,
                         const char *text) {
    tp_http_resp r = api(path, a0, a1, a2);
    assert_int_equal(r.status, status);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    assert_non_null(j);
    const char *e = json_string_value(json_object_get(j, "error"));
    assert_non_null(e);
    if (!strstr(e, text)) fail_msg("error '%s' lacks '%s'", e, text);
    json_decref(j);
    free(r.body);
}

static void test_params(void **state) {
    (void)state;
    expect_error("/api/trades", NULL, NULL, NULL, 400, "missing parameter 'symbol'");
    expect_error("/api/trades", "symbol=A", "limit=101", NULL, 400, "from 1 to 100");
    expect_error("/api/trades", "symbol=A", "limit=0", NULL, 400, "limit");
    expect_error("/api/trades", "symbol=A", "from=5", "to=5", 400, "before");
    expect_error("/api/trades", "symbol=A", "from=1e3", NULL, 400, "from");
    expect_error("/api/trades", "symbol=A", "symbol=B", NULL, 400, "twice");
    expect_error("/api/trades", "symbol=A", "x=1", NULL, 400, "unknown parameter 'x'");
    expect_error("/api/trades", "symbol", NULL, NULL, 400, "empty");
    expect_error("/api/candles", "symbol=A", "interval=1x", NULL, 400, "not an interval");
    expect_error("/api/candles", "symbol=A", "interval=8d", NULL, 400, "from 1s to 7d");
    expect_error("/api/candles", "symbol=A", "interval=0m", NULL, 400, "not an interval");
    expect_error("/api/candles", "symbol=A", "interval=", NULL, 400, "not an interval");
    expect_error("/api/averages", "symbol=A", "interval=1s", NULL, 400, "unknown parameter");
    expect_error("/api/symbols", "limit=1", NULL, NULL, 400, "unknown parameter");
    expect_error("/api/nope", NULL, NULL, NULL, 404, "no such endpoint");
    char longsym[80] = "symbol=";
    memset(longsym + 7, 'A', 65);
    expect_error("/api/trades", longsym, NULL, NULL, 400, "longer than 64");
    expect_error("/api/trades", "symbol=\xff", NULL, NULL, 400, "UTF-8");
    /* numbers: decimal digits only */
    const char *const bad_numbers[] = {
        "+1", " 1", "1 ", "1x", "0x10", "1e3", "-1", "1.0", "99999999999999999999", "9223372036854775808"};
    for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers[0]; i++) {
        char a[64];
        snprintf(a, sizeof a, "limit=%s", bad_numbers[i]);
        expect_error("/api/trades", "symbol=A", a, NULL, 400, "digits only");
        snprintf(a, sizeof a, "from=%s", bad_numbers[i]);
        expect_error("/api/candles", "symbol=A", a, NULL, 400, "digits only");
        snprintf(a, sizeof a, "to=%s", bad_numbers[i]);
        expect_error("/api/averages", "symbol=A", a, NULL, 400, "digits only");
    }
    expect_error("/api/trades", "symbol=A", "limit=", NULL, 400, "limit: a number is required");
    expect_error("/api/trades", "symbol=A", "to=", NULL, 400, "a number is required");
    /* a control character anywhere: name or value, any parameter */
    expect_error("/api/trades", "symbol=AA\nPL", NULL, NULL, 400, "'symbol' contains a control character");
    expect_error("/api/trades", "symbol=AAPL\r", NULL, NULL, 400, "control character (byte 0x0d)");
    expect_error("/api/trades", "symbol=A", "limit=1\x7f", NULL, 400, "'limit' contains a control character");
    expect_error("/api/candles", "symbol=A", "interval=1s\n", NULL, 400, "control character");
    expect_error("/api/trades", "symbol=A", "li\x01mit=1", NULL, 400, "parameter name contains a control");
    expect_error("/api/symbols", "\x1b", NULL, NULL, 400, "control character");
    /* still fine: leading zeros, the largest time, the cap */
    tp_http_resp ok = api("/api/trades", "symbol=A", "limit=0100", "to=253402300799999");
    assert_int_equal(ok.status, 200);
    free(ok.body);

    tp_http_resp r = api("/api/candles", "symbol=A", "interval=1s", "limit=100");
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "interval")), "1s");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 0);
    json_decref(j);
    free(r.body);

    /* a write-only store: parameters are still checked first, then 501 */
    static tp_http_store null_store = {.url = "null:"};
    r = api_on(&null_store, "/api/trades", "symbol=A", NULL, NULL);
    assert_int_equal(r.status, 501);
    assert_non_null(strstr(r.body, "write-only"));
    free(r.body);
    r = api_on(&null_store, "/api/trades", "limit=1", NULL, NULL);
    assert_int_equal(r.status, 400);
    free(r.body);
    tp_http_store_reset(&null_store);
    tp_http_store_reset(&g_mem);
}

static void test_rows(void **state) {
    (void)state;
    tp_str conds[] = {{"1", 1}, {NULL, 0}};
    tp_trade t = {.symbol = {"\xc3\x84X", 3},
                  .price = 1.5,
                  .volume = 0,
                  .ts_ms = 1700000000123,
                  .ncond = 2,
                  .cond = conds};
    t.id[15] = 7;
    json_t *j = tp_http_trade_json(&t, 42);
    char *s = json_dumps(j, TP_HTTP_JSON_FLAGS);
    json_decref(j);
    j = json_loads(s, 0, NULL);
    free(s);
    assert_string_equal(json_string_value(json_object_get(j, "symbol")), "\xc3\x84X");
    assert_true(json_real_value(json_object_get(j, "price")) == 1.5);
    assert_int_equal(json_integer_value(json_object_get(j, "ts")), 1700000000123);
    assert_int_equal(json_integer_value(json_object_get(j, "ingest_ts")), 42);
    json_t *c = json_object_get(j, "conditions");
    assert_int_equal(json_array_size(c), 2);
    assert_true(json_is_null(json_array_get(c, 1)));
    assert_string_equal(json_string_value(json_object_get(j, "id")), "00000000-0000-0000-0000-000000000007");
    json_decref(j);

    t.ncond = TP_COND_NULL;
    j = tp_http_trade_json(&t, 0);
    assert_true(json_is_null(json_object_get(j, "conditions")));
    json_decref(j);

    tp_candle cd = {.symbol = {"A", 1},
                    .interval_s = 60,
                    .start_ms = 60000,
                    .open = 1,
                    .high = 2,
                    .low = 0.5,
                    .close = 1.5,
                    .volume = 0,
                    .vwap = NAN,
                    .trade_count = 3,
                    .final = 1};
    j = tp_http_candle_json(&cd);
    assert_true(json_is_null(json_object_get(j, "vwap"))); /* NaN is not JSON */
    assert_true(json_is_true(json_object_get(j, "final")));
    assert_int_equal(json_integer_value(json_object_get(j, "interval")), 60);
    json_decref(j);
}

static void test_metrics_lookup(void **state) {
    (void)state;
    double v = -1;
    assert_int_equal(tp_metrics_value("tickpipe_test_nothing_total", NULL, &v), -1);
    tp_counter_add(tp_metrics_counter("tickpipe_test_a_errors_total", "k=\"1\"", "t"), 2);
    tp_counter_add(tp_metrics_counter("tickpipe_test_a_errors_total", "k=\"2\"", "t"), 3);
    tp_counter_add(tp_metrics_counter("tickpipe_test_b_errors_total", NULL, "t"), 4);
    tp_gauge_set(tp_metrics_gauge("tickpipe_test_g", NULL, "t"), -5);
    assert_int_equal(tp_metrics_value("tickpipe_test_a_errors_total", NULL, &v), 0);
    assert_true(v == 5);
    assert_int_equal(tp_metrics_value("tickpipe_test_a_errors_total", "k=\"2\"", &v), 0);
    assert_true(v == 3);
    assert_int_equal(tp_metrics_value("tickpipe_test_a_errors_total", "k=\"3\"", &v), -1);
    assert_int_equal(tp_metrics_value("tickpipe_test_g", NULL, &v), 0);
    assert_true(v == -5);
    assert_true(tp_metrics_sum_suffix("_errors_total") >= 9);
}

/* METHOD path from the server on 127.0.0.1:port; the whole response in out. */
static void http_req(int port, const char *method, const char *path, char *out, size_t outlen) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    /* a POST says it has no body: without a length lws waits for one */
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n", method,
                     path, strcmp(method, "POST") ? "" : "Content-Length: 0\r\n");
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < outlen && (r = read(fd, out + got, outlen - 1 - got)) > 0) got += (size_t)r;
    out[got] = '\0';
    close(fd);
}

static void http_get(int port, const char *path, char *out, size_t outlen) {
    http_req(port, "GET", path, out, outlen);
}

/* A HEAD answer is the GET answer's status and headers, Content-Length
 * included, ending at the blank line. */
static void assert_head_like_get(int port, const char *path, const char *status) {
    char get[4096], head[4096];
    http_get(port, path, get, sizeof get);
    http_req(port, "HEAD", path, head, sizeof head);
    assert_non_null(strstr(get, status));
    const char *gend = strstr(get, "\r\n\r\n");
    assert_non_null(gend);
    size_t hlen = (size_t)(gend - get) + 4;
    assert_int_equal(strlen(head), hlen); /* no body bytes */
    assert_memory_equal(head, get, hlen); /* the same status line and headers */
    char want[64];
    snprintf(want, sizeof want, "content-length: %zu\r\n", strlen(gend + 4));
    assert_non_null(strstr(head, want));
}

typedef struct health_state {
    atomic_int healthy, calls;
} health_state;

static int health(void *ud, char *out, size_t outlen) {
    health_state *hs = ud;
    atomic_fetch_add(&hs->calls, 1);
    int ok = atomic_load(&hs->healthy);
    snprintf(out, outlen, ok ? "ok: feed connected" : "feed: disconnected for 31 s");
    return ok ? 0 : 1;
}

/* /healthz without a provider is "ok"; with one, its line and 200 or 503.
 * HEAD answers like GET without the body. */
static void test_healthz_hook(void **state) {
    (void)state;
    char resp[4096], err[256];
    tp_http_config cfg;
    tp_http_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.store_url = "null:";
    tp_http *h;
    assert_int_equal(tp_http_start(&cfg, &h, err, sizeof err), 0);
    http_get(tp_http_port(h), "/healthz", resp, sizeof resp);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "\r\n\r\nok\n"));
    /* REST over a write-only store goes through the worker and back: 501 */
    http_get(tp_http_port(h), "/api/symbols", resp, sizeof resp);
    assert_non_null(strstr(resp, "HTTP/1.1 501"));
    assert_non_null(strstr(resp, "write-only"));
    /* HEAD: answered at once (/healthz) and through the worker (/api/) */
    assert_head_like_get(tp_http_port(h), "/healthz", "HTTP/1.1 200");
    assert_head_like_get(tp_http_port(h), "/api/symbols", "HTTP/1.1 501");
    assert_head_like_get(tp_http_port(h), "/nope", "HTTP/1.1 404");
    http_req(tp_http_port(h), "POST", "/healthz", resp, sizeof resp);
    assert_non_null(strstr(resp, "HTTP/1.1 405"));
    assert_non_null(strstr(resp, "allow: GET, HEAD\r\n"));
    tp_http_stop(h);

    health_state hs;
    atomic_init(&hs.healthy, 0);
    atomic_init(&hs.calls, 0);
    cfg.health = health;
    cfg.health_ud = &hs;
    assert_int_equal(tp_http_start(&cfg, &h, err, sizeof err), 0);
    http_get(tp_http_port(h), "/healthz", resp, sizeof resp);
    assert_non_null(strstr(resp, "HTTP/1.1 503"));
    assert_non_null(strstr(resp, "\r\n\r\nfeed: disconnected for 31 s\n"));
    atomic_store(&hs.healthy, 1);
    http_get(tp_http_port(h), "/healthz", resp, sizeof resp);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "ok: feed connected\n"));
    assert_int_equal(atomic_load(&hs.calls), 2);
    atomic_store(&hs.healthy, 0);
    assert_head_like_get(tp_http_port(h), "/healthz", "HTTP/1.1 503");
    tp_http_stop(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_healthz_hook),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_metrics_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
