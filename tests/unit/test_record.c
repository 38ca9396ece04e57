/* test_record.c - recordings (feed/record.h): round trip of awkward frames
 * (empty, binary, embedded newlines and NULs, large), the exact bytes of the
 * format, every truncation point of a tail, corrupt headers and terminators,
 * oversize frames skipped without losing the next one, rewind, and the
 * replay of a recording through the feed source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/log.h"
#include "feed/record.h"
#include "feed/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tp-test-record.XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    tp_log_set_level(TP_LOG_ERROR);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", g_dir, name);
}

static void write_raw(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_exact_bytes(void **state) {
    (void)state;
    char path[512], err[256];
    path_of(path, sizeof path, "exact.rec");
    tp_record_writer *w;
    assert_int_equal(tp_record_writer_open(path, &w, err, sizeof err), 0);
    assert_int_equal(tp_record_write(w, 1700000000123, "{\"type\":\"ping\"}", 15), 0);
    assert_int_equal(tp_record_write(w, -5, "", 0), 0);
    assert_int_equal(tp_record_writer_close(w), 0);
    size_t n;
    char *got = slurp(path, &n);
    static const char want[] = "TPREC1\n1700000000123 15\n{\"type\":\"ping\"}\n-5 0\n\n";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(got, want, n);
    free(got);
}

typedef struct frame {
    int64_t ms;
    char *data;
    size_t len;
} frame;

static void test_round_trip(void **state) {
    (void)state;
    char path[512], err[256];
    path_of(path, sizeof path, "round.rec");
    enum { N = 6 };
    frame fr[N];
    static const char bin[] = "a\nb\0c\n\n12 3\n";
    fr[0] = (frame){1, strdup("{\"data\":[{\"p\":1,\"s\":\"AAPL\",\"t\":1,\"v\":1}],\"type\":\"trade\"}"), 0};
    fr[1] = (frame){2, NULL, 0};
    fr[2] = (frame){3, malloc(sizeof bin - 1), sizeof bin - 1};
    memcpy(fr[2].data, bin, sizeof bin - 1);
    fr[3] = (frame){INT64_MAX, strdup("\n"), 1};
    size_t big = 3u << 20;
    fr[4] = (frame){5, malloc(big), big};
    for (size_t i = 0; i < big; i++) fr[4].data[i] = (char)(i * 31 + 7);
    fr[5] = (frame){-1700000000000, strdup("{\"type\":\"ping\"}"), 0};
    for (int i = 0; i < N; i++)
        if (fr[i].data && !fr[i].len) fr[i].len = strlen(fr[i].data);

    tp_record_writer *w;
    assert_int_equal(tp_record_writer_open(path, &w, err, sizeof err), 0);
    for (int i = 0; i < N; i++) assert_int_equal(tp_record_write(w, fr[i].ms, fr[i].data, fr[i].len), 0);
    assert_int_equal(tp_record_writer_close(w), 0);

    tp_record_reader *r;
    assert_int_equal(tp_record_reader_open(path, 4u << 20, &r, err, sizeof err), 0);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < N; i++) {
            int64_t ms;
            const char *f;
            size_t len;
            assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), 0);
            assert_int_equal(ms, fr[i].ms);
            assert_int_equal(len, fr[i].len);
            if (len) assert_memory_equal(f, fr[i].data, len);
        }
        int64_t ms;
        const char *f;
        size_t len;
        assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), TP_EEOF);
        assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), TP_EEOF);
        assert_int_equal(tp_record_rewind(r), 0);
    }
    tp_record_reader_close(r);
    for (int i = 0; i < N; i++) free(fr[i].data);
}

/* Every prefix of a two-frame file: the first frame comes out whenever it is
 * complete, and the reader then ends cleanly (never a crash, never a
 * half frame, never TP_EPARSE for a mere truncation). */
static void test_truncated_tail(void **state) {
    (void)state;
    char path[512], err[256];
    path_of(path, sizeof path, "trunc.rec");
    static const char full[] = "TPREC1\n10 5\nhello\n20 11\nhello world\n";
    size_t first_end = strlen("TPREC1\n10 5\nhello\n");
    for (size_t cut = 7; cut < sizeof full - 1; cut++) {
        write_raw(path, full, cut);
        tp_record_reader *r;
        assert_int_equal(tp_record_reader_open(path, 0, &r, err, sizeof err), 0);
        int64_t ms;
        const char *f;
        size_t len;
        int rc = tp_record_next(r, &ms, &f, &len, err, sizeof err);
        if (cut >= first_end) {
            assert_int_equal(rc, 0);
            assert_int_equal(ms, 10);
            assert_int_equal(len, 5);
            assert_memory_equal(f, "hello", 5);
            rc = tp_record_next(r, &ms, &f, &len, err, sizeof err);
        }
        assert_int_equal(rc, TP_EEOF);
        if (cut != 7 && cut != first_end) assert_non_null(strstr(err, "truncated record"));
        assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), TP_EEOF);
        tp_record_reader_close(r);
    }
}

static void expect_parse_error(const char *path, const char *content, int frames_before, const char *where) {
    char err[256];
    write_raw(path, content, strlen(content));
    tp_record_reader *r;
    assert_int_equal(tp_record_reader_open(path, 0, &r, err, sizeof err), 0);
    int64_t ms;
    const char *f;
    size_t len;
    for (int i = 0; i < frames_before; i++)
        assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), 0);
    assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), TP_EPARSE);
    if (!strstr(err, where)) fail_msg("error '%s' does not name '%s'", err, where);
    tp_record_reader_close(r);
}

static void test_corrupt(void **state) {
    (void)state;
    char path[512], err[256];
    path_of(path, sizeof path, "corrupt.rec");
    tp_record_reader *r = NULL;

    /* not a recording at all, or an empty file */
    write_raw(path, "{\"type\":\"trade\"}\n", 17);
    assert_int_equal(tp_record_reader_open(path, 0, &r, err, sizeof err), TP_EPARSE);
    assert_null(r);
    assert_non_null(strstr(err, "not a tickpipe recording"));
    write_raw(path, "", 0);
    assert_int_equal(tp_record_reader_open(path, 0, &r, err, sizeof err), TP_EPARSE);
    write_raw(path, "TPREC2\n", 7);
    assert_int_equal(tp_record_reader_open(path, 0, &r, err, sizeof err), TP_EPARSE);
    char missing[512];
    path_of(missing, sizeof missing, "missing.rec");
    assert_int_equal(tp_record_reader_open(missing, 0, &r, err, sizeof err), TP_EINVAL);

    expect_parse_error(path, "TPREC1\nabc 5\nhello\n", 0, "byte 7 (record #1)");
    expect_parse_error(path, "TPREC1\n10 5\nhello\n10\nx\n", 1, "byte 18 (record #2)");
    expect_parse_error(path, "TPREC1\n10 -5\nhello\n", 0, "record #1");
    expect_parse_error(path, "TPREC1\n10 5 \nhello\n", 0, "record #1");
    expect_parse_error(path, "TPREC1\n 10 5\nhello\n", 0, "record #1");
    expect_parse_error(path, "TPREC1\n10 4\nhello\n", 0, "not followed by a newline");
    expect_parse_error(path, "TPREC1\n10 99999999999999999999999\nx\n", 0, "record #1");
    expect_parse_error(path, "TPREC1\n1234567890123456789012345678901234567890123456789012 1\nx\n", 0,
                       "too long");
}

static void test_oversize(void **state) {
    (void)state;
    char path[512], err[256];
    path_of(path, sizeof path, "oversize.rec");
    tp_record_writer *w;
    char big[1000];
    memset(big, 'x', sizeof big);
    assert_int_equal(tp_record_writer_open(path, &w, err, sizeof err), 0);
    assert_int_equal(tp_record_write(w, 1, "small", 5), 0);
    assert_int_equal(tp_record_write(w, 2, big, sizeof big), 0);
    assert_int_equal(tp_record_write(w, 3, "after", 5), 0);
    assert_int_equal(tp_record_write(w, 4, big, 100), 0); /* exactly at the limit: kept */
    assert_int_equal(tp_record_writer_close(w), 0);

    tp_record_reader *r;
    assert_int_equal(tp_record_reader_open(path, 100, &r, err, sizeof err), 0);
    int64_t ms;
    const char *f;
    size_t len;
    assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), 0);
    assert_int_equal(ms, 1);
    assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), TP_ELIMIT);
    assert_non_null(strstr(err, "1000-byte frame"));
    assert_non_null(strstr(err, "record #2"));
    assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), 0);
    assert_int_equal(ms, 3);
    assert_memory_equal(f, "after", 5);
    assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), 0);
    assert_int_equal(ms, 4);
    assert_int_equal(len, 100);
    assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), TP_EEOF);
    tp_record_reader_close(r);

    /* an oversize frame cut short is a truncated tail, not an error */
    write_raw(path, "TPREC1\n1 5\nsmall\n2 1000\nxxxx", 28);
    assert_int_equal(tp_record_reader_open(path, 100, &r, err, sizeof err), 0);
    assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), 0);
    assert_int_equal(tp_record_next(r, &ms, &f, &len, err, sizeof err), TP_EEOF);
    tp_record_reader_close(r);
}

static void test_writer_errors(void **state) {
    (void)state;
    char err[256];
    tp_record_writer *w = (tp_record_writer *)1;
    assert_int_equal(tp_record_writer_open("/nonexistent-dir/x.rec", &w, err, sizeof err), TP_EIO);
    assert_null(w);
    assert_non_null(strstr(err, "/nonexistent-dir/x.rec"));
    /* a full disk is reported by write or close */
    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(tp_record_writer_open("/dev/full", &w, err, sizeof err), 0);
        static char chunk[70000];
        int failed = 0;
        for (int i = 0; i < 4 && !failed; i++) failed = tp_record_write(w, i, chunk, sizeof chunk) != 0;
        assert_true(tp_record_writer_close(w) != 0 || failed);
    }
}

/* capture --replay / produce --replay go through the source: trades of the
 * recorded frames arrive, pings are counted, oversize ones skipped. */
typedef struct seen {
    int trades;
    double sum;
} seen;
static int on_batch(void *ud, tp_batch *b) {
    seen *s = ud;
    for (size_t i = 0; i < b->n; i++) {
        s->trades++;
        s->sum += b->trades[i].price;
    }
    return 0;
}

static void test_source_replay(void **state) {
    (void)state;
    char path[512], err[256];
    path_of(path, sizeof path, "replay.rec");
    tp_record_writer *w;
    assert_int_equal(tp_record_writer_open(path, &w, err, sizeof err), 0);
    const char *t1 = "{\"data\":[{\"c\":[\"1\"],\"p\":10.5,\"s\":\"AAPL\",\"t\":1,\"v\":1},"
                     "{\"p\":2,\"s\":\"MSFT\",\"t\":2,\"v\":3}],\"type\":\"trade\"}";
    const char *t2 =
        "{\"data\":[{\"p\":100,\"s\":\"BINANCE:BTCUSDT\",\"t\":3,\"v\":0.5}],\"type\":\"trade\"}";
    assert_int_equal(tp_record_write(w, 100, t1, strlen(t1)), 0);
    assert_int_equal(tp_record_write(w, 101, "{\"type\":\"ping\"}", 15), 0);
    char big[3000];
    memset(big, ' ', sizeof big);
    assert_int_equal(tp_record_write(w, 102, big, sizeof big), 0);
    assert_int_equal(tp_record_write(w, 103, t2, strlen(t2)), 0);
    assert_int_equal(tp_record_writer_close(w), 0);

    tp_source_config cfg;
    tp_source_config_default(&cfg);
    cfg.replay_path = path;
    cfg.max_frame_bytes = 2048;
    seen s = {0};
    tp_source *src;
    assert_int_equal(tp_source_new(&cfg, on_batch, &s, &src, err, sizeof err), 0);
    assert_int_equal(tp_source_run(src, err, sizeof err), 0);
    tp_source_stats st;
    tp_source_get_stats(src, &st);
    tp_source_free(src);
    assert_int_equal(s.trades, 3);
    assert_true(s.sum == 112.5);
    assert_int_equal(st.pings, 1);
    assert_int_equal(st.oversize, 1);
    assert_int_equal(st.trades, 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_bytes),    cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated_tail), cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_oversize),       cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_source_replay),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
