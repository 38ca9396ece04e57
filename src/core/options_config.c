/* options_config.c - the config file in the option engine: its keys checked
 * against the table and applied under flags and environment, and
 * --print-config (options.h, options_int.h). */
#include "core/config_file.h"
#include "core/err.h"
#include "core/log.h"
#include "core/options.h"
#include "core/options_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What values point into: the loaded files and the joined lists, kept
 * until tp_cmd_release. */
typedef struct kept {
    struct kept *next;
    tp_conf_file conf;
    char *str;
} kept;
static kept *g_kept;

static kept *keep(void) {
    kept *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->next = g_kept;
    g_kept = k;
    return k;
}

void tp_cmd_release(void) {
    while (g_kept) {
        kept *k = g_kept;
        g_kept = k->next;
        tp_conf_free(&k->conf);
        free(k->str);
        free(k);
    }
}

/* ---- keys ---- */

int tp_conf_check_keys(const tp_opt *table, tp_conf_file *conf) {
    size_t before = conf->nerrors;
    for (size_t i = 0; i < conf->n; i++) {
        const tp_conf_item *it = &conf->items[i];
        const tp_opt *found = NULL, *near = NULL;
        int best = 3;
        for (const tp_opt *o = table; o->name; o++) {
            if (!strcmp(o->name, it->key)) found = o;
            int d = o->role ? 100 : tp_conf_distance(o->name, it->key);
            if (d < best) best = d, near = o;
        }
        if (found && found->role)
            tp_conf_error(conf, it->line, "%s cannot be set in a config file (give --%s on the command line)",
                          it->key, it->key);
        else if (!found && near)
            tp_conf_error(conf, it->line, "unknown key '%s': no command takes --%s; did you mean '%s'?",
                          it->key, it->key, near->name);
        else if (!found)
            tp_conf_error(conf, it->line,
                          "unknown key '%s': no command takes --%s (see tickpipe COMMAND --help)", it->key,
                          it->key);
    }
    return (int)(conf->nerrors - before);
}

/* ---- values ---- */

static int parse_switch(const char *s, int *on) {
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) return *on = 1, 0;
        if (!strcasecmp(s, no[i])) return *on = 0, 0;
    }
    return -1;
}

/* A list for an entry that takes one value: its items joined with commas
 * (symbols: [AAPL, MSFT] is --symbols AAPL,MSFT). */
static const char *joined(const tp_conf_item *it) {
    size_t len = 1;
    for (size_t i = 0; i < it->n; i++) len += strlen(it->values[i]) + 1;
    kept *k = keep();
    if (!k || !(k->str = malloc(len))) return NULL;
    k->str[0] = 0;
    for (size_t i = 0; i < it->n; i++) {
        if (i) strcat(k->str, ",");
        strcat(k->str, it->values[i]);
    }
    return k->str;
}

/* Apply item `it` to entry t; a bad value is an error added to conf. */
static int apply_item(tp_opt_state *st, size_t t, const tp_conf_item *it, tp_conf_file *conf) {
    const tp_opt *o = st->fl[t].o;
    char what[80], err[600] = "";
    snprintf(what, sizeof what, "--%s", o->name);
    int many = o->type == TP_OPT_CUSTOM && o->repeatable;
    if (o->type == TP_OPT_SWITCH) {
        int on = 0;
        if (it->is_list || it->n != 1 || parse_switch(it->values[0], &on)) {
            tp_conf_error(conf, it->line, "%s: '%s' is not true or false", what,
                          it->is_list ? "[...]" : it->values[0]);
            return 0;
        }
        *(int *)((char *)st->args + o->off) = on;
        if (tp_opt_record(st, t, TP_SRC_FILE, on ? "true" : "false")) return TP_ENOMEM;
    } else {
        size_t n = many ? it->n : 1;
        const char *one = !it->is_list ? it->values[0] : many ? NULL : joined(it);
        if (!many && !one) return TP_ENOMEM;
        for (size_t v = 0; v < n; v++) {
            const char *text = many ? it->values[v] : one;
            if (tp_opt_parse_value(o, st->args, text, what, err, sizeof err)) {
                tp_conf_error(conf, it->line, "%s", err);
                return 0;
            }
            if (tp_opt_record(st, t, TP_SRC_FILE, text)) return TP_ENOMEM;
        }
        if (!n && tp_opt_record(st, t, TP_SRC_FILE, NULL)) return TP_ENOMEM;
    }
    st->val[t].line = it->line;
    return 0;
}

static size_t find_flat(const tp_opt_state *st, const char *name) {
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->fl[i].o->name, name)) return i;
    return st->n;
}

int tp_opts_apply_conf(tp_opt_state *st, tp_conf_file *conf) {
    for (size_t k = 0; k < conf->n; k++) {
        const tp_conf_item *it = &conf->items[k];
        size_t i = find_flat(st, it->key);
        if (i == st->n || st->fl[i].o->role) continue; /* another command's, or refused by the key check */
        size_t t = tp_opt_resolve_alias(st, i);
        tp_opt_val *v = &st->val[t];
        if (t != i)
            tp_warn(st->spec->name, "%s:%d: %s is deprecated; use %s", conf->path, it->line, it->key,
                    st->fl[t].o->name);
        if (v->src == TP_SRC_FILE) {
            const char *first = st->fl[t].o->name;
            for (size_t j = 0; j < k; j++)
                if (conf->items[j].line == v->line) first = conf->items[j].key;
            tp_conf_error(conf, it->line, "%s: set twice (also as %s at line %d)", it->key, first, v->line);
            continue;
        }
        if (v->src == TP_SRC_ENV || v->src == TP_SRC_FLAG) continue; /* they win over the file */
        if (apply_item(st, t, it, conf)) return TP_ENOMEM;
    }
    return 0;
}

static size_t find_role(const tp_opt_state *st, tp_opt_role role) {
    for (size_t i = 0; i < st->n; i++)
        if (st->fl[i].o->role == role) return i;
    return st->n;
}

int tp_opts_apply_file(tp_opt_state *st) {
    size_t ci = find_role(st, TP_OPT_CONFIG_FILE);
    if (ci == st->n) return -1;
    const char *path = *(const char **)((char *)st->args + st->fl[ci].o->off);
    if (!path) return -1;
    kept *k = keep();
    if (!k) return tp_cmd_fail(st->spec, "out of memory");
    tp_conf_file *conf = &k->conf;
    int rc = tp_conf_load(path, conf);
    if (rc == TP_ENOMEM) return tp_cmd_fail(st->spec, "out of memory reading %s", path);
    st->conf_path = path;
    if (rc == TP_EINVAL) rc = 0; /* the keys that were read are checked too */
    if (!rc) tp_conf_check_keys(st->fl[ci].o->group->opts, conf);
    if (!rc && tp_opts_apply_conf(st, conf)) return tp_cmd_fail(st->spec, "out of memory");
    for (size_t e = 0; e < conf->nerrors; e++) tp_cmd_usage_error(st->spec, "%s", conf->errors[e]);
    return conf->nerrors ? TP_EXIT_USAGE : -1;
}
