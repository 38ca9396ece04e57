/* options_int.h - what options.c and options_config.c share: one parse's
 * state (the command's entries, flattened, and where each value came from).
 * Not for other modules. */
#ifndef TP_OPTIONS_INT_H
#define TP_OPTIONS_INT_H

#include "core/config_file.h"
#include "core/options.h"

/* Where an entry's value came from, in rising precedence but the flag's. */
enum { TP_SRC_NONE = 0, TP_SRC_DEFAULT, TP_SRC_FILE, TP_SRC_ENV, TP_SRC_FLAG };

typedef struct tp_flat_opt {
    const tp_opt *o;
    int group;
} tp_flat_opt;

typedef struct tp_opt_val {
    int src;            /* TP_SRC_* */
    const char **texts; /* the texts parsed into the field (several: a repeatable entry) */
    size_t n;
    int line; /* TP_SRC_FILE: the key's line */
} tp_opt_val;

typedef struct tp_opt_state {
    const tp_cmd_spec *spec;
    void *args;
    tp_flat_opt *fl;
    size_t n;
    tp_opt_val *val; /* n of them */
    const char *conf_path;
} tp_opt_state;

/* Parse `s` into the entry's field; `what` names the flag ("--store"). */
int tp_opt_parse_value(const tp_opt *o, void *base, const char *s, const char *what, char *err,
                       size_t errlen);

/* Note that text was parsed into entry i from src (a new source replaces
 * the texts of an older one; only a repeatable entry keeps several). 0 or
 * TP_ENOMEM. */
int tp_opt_record(tp_opt_state *st, size_t i, int src, const char *text);

/* The entry an alias stands for, in the same group (i itself otherwise). */
size_t tp_opt_resolve_alias(const tp_opt_state *st, size_t i);

/* Apply conf's keys that the command takes to the entries no flag or
 * variable set; each bad value is an error added to conf. 0 or TP_ENOMEM. */
int tp_opts_apply_conf(tp_opt_state *st, tp_conf_file *conf);

/* Load the config file named by the TP_OPT_CONFIG_FILE entry, if it has a
 * value, and apply its keys to the entries nothing set yet. -1 to go on, or
 * the exit status (every error printed). */
int tp_opts_apply_file(tp_opt_state *st);

/* With the TP_OPT_PRINT_CONFIG switch on: print the settings, return
 * TP_EXIT_OK; else -1. */
int tp_opts_print_config(const tp_opt_state *st, FILE *f);

#endif
