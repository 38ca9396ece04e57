/* test_config_file.c - the config file (core/config_file.h) and its keys in
 * the option engine (core/options.h): every flag type through the real flag
 * table, units, lists, what is refused with its line (unknown keys with "did
 * you mean", bad values with the flag's own message, duplicates, a top level
 * that is not a mapping, nesting, empty values, aliases, a second document,
 * YAML errors), empty files, hostile input (size, depth, NUL, bad UTF-8),
 * the precedence flag > environment > file > default, and --print-config
 * (masked secrets, output that reads back as the same settings). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cmd/commands.h"
#include "cmd/flags.h"
#include "core/config.h"
#include "core/config_file.h"
#include "core/err.h"
#include "core/options.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(tp_conf_file *f, const char *text) {
    return tp_conf_parse("t.yaml", text, strlen(text), f);
}

/* The errors of f joined with newlines (static). */
static const char *errors(const tp_conf_file *f) {
    static char buf[8192];
    buf[0] = 0;
    for (size_t i = 0; i < f->nerrors; i++) {
        strncat(buf, f->errors[i], sizeof buf - strlen(buf) - 2);
        strcat(buf, "\n");
    }
    return buf;
}

/* Parse text and apply it to spec's defaults; the number of errors. */
static int apply(const tp_cmd_spec *spec, tp_cmd_args *a, tp_conf_file *f, const char *text) {
    tp_cmd_args_init(a);
    int rc = parse(f, text);
    if (rc && rc != TP_EINVAL) return -1;
    tp_conf_check_keys(tp_flag_table, f);
    assert_true(tp_cmd_check_config(spec, a, f) >= 0);
    return (int)f->nerrors;
}

static void done(tp_cmd_args *a, tp_conf_file *f) {
    tp_cmd_args_free(a);
    tp_conf_free(f);
}

static void test_every_type(void **state) {
    (void)state;
    tp_cmd_args a;
    tp_conf_file f;
    assert_int_equal(apply(&tp_spec_run, &a, &f,
                           "# a comment\n"
                           "store: sqlite:/tmp/x.db       # STR\n"
                           "validate: yes                 # SWITCH\n"
                           "no-http: false\n"
                           "max-frame: 65536              # INT\n"
                           "sim-rate: 12.5                # NUM\n"
                           "allowed-lateness: 250ms       # TIME, suffix\n"
                           "emit-interval: 2              # TIME, bare seconds\n"
                           "flush-interval: 50            # TIME, bare milliseconds\n"
                           "idle-expiry: 2m\n"
                           "retain-trades: 3d\n"
                           "log-level: warn               # CUSTOM\n"
                           "token: \"a,b\"                  # CUSTOM, repeatable\n"
                           "symbols: [AAPL, 'BINANCE:BTCUSDT']\n"
                           "http: 0.0.0.0:8080\n"),
                     0);
    assert_string_equal(a.store.store, "sqlite:/tmp/x.db");
    assert_int_equal(a.feed.validate, 1);
    assert_int_equal(a.run.no_http, 0);
    assert_int_equal(a.feed.max_frame, 65536);
    assert_true(a.run.sim_rate == 12.5);
    assert_int_equal(a.windows.allowed_lateness_ms, 250);
    assert_int_equal(a.windows.emit_interval_ms, 2000);
    assert_int_equal(a.windows.flush_interval_ms, 50);
    assert_int_equal(a.windows.idle_expiry_ms, 120000);
    assert_int_equal(a.durable.retain_trades_ms, 3 * 86400000LL);
    assert_string_equal(a.log.level, "warn");
    assert_int_equal(a.api.token.n, 1);
    assert_string_equal(a.api.token.arg[0], "a,b");
    assert_string_equal(a.feed.symbols, "AAPL,BINANCE:BTCUSDT");
    assert_string_equal(a.http.listen, "0.0.0.0:8080");
    /* keys left out keep their defaults */
    assert_int_equal(a.windows.flush_max_trades, 20000);
    done(&a, &f);
    tp_cfg_log_level("info", NULL, 0); /* log-level: warn above set the level */
}

static void test_lists(void **state) {
    (void)state;
    tp_cmd_args a;
    tp_conf_file f;
    assert_int_equal(apply(&tp_spec_produce, &a, &f,
                           "token:\n  - t1\n  - t2\n"
                           "kafka-property: [message.timeout.ms=60000, \"sasl.password=x y\"]\n"
                           "brokers: [a:9092, b:9093]\n"
                           "symbols: '[\"AAPL\",\"MSFT\"]'\n"),
                     0);
    assert_int_equal(a.api.token.n, 2); /* one value per item: like --token t1 --token t2 */
    assert_string_equal(a.api.token.arg[1], "t2");
    assert_int_equal(a.kafka.props.n, 2);
    assert_string_equal(a.kafka.props.kv[1], "sasl.password=x y");
    assert_string_equal(a.kafka.brokers, "a:9092,b:9093"); /* one value: the items joined */
    assert_string_equal(a.feed.symbols, "[\"AAPL\",\"MSFT\"]");
    done(&a, &f);
    /* a list where one value is wanted, item by item for a number */
    assert_int_equal(apply(&tp_spec_run, &a, &f, "max-frame: [1, 2]\n"), 1);
    assert_non_null(strstr(errors(&f), "t.yaml:1: --max-frame: '1,2' is not"));
    done(&a, &f);
    assert_int_equal(apply(&tp_spec_run, &a, &f, "validate: [true]\n"), 1);
    assert_non_null(strstr(errors(&f), "t.yaml:1: --validate: '[...]' is not true or false"));
    done(&a, &f);
}

static void test_bad_keys_and_values(void **state) {
    (void)state;
    tp_cmd_args a;
    tp_conf_file f;
    assert_int_equal(apply(&tp_spec_run, &a, &f,
                           "store: sqlite:x.db\n"
                           "alowed-lateness: 5\n"
                           "flush-interval: 12abc\n"
                           "zzzzzzzz: 1\n"
                           "config: other.yaml\n"
                           "validate: maybe\n"
                           "log-level: loud\n"),
                     6);
    const char *e = errors(&f);
    assert_non_null(strstr(e,
                           "t.yaml:2: unknown key 'alowed-lateness': no command takes --alowed-lateness; did "
                           "you mean 'allowed-lateness'?"));
    /* the flag's own message, with the file and line in front */
    char flag_err[512];
    int64_t ms;
    tp_opt_parse_time("12abc", "--flush-interval", "ms", 1, 3600000, &ms, NULL, NULL, flag_err,
                      sizeof flag_err);
    char want[600];
    snprintf(want, sizeof want, "t.yaml:3: %s\n", flag_err);
    assert_non_null(strstr(e, want));
    assert_non_null(strstr(e, "t.yaml:4: unknown key 'zzzzzzzz': no command takes --zzzzzzzz (see"));
    assert_non_null(strstr(e, "t.yaml:5: config cannot be set in a config file"));
    assert_non_null(strstr(e, "t.yaml:6: --validate: 'maybe' is not true or false"));
    assert_non_null(strstr(e, "t.yaml:7: --log-level 'loud' is not one of error, warn, info, debug"));
    assert_string_equal(a.store.store, "sqlite:x.db"); /* a good key beside bad ones still parses */
    done(&a, &f);
    /* a key of another command is not an error here (simulate's --rate in run) */
    assert_int_equal(apply(&tp_spec_run, &a, &f, "rate: 5\nstore: sqlite:y.db\n"), 0);
    done(&a, &f);
    /* the old spelling and the new one both set: refused */
    assert_int_equal(apply(&tp_spec_process, &a, &f, "progress: 3\nprogress-interval: 4\n"), 1);
    assert_non_null(
        strstr(errors(&f), "t.yaml:2: progress-interval: set twice (also as progress at line 1)"));
    done(&a, &f);
    assert_int_equal(apply(&tp_spec_process, &a, &f, "progress: 3\n"), 0);
    assert_int_equal(a.progress.interval_ms, 3000);
    done(&a, &f);
}

static void test_structure(void **state) {
    (void)state;
    tp_conf_file f;
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"store: a\nhttp: b\nstore: c\n", "t.yaml:3: store given twice (first at line 1)"},
        {"just a string\n",
         "t.yaml:1: the top level must be a mapping of flag names to values (key: value), not "
         "a single value"},
        {"- store\n- http\n", "t.yaml:1: the top level must be a mapping"},
        {"\n\nstore:\n  url: x\n", "t.yaml:4: store: nested sections are not supported"},
        {"run:\n  store: x\n", "t.yaml:2: run: nested sections are not supported"},
        {"symbols: [[A], B]\n", "t.yaml:1: symbols: a list item must be a plain value"},
        {"store:\n", "t.yaml:1: store has no value (write \"\" for an empty string)"},
        {"store: ~\n", "t.yaml:1: store has no value"},
        {"symbols: [A, ~]\n", "t.yaml:1: symbols: an empty list item"},
        {"store: &s x\nhttp: *s\n", "t.yaml:1: store: anchors and aliases are not supported"},
        {"store: x\n---\nhttp: y\n", "t.yaml:2: only one YAML document"},
        {"store: x\nhttp: [a, b\n", "t.yaml:3: not valid YAML"},
        {"store: \"x\n", "not valid YAML"},
        {"? [a, b]\n: c\n", "t.yaml:1: a key must be a flag's name"},
        {"store: a\n\tstore2: b\n", "not valid YAML"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&f, bad[i].text), TP_EINVAL);
        if (!strstr(errors(&f), bad[i].err)) fail_msg("%s: got %s", bad[i].text, errors(&f));
        tp_conf_free(&f);
    }
    /* errors are collected, not only the first */
    assert_int_equal(parse(&f, "a: 1\na: 2\nb:\nc: {x: 1}\nd: ok\n"), TP_EINVAL);
    assert_int_equal(f.nerrors, 3);
    assert_int_equal(f.n, 2); /* a and d */
    assert_string_equal(tp_conf_find(&f, "d")->values[0], "ok");
    assert_int_equal(tp_conf_find(&f, "d")->line, 5);
    tp_conf_free(&f);
    /* nothing at all is no settings */
    const char *empty[] = {"", "# only a comment\n", "---\n", "--- \n...\n", "\n\n"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        assert_int_equal(parse(&f, empty[i]), 0);
        assert_int_equal(f.n, 0);
        tp_conf_free(&f);
    }
    /* quoted values are text as they are; "" is an empty string */
    assert_int_equal(parse(&f, "dlq-topic: \"\"\nstore: 'null'\nsymbols: \"a: b\"\n"), 0);
    assert_string_equal(tp_conf_find(&f, "dlq-topic")->values[0], "");
    assert_string_equal(tp_conf_find(&f, "store")->values[0], "null");
    assert_string_equal(tp_conf_find(&f, "symbols")->values[0], "a: b");
    tp_conf_free(&f);
    /* a file that does not exist */
    assert_int_equal(tp_conf_load("/nonexistent/x.yaml", &f), TP_EIO);
    assert_non_null(strstr(errors(&f), "/nonexistent/x.yaml: cannot read the config file: No such file"));
    tp_conf_free(&f);
}

static void test_hostile(void **state) {
    (void)state;
    tp_conf_file f;
    /* over the size limit */
    size_t big = TP_CONF_MAX_BYTES + 1;
    char *buf = malloc(big + 1);
    assert_non_null(buf);
    memset(buf, '#', big);
    buf[big] = 0;
    assert_int_equal(tp_conf_parse("t.yaml", buf, big, &f), TP_EINVAL);
    assert_non_null(strstr(errors(&f), "larger than"));
    tp_conf_free(&f);
    /* deep nesting, just under the size limit: refused at once (libyaml's
     * scanner is quadratic in the depth: 400000 levels take hours) */
    size_t depth = 400000;
    memcpy(buf, "store: ", 7);
    memset(buf + 7, '[', depth);
    memset(buf + 7 + depth, ']', depth);
    buf[7 + 2 * depth] = 0;
    assert_int_equal(parse(&f, buf), TP_EINVAL);
    assert_non_null(strstr(errors(&f), "t.yaml:1: lists or mappings nested more than 16 deep"));
    assert_int_equal(f.n, 0);
    tp_conf_free(&f);
    /* ... but brackets in quoted text and comments are not nesting */
    assert_int_equal(parse(&f, "# [[[[[[[[[[[[[[[[[[[[[[\nstore: \"[[[[[[[[[[[[[[[[[[[[[[\\\"[\"\n"
                               "symbols: ['[[[[[[[[[[[[[[[[[[[[[', \"{{{{{{{{{{{{{{{{{{{{{{{{\"]\n"),
                     0);
    assert_string_equal(f.items[0].values[0], "[[[[[[[[[[[[[[[[[[[[[[\"[");
    tp_conf_free(&f);
    /* many keys: capped */
    size_t len = 0;
    for (int i = 0; i < TP_CONF_MAX_ITEMS + 10; i++) len += (size_t)sprintf(buf + len, "k%d: v\n", i);
    assert_int_equal(parse(&f, buf), TP_EINVAL);
    assert_non_null(strstr(errors(&f), "more than 4096 keys"));
    assert_int_equal(f.n, TP_CONF_MAX_ITEMS);
    tp_conf_free(&f);
    /* a long list: capped */
    len = (size_t)sprintf(buf, "symbols: [");
    for (int i = 0; i < TP_CONF_MAX_ITEMS + 10; i++) len += (size_t)sprintf(buf + len, "S%d, ", i);
    strcpy(buf + len, "Z]\n");
    assert_int_equal(parse(&f, buf), TP_EINVAL);
    assert_non_null(strstr(errors(&f), "t.yaml:1: symbols: more than 4096 list items"));
    tp_conf_free(&f);
    /* errors are capped too */
    len = 0;
    for (int i = 0; i < 500; i++) len += (size_t)sprintf(buf + len, "k%d:\n", i);
    assert_int_equal(parse(&f, buf), TP_EINVAL);
    assert_int_equal(f.nerrors, TP_CONF_MAX_ERRORS);
    tp_conf_free(&f);
    /* a long value is kept whole */
    memcpy(buf, "store: ", 7);
    memset(buf + 7, 'x', 500000);
    buf[500007] = 0;
    assert_int_equal(parse(&f, buf), 0);
    assert_int_equal(strlen(f.items[0].values[0]), 500000);
    tp_conf_free(&f);
    /* NUL bytes and bad UTF-8 are YAML errors */
    assert_int_equal(tp_conf_parse("t.yaml", "store: a\0b\n", 11, &f), TP_EINVAL);
    tp_conf_free(&f);
    assert_int_equal(parse(&f, "store: \xff\xfe\n"), TP_EINVAL);
    assert_non_null(strstr(errors(&f), "not valid YAML"));
    tp_conf_free(&f);
    free(buf);
}

static void write_file(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_precedence(void **state) {
    (void)state;
    char path[] = "/tmp/tp_conf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "store: sqlite:file.db\nhttp: 127.0.0.1:1\nmax-limit: 7\nbrokers: file:9092\n");
    setenv("TICKPIPE_HTTP", "127.0.0.1:2", 1);
    setenv("TICKPIPE_CONFIG", path, 1);
    tp_cmd_args a;
    tp_cmd_args_init(&a);
    char *argv[] = {"serve", "--store", "sqlite:flag.db", NULL};
    assert_int_equal(tp_cmd_parse(&tp_spec_serve, &a, 3, argv, NULL), -1);
    assert_string_equal(a.store.store, "sqlite:flag.db"); /* flag over file */
    assert_string_equal(a.http.listen, "127.0.0.1:2");    /* environment over file */
    assert_int_equal(a.http.max_limit, 7);                /* file over default */
    assert_int_equal(a.serve.poll_ms, 1000);              /* default */
    tp_cmd_args_free(&a);
    /* a variable the command reads itself (KAFKA_SERVER for --brokers) wins too */
    setenv("KAFKA_SERVER", "env", 1);
    tp_cmd_args_init(&a);
    char *argv2[] = {"process", NULL};
    assert_int_equal(tp_cmd_parse(&tp_spec_process, &a, 1, argv2, NULL), -1);
    assert_null(a.kafka.brokers);
    tp_cmd_args_free(&a);
    unsetenv("KAFKA_SERVER");
    tp_cmd_args_init(&a);
    assert_int_equal(tp_cmd_parse(&tp_spec_process, &a, 1, argv2, NULL), -1);
    assert_string_equal(a.kafka.brokers, "file:9092");
    tp_cmd_args_free(&a);
    /* --config beats TICKPIPE_CONFIG; a bad file is a usage error */
    write_file(path, "store: [\n");
    tp_cmd_args_init(&a);
    assert_int_equal(tp_cmd_parse(&tp_spec_serve, &a, 1, argv, NULL), TP_EXIT_USAGE);
    tp_cmd_args_free(&a);
    char *argv3[] = {"serve", "--config", "/nonexistent.yaml", NULL};
    tp_cmd_args_init(&a);
    assert_int_equal(tp_cmd_parse(&tp_spec_serve, &a, 3, argv3, NULL), TP_EXIT_USAGE);
    tp_cmd_args_free(&a);
    unsetenv("TICKPIPE_CONFIG");
    unsetenv("TICKPIPE_HTTP");
    unlink(path);
}

/* --print-config's stdout for argv (the parse's status in *status). */
static char *print_config(const tp_cmd_spec *spec, int argc, char **argv, int *status) {
    char out[] = "/tmp/tp_conf_out_XXXXXX";
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    tp_cmd_args a;
    tp_cmd_args_init(&a);
    *status = tp_cmd_parse(spec, &a, argc, argv, NULL);
    tp_cmd_args_free(&a);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    char *text = calloc(1, 65536);
    assert_non_null(text);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, text, 65535);
    assert_true(n > 0);
    close(fd);
    unlink(out);
    return text;
}

static void test_print_config(void **state) {
    (void)state;
    char path[] = "/tmp/tp_conf_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "store: postgresql://u:hunter2@db/x?sslmode=require&password=pw2\n"
                     "kafka-property: [sasl.password=kpw3, client.id=me, ssl.key.password=kpw4]\n"
                     "symbols: [AAPL, MSFT]\ntoken: tok5\nvalidate: true\n");
    setenv("FINNHUB_API_TOKEN", "tok6", 1);
    char *argv[] = {"x", "--config", path, "--print-config", "--max-limit", "8", "--max-limit", "9", NULL};
    static const tp_cmd_spec spec = {
        .name = "x",
        .synopsis = "",
        .about = "",
        .groups = {&tp_flags_api, &tp_flags_feed, &tp_flags_kafka, &tp_flags_store, &tp_flags_http,
                   &tp_flags_config},
    };
    int status;
    char *text = print_config(&spec, 8, argv, &status);
    unsetenv("FINNHUB_API_TOKEN");
    assert_int_equal(status, TP_EXIT_OK);
    const char *secrets[] = {"hunter2", "pw2", "kpw3", "kpw4", "tok5", "tok6"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(text, secrets[i])) fail_msg("%s printed:\n%s", secrets[i], text);
    assert_non_null(strstr(text, "store: \"postgresql://u:***@db/x?sslmode=require&password=***\"  # file "));
    assert_non_null(strstr(text, "kafka-property: [\"sasl.password=***\", \"client.id=me\", "
                                 "\"ssl.key.password=***\"]  # file "));
    assert_non_null(strstr(text, "token: \"***\"  # env FINNHUB_API_TOKEN\n"));
    assert_non_null(strstr(text, "max-limit: 9  # flag --max-limit\n")); /* the last one */
    assert_non_null(strstr(text, "validate: true  # file "));
    assert_non_null(strstr(text, "topic: market  # default\n"));
    assert_non_null(strstr(text, "# rest-url: not set"));
    /* the output reads back as a config file with the same settings */
    tp_conf_file f;
    tp_cmd_args a;
    assert_int_equal(apply(&tp_spec_produce, &a, &f, text), 0);
    assert_string_equal(a.feed.symbols, "AAPL,MSFT");
    assert_int_equal(a.feed.validate, 1);
    assert_string_equal(a.kafka.props.kv[1], "client.id=me");
    assert_string_equal(a.kafka.topic, "market");
    done(&a, &f);
    free(text);
    unlink(path);
}

int main(void) {
    /* the tests set the variables they are about; none from outside */
    const char *vars[] = {"TICKPIPE_CONFIG",
                          "TICKPIPE_STORE",
                          "TICKPIPE_HTTP",
                          "TICKPIPE_LOG",
                          "KAFKA_SERVER",
                          "KAFKA_PORT",
                          "KAFKA_TOPIC_NAME",
                          "FINNHUB_API_TOKEN",
                          "FINNHUB_API_TOKENS",
                          "FINNHUB_WS_URL",
                          "FINNHUB_REST_URL",
                          "FINNHUB_STOCKS_TICKERS",
                          "FINNHUB_VALIDATE_TICKERS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_bad_keys_and_values),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_print_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
