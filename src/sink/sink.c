/* sink.c - the store table and the dispatch over it.
 *
 * A store is chosen by the scheme of its URL ("sqlite:", "postgresql://",
 * ...). Each store file defines one `const tp_sink_ops`; the table of them
 * is generated from cmake/stores.cmake (see sink.h). Every entry is
 * checked (tp_sink_check_ops) before it is used, so a store that forgot an
 * operation is a clear error, not a NULL call. The wrapper holds the ops
 * and the store's own state, so callers never see which store they talk
 * to; a write-only store's queries fail with TP_ESTATE. */
#include "sink/sink.h"

#include "core/err.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/suggest.h"
#include "sink/store_forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The table, generated from cmake/stores.cmake into the build tree
 * (store_table.c): one entry per store this build was configured with. */
extern const tp_sink_ops *const tp_sink_k_stores[];
extern const size_t tp_sink_k_nstores;
extern const char tp_sink_k_schemes[]; /* "sqlite:, postgresql:, ..." */

struct tp_sink {
    const tp_sink_ops *ops;
    void *state;
    char *url; /* for scrub(): a store's error may quote it */
};

/* Every error a store hands back passes here: a library that was given the
 * URL (libpq, libcurl, a server's reply) may quote its password, raw or
 * percent-encoded; tp_log_scrub removes it before anyone logs or returns
 * the text. */
static int scrub(const char *url, int rc, char *err, size_t errlen) {
    if (rc && err && errlen) tp_log_scrub(url, err, errlen);
    return rc;
}
#define SCRUBBED(s, call) scrub((s)->url, (call), err, errlen)

const tp_sink_ops *const *tp_sink_table(size_t *n) {
    *n = tp_sink_k_nstores;
    return tp_sink_k_stores;
}

static int scheme_ok(const char *s) {
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

int tp_sink_check_ops(const tp_sink_ops *o, char *err, size_t errlen) {
    if (!o) return tp_seterr(err, errlen, TP_EINVAL, "store table entry is NULL");
    const char *name = o->scheme && *o->scheme ? o->scheme : "(unnamed)";
    if (!scheme_ok(o->scheme) || (o->alias && !scheme_ok(o->alias)))
        return tp_seterr(err, errlen, TP_EINVAL,
                         "store '%s': a scheme is lower-case letters, digits, +, - and .", name);
    const char *missing = !o->open             ? "open"
                          : !o->write_trades   ? "write_trades"
                          : !o->write_averages ? "write_averages"
                          : !o->write_candles  ? "write_candles"
                          : !o->commit         ? "commit"
                          : !o->close          ? "close"
                                               : NULL;
    if (missing)
        return tp_seterr(err, errlen, TP_EINVAL, "store '%s' lacks the writer operation %s", name, missing);
    const tp_sink_reader_ops *r = o->reader;
    if (r) {
        missing = !r->query_symbols    ? "query_symbols"
                  : !r->query_trades   ? "query_trades"
                  : !r->query_candles  ? "query_candles"
                  : !r->query_averages ? "query_averages"
                                       : NULL;
        if (missing)
            return tp_seterr(err, errlen, TP_EINVAL,
                             "store '%s' has reader operations but lacks %s (give all four, or none)", name,
                             missing);
    }
    if (o->query_gaps && !r)
        return tp_seterr(err, errlen, TP_EINVAL, "store '%s' has query_gaps but no reader operations",
                         o->scheme ? o->scheme : "?");
    if (o->query_latest && !r)
        return tp_seterr(err, errlen, TP_EINVAL, "store '%s' has query_latest but no reader operations",
                         name);
    return 0;
}

/* ", "-joined "scheme:" list of the entries (only readable ones if asked). */
static void list_schemes(char *out, size_t outlen, int readers_only) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < tp_sink_k_nstores && o < outlen; i++) {
        const tp_sink_ops *e = tp_sink_k_stores[i];
        if (readers_only && !e->reader) continue;
        o += (size_t)snprintf(out + o, outlen - o, "%s%s:", o ? ", " : "", e->scheme);
    }
}

const char *tp_sink_schemes(void) {
    return tp_sink_k_schemes;
}

static const tp_sink_ops *find_store(const char *url, size_t scheme_len) {
    for (size_t i = 0; i < tp_sink_k_nstores; i++) {
        const tp_sink_ops *o = tp_sink_k_stores[i];
        if (strlen(o->scheme) == scheme_len && !strncmp(o->scheme, url, scheme_len)) return o;
        if (o->alias && strlen(o->alias) == scheme_len && !strncmp(o->alias, url, scheme_len)) return o;
    }
    return NULL;
}

static const tp_sink_ops *resolve(const char *url, char *err, size_t errlen) {
    if (!url || !*url) {
        tp_seterr(err, errlen, TP_EINVAL, "no store URL; use one of %s (e.g. " TP_STORE_DEFAULT_URL ")",
                  tp_sink_schemes());
        return NULL;
    }
    const char *colon = strchr(url, ':');
    const tp_sink_ops *ops = colon ? find_store(url, (size_t)(colon - url)) : NULL;
    if (!ops) {
        char safe[512];
        tp_log_redact(url, safe, sizeof safe);
        /* a typo of a scheme (sqlit:): the nearest one */
        const char *cands[2 * 16];
        size_t nc = 0;
        for (size_t i = 0; i < tp_sink_k_nstores && nc + 2 <= sizeof cands / sizeof cands[0]; i++) {
            cands[nc++] = tp_sink_k_stores[i]->scheme;
            if (tp_sink_k_stores[i]->alias) cands[nc++] = tp_sink_k_stores[i]->alias;
        }
        const char *near = colon ? tp_suggest(url, (size_t)(colon - url), cands, nc) : NULL;
        tp_seterr(err, errlen, TP_EINVAL,
                  "store URL '%s' names no store this build knows%s%s%s; use one of %s", safe,
                  near ? " (did you mean " : "", near ? near : "", near ? ":?)" : "", tp_sink_schemes());
        return NULL;
    }
    /* registration check: a malformed entry is refused, never half used */
    if (tp_sink_check_ops(ops, err, errlen)) return NULL;
    return ops;
}

int tp_sink_url_syntax(const char *url, const char *store, char *err, size_t errlen) {
    static const char k_pct[] = "percent-encode '%', '@', ':', '/', '?' and '#' in a user or password "
                                "(%25, %40, %3A, %2F, %3F, %23)";
    const char *sep = strstr(url, "://");
    if (!sep)
        return tp_seterr(err, errlen, TP_EINVAL, "%s store URL: it must start with %.*s://", store,
                         (int)strcspn(url, ":"), url);
    for (const char *p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f)
            return tp_seterr(err, errlen, TP_EINVAL,
                             "%s store URL: a space or control character; percent-encode it", store);
        if (c == '#') return tp_seterr(err, errlen, TP_EINVAL, "%s store URL: a '#'; %s", store, k_pct);
        if (c == '%' && (tp_hex_digit((unsigned char)p[1]) < 0 || tp_hex_digit((unsigned char)p[2]) < 0))
            return tp_seterr(err, errlen, TP_EINVAL,
                             "%s store URL: a '%%' that does not start a %%XX escape; %s", store, k_pct);
    }
    const char *auth = sep + 3;
    const char *auth_end = auth + strcspn(auth, "/?");
    const char *query = strchr(auth, '?');
    const char *path_end = query ? query : auth + strlen(auth);
    int ats = 0;
    for (const char *p = auth; p < auth_end; p++) ats += *p == '@';
    if (ats > 1)
        return tp_seterr(err, errlen, TP_EINVAL, "%s store URL: more than one '@' before the host; %s", store,
                         k_pct);
    /* "user:pa/ss@host": the '@' comes after what a parser takes for the
     * host, and the password's tail would be read as the path */
    if (!ats && auth_end < path_end && memchr(auth_end, '@', (size_t)(path_end - auth_end)))
        return tp_seterr(err, errlen, TP_EINVAL, "%s store URL: an '@' after the host; %s", store, k_pct);
    /* "user:pa?ss@host": the tail would be read as a parameter's name */
    for (const char *p = query; p && *p;) {
        p++;
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n), *at = memchr(p, '@', n);
        if (at && (!eq || at < eq))
            return tp_seterr(err, errlen, TP_EINVAL, "%s store URL: an '@' in a parameter's name; %s", store,
                             k_pct);
        p += n;
    }
    return 0;
}

int tp_sink_check_url(const char *url, char *err, size_t errlen) {
    const tp_sink_ops *ops = resolve(url, err, errlen);
    if (!ops) return TP_EINVAL;
    return ops->check_url && scrub(url, ops->check_url(url, err, errlen), err, errlen) ? TP_EINVAL : 0;
}

int tp_sink_check_reader_url(const char *url, char *err, size_t errlen) {
    if (tp_sink_check_url(url, err, errlen)) return TP_EINVAL;
    const tp_sink_ops *ops = resolve(url, err, errlen);
    if (ops->reader) return 0;
    char readers[512];
    list_schemes(readers, sizeof readers, 1);
    return tp_seterr(err, errlen, TP_EINVAL,
                     "the %s store is write-only: it cannot be queried, so serve and the dashboard cannot "
                     "read it; use one of %s",
                     ops->scheme, readers);
}

int tp_sink_open(const char *url, tp_sink **out, char *err, size_t errlen) {
    *out = NULL;
    const tp_sink_ops *ops = resolve(url, err, errlen);
    if (!ops) return TP_EINVAL;
    tp_sink *s = calloc(1, sizeof *s);
    if (!s) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    s->ops = ops;
    s->url = strdup(url);
    int rc = s->url ? scrub(url, ops->open(url, &s->state, err, errlen), err, errlen)
                    : tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    if (rc) {
        free(s->url);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

const char *tp_sink_scheme(const tp_sink *s) {
    return s->ops->scheme;
}

int tp_sink_can_read(const tp_sink *s) {
    return s->ops->reader != NULL;
}

static int write_only(const tp_sink *s, char *err, size_t errlen) {
    return tp_seterr(err, errlen, TP_ESTATE, "the %s store is write-only: it cannot be queried",
                     s->ops->scheme);
}

int tp_sink_write_trades(tp_sink *s, const tp_trade *t, size_t n, int64_t ingest_ms, char *err,
                         size_t errlen) {
    if (!n) return 0;
    return SCRUBBED(s, s->ops->write_trades(s->state, t, n, ingest_ms, err, errlen));
}

int tp_sink_write_averages(tp_sink *s, const tp_average *a, size_t n, char *err, size_t errlen) {
    if (!n) return 0;
    return SCRUBBED(s, s->ops->write_averages(s->state, a, n, err, errlen));
}

int tp_sink_write_candles(tp_sink *s, const tp_candle *c, size_t n, char *err, size_t errlen) {
    if (!n) return 0;
    return SCRUBBED(s, s->ops->write_candles(s->state, c, n, err, errlen));
}

int tp_sink_commit(tp_sink *s, char *err, size_t errlen) {
    return SCRUBBED(s, s->ops->commit(s->state, err, errlen));
}

int tp_sink_query_symbols(tp_sink *s, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    if (!s->ops->reader) return write_only(s, err, errlen);
    return SCRUBBED(s, s->ops->reader->query_symbols(s->state, fn, ud, err, errlen));
}

int tp_sink_query_trades(tp_sink *s, const tp_query *q, tp_trade_row_fn fn, void *ud, char *err,
                         size_t errlen) {
    if (!s->ops->reader) return write_only(s, err, errlen);
    return SCRUBBED(s, s->ops->reader->query_trades(s->state, q, fn, ud, err, errlen));
}

int tp_sink_query_candles(tp_sink *s, const tp_query *q, tp_candle_row_fn fn, void *ud, char *err,
                          size_t errlen) {
    if (!s->ops->reader) return write_only(s, err, errlen);
    return SCRUBBED(s, s->ops->reader->query_candles(s->state, q, fn, ud, err, errlen));
}

int tp_sink_query_averages(tp_sink *s, const tp_query *q, tp_average_row_fn fn, void *ud, char *err,
                           size_t errlen) {
    if (!s->ops->reader) return write_only(s, err, errlen);
    return SCRUBBED(s, s->ops->reader->query_averages(s->state, q, fn, ud, err, errlen));
}

int tp_sink_query_latest(tp_sink *s, tp_symbol_row_fn fn, void *ud, char *err, size_t errlen) {
    if (!s->ops->reader) return write_only(s, err, errlen);
    if (s->ops->query_latest) return SCRUBBED(s, s->ops->query_latest(s->state, fn, ud, err, errlen));
    return SCRUBBED(s, s->ops->reader->query_symbols(s->state, fn, ud, err, errlen));
}

int tp_sink_can_write_gaps(const tp_sink *s) {
    return s->ops->write_gaps != NULL;
}

int tp_sink_can_query_gaps(const tp_sink *s) {
    return s->ops->query_gaps != NULL;
}

int tp_sink_write_gaps(tp_sink *s, const tp_gap_row *g, size_t n, char *err, size_t errlen) {
    if (!s->ops->write_gaps)
        return tp_seterr(err, errlen, TP_ESTATE, "the %s store cannot store feed gaps", s->ops->scheme);
    if (!n) return 0;
    return SCRUBBED(s, s->ops->write_gaps(s->state, g, n, err, errlen));
}

int tp_sink_query_gaps(tp_sink *s, const tp_query *q, tp_gap_row_fn fn, void *ud, char *err, size_t errlen) {
    if (!s->ops->query_gaps)
        return tp_seterr(err, errlen, TP_ESTATE, "the %s store cannot list feed gaps", s->ops->scheme);
    return SCRUBBED(s, s->ops->query_gaps(s->state, q, fn, ud, err, errlen));
}

int tp_sink_retain(tp_sink *s, const tp_retention *r, int64_t now_ms, int max_rows, uint64_t *deleted,
                   char *err, size_t errlen) {
    *deleted = 0;
    if (!s->ops->retain) return 0;
    return SCRUBBED(s, s->ops->retain(s->state, r, now_ms, max_rows, deleted, err, errlen));
}

int tp_sink_can_retain(const tp_sink *s) {
    return s->ops->retain != NULL;
}

void tp_sink_close(tp_sink *s) {
    if (!s) return;
    s->ops->close(s->state);
    free(s->url);
    free(s);
}

void tp_uuid_format(const uint8_t id[16], char out[37]) {
    /* 8-4-4-4-12 hex digits */
    static const unsigned char k_groups[] = {4, 2, 2, 2, 6};
    size_t o = 0, i = 0;
    for (size_t g = 0; g < sizeof k_groups; g++) {
        if (g) out[o++] = '-';
        tp_hex_encode(id + i, k_groups[g], out + o);
        o += 2u * k_groups[g];
        i += k_groups[g];
    }
    out[o] = '\0';
}
