/* options.c - see options.h.
 *
 * getopt_long's table is built per call from the spec (a command parses
 * once, so the allocation does not matter); each entry's `val` is its
 * index in a flat list of (group, entry) pairs, which is how a parsed flag
 * finds its value struct. Defaults are applied first, then flags, then the
 * environment for entries the command line left alone. */
#include "core/options.h"

#include "core/config.h"
#include "core/options_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/suggest.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HELP_COL 24    /* help text starts here */
#define HELP_WIDTH 100 /* and wraps before this */
#define VAL_BASE 1000

typedef tp_flat_opt flat_opt;

/* The entries of group g, in table order. */
#define GROUP_OPTS(o, g)                                                                                     \
    for (const tp_opt *o = (g)->opts; o->name; o++)                                                          \
        if (o->group == (g))

static const tp_opt *find_in_group(const tp_opt_group *g, const char *name) {
    GROUP_OPTS(o, g) {
        if (!strcmp(o->name, name)) return o;
    }
    return NULL;
}

static void effective_default(const tp_cmd_spec *spec, const tp_opt *o, const char **def,
                              const char **def_doc) {
    *def = o->def;
    *def_doc = o->def_doc;
    for (const tp_opt_default *d = spec->defaults; d && d->name; d++) {
        if (!strcmp(d->name, o->name)) {
            *def = d->def;
            *def_doc = d->def_doc;
        }
    }
}

/* The entry's help line with its run-time part. */
static const char *full_help(const tp_opt *o, char *buf, size_t n) {
    if (!o->help_more) return o->help;
    snprintf(buf, n, "%s %s", o->help, o->help_more());
    return buf;
}

static const char *unit_word(const char *unit) {
    if (!unit) return NULL;
    if (!strcmp(unit, "s")) return "seconds";
    if (!strcmp(unit, "ms")) return "milliseconds";
    return unit;
}

int tp_opt_parse_time(const char *s, const char *what, const char *unit, double min, double max, int64_t *ms,
                      int *bare, double *bare_value, char *err, size_t errlen) {
    double scale = unit && !strcmp(unit, "ms") ? 1.0 : 1000.0; /* ms per `unit` */
    const char *uw = unit && !strcmp(unit, "ms") ? "ms" : "s";
    char *end;
    errno = 0;
    double v = s && *s ? strtod(s, &end) : NAN;
    double f = scale;
    int is_bare = 1;
    if (s && *s && !errno && isfinite(v)) {
        if (!strcmp(end, "ms"))
            f = 1.0, is_bare = 0;
        else if (!strcmp(end, "s"))
            f = 1000.0, is_bare = 0;
        else if (!strcmp(end, "m"))
            f = 60000.0, is_bare = 0;
        else if (!strcmp(end, "h"))
            f = 3600000.0, is_bare = 0;
        else if (!strcmp(end, "d"))
            f = 86400000.0, is_bare = 0;
        else if (*end)
            v = NAN;
    }
    double in_unit = v * f / scale;
    if (!s || !*s || errno || !isfinite(v) || in_unit < min || in_unit > max)
        return tp_seterr(err, errlen, TP_EINVAL,
                         "%s: '%s' is not a time from %g to %g %s (a number of %s, or with a unit: 250ms, "
                         "1.5s, 2m, 3h, 7d)",
                         what, s ? s : "", min, max, uw, unit_word(uw));
    *ms = (int64_t)llround(v * f);
    if (bare) *bare = is_bare;
    if (bare_value) *bare_value = v;
    return 0;
}

int tp_opt_parse_value(const tp_opt *o, void *base, const char *s, const char *what, char *err,
                       size_t errlen) {
    void *field = (char *)base + o->off;
    switch (o->type) {
    case TP_OPT_STR:
        if (o->min > 0 && !*s) return tp_seterr(err, errlen, TP_EINVAL, "%s must not be empty", what);
        *(const char **)field = s;
        return 0;
    case TP_OPT_SWITCH: *(int *)field = 1; return 0;
    case TP_OPT_INT:
        return tp_cfg_parse_i64(s, what, (int64_t)o->min, (int64_t)o->max, (int64_t *)field, err, errlen);
    case TP_OPT_NUM: return tp_cfg_parse_double(s, what, o->min, o->max, (double *)field, err, errlen);
    case TP_OPT_TIME: {
        int bare = 0;
        double bv = 0;
        int rc =
            tp_opt_parse_time(s, what, o->unit, o->min, o->max, (int64_t *)field, &bare, &bv, err, errlen);
        if (!rc && bare && o->warn_above > 0 && bv > o->warn_above)
            tp_warn("options", "%s %s means %s %s; add \"ms\" (%sms) if you meant milliseconds", what, s, s,
                    unit_word(o->unit), s);
        return rc;
    }
    case TP_OPT_CUSTOM: {
        int rc = o->parse(s, field, err, errlen);
        if (rc && err && !*err) tp_seterr(err, errlen, rc, "%s: '%s' is not valid", what, s);
        return rc;
    }
    }
    return tp_seterr(err, errlen, TP_EINVAL, "%s: unknown option type", what);
}

static int env_switch_on(const char *v) {
    return !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes");
}

static void clear_field(const tp_opt *o, void *base) {
    void *field = (char *)base + o->off;
    switch (o->type) {
    case TP_OPT_STR: *(const char **)field = NULL; break;
    case TP_OPT_SWITCH: *(int *)field = 0; break;
    case TP_OPT_INT:
    case TP_OPT_TIME: *(int64_t *)field = 0; break;
    case TP_OPT_NUM: *(double *)field = 0; break;
    case TP_OPT_CUSTOM: break; /* the caller initialised it */
    }
}

static int vusage(const tp_cmd_spec *spec, int status, const char *fmt, va_list ap) {
    fprintf(stderr, "tickpipe %s: ", spec->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return status;
}

int tp_cmd_usage_error(const tp_cmd_spec *spec, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vusage(spec, TP_EXIT_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int tp_cmd_fail(const tp_cmd_spec *spec, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vusage(spec, TP_EXIT_RUNTIME, fmt, ap);
    va_end(ap);
    return rc;
}

static size_t flatten(const tp_cmd_spec *spec, flat_opt *out, size_t cap) {
    size_t n = 0;
    for (int g = 0; g < TP_CMD_MAX_GROUPS && spec->groups[g]; g++) GROUP_OPTS(o, spec->groups[g]) {
            if (out && n < cap) out[n] = (flat_opt){o, g};
            n++;
        }
    return n;
}

static int apply_defaults(tp_opt_state *st) {
    char err[512], what[80];
    for (size_t i = 0; i < st->n; i++) {
        const tp_opt *o = st->fl[i].o;
        if (o->alias_of) continue;
        clear_field(o, st->args);
        const char *def, *def_doc;
        effective_default(st->spec, o, &def, &def_doc);
        if (o->type == TP_OPT_SWITCH) tp_opt_record(st, i, TP_SRC_DEFAULT, NULL);
        if (!def || o->type == TP_OPT_SWITCH) continue;
        snprintf(what, sizeof what, "the default of --%s", o->name);
        if (tp_opt_parse_value(o, st->args, def, what, err, sizeof err))
            return tp_cmd_fail(st->spec, "%s", err); /* a bad table: a bug, not the user's fault */
        if (tp_opt_record(st, i, TP_SRC_DEFAULT, def)) return tp_cmd_fail(st->spec, "out of memory");
    }
    return -1;
}

/* Is one of the variables an entry's env_doc names (the command reads
 * them itself) set? */
static int env_doc_set(const tp_opt *o) {
    if (!o->env_doc) return 0;
    char name[64];
    for (const char *p = o->env_doc; *p;) {
        size_t len = strcspn(p, ", ");
        if (len && len < sizeof name) {
            memcpy(name, p, len);
            name[len] = 0;
            const char *v = getenv(name);
            if (v && *v) return 1;
        }
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

static int apply_env(tp_opt_state *st) {
    char err[512];
    for (size_t i = 0; i < st->n; i++) {
        const tp_opt *o = st->fl[i].o;
        if (o->alias_of || st->val[i].src == TP_SRC_FLAG) continue;
        if (env_doc_set(o)) st->val[i] = (tp_opt_val){.src = TP_SRC_ENV, .texts = st->val[i].texts};
        if (!o->env) continue;
        const char *v = getenv(o->env);
        if (!v || !*v) continue;
        if (o->type == TP_OPT_SWITCH) {
            *(int *)((char *)st->args + o->off) = env_switch_on(v);
        } else if (tp_opt_parse_value(o, st->args, v, o->env, err, sizeof err)) {
            return tp_cmd_usage_error(st->spec, "%s (from the environment; unset it or give --%s)", err,
                                      o->name);
        }
        if (tp_opt_record(st, i, TP_SRC_ENV, v)) return tp_cmd_fail(st->spec, "out of memory");
    }
    return -1;
}

size_t tp_opt_resolve_alias(const tp_opt_state *st, size_t i) {
    const flat_opt *fl = st->fl;
    if (!fl[i].o->alias_of) return i;
    for (size_t j = 0; j < st->n; j++)
        if (fl[j].group == fl[i].group && !strcmp(fl[j].o->name, fl[i].o->alias_of)) return j;
    return i;
}

int tp_opt_record(tp_opt_state *st, size_t i, int src, const char *text) {
    tp_opt_val *v = &st->val[i];
    const tp_opt *o = st->fl[i].o;
    if (v->src != src || !(o->type == TP_OPT_CUSTOM && o->repeatable)) v->n = 0; /* the last one counts */
    v->src = src;
    if (!text) return 0;
    const char **nt = realloc(v->texts, (v->n + 1) * sizeof *nt);
    if (!nt) return TP_ENOMEM;
    v->texts = nt;
    v->texts[v->n++] = text;
    return 0;
}

/* getopt_long's table: entry i has val VAL_BASE + i; "h" and the short names. */
static void build_getopt(const flat_opt *fl, size_t n, struct option *lo, char *shortopts, size_t slen) {
    size_t sl = 2;
    snprintf(shortopts, slen, ":h"); /* ':' first: a missing value returns ':', apart from '?' */
    for (size_t i = 0; i < n; i++) {
        const tp_opt *o = fl[i].o;
        lo[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, (int)(VAL_BASE + i)};
        if (o->short_name && sl + 3 < slen) {
            shortopts[sl++] = (char)o->short_name;
            if (o->arg) shortopts[sl++] = ':';
            shortopts[sl] = '\0';
        }
    }
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
}

/* The flag getopt stopped at: argv[optind - 1], or the last word when
 * getopt moved past the end (a value missing at the end). */
static const char *flag_word(int argc, char **argv) {
    int k = optind - 1;
    if (k >= argc) k = argc - 1;
    return k >= 0 ? argv[k] : "";
}

/* A flag given without its value (`--http` last, or `-X` alone). */
static int missing_value(const tp_cmd_spec *spec, const flat_opt *fl, size_t n, int argc, char **argv) {
    const tp_opt *o = NULL;
    if (optopt >= VAL_BASE && (size_t)(optopt - VAL_BASE) < n)
        o = fl[optopt - VAL_BASE].o;
    else
        for (size_t j = 0; j < n; j++)
            if (optopt && fl[j].o->short_name == optopt) o = fl[j].o;
    if (!o)
        return tp_cmd_usage_error(spec, "option '%s' needs a value; see 'tickpipe %s --help'",
                                  flag_word(argc, argv), spec->name);
    return tp_cmd_usage_error(spec, "--%s needs a value (--%s %s); see 'tickpipe %s --help'", o->name,
                              o->name, o->arg, spec->name);
}

/* A flag this command does not take: with the nearest one it does when
 * the word is close to it (a typo). */
static int unknown_option(const tp_cmd_spec *spec, const flat_opt *fl, size_t n, int argc, char **argv) {
    const char *w = flag_word(argc, argv), *name = w;
    while (*name == '-') name++;
    size_t len = strcspn(name, "=");
    const char *cands[256];
    size_t nc = 0;
    for (size_t j = 0; j < n && nc < 255; j++)
        if (!fl[j].o->alias_of) cands[nc++] = fl[j].o->name;
    cands[nc++] = "help";
    const char *near = name != w && len > 1 ? tp_suggest(name, len, cands, nc) : NULL;
    if (near)
        return tp_cmd_usage_error(spec,
                                  "unknown option '%.*s'; did you mean --%s? (see 'tickpipe %s --help')",
                                  (int)(name - w + len), w, near, spec->name);
    return tp_cmd_usage_error(spec, "unknown option '%.*s'; see 'tickpipe %s --help'", (int)(name - w + len),
                              w, spec->name);
}

/* One option getopt returned (c): -1 to go on, else the exit status. */
static int apply_flag(tp_opt_state *st, int c, int argc, char **argv) {
    const tp_cmd_spec *spec = st->spec;
    const flat_opt *fl = st->fl;
    size_t n = st->n, i = n;
    if (c >= VAL_BASE && (size_t)(c - VAL_BASE) < n) {
        i = (size_t)(c - VAL_BASE);
    } else if (c != '?' && c != ':') {
        for (size_t j = 0; j < n; j++)
            if (st->fl[j].o->short_name == c) i = j;
    }
    if (c == ':') return missing_value(spec, fl, n, argc, argv);
    if (c == '?' && optopt >= VAL_BASE && (size_t)(optopt - VAL_BASE) < n) /* --switch=VALUE */
        return tp_cmd_usage_error(spec, "--%s takes no value; see 'tickpipe %s --help'",
                                  fl[optopt - VAL_BASE].o->name, spec->name);
    if (i == n) return unknown_option(spec, fl, n, argc, argv);
    size_t t = tp_opt_resolve_alias(st, i);
    const tp_opt *o = fl[t].o;
    if (t != i) tp_warn(spec->name, "--%s is deprecated; use --%s", fl[i].o->name, o->name);
    if (st->val[t].src == TP_SRC_FLAG && o->type == TP_OPT_CUSTOM && !o->repeatable)
        return tp_cmd_usage_error(spec, "--%s given twice", o->name);
    char what[80], err[600] = "";
    if (c < VAL_BASE)
        snprintf(what, sizeof what, "-%c", o->short_name);
    else
        snprintf(what, sizeof what, "--%s", o->name);
    const char *text = o->arg ? optarg : "1";
    if (tp_opt_parse_value(o, st->args, text, what, err, sizeof err))
        return tp_cmd_usage_error(spec, "%s", err);
    if (tp_opt_record(st, t, TP_SRC_FLAG, text)) return tp_cmd_fail(spec, "out of memory");
    return -1;
}

static int check_positional(const tp_cmd_spec *spec, int argc, char **argv) {
    int npos = argc - optind;
    if (spec->max_args >= 0 && npos > spec->max_args)
        return tp_cmd_usage_error(spec, "unexpected argument '%s'; see 'tickpipe %s --help'",
                                  argv[optind + spec->max_args], spec->name);
    if (npos < spec->min_args)
        return tp_cmd_usage_error(spec, "missing argument: tickpipe %s %s; see 'tickpipe %s --help'",
                                  spec->name, spec->synopsis, spec->name);
    return -1;
}

static void state_free(tp_opt_state *st) {
    for (size_t i = 0; st->val && i < st->n; i++) free(st->val[i].texts);
    free(st->val);
    free(st->fl);
}

/* The entries of the spec, flattened, and no values yet. 0 or TP_ENOMEM. */
static int state_init(tp_opt_state *st, const tp_cmd_spec *spec, void *args) {
    *st = (tp_opt_state){.spec = spec, .args = args, .n = flatten(spec, NULL, 0)};
    st->fl = calloc(st->n + 1, sizeof *st->fl);
    st->val = calloc(st->n + 1, sizeof *st->val);
    if (!st->fl || !st->val) return TP_ENOMEM;
    flatten(spec, st->fl, st->n);
    return 0;
}

int tp_cmd_parse(const tp_cmd_spec *spec, void *args, int argc, char **argv, int *first_arg) {
    tp_opt_state st;
    struct option *lo = NULL;
    char shortopts[64];
    int status = -1;
    if (state_init(&st, spec, args) || !(lo = calloc(st.n + 2, sizeof *lo))) {
        status = tp_cmd_fail(spec, "out of memory");
        goto out;
    }
    build_getopt(st.fl, st.n, lo, shortopts, sizeof shortopts);
    status = apply_defaults(&st);
    optind = 0; /* 0, not 1: glibc then also resets its permutation state */
    opterr = 0;
    int c;
    while (status < 0 && (c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
        if (c == 'h') {
            tp_cmd_help(spec, stdout);
            status = TP_EXIT_OK;
        } else {
            status = apply_flag(&st, c, argc, argv);
        }
    }
    if (status < 0) status = apply_env(&st);
    if (status < 0) status = tp_opts_apply_file(&st);
    if (status < 0) status = tp_opts_print_config(&st, stdout);
    if (status < 0) status = check_positional(spec, argc, argv);
    if (status < 0 && first_arg) *first_arg = optind;
out:
    state_free(&st);
    free(lo);
    return status;
}

int tp_cmd_check_config(const tp_cmd_spec *spec, void *args, struct tp_conf_file *conf) {
    tp_opt_state st;
    size_t before = conf->nerrors;
    int rc = -1;
    if (!state_init(&st, spec, args) && apply_defaults(&st) < 0) {
        st.conf_path = conf->path;
        rc = tp_opts_apply_conf(&st, conf) ? -1 : (int)(conf->nerrors - before);
    }
    state_free(&st);
    return rc;
}

const tp_opt *tp_cmd_find_opt(const tp_cmd_spec *spec, const char *name) {
    for (int g = 0; g < TP_CMD_MAX_GROUPS && spec->groups[g]; g++) GROUP_OPTS(o, spec->groups[g]) {
            if (!strcmp(o->name, name)) return o;
        }
    return NULL;
}

/* ---- help ---- */

/* Write `text` from column `col`, wrapping at HELP_WIDTH onto lines that
 * start at HELP_COL. */
static void wrap(FILE *f, size_t col, const char *text) {
    const char *p = text;
    while (*p) {
        size_t room = col < HELP_WIDTH ? HELP_WIDTH - col : 1;
        size_t len = strlen(p);
        size_t take = len;
        if (len > room) {
            take = room;
            while (take > 0 && p[take] != ' ') take--;
            if (take == 0) {
                take = room;
                while (p[take] && p[take] != ' ') take++;
            }
        }
        fprintf(f, "%.*s\n", (int)take, p);
        p += take;
        while (*p == ' ') p++;
        if (*p) fprintf(f, "%*s", HELP_COL, "");
        col = HELP_COL;
    }
}

static void help_line(const tp_cmd_spec *spec, const tp_opt *o, FILE *f) {
    char left[96], text[1024];
    if (o->short_name)
        snprintf(left, sizeof left, "  -%c, --%s %s", o->short_name, o->name, o->arg ? o->arg : "");
    else
        snprintf(left, sizeof left, "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    const char *def, *def_doc;
    effective_default(spec, o, &def, &def_doc);
    const char *env = o->env_doc ? o->env_doc : o->env;
    const char *uw = o->type == TP_OPT_TIME ? unit_word(o->unit) : NULL;
    const char *shown = def_doc ? def_doc : def;
    char hb[512];
    size_t t = (size_t)snprintf(text, sizeof text, "%s", full_help(o, hb, sizeof hb));
    if (env || uw || shown) {
        t += (size_t)snprintf(text + t, sizeof text - t, " (%s%s%s%s%s%s%s%s)", uw ? uw : "",
                              uw && (env || shown) ? "; " : "", env ? "env " : "", env ? env : "",
                              env && o->type == TP_OPT_SWITCH ? "=1" : "", env && shown ? "; " : "",
                              shown ? "default " : "", shown ? shown : "");
    }
    size_t ll = strlen(left);
    fputs(left, f);
    if (ll + 2 > HELP_COL) {
        fprintf(f, "\n%*s", HELP_COL, "");
    } else {
        fprintf(f, "%*s", (int)(HELP_COL - ll), "");
    }
    wrap(f, HELP_COL, text);
}

void tp_cmd_help(const tp_cmd_spec *spec, FILE *f) {
    fprintf(f, "Usage: tickpipe %s %s\n\n%s", spec->name, spec->synopsis, spec->about);
    for (int g = 0; g < TP_CMD_MAX_GROUPS && spec->groups[g]; g++) {
        fprintf(f, "\n%s:\n", spec->groups[g]->title);
        GROUP_OPTS(o, spec->groups[g]) {
            if (!o->alias_of) help_line(spec, o, f);
        }
    }
    fprintf(f, "  -h, --help%*sthis help\n", HELP_COL - 12, "");
    if (spec->epilog && *spec->epilog) fprintf(f, "\n%s", spec->epilog);
}

static const char *type_name(tp_opt_type t) {
    switch (t) {
    case TP_OPT_STR: return "string";
    case TP_OPT_SWITCH: return "switch";
    case TP_OPT_INT: return "integer";
    case TP_OPT_NUM: return "number";
    case TP_OPT_TIME: return "time";
    case TP_OPT_CUSTOM: return "custom";
    }
    return "?";
}

void tp_cmd_dump_flags(const tp_cmd_spec *spec, FILE *f) {
    for (int g = 0; g < TP_CMD_MAX_GROUPS && spec->groups[g]; g++) GROUP_OPTS(a, spec->groups[g]) {
            /* an alias is dumped with its target's description */
            const tp_opt *o = a->alias_of ? find_in_group(spec->groups[g], a->alias_of) : a;
            if (!o) o = a;
            char hb[512];
            const char *def, *def_doc;
            effective_default(spec, o, &def, &def_doc);
            char sn[3] = "";
            if (o->short_name) snprintf(sn, sizeof sn, "-%c", o->short_name);
            fprintf(f, "%s\t--%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", spec->name, a->name, sn,
                    o->arg ? o->arg : "", o->env_doc ? o->env_doc : (o->env ? o->env : ""),
                    def_doc ? def_doc : (def ? def : ""), o->unit ? o->unit : "", type_name(o->type),
                    a->alias_of ? a->alias_of : "", spec->groups[g]->id, full_help(o, hb, sizeof hb));
        }
}

void tp_cmd_markdown_flags(const tp_cmd_spec *spec, FILE *f) {
    fprintf(f, "| flag | environment | default | meaning |\n| --- | --- | --- | --- |\n");
    for (int g = 0; g < TP_CMD_MAX_GROUPS && spec->groups[g]; g++) GROUP_OPTS(o, spec->groups[g]) {
            if (o->alias_of) continue;
            const char *def, *def_doc;
            effective_default(spec, o, &def, &def_doc);
            const char *env = o->env_doc ? o->env_doc : o->env;
            const char *uw = o->type == TP_OPT_TIME ? unit_word(o->unit) : NULL;
            if (o->short_name)
                fprintf(f, "| `-%c %s`, `--%s %s` | ", o->short_name, o->arg ? o->arg : "", o->name,
                        o->arg ? o->arg : "");
            else
                fprintf(f, "| `--%s%s%s` | ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
            if (env)
                fprintf(f, "`%s%s` | ", env, o->type == TP_OPT_SWITCH ? "=1" : "");
            else
                fprintf(f, " | ");
            if (def_doc)
                fprintf(f, "%s | ", def_doc);
            else if (def)
                fprintf(f, "`%s` | ", def);
            else
                fprintf(f, " | ");
            /* a run-time part that varies by build (the stores) has its own README
             * words, so the README does not depend on which stores a build has */
            const char *more = o->help_more_doc ? o->help_more_doc : o->help_more ? o->help_more() : NULL;
            fprintf(f, "%s%s%s%s%s%s |\n", o->help, more ? " " : "", more ? more : "", uw ? " (" : "",
                    uw ? uw : "", uw ? ")" : "");
        }
    fprintf(f, "| `-h`, `--help` | | | this help |\n");
}
