/* cmd_config.c - `tickpipe config check FILE`: read a config file as every
 * command would (core/config_file.h, core/options.h) and say which commands
 * each key applies to, or every error with its line. */
#include "cmd/commands.h"

#include "core/config_file.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tp_cmd_spec *const k_specs[] = {&tp_spec_run,     &tp_spec_simulate, &tp_spec_capture,
                                             &tp_spec_produce, &tp_spec_process,  &tp_spec_serve,
                                             &tp_spec_symbols};
#define NSPECS (sizeof k_specs / sizeof k_specs[0])

/* "PATH:LINE: ..." -> LINE (0 without one) */
static long line_of(const char *err, size_t plen) {
    return strncmp(err + plen, ":", 1) ? 0 : strtol(err + plen + 1, NULL, 10);
}

/* Every error once, by line. */
static int print_errors(const tp_conf_file *conf) {
    size_t plen = strlen(conf->path);
    long last = -1;
    for (;;) { /* the smallest line above the last printed, each message once */
        long next = -1;
        for (size_t i = 0; i < conf->nerrors; i++) {
            long l = line_of(conf->errors[i], plen);
            if (l > last && (next < 0 || l < next)) next = l;
        }
        if (next < 0) break;
        for (size_t i = 0; i < conf->nerrors; i++) {
            if (line_of(conf->errors[i], plen) != next) continue;
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(conf->errors[j], conf->errors[i]);
            if (!seen) fprintf(stderr, "tickpipe config: %s\n", conf->errors[i]);
        }
        last = next;
    }
    return TP_EXIT_USAGE;
}

static void print_keys(const tp_conf_file *conf) {
    printf("ok: %s (%zu key%s)\n", conf->path, conf->n, conf->n == 1 ? "" : "s");
    for (size_t k = 0; k < conf->n; k++) {
        printf("  %s:", conf->items[k].key);
        const char *sep = " ";
        for (size_t s = 0; s < NSPECS; s++) {
            if (!tp_cmd_find_opt(k_specs[s], conf->items[k].key)) continue;
            printf("%s%s", sep, k_specs[s]->name);
            sep = ", ";
        }
        printf("\n");
    }
}

int tp_cmd_config(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    if (strcmp(argv[first_arg], "check"))
        return tp_cmd_usage_error(&tp_spec_config, "unknown subcommand '%s'; tickpipe config check FILE",
                                  argv[first_arg]);
    tp_conf_file conf;
    int rc = tp_conf_load(argv[first_arg + 1], &conf);
    if (rc == TP_ENOMEM) {
        tp_conf_free(&conf);
        return tp_cmd_fail(&tp_spec_config, "out of memory");
    }
    if (rc == TP_EINVAL) rc = 0; /* the keys that were read are checked too */
    if (!rc) tp_conf_check_keys(tp_flag_table, &conf);
    for (size_t s = 0; !rc && s < NSPECS; s++) {
        tp_cmd_args scratch;
        tp_cmd_args_init(&scratch);
        if (tp_cmd_check_config(k_specs[s], &scratch, &conf) < 0) rc = TP_ENOMEM;
        tp_cmd_args_free(&scratch);
    }
    int status = TP_EXIT_OK;
    if (rc == TP_ENOMEM)
        status = tp_cmd_fail(&tp_spec_config, "out of memory");
    else if (conf.nerrors)
        status = print_errors(&conf);
    else
        print_keys(&conf);
    tp_conf_free(&conf);
    return status == TP_EXIT_OK && fflush(stdout) ? TP_EXIT_RUNTIME : status;
}
