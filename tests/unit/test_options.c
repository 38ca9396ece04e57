/* test_options.c - the option-table engine (core/options.h): defaults,
 * flag over environment over default, units and suffixes of times,
 * aliases, repeatable custom flags, positional counts, usage errors; the
 * listen-address parser (core/listen.h); the shared groups parse their own
 * defaults in every command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cmd/commands.h"
#include "cmd/flags.h"
#include "core/err.h"
#include "core/listen.h"
#include "core/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct t_vals {
    const char *name;
    int on;
    int64_t count, wait_ms, quick_ms;
    double ratio;
    int nrep;
} t_vals;

static int count_rep(const char *arg, void *field, char *err, size_t errlen) {
    if (!strcmp(arg, "bad")) return tp_seterr(err, errlen, TP_EINVAL, "--rep: 'bad' is refused");
    (*(int *)field)++;
    return 0;
}

static const tp_opt_group k_tg;
static const tp_opt k_t[] = {
    {.group = &k_tg,
     .name = "name",
     .arg = "S",
     .env = "TP_TEST_NAME",
     .def = "dflt",
     .help = "a name",
     .type = TP_OPT_STR,
     .off = offsetof(t_vals, name),
     .min = 1},
    {.group = &k_tg,
     .name = "on",
     .env = "TP_TEST_ON",
     .help = "a switch",
     .type = TP_OPT_SWITCH,
     .off = offsetof(t_vals, on)},
    {.group = &k_tg,
     .name = "count",
     .arg = "N",
     .def = "3",
     .help = "a count",
     .type = TP_OPT_INT,
     .off = offsetof(t_vals, count),
     .min = 1,
     .max = 10},
    {.group = &k_tg,
     .name = "wait",
     .arg = "S",
     .def = "1.5",
     .unit = "s",
     .help = "a time in s",
     .type = TP_OPT_TIME,
     .off = offsetof(t_vals, wait_ms),
     .max = 100,
     .warn_above = 60},
    {.group = &k_tg,
     .name = "quick",
     .arg = "MS",
     .def = "200",
     .unit = "ms",
     .help = "a time in ms",
     .type = TP_OPT_TIME,
     .off = offsetof(t_vals, quick_ms),
     .max = 1000},
    {.group = &k_tg,
     .name = "ratio",
     .arg = "F",
     .def = "0.5",
     .help = "a ratio",
     .type = TP_OPT_NUM,
     .off = offsetof(t_vals, ratio),
     .max = 1},
    {.group = &k_tg,
     .name = "rep",
     .short_name = 'R',
     .arg = "X",
     .help = "repeatable",
     .type = TP_OPT_CUSTOM,
     .off = offsetof(t_vals, nrep),
     .parse = count_rep,
     .repeatable = 1},
    {.group = &k_tg, .name = "old-wait", .arg = "S", .alias_of = "wait", .help = "old name"},
    {0},
};
static const tp_opt_group k_tg = {"t", "Test", k_t};
static const tp_opt_default k_tdefs[] = {{"count", "7", NULL}, {NULL, NULL, NULL}};
static const tp_cmd_spec k_spec = {.name = "t",
                                   .synopsis = "[OPTIONS] [ARG]",
                                   .about = "test\n",
                                   .groups = {&k_tg},
                                   .defaults = k_tdefs,
                                   .max_args = 1};

static int parse(t_vals *v, int *first, int argc, ...) {
    char *argv[16];
    va_list ap;
    va_start(ap, argc);
    argv[0] = "t";
    for (int i = 1; i < argc; i++) argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    memset(v, 0, sizeof *v);
    return tp_cmd_parse(&k_spec, v, argc, argv, first);
}

static void test_defaults_env_flags(void **state) {
    (void)state;
    t_vals v;
    int first = 0;
    unsetenv("TP_TEST_NAME");
    unsetenv("TP_TEST_ON");
    assert_int_equal(parse(&v, &first, 1), -1);
    assert_string_equal(v.name, "dflt");
    assert_int_equal(v.count, 7); /* the command's override of the default */
    assert_int_equal(v.wait_ms, 1500);
    assert_int_equal(v.quick_ms, 200);
    assert_true(v.ratio == 0.5);
    assert_int_equal(v.on, 0);
    assert_int_equal(first, 1);

    setenv("TP_TEST_NAME", "fromenv", 1);
    setenv("TP_TEST_ON", "yes", 1);
    assert_int_equal(parse(&v, &first, 1), -1);
    assert_string_equal(v.name, "fromenv");
    assert_int_equal(v.on, 1);
    setenv("TP_TEST_ON", "0", 1);
    assert_int_equal(parse(&v, &first, 1), -1);
    assert_int_equal(v.on, 0);
    /* the flag wins over the environment */
    assert_int_equal(parse(&v, &first, 5, "--name", "flag", "--count", "2"), -1);
    assert_string_equal(v.name, "flag");
    assert_int_equal(v.count, 2);
    unsetenv("TP_TEST_NAME");
    unsetenv("TP_TEST_ON");
    /* positional argument after the flags (getopt permutes) */
    assert_int_equal(parse(&v, &first, 3, "pos", "--on"), -1);
    assert_int_equal(v.on, 1);
    assert_int_equal(first, 2);
}

static void test_times(void **state) {
    (void)state;
    t_vals v;
    assert_int_equal(parse(&v, NULL, 3, "--wait", "250ms"), -1);
    assert_int_equal(v.wait_ms, 250);
    assert_int_equal(parse(&v, NULL, 3, "--wait", "1m"), -1);
    assert_int_equal(v.wait_ms, 60000);
    assert_int_equal(parse(&v, NULL, 3, "--wait", "2.5"), -1);
    assert_int_equal(v.wait_ms, 2500);
    assert_int_equal(parse(&v, NULL, 3, "--quick", "40"), -1); /* bare = the flag's unit, ms */
    assert_int_equal(v.quick_ms, 40);
    assert_int_equal(parse(&v, NULL, 3, "--quick", "0.5s"), -1);
    assert_int_equal(v.quick_ms, 500);
    /* range is checked in the flag's unit, whatever the suffix */
    assert_int_equal(parse(&v, NULL, 3, "--quick", "2s"), TP_EXIT_USAGE);
    assert_int_equal(parse(&v, NULL, 3, "--wait", "101"), TP_EXIT_USAGE);
    assert_int_equal(parse(&v, NULL, 3, "--wait", "5x"), TP_EXIT_USAGE);
    assert_int_equal(parse(&v, NULL, 3, "--wait", "-1"), TP_EXIT_USAGE);
    assert_int_equal(parse(&v, NULL, 3, "--wait", ""), TP_EXIT_USAGE);

    int64_t ms = 0;
    int bare = 0;
    double bv = 0;
    char err[256];
    assert_int_equal(tp_opt_parse_time("90", "--x", "s", 0, 100, &ms, &bare, &bv, err, sizeof err), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(bare, 1);
    assert_int_equal(tp_opt_parse_time("90s", "--x", "s", 0, 100, &ms, &bare, &bv, err, sizeof err), 0);
    assert_int_equal(bare, 0);
    assert_int_equal(tp_opt_parse_time("nan", "--x", "s", 0, 100, &ms, NULL, NULL, err, sizeof err),
                     TP_EINVAL);
    assert_non_null(strstr(err, "--x: 'nan' is not a time from 0 to 100 s"));
}

static void test_errors_alias_repeat(void **state) {
    (void)state;
    t_vals v;
    assert_int_equal(parse(&v, NULL, 2, "--bogus"), TP_EXIT_USAGE);
    assert_int_equal(parse(&v, NULL, 2, "--count"), TP_EXIT_USAGE); /* missing value */
    assert_int_equal(parse(&v, NULL, 3, "--count", "11"), TP_EXIT_USAGE);
    assert_int_equal(parse(&v, NULL, 3, "--name", ""), TP_EXIT_USAGE); /* min > 0: not empty */
    assert_int_equal(parse(&v, NULL, 3, "a", "b"), TP_EXIT_USAGE);     /* max_args 1 */
    assert_int_equal(parse(&v, NULL, 3, "--ratio", "1.5"), TP_EXIT_USAGE);
    assert_int_equal(parse(&v, NULL, 2, "--help"), TP_EXIT_OK);
    /* the old spelling parses as the new one */
    assert_int_equal(parse(&v, NULL, 3, "--old-wait", "4"), -1);
    assert_int_equal(v.wait_ms, 4000);
    /* repeatable custom flag, short and long */
    assert_int_equal(parse(&v, NULL, 5, "-R", "a", "--rep", "b"), -1);
    assert_int_equal(v.nrep, 2);
    assert_int_equal(parse(&v, NULL, 3, "-R", "bad"), TP_EXIT_USAGE);
}

static void test_help_and_dump(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tp_cmd_help(&k_spec, f);
    fclose(f);
    assert_non_null(strstr(buf, "Usage: tickpipe t [OPTIONS] [ARG]"));
    assert_non_null(strstr(buf, "--wait S"));
    assert_non_null(strstr(buf, "(seconds; default 1.5)"));
    assert_non_null(strstr(buf, "(env TP_TEST_NAME; default dflt)"));
    assert_non_null(strstr(buf, "-R, --rep X"));
    assert_non_null(strstr(buf, "default 7")); /* the override */
    assert_null(strstr(buf, "old-wait"));      /* aliases are hidden */
    free(buf);
    f = open_memstream(&buf, &len);
    tp_cmd_dump_flags(&k_spec, f);
    fclose(f);
    assert_non_null(strstr(buf, "t\t--old-wait\t\tS\t\t1.5\ts\ttime\twait\tt\t"));
    free(buf);
}

/* Every real command's defaults parse (a table with a bad default fails
 * every run of the command, so catch it here), and --help works. */
static void test_real_specs(void **state) {
    (void)state;
    const tp_cmd_spec *specs[] = {&tp_spec_run,     &tp_spec_simulate, &tp_spec_capture, &tp_spec_produce,
                                  &tp_spec_process, &tp_spec_serve,    &tp_spec_symbols};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        tp_cmd_help(specs[i], f);
        fclose(f);
        assert_true(len > 200);
        free(buf);
    }
    static const tp_cmd_spec spec = {
        .name = "x",
        .synopsis = "",
        .about = "",
        .groups = {&tp_flags_api, &tp_flags_feed, &tp_flags_store, &tp_flags_windows, &tp_flags_http,
                   &tp_flags_stop, &tp_flags_progress, &tp_flags_log},
    };
    tp_cmd_args a;
    tp_cmd_args_init(&a);
    char *argv[] = {"x", "--emit-interval", "250ms", "--progress", "2", NULL};
    assert_int_equal(tp_cmd_parse(&spec, &a, 5, argv, NULL), -1);
    assert_int_equal(a.windows.emit_interval_ms, 250);
    assert_int_equal(a.windows.allowed_lateness_ms, 15000);
    assert_int_equal(a.windows.flush_interval_ms, 200);
    assert_int_equal(a.feed.stale_timeout_ms, 90000);
    assert_int_equal(a.feed.max_reconnects, -1);
    assert_int_equal(a.progress.interval_ms, 2000); /* --progress is --progress-interval */
    assert_string_equal(a.store.store, "sqlite:data/tickpipe.db");
    assert_string_equal(a.http.listen, "127.0.0.1:8080");
    tp_cmd_args_free(&a);
}

static void test_listen(void **state) {
    (void)state;
    tp_listen_addr a;
    char err[256], url[300];
    assert_int_equal(tp_listen_parse("127.0.0.1:8080", "--http", "x", &a, err, sizeof err), 0);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 8080);
    assert_int_equal(tp_listen_parse(":0", "--http", "x", &a, err, sizeof err), 0);
    assert_string_equal(a.host, "");
    assert_int_equal(a.port, 0);
    assert_int_equal(tp_listen_parse("*:9", "--http", "x", &a, err, sizeof err), 0);
    assert_string_equal(a.host, "");
    assert_int_equal(tp_listen_parse("8765", "--listen", "x", &a, err, sizeof err), 0);
    assert_int_equal(a.port, 8765);
    assert_int_equal(tp_listen_parse("[::1]:443", "--http", "x", &a, err, sizeof err), 0);
    assert_string_equal(a.host, "::1");
    assert_int_equal(tp_listen_parse("localhost:1", "--http", "x", &a, err, sizeof err), 0);
    assert_string_equal(a.host, "127.0.0.1");
    const char *bad[] = {"no-port", "host:", "host:65536", "host:-1", "[::1]8080", "[::1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tp_listen_parse(bad[i], "--http", "127.0.0.1:8080", &a, err, sizeof err), TP_EINVAL);
        assert_non_null(strstr(err, "--http '"));
        assert_non_null(strstr(err, "expected ADDR:PORT, e.g. 127.0.0.1:8080"));
    }
    tp_listen_url("http", "0.0.0.0:80", 8080, url, sizeof url);
    assert_string_equal(url, "http://127.0.0.1:8080");
    tp_listen_url("ws", "[::1]:0", 5, url, sizeof url);
    assert_string_equal(url, "ws://[::1]:5");
    tp_listen_url("http", "10.0.0.1:0", 7, url, sizeof url);
    assert_string_equal(url, "http://10.0.0.1:7");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_env_flags),  cmocka_unit_test(test_times),
        cmocka_unit_test(test_errors_alias_repeat), cmocka_unit_test(test_help_and_dump),
        cmocka_unit_test(test_real_specs),          cmocka_unit_test(test_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
