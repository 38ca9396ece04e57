/* export.c - see export.h. */
#include "archive/export.h"

#include "core/config.h"
#include "core/err.h"
#include "core/json_str.h"
#include "sink/rowfmt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the tables ---- */

static const tp_pq_column k_trades[] = {
    {"id", TP_PQ_UUID, 0, 0},
    {"symbol", TP_PQ_STRING, 0, 1},
    {"price", TP_PQ_DOUBLE, 0, 0},
    {"volume", TP_PQ_DOUBLE, 0, 0},
    {"ts", TP_PQ_TIMESTAMP_MS, 0, 0},
    {"conditions", TP_PQ_STRING, 1, 0},
    {"ingest_ts", TP_PQ_TIMESTAMP_MS, 0, 0},
};
#define TRADES_COND 5 /* jsonl writes this column's JSON as it is */

static const tp_pq_column k_candles[] = {
    {"symbol", TP_PQ_STRING, 0, 1},
    {"interval_s", TP_PQ_INT32, 0, 0},
    {"start", TP_PQ_TIMESTAMP_MS, 0, 0},
    {"open", TP_PQ_DOUBLE, 0, 0},
    {"high", TP_PQ_DOUBLE, 0, 0},
    {"low", TP_PQ_DOUBLE, 0, 0},
    {"close", TP_PQ_DOUBLE, 0, 0},
    {"volume", TP_PQ_DOUBLE, 0, 0},
    {"vwap", TP_PQ_DOUBLE, 1, 0},
    {"trade_count", TP_PQ_INT64, 0, 0},
    {"final", TP_PQ_BOOL, 0, 0},
    {"incomplete", TP_PQ_BOOL, 0, 0},
    {"updated_ts", TP_PQ_TIMESTAMP_MS, 0, 0},
};

static const tp_pq_column k_averages[] = {
    {"id", TP_PQ_UUID, 0, 0},
    {"symbol", TP_PQ_STRING, 0, 1},
    {"window_start", TP_PQ_TIMESTAMP_MS, 0, 0},
    {"window_end", TP_PQ_TIMESTAMP_MS, 0, 0},
    {"price_volume_multiply", TP_PQ_DOUBLE, 0, 0},
    {"trade_count", TP_PQ_INT64, 0, 0},
    {"final", TP_PQ_BOOL, 0, 0},
    {"incomplete", TP_PQ_BOOL, 0, 0},
    {"ingest_ts", TP_PQ_TIMESTAMP_MS, 0, 0},
};

static const tp_pq_column k_gaps[] = {
    {"symbol", TP_PQ_STRING, 0, 1},      {"from_ts", TP_PQ_TIMESTAMP_MS, 0, 0},
    {"to_ts", TP_PQ_TIMESTAMP_MS, 0, 0}, {"reason", TP_PQ_STRING, 0, 1},
    {"connection", TP_PQ_INT32, 0, 0},   {"detected_ts", TP_PQ_TIMESTAMP_MS, 0, 0},
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_COLS 13

static const char *const k_table_names[] = {"trades", "candles", "averages", "gaps"};
static const char *const k_format_names[] = {"parquet", "csv", "jsonl"};

int tp_export_table_by_name(const char *name) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, k_table_names[i])) return i;
    return -1;
}

int tp_export_format_by_name(const char *name) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, k_format_names[i])) return i;
    return -1;
}

const char *tp_export_table_name(int table) {
    return table >= 0 && table < 4 ? k_table_names[table] : "?";
}

const tp_pq_column *tp_export_columns(int table, size_t *n) {
    switch (table) {
    case TP_EX_TRADES: *n = NCOLS(k_trades); return k_trades;
    case TP_EX_CANDLES: *n = NCOLS(k_candles); return k_candles;
    case TP_EX_AVERAGES: *n = NCOLS(k_averages); return k_averages;
    case TP_EX_GAPS: *n = NCOLS(k_gaps); return k_gaps;
    }
    *n = 0;
    return NULL;
}

/* ---- one value of a row ---- */

typedef struct xval {
    int null;
    int64_t i;     /* integers, timestamps, booleans; strings in a page: offset */
    double d;      /* doubles */
    const void *p; /* strings and UUIDs */
    size_t n;
} xval;

struct tp_rowout {
    FILE *f;
    int table, format;
    const tp_pq_column *cols;
    size_t ncols;
    tp_pq_writer *pq;
    tp_buf line, scratch;
    uint64_t rows;
};

int tp_rowout_open(tp_rowout **out, FILE *f, int table, int format, char *err, size_t errlen) {
    *out = NULL;
    tp_rowout *w = calloc(1, sizeof *w);
    if (!w) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    w->f = f;
    w->table = table;
    w->format = format;
    w->cols = tp_export_columns(table, &w->ncols);
    if (!w->cols || format < 0 || format > TP_EX_JSONL) {
        free(w);
        return tp_seterr(err, errlen, TP_EINVAL, "unknown table or format");
    }
    int rc = 0;
    if (format == TP_EX_PARQUET) {
        rc = tp_pq_open(&w->pq, f, w->cols, w->ncols, NULL, err, errlen);
    } else if (format == TP_EX_CSV) {
        for (size_t i = 0; i < w->ncols; i++) fprintf(f, "%s%s", i ? "," : "", w->cols[i].name);
        fputs("\r\n", f);
        if (ferror(f)) rc = tp_seterr(err, errlen, TP_EIO, "write: %s", strerror(errno));
    }
    if (rc) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void tp_rowout_free(tp_rowout *w) {
    if (!w) return;
    tp_pq_free(w->pq);
    tp_buf_free(&w->line);
    tp_buf_free(&w->scratch);
    free(w);
}

uint64_t tp_rowout_rows(const tp_rowout *w) {
    return w->rows;
}

int tp_rowout_close(tp_rowout *w, char *err, size_t errlen) {
    int rc = 0;
    if (w->pq) {
        rc = tp_pq_close(w->pq, err, errlen);
        w->pq = NULL;
    } else if (fflush(w->f)) {
        rc = tp_seterr(err, errlen, TP_EIO, "write: %s", strerror(errno));
    }
    tp_rowout_free(w);
    return rc;
}

/* The shortest of %.15g .. %.17g that reads back as d. */
static int fmt_double(char *out, size_t cap, double d) {
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d) break;
    }
    return n;
}

static int put_str(tp_buf *b, const char *s) {
    return tp_buf_append(b, s, strlen(s));
}

/* One value as csv or jsonl text. */
static int text_value(tp_rowout *w, size_t col, const xval *v) {
    tp_buf *b = &w->line;
    const tp_pq_column *c = &w->cols[col];
    int json = w->format == TP_EX_JSONL;
    char tmp[64];
    if (v->null) return json ? put_str(b, "null") : 0;
    switch (c->kind) {
    case TP_PQ_BOOL: return put_str(b, v->i ? "true" : "false");
    case TP_PQ_INT32:
    case TP_PQ_INT64:
    case TP_PQ_TIMESTAMP_MS: snprintf(tmp, sizeof tmp, "%lld", (long long)v->i); return put_str(b, tmp);
    case TP_PQ_DOUBLE:
        if (!isfinite(v->d))
            return put_str(b, json ? "null" : (isnan(v->d) ? "NaN" : v->d > 0 ? "Infinity" : "-Infinity"));
        fmt_double(tmp, sizeof tmp, v->d);
        return put_str(b, tmp);
    case TP_PQ_UUID: {
        char u[37];
        tp_uuid_format(v->p, u);
        if (!json) return put_str(b, u);
        return tp_buf_append(b, "\"", 1) || put_str(b, u) || tp_buf_append(b, "\"", 1);
    }
    case TP_PQ_STRING:
        if (json) {
            if (w->table == TP_EX_TRADES && col == TRADES_COND) return tp_buf_append(b, v->p, v->n);
            return tp_buf_append(b, "\"", 1) || tp_json_escape(b, v->p, v->n) || tp_buf_append(b, "\"", 1);
        }
        /* RFC 4180: always quoted, so an empty string is "" and a null is nothing */
        if (tp_buf_append(b, "\"", 1)) return -1;
        for (size_t k = 0; k < v->n; k++) {
            char ch = ((const char *)v->p)[k];
            if (tp_buf_append(b, &ch, 1) || (ch == '"' && tp_buf_append(b, "\"", 1))) return -1;
        }
        return tp_buf_append(b, "\"", 1);
    }
    return 0;
}

static int put_row(tp_rowout *w, const xval *v, char *err, size_t errlen) {
    if (w->format == TP_EX_PARQUET) {
        for (size_t i = 0; i < w->ncols; i++) {
            int rc;
            if (v[i].null) {
                rc = tp_pq_set_null(w->pq, i);
            } else {
                switch (w->cols[i].kind) {
                case TP_PQ_BOOL: rc = tp_pq_set_bool(w->pq, i, (int)v[i].i); break;
                case TP_PQ_DOUBLE: rc = tp_pq_set_double(w->pq, i, v[i].d); break;
                case TP_PQ_STRING: rc = tp_pq_set_str(w->pq, i, v[i].p, v[i].n); break;
                case TP_PQ_UUID: rc = tp_pq_set_uuid(w->pq, i, v[i].p); break;
                default: rc = tp_pq_set_i64(w->pq, i, v[i].i); break;
                }
            }
            if (rc)
                return tp_seterr(err, errlen, rc, "parquet: column %s: %s", w->cols[i].name, tp_strerror(rc));
        }
        int rc = tp_pq_end_row(w->pq, err, errlen);
        if (!rc) w->rows++;
        return rc;
    }
    tp_buf_reset(&w->line);
    int oom = 0;
    if (w->format == TP_EX_JSONL) oom |= tp_buf_append(&w->line, "{", 1);
    for (size_t i = 0; i < w->ncols; i++) {
        if (w->format == TP_EX_JSONL) {
            oom |= (i ? tp_buf_append(&w->line, ",\"", 2) : tp_buf_append(&w->line, "\"", 1));
            oom |= put_str(&w->line, w->cols[i].name);
            oom |= tp_buf_append(&w->line, "\":", 2);
        } else if (i) {
            oom |= tp_buf_append(&w->line, ",", 1);
        }
        oom |= text_value(w, i, &v[i]);
    }
    oom |= w->format == TP_EX_JSONL ? tp_buf_append(&w->line, "}\n", 2) : tp_buf_append(&w->line, "\r\n", 2);
    if (oom) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    if (fwrite(w->line.p, 1, w->line.len, w->f) != w->line.len)
        return tp_seterr(err, errlen, TP_EIO, "write: %s", strerror(errno));
    w->rows++;
    return 0;
}

/* ---- rows into values ---- */

static void v_i(xval *v, int64_t i) {
    memset(v, 0, sizeof *v);
    v->i = i;
}
static void v_d(xval *v, double d) {
    memset(v, 0, sizeof *v);
    v->d = d;
}
static void v_s(xval *v, const void *p, size_t n) {
    memset(v, 0, sizeof *v);
    v->p = p ? p : "";
    v->n = n;
}
static void v_null(xval *v) {
    memset(v, 0, sizeof *v);
    v->null = 1;
}

static int trade_vals(tp_buf *scratch, const tp_trade *t, int64_t ingest_ms, xval *v) {
    v_s(&v[0], t->id, 16);
    v_s(&v[1], t->symbol.ptr, t->symbol.len);
    v_d(&v[2], t->price);
    v_d(&v[3], t->volume);
    v_i(&v[4], t->ts_ms);
    tp_buf_reset(scratch);
    if (tp_cond_json(scratch, t)) return -1;
    if (t->ncond == TP_COND_NULL)
        v_null(&v[5]);
    else
        v_s(&v[5], scratch->p, scratch->len);
    v_i(&v[6], ingest_ms);
    return 0;
}

static void candle_vals(const tp_candle *c, xval *v) {
    v_s(&v[0], c->symbol.ptr, c->symbol.len);
    v_i(&v[1], c->interval_s);
    v_i(&v[2], c->start_ms);
    v_d(&v[3], c->open);
    v_d(&v[4], c->high);
    v_d(&v[5], c->low);
    v_d(&v[6], c->close);
    v_d(&v[7], c->volume);
    if (isnan(c->vwap))
        v_null(&v[8]);
    else
        v_d(&v[8], c->vwap);
    v_i(&v[9], c->trade_count);
    v_i(&v[10], c->final != 0);
    v_i(&v[11], c->incomplete != 0);
    v_i(&v[12], c->updated_ms);
}

static void average_vals(const tp_average *a, xval *v) {
    v_s(&v[0], a->id, 16);
    v_s(&v[1], a->symbol.ptr, a->symbol.len);
    v_i(&v[2], a->window_start_ms);
    v_i(&v[3], a->window_end_ms);
    v_d(&v[4], a->price_volume_multiply);
    v_i(&v[5], a->trade_count);
    v_i(&v[6], a->final != 0);
    v_i(&v[7], a->incomplete != 0);
    v_i(&v[8], a->ingest_ms);
}

static void gap_vals(const tp_gap_row *g, xval *v) {
    v_s(&v[0], g->symbol.ptr, g->symbol.len);
    v_i(&v[1], g->from_ms);
    v_i(&v[2], g->to_ms);
    v_s(&v[3], g->reason, g->reason ? strlen(g->reason) : 0);
    v_i(&v[4], g->connection);
    v_i(&v[5], g->detected_at_ms);
}

int tp_rowout_trade(tp_rowout *w, const tp_trade *t, int64_t ingest_ms, char *err, size_t errlen) {
    xval v[MAX_COLS];
    if (trade_vals(&w->scratch, t, ingest_ms, v)) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    return put_row(w, v, err, errlen);
}

int tp_rowout_candle(tp_rowout *w, const tp_candle *c, char *err, size_t errlen) {
    xval v[MAX_COLS];
    candle_vals(c, v);
    return put_row(w, v, err, errlen);
}

int tp_rowout_average(tp_rowout *w, const tp_average *a, char *err, size_t errlen) {
    xval v[MAX_COLS];
    average_vals(a, v);
    return put_row(w, v, err, errlen);
}

int tp_rowout_gap(tp_rowout *w, const tp_gap_row *g, char *err, size_t errlen) {
    xval v[MAX_COLS];
    gap_vals(g, v);
    return put_row(w, v, err, errlen);
}

/* ---- reading a store in windows ---- */

/* A page of rows held back until it is known to be complete: values with
 * their strings copied into str (xval.i holds the offset there). */
typedef struct page {
    xval *v;
    size_t n, cap, ncols; /* n rows */
    tp_buf str;
    tp_buf scratch;
    int oom;
} page;

static int page_add(page *pg, xval *v, const tp_pq_column *cols) {
    if (pg->n == pg->cap) {
        size_t cap = pg->cap ? pg->cap * 2 : 1024;
        xval *nv = realloc(pg->v, cap * pg->ncols * sizeof *nv);
        if (!nv) return -1;
        pg->v = nv;
        pg->cap = cap;
    }
    xval *dst = pg->v + pg->n * pg->ncols;
    for (size_t i = 0; i < pg->ncols; i++) {
        dst[i] = v[i];
        if (!v[i].null && (cols[i].kind == TP_PQ_STRING || cols[i].kind == TP_PQ_UUID)) {
            dst[i].i = (int64_t)pg->str.len;
            dst[i].p = NULL;
            if (tp_buf_append(&pg->str, v[i].p, v[i].n)) return -1;
        }
    }
    pg->n++;
    return 0;
}

typedef struct ctx {
    const tp_export_opts *o;
    tp_rowout *w;
    page pg;
    size_t got;          /* rows the last query answered (kept or not) */
    uint64_t not_final;  /* rows left out by final_only (pages written) */
    uint64_t nf_page;    /* ... of the last query */
    int64_t progress_ms; /* when progress was last shown */
} ctx;

static int on_trade(void *ud, const tp_trade *t, int64_t ingest_ms) {
    ctx *c = ud;
    xval v[MAX_COLS];
    c->got++;
    if (trade_vals(&c->pg.scratch, t, ingest_ms, v) || page_add(&c->pg, v, c->w->cols)) c->pg.oom = 1;
    return c->pg.oom;
}

static int on_candle(void *ud, const tp_candle *cd) {
    ctx *c = ud;
    xval v[MAX_COLS];
    c->got++;
    if (c->o->final_only && !cd->final) {
        c->nf_page++;
        return 0;
    }
    candle_vals(cd, v);
    if (page_add(&c->pg, v, c->w->cols)) c->pg.oom = 1;
    return c->pg.oom;
}

static int on_average(void *ud, const tp_average *a) {
    ctx *c = ud;
    xval v[MAX_COLS];
    c->got++;
    if (c->o->final_only && !a->final) {
        c->nf_page++;
        return 0;
    }
    average_vals(a, v);
    if (page_add(&c->pg, v, c->w->cols)) c->pg.oom = 1;
    return c->pg.oom;
}

static int on_gap(void *ud, const tp_gap_row *g) {
    ctx *c = ud;
    xval v[MAX_COLS];
    c->got++;
    if (c->o->gaps_by_start && c->o->from_ms && g->from_ms < c->o->from_ms) return 0;
    gap_vals(g, v);
    if (page_add(&c->pg, v, c->w->cols)) c->pg.oom = 1;
    return c->pg.oom;
}

static int page_flush(ctx *c, char *err, size_t errlen) {
    for (size_t r = 0; r < c->pg.n; r++) {
        xval *v = c->pg.v + r * c->pg.ncols;
        for (size_t i = 0; i < c->pg.ncols; i++)
            if (!v[i].null && (c->w->cols[i].kind == TP_PQ_STRING || c->w->cols[i].kind == TP_PQ_UUID))
                v[i].p = c->pg.str.p + v[i].i;
        int rc = put_row(c->w, v, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

static int query(ctx *c, tp_sink *s, const tp_query *q, char *err, size_t errlen) {
    c->pg.n = 0;
    c->got = 0;
    c->nf_page = 0;
    c->pg.oom = 0;
    tp_buf_reset(&c->pg.str);
    int rc;
    switch (c->o->table) {
    case TP_EX_TRADES: rc = tp_sink_query_trades(s, q, on_trade, c, err, errlen); break;
    case TP_EX_CANDLES: rc = tp_sink_query_candles(s, q, on_candle, c, err, errlen); break;
    case TP_EX_AVERAGES: rc = tp_sink_query_averages(s, q, on_average, c, err, errlen); break;
    default: rc = tp_sink_query_gaps(s, q, on_gap, c, err, errlen); break;
    }
    if (!rc && c->pg.oom) rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    return rc;
}

#define FAR_MS 253402300800000LL /* 10000-01-01: "no upper bound" as a number */

static int export_symbol(ctx *c, tp_sink *s, const char *sym, int interval, char *err, size_t errlen) {
    const tp_export_opts *o = c->o;
    int limit = o->page_rows > 0 ? o->page_rows : 20000;
    tp_query q = {.symbol = sym, .interval_s = interval};
    if (o->table == TP_EX_GAPS) { /* few, and a window would cut the ones that span its edges */
        q.from_ms = o->from_ms;
        q.to_ms = o->to_ms;
        q.limit = 0;
        int rc = query(c, s, &q, err, errlen);
        c->not_final += c->nf_page;
        return rc ? rc : page_flush(c, err, errlen);
    }
    int64_t lo = o->from_ms > 0 ? o->from_ms : 0, hi = o->to_ms > 0 ? o->to_ms : FAR_MS;
    int64_t width = hi - lo, a = lo;
    while (a < hi) {
        int64_t b = hi - a <= width ? hi : a + width;
        q.from_ms = a;
        q.to_ms = b;
        q.limit = limit;
        int rc = query(c, s, &q, err, errlen);
        if (rc) return rc;
        if (c->got >= (size_t)limit) { /* may have lost its oldest rows: narrower */
            if (b - a <= 1)
                return tp_seterr(err, errlen, TP_ELIMIT, "%s has more than %d %s in one millisecond (%lld)",
                                 sym, limit, tp_export_table_name(o->table), (long long)a);
            width = (b - a) / 2;
            continue;
        }
        rc = page_flush(c, err, errlen);
        if (rc) return rc;
        c->not_final += c->nf_page;
        if (o->progress) {
            int64_t now = tp_now_ms();
            if (now - c->progress_ms >= 500) {
                c->progress_ms = now;
                fprintf(o->progress, "\r%llu rows (%s)\033[K", (unsigned long long)tp_rowout_rows(c->w), sym);
                fflush(o->progress);
            }
        }
        a = b;
        if (width < INT64_MAX / 2) width *= 2;
    }
    return 0;
}

typedef struct names {
    char **v;
    size_t n, cap;
    int oom;
} names;

static int on_symbol(void *ud, const tp_symbol_info *si) {
    names *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->oom = 1;
            return 1;
        }
        l->v = nv;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strndup(si->symbol.ptr, si->symbol.len))) {
        l->oom = 1;
        return 1;
    }
    l->n++;
    return 0;
}

int tp_export_rows(const tp_export_opts *o, tp_sink *s, tp_rowout *w, uint64_t *not_final, char *err,
                   size_t errlen) {
    if (!tp_sink_can_read(s))
        return tp_seterr(err, errlen, TP_ESTATE, "the %s store cannot be read", tp_sink_scheme(s));
    if (o->table == TP_EX_GAPS && !tp_sink_can_query_gaps(s))
        return tp_seterr(err, errlen, TP_ESTATE, "the %s store keeps no feed gaps", tp_sink_scheme(s));
    names l = {0};
    int rc = 0;
    if (o->symbol) {
        rc = on_symbol(&l, &(tp_symbol_info){.symbol = {o->symbol, (uint32_t)strlen(o->symbol)}});
    } else {
        rc = tp_sink_query_latest(s, on_symbol, &l, err, errlen);
    }
    if (!rc && l.oom) rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    ctx c = {.o = o, .w = w};
    c.pg.ncols = w->ncols;
    for (size_t i = 0; !rc && i < l.n; i++) {
        if (o->table == TP_EX_CANDLES) {
            rc = export_symbol(&c, s, l.v[i], 1, err, errlen);
            if (!rc) rc = export_symbol(&c, s, l.v[i], 60, err, errlen);
        } else {
            rc = export_symbol(&c, s, l.v[i], 0, err, errlen);
        }
    }
    if (not_final) *not_final = c.not_final;
    if (o->progress && c.progress_ms) { /* clear the progress line */
        fputs("\r\033[K", o->progress);
        fflush(o->progress);
    }
    for (size_t i = 0; i < l.n; i++) free(l.v[i]);
    free(l.v);
    free(c.pg.v);
    tp_buf_free(&c.pg.str);
    tp_buf_free(&c.pg.scratch);
    return rc;
}

int tp_export_to_path(const tp_export_opts *o, const char *path, uint64_t *rows, char *err, size_t errlen) {
    *rows = 0;
    tp_sink *s = NULL;
    int rc = tp_sink_open(o->store, &s, err, errlen);
    if (rc) return rc;
    int to_stdout = !strcmp(path, "-");
    char *tmp = NULL;
    FILE *f = stdout;
    if (!to_stdout) {
        size_t n = strlen(path) + 5;
        tmp = malloc(n);
        if (!tmp) {
            tp_sink_close(s);
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        }
        snprintf(tmp, n, "%s.tmp", path);
        f = fopen(tmp, "wb");
        if (!f) {
            rc = tp_seterr(err, errlen, TP_EIO, "cannot create %s: %s", tmp, strerror(errno));
            free(tmp);
            tp_sink_close(s);
            return rc;
        }
    }
    tp_rowout *w = NULL;
    rc = tp_rowout_open(&w, f, o->table, o->format, err, errlen);
    if (!rc) rc = tp_export_rows(o, s, w, NULL, err, errlen);
    if (!rc) *rows = tp_rowout_rows(w);
    if (!rc) {
        rc = tp_rowout_close(w, err, errlen);
    } else {
        tp_rowout_free(w);
    }
    tp_sink_close(s);
    if (!to_stdout) {
        if (!rc && (fflush(f) || fsync(fileno(f))))
            rc = tp_seterr(err, errlen, TP_EIO, "write %s: %s", tmp, strerror(errno));
        if (fclose(f) && !rc) rc = tp_seterr(err, errlen, TP_EIO, "write %s: %s", tmp, strerror(errno));
        if (!rc && rename(tmp, path))
            rc = tp_seterr(err, errlen, TP_EIO, "rename %s to %s: %s", tmp, path, strerror(errno));
        if (rc) unlink(tmp);
        free(tmp);
    } else if (!rc && fflush(stdout)) {
        rc = tp_seterr(err, errlen, TP_EIO, "write: %s", strerror(errno));
    }
    return rc;
}
