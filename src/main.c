/* main.c - the tickpipe command: dispatch to a subcommand. */
#include "cmd/commands.h"
#include "core/log.h"
#include "core/suggest.h"
#include "sink/store_forms.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TP_VERSION
#define TP_VERSION "0.0.0"
#endif

static const struct {
    const char *name;
    tp_cmd_fn fn;
    const tp_cmd_spec *spec;
    const char *summary;
} k_cmds[] = {
    {"run", tp_cmd_run, &tp_spec_run, "the whole pipeline in one process: feed, windows, store, dashboard"},
    {"simulate", tp_cmd_simulate, &tp_spec_simulate,
     "a Finnhub-compatible WebSocket server (synthetic market or replay)"},
    {"capture", tp_cmd_capture, &tp_spec_capture,
     "connect to a feed; print trades as JSON lines or record raw frames"},
    {"produce", tp_cmd_produce, &tp_spec_produce, "feed -> Avro -> Kafka (the producer)"},
    {"process", tp_cmd_process, &tp_spec_process,
     "Kafka -> transforms and windows -> store (the stream processor)"},
    {"serve", tp_cmd_serve, &tp_spec_serve, "dashboard, REST API and /metrics over a store"},
    {"archive", tp_cmd_archive, &tp_spec_archive, "a store's days as Parquet files, Hive-partitioned"},
    {"export", tp_cmd_export, &tp_spec_export, "a table of a store as Parquet, CSV or JSON lines"},
    {"symbols", tp_cmd_symbols, &tp_spec_symbols, "Finnhub symbol search"},
    {"config", tp_cmd_config, &tp_spec_config, "check a config file (tickpipe config check FILE)"},
};

/* `tickpipe help-flags [--markdown] [COMMAND...]`, not in the usage: every
 * flag of every command from the option tables, one tab-separated line
 * each (or the README's markdown tables), for the tests and
 * scripts/readme-flags.sh. */
static int help_flags(int argc, char **argv) {
    int md = argc > 1 && !strcmp(argv[1], "--markdown");
    int first = md ? 2 : 1, any = 0;
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++) {
        int want = first >= argc;
        for (int a = first; a < argc; a++) want |= !strcmp(argv[a], k_cmds[i].name);
        if (!want) continue;
        any = 1;
        if (md)
            tp_cmd_markdown_flags(k_cmds[i].spec, stdout);
        else
            tp_cmd_dump_flags(k_cmds[i].spec, stdout);
    }
    if (!any) {
        fprintf(stderr, "tickpipe help-flags: no such command\n");
        return 2;
    }
    return fflush(stdout) ? 1 : 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "tickpipe %s - real-time market-data pipeline\n\n"
            "Usage: tickpipe COMMAND [OPTIONS]\n"
            "       tickpipe COMMAND --help\n\n"
            "Commands:\n",
            TP_VERSION);
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
        fprintf(f, "  %-10s %s\n", k_cmds[i].name, k_cmds[i].summary);
    fprintf(f,
            "\nGlobal environment:\n"
            "  TICKPIPE_LOG     log level: error, warn, info (default), debug\n"
            "  TICKPIPE_CONFIG  a config file (YAML, one key per flag), as --config\n\n"
            "With no token, `tickpipe run` starts the built-in simulator, stores in\n"
            "%s and serves the dashboard on http://127.0.0.1:8080.\n",
            TP_STORE_DEFAULT_URL);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    const char *lvl = getenv("TICKPIPE_LOG");
    if (lvl && *lvl) {
        int l = tp_log_level_parse(lvl);
        if (l < 0) {
            fprintf(stderr, "tickpipe: TICKPIPE_LOG='%s' is not one of error, warn, info, debug\n", lvl);
            return 2;
        }
        tp_log_set_level((tp_log_level)l);
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") && argc > 2) { /* `tickpipe help run` = `tickpipe run --help` */
        for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
            if (!strcmp(argv[2], k_cmds[i].name)) {
                char *hargv[] = {argv[2], "--help", NULL};
                return tp_cmd_main(k_cmds[i].spec, k_cmds[i].fn, 2, hargv);
            }
        fprintf(stderr, "tickpipe help: unknown command '%s'; run 'tickpipe --help' for the list\n", argv[2]);
        return 2;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("tickpipe %s\n", TP_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help-flags")) return help_flags(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
        if (!strcmp(cmd, k_cmds[i].name))
            return tp_cmd_main(k_cmds[i].spec, k_cmds[i].fn, argc - 1, argv + 1);
    const char *names[sizeof k_cmds / sizeof k_cmds[0] + 1];
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++) names[i] = k_cmds[i].name;
    names[sizeof k_cmds / sizeof k_cmds[0]] = "help";
    const char *near = tp_suggest(cmd, strlen(cmd), names, sizeof names / sizeof names[0]);
    if (near) {
        fprintf(stderr,
                "tickpipe: unknown command '%s' (did you mean %s?); run 'tickpipe --help' for the list\n",
                cmd, near);
        return 2;
    }
    fprintf(stderr, "tickpipe: unknown command '%s'; run 'tickpipe --help' for the list\n", cmd);
    return 2;
}
