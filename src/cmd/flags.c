/* flags.c - the option groups and the one flag table, expanded from
 * flags.def; flags.h says how to add a flag.
 *
 * The help line of a shared entry says what the flag does in every command
 * that takes it; what is special to one command goes in that command's
 * about text (specs.c), not here. Ranges are in the entry's unit. */
#include "cmd/commands.h"
#include "cmd/flags.h"

#include "core/err.h"
#include "core/log.h"
#include "feed/feed.h"
#include "process/pipeline.h"
#include "sim/personality.h"
#include "sink/sink.h"
#include "sink/store_forms.h"

#include <stddef.h>
#include <string.h>

static int parse_kafka_prop(const char *arg, void *field, char *err, size_t errlen) {
    return tp_kafka_props_add(field, arg, err, errlen);
}

static int parse_token(const char *arg, void *field, char *err, size_t errlen) {
    tp_token_args *t = field;
    if (t->n == TP_MAX_TOKEN_ARGS)
        return tp_seterr(err, errlen, TP_EINVAL, "at most %d --token flags (give a comma list)",
                         TP_MAX_TOKEN_ARGS);
    t->arg[t->n++] = arg;
    return 0;
}

/* a string that must not be empty (a CUSTOM twin of a STR with min 1, where
 * the same flag name is CUSTOM in another command) */
static int parse_nonempty(const char *arg, void *field, char *err, size_t errlen) {
    if (!*arg) return tp_seterr(err, errlen, TP_EINVAL, "the value must not be empty");
    *(const char **)field = arg;
    return 0;
}

static int parse_log_level(const char *arg, void *field, char *err, size_t errlen) {
    int rc = tp_cfg_log_level(arg, err, errlen);
    if (!rc) *(const char **)field = arg;
    return rc;
}

static int parse_compression(const char *arg, void *field, char *err, size_t errlen) {
    static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (!strcmp(arg, codecs[i])) {
            *(const char **)field = arg;
            return 0;
        }
    return tp_seterr(err, errlen, TP_EINVAL, "--compression '%s' is not one of none, gzip, snappy, lz4, zstd",
                     arg);
}

static int parse_one_of(const char *arg, void *field, const char *flag, const char *const *names, size_t n,
                        const char *list, char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(arg, names[i])) {
            *(const char **)field = arg;
            return 0;
        }
    return tp_seterr(err, errlen, TP_EINVAL, "--%s '%s' is not one of %s", flag, arg, list);
}

static int parse_export_table(const char *arg, void *field, char *err, size_t errlen) {
    static const char *const t[] = {"trades", "candles", "averages", "gaps"};
    return parse_one_of(arg, field, "table", t, 4, "trades, candles, averages, gaps", err, errlen);
}

static int parse_export_format(const char *arg, void *field, char *err, size_t errlen) {
    static const char *const f[] = {"parquet", "csv", "jsonl"};
    return parse_one_of(arg, field, "format", f, 3, "parquet, csv, jsonl", err, errlen);
}

/* The URL forms of this build's stores, generated from cmake/stores.cmake. */
static const char *store_url_forms(void) {
    return TP_STORE_URL_FORMS;
}

/* ... of those that can be read (serve's --store) */
static const char *reader_store_url_forms(void) {
    return TP_STORE_READER_URL_FORMS;
}

void tp_flags_pipeline_config(tp_pipeline_config *pc, const tp_store_flags *sf, const tp_windows_flags *wf,
                              const tp_durable_flags *df, int64_t max_ahead_ms) {
    tp_pipeline_config_default(pc);
    pc->store_url = sf->store;
    pc->win.allowed_lateness_ms = wf->allowed_lateness_ms;
    pc->win.emit_interval_ms = wf->emit_interval_ms;
    pc->win.idle_expiry_ms = wf->idle_expiry_ms;
    pc->win.max_ahead_ms = max_ahead_ms;
    pc->win.clock_bound = 1;
    pc->flush_interval_ms = wf->flush_interval_ms;
    pc->flush_max_trades = (size_t)wf->flush_max_trades;
    pc->retention = (tp_retention){df->retain_trades_ms, df->retain_c1s_ms, df->retain_c1m_ms,
                                   df->retain_avg_ms, df->retain_gaps_ms};
}

void tp_cmd_args_init(tp_cmd_args *a) {
    memset(a, 0, sizeof *a);
}

void tp_cmd_args_free(tp_cmd_args *a) {
    tp_kafka_props_free(&a->kafka.props);
    tp_cmd_release(); /* the config file's values */
}

int tp_cmd_main(const tp_cmd_spec *spec, tp_cmd_fn fn, int argc, char **argv) {
    tp_cmd_args a;
    tp_cmd_args_init(&a);
    int first = 0;
    int status = tp_cmd_parse(spec, &a, argc, argv, &first);
    if (status < 0) status = fn(&a, argc, argv, first);
    tp_cmd_args_free(&a);
    return status;
}

/* pass 1: the groups */
#define TP_GROUP(g, id, title) const tp_opt_group tp_flags_##g = {id, title, tp_flag_table};
#define TP_FLAG(...)
#include "cmd/flags.def"
#undef TP_GROUP
#undef TP_FLAG

/* pass 2: the table; a row's field is in its group's member of tp_cmd_args */
#define TP_GROUP(g, id, title)
#define TP_FIELD(m, f) offsetof(tp_cmd_args, m.f)
#define TP_FLAG(grp, nm, ar, ty, fld, df, un, lo, hi, hl, ...)                                               \
    {.group = &tp_flags_##grp,                                                                               \
     .name = nm,                                                                                             \
     .arg = ar,                                                                                              \
     .type = TP_OPT_##ty,                                                                                    \
     .off = TP_FIELD(TP_MEMBER, fld),                                                                        \
     .def = df,                                                                                              \
     .unit = un,                                                                                             \
     .min = lo,                                                                                              \
     .max = hi,                                                                                              \
     .help = hl,                                                                                             \
     __VA_ARGS__},

const tp_opt tp_flag_table[] = {
#include "cmd/flags.def"
    {0},
};
