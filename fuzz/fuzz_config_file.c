/* fuzz_config_file.c - the config file on arbitrary bytes: the YAML reader
 * (core/config_file.h) and the keys applied to every command as `tickpipe
 * config check` does (core/options.h). No crash, leak or hang (libyaml's
 * scanner is quadratic in the nesting, which the reader bounds); on success
 * no errors and every item a non-empty key with its values and line; every
 * error names the file and is capped. */
#include "cmd/commands.h"
#include "cmd/flags.h"
#include "core/config_file.h"
#include "core/err.h"
#include "core/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const tp_cmd_spec *const k_specs[] = {&tp_spec_run,     &tp_spec_simulate, &tp_spec_capture,
                                             &tp_spec_produce, &tp_spec_process,  &tp_spec_serve,
                                             &tp_spec_symbols};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int quiet;
    if (!quiet) tp_log_set_level(TP_LOG_ERROR), quiet = 1; /* deprecation warnings */
    tp_conf_file f;
    int rc = tp_conf_parse("fuzz.yaml", (const char *)data, size, &f);
    if (rc != 0 && rc != TP_EINVAL) abort();
    if ((rc == 0) != (f.nerrors == 0) || f.nerrors > TP_CONF_MAX_ERRORS || f.n > TP_CONF_MAX_ITEMS) abort();
    for (size_t i = 0; i < f.n; i++) {
        const tp_conf_item *it = &f.items[i];
        if (!it->key[0] || it->line < 1 || (!it->is_list && it->n != 1)) abort();
        if (tp_conf_find(&f, it->key) != it) abort(); /* keys are unique */
    }
    tp_conf_check_keys(tp_flag_table, &f);
    for (size_t s = 0; s < sizeof k_specs / sizeof k_specs[0]; s++) {
        tp_cmd_args a;
        tp_cmd_args_init(&a);
        if (tp_cmd_check_config(k_specs[s], &a, &f) < 0) abort();
        tp_cmd_args_free(&a);
    }
    for (size_t i = 0; i < f.nerrors; i++)
        if (strncmp(f.errors[i], "fuzz.yaml:", 10)) abort();
    tp_conf_free(&f);
    return 0;
}
