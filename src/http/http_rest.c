/* http_rest.c - the REST API over a reader store.
 *
 *   GET /api/symbols
 *   GET /api/trades?symbol=S[&from=MS][&to=MS][&limit=N]
 *   GET /api/candles?symbol=S[&interval=IV][&from=MS][&to=MS][&limit=N]
 *       IV: 1s and 1m as stored; any other whole number of s, m, h or d up
 *       to 7d (5m, 15m, 1h, 4h, 1d, 90s...) rolled up from them (rollup.h)
 *   GET /api/averages?symbol=S[&from=MS][&to=MS][&limit=N]
 *   GET /api/gaps?symbol=S[&from=MS][&to=MS][&limit=N]   feed gaps overlapping the range
 *   GET /api/watchlist   every symbol: last price, its UTC day, a sparkline (watchlist.c)
 *
 * Every parameter is checked before the store is touched: unknown or
 * repeated names, a missing or over-long symbol, a control character
 * (bytes 0x00-0x1f and 0x7f, decoded from %XX or not) in any name or
 * value, numbers that are not plain decimal digits (no sign, space,
 * suffix or exponent; empty or out of range), from >= to, and limits
 * outside 1..max_limit all get 400 with {"error": "..."} naming the
 * parameter. Rows come back oldest first (the
 * latest `limit` rows of the range, as the store returns them). A store
 * that cannot be opened or fails a query gets 503 and is reopened on a
 * later request, so serve outlives a store restart; a write-only store
 * (no reader operations, e.g. null:) gets 501; reopening backs off
 * from 1 s to 30 s, because an open to an unreachable server blocks the
 * server thread for as long as the store's connect timeout. */
#include "http/http_internal.h"

#include "core/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/iso_time.h"
#include "core/log.h"
#include "feed/market_hours.h"
#include "http/rollup.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "http"
#define DEFAULT_LIMIT 1000
/* The most stored candles one rolled-up answer reads (rollup.h): a limit
 * of candles that would need more is lowered to fit. */
#define ROLLUP_MAX_ROWS 500000

void tp_http_error(tp_http_resp *r, int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:s}", "error", msg);
    char *s = j ? json_dumps(j, TP_HTTP_JSON_FLAGS) : NULL;
    if (!s) s = strdup("{\"error\":\"error message not representable\"}");
    json_decref(j);
    r->status = status;
    r->ctype = "application/json";
    r->body = s;
    r->len = s ? strlen(s) : 0;
    r->body_static = 0;
}

void tp_http_json(tp_http_resp *r, json_t *j) {
    char *s = j ? json_dumps(j, TP_HTTP_JSON_FLAGS) : NULL;
    json_decref(j);
    if (!s) {
        tp_http_error(r, 500, "out of memory building the response");
        return;
    }
    r->status = 200;
    r->ctype = "application/json";
    r->body = s;
    r->len = strlen(s);
    r->body_static = 0;
}

json_t *tp_http_str(tp_str s) {
    if (!s.ptr) return json_null();
    json_t *j = json_stringn(s.ptr, s.len);
    return j ? j : json_null();
}

static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *tp_http_trade_json(const tp_trade *t, int64_t ingest_ms) {
    char id[37];
    tp_uuid_format(t->id, id);
    json_t *c;
    if (t->ncond == TP_COND_NULL || t->ncond < 0) {
        c = json_null();
    } else {
        c = json_array();
        for (int32_t i = 0; i < t->ncond; i++) json_array_append_new(c, tp_http_str(t->cond[i]));
    }
    return json_pack("{s:s,s:o,s:o,s:o,s:I,s:o,s:I}", "id", id, "symbol", tp_http_str(t->symbol), "price",
                     num(t->price), "volume", num(t->volume), "ts", (json_int_t)t->ts_ms, "conditions", c,
                     "ingest_ts", (json_int_t)ingest_ms);
}

json_t *tp_http_candle_json(const tp_candle *c) {
    return json_pack("{s:o,s:i,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:b,s:b}", "symbol",
                     tp_http_str(c->symbol), "interval", (int)c->interval_s, "start", (json_int_t)c->start_ms,
                     "open", num(c->open), "high", num(c->high), "low", num(c->low), "close", num(c->close),
                     "volume", num(c->volume), "vwap", num(c->vwap), "count", (json_int_t)c->trade_count,
                     "trade_count", (json_int_t)c->trade_count, "updated", (json_int_t)c->updated_ms, "final",
                     c->final, "incomplete", c->incomplete != 0);
}

json_t *tp_http_average_json(const tp_average *a) {
    return json_pack("{s:o,s:I,s:I,s:o,s:I,s:I,s:b,s:b}", "symbol", tp_http_str(a->symbol), "window_start",
                     (json_int_t)a->window_start_ms, "window_end", (json_int_t)a->window_end_ms,
                     "price_volume_multiply", num(a->price_volume_multiply), "trade_count",
                     (json_int_t)a->trade_count, "ingest_ts", (json_int_t)a->ingest_ms, "final", a->final,
                     "incomplete", a->incomplete != 0);
}

int tp_http_store_ready(tp_http_store *st, tp_http_resp *r) {
    if (st->sink) return 0;
    int64_t now = tp_mono_us() / 1000; /* the backoff is an interval: monotonic */
    if (st->failed_at_ms && now - st->failed_at_ms < st->backoff_ms) {
        tp_http_error(r, 503, "store unavailable: %s", st->last_err);
        return -1;
    }
    char err[256];
    int rc = tp_sink_open(st->url, &st->sink, err, sizeof err);
    if (rc) {
        st->sink = NULL;
        st->failed_at_ms = now;
        st->backoff_ms = st->backoff_ms ? (st->backoff_ms * 2 > 30000 ? 30000 : st->backoff_ms * 2) : 1000;
        snprintf(st->last_err, sizeof st->last_err, "%s", err);
        tp_warn(MOD, "cannot open the store for queries (will retry): %s", err);
        tp_http_error(r, 503, "store unavailable: %s", err);
        return -1;
    }
    st->failed_at_ms = 0;
    st->backoff_ms = 0;
    return 0;
}

void tp_http_store_reset(tp_http_store *st) {
    if (st->sink) tp_sink_close(st->sink);
    st->sink = NULL;
}

/* ---- parameters ---- */

enum {
    P_SYMBOL = 1,
    P_FROM = 2,
    P_TO = 4,
    P_LIMIT = 8,
    P_INTERVAL = 16,
    P_TIMES = 32,
    P_TZ = 64,
    P_FORMAT = 128
};
static const char *const k_param_names[] = {"symbol",   "from",  "to", "limit",
                                            "interval", "times", "tz", "format"};
#define NPARAMS 8

typedef struct params {
    const char *symbol;
    int64_t from, to;
    int64_t limit;
    int64_t interval_s;
    int iso;        /* times=iso: times in the answer as ISO 8601 text */
    const char *tz; /* tz=Area/City: day candles at that zone's midnights */
    int csv;        /* format=csv: the rows as CSV instead of JSON */
} params;

/* A number parameter: decimal digits only, from min to max. Stricter than
 * strtoll, which takes a sign, leading spaces ('+' in a query string
 * decodes to one) and stops at the first non-digit. 0, or fills r with
 * 400. */
static int strict_i64(const char *val, const char *what, int64_t min, int64_t max, int64_t *out,
                      tp_http_resp *r) {
    int64_t v = 0;
    size_t n = strlen(val);
    int ok = n > 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (val[i] < '0' || val[i] > '9' || v > (INT64_MAX - (val[i] - '0')) / 10)
            ok = 0;
        else
            v = v * 10 + (val[i] - '0');
    }
    if (!ok || v < min || v > max) {
        if (!n)
            tp_http_error(r, 400, "%s: a number is required", what);
        else
            tp_http_error(r, 400,
                          "%s: '%.40s%s' is not a whole number from %lld to %lld (decimal digits only)", what,
                          val, n > 40 ? "..." : "", (long long)min, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

/* The first control character (0x00-0x1f, 0x7f) in s, or NULL. */
static const char *control_char(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return s;
    return NULL;
}

/* Parse args against the allowed set; 0 or fills r with 400. */
static int parse_params(char **args, int nargs, unsigned allowed, int max_limit, params *p, tp_http_resp *r) {
    memset(p, 0, sizeof *p);
    p->limit = DEFAULT_LIMIT < max_limit ? DEFAULT_LIMIT : max_limit;
    p->interval_s = 60;
    unsigned seen = 0;
    for (int i = 0; i < nargs; i++) {
        char *eq = strchr(args[i], '=');
        size_t nl = eq ? (size_t)(eq - args[i]) : strlen(args[i]);
        const char *val = eq ? eq + 1 : "";
        const char *cc = control_char(args[i]);
        if (cc) {
            if (cc < args[i] + nl)
                tp_http_error(r, 400, "a parameter name contains a control character (byte 0x%02x)",
                              (unsigned char)*cc);
            else
                tp_http_error(r, 400, "parameter '%.*s' contains a control character (byte 0x%02x)",
                              (int)(nl > 64 ? 64 : nl), args[i], (unsigned char)*cc);
            return -1;
        }
        int which = -1;
        for (int k = 0; k < NPARAMS; k++)
            if (strlen(k_param_names[k]) == nl && !strncmp(k_param_names[k], args[i], nl)) which = k;
        if (which < 0 || !(allowed & (1u << which))) {
            tp_http_error(r, 400, "unknown parameter '%.*s'", (int)(nl > 64 ? 64 : nl), args[i]);
            return -1;
        }
        if (seen & (1u << which)) {
            tp_http_error(r, 400, "parameter '%s' given twice", k_param_names[which]);
            return -1;
        }
        seen |= 1u << which;
        switch (1u << which) {
        case P_SYMBOL: {
            size_t len = strlen(val);
            if (len == 0) {
                tp_http_error(r, 400, "symbol must not be empty");
                return -1;
            }
            if (len > TP_HTTP_MAX_SYMBOL) {
                tp_http_error(r, 400, "symbol is longer than %d bytes", TP_HTTP_MAX_SYMBOL);
                return -1;
            }
            json_t *probe = json_stringn(val, len);
            if (!probe) {
                tp_http_error(r, 400, "symbol is not valid UTF-8");
                return -1;
            }
            json_decref(probe);
            p->symbol = val;
            break;
        }
        case P_FROM:
        case P_TO: {
            int64_t v;
            const char *what = which == 1 ? "from (epoch milliseconds)" : "to (epoch milliseconds)";
            if (strlen(val) >= 10 && val[4] == '-') { /* ISO 8601: 2023-11-14T22:13:20Z, 2023-11-14 */
                if (tp_iso_parse(val, strlen(val), &v)) {
                    tp_http_error(
                        r, 400,
                        "%s: '%.40s' is not an ISO 8601 time with a zone (2023-11-14T22:13:20Z, "
                        "2023-11-14T17:13:20.5-05:00, or a date: 2023-11-14) nor epoch milliseconds",
                        which == 1 ? "from" : "to", val);
                    return -1;
                }
            } else if (strict_i64(val, what, 0, INT64_C(253402300799999), &v, r)) {
                return -1;
            }
            if (which == 1)
                p->from = v;
            else
                p->to = v;
            break;
        }
        case P_LIMIT:
            if (strict_i64(val, "limit", 1, max_limit, &p->limit, r)) return -1;
            break;
        case P_TZ:
            if (!*val) {
                tp_http_error(r, 400,
                              "tz: a time zone name is required (America/New_York, Europe/London, UTC)");
                return -1;
            }
            p->tz = val;
            break;
        case P_FORMAT:
            if (!strcmp(val, "json") || !strcmp(val, "csv")) {
                p->csv = val[0] == 'c';
            } else {
                tp_http_error(r, 400, "format must be json (the default) or csv");
                return -1;
            }
            break;
        case P_TIMES:
            if (!strcmp(val, "iso") || !strcmp(val, "ms")) {
                p->iso = val[0] == 'i';
            } else {
                tp_http_error(r, 400,
                              "times must be ms (epoch milliseconds, the default) or iso (ISO 8601 text)");
                return -1;
            }
            break;
        case P_INTERVAL:
            if (tp_rollup_parse_interval(val, &p->interval_s)) {
                tp_http_error(r, 400,
                              "interval: '%.20s' is not an interval: a whole number and s, m, h or d, "
                              "from 1s to 7d (1s, 5s, 1m, 5m, 15m, 1h, 4h, 1d...)",
                              val);
                return -1;
            }
            break;
        }
    }
    if ((allowed & P_SYMBOL) && !p->symbol) {
        tp_http_error(r, 400, "missing parameter 'symbol'");
        return -1;
    }
    if (p->tz && p->interval_s % 86400) {
        tp_http_error(r, 400,
                      "tz applies to day candles (interval 1d to 7d); other intervals are aligned in UTC");
        return -1;
    }
    if (p->from && p->to && p->from >= p->to) {
        tp_http_error(r, 400, "from must be before to");
        return -1;
    }
    return 0;
}

/* ---- handlers ---- */

typedef struct rows {
    json_t *arr;
    int oom;
} rows;

static int add_row(rows *w, json_t *o) {
    if (!o || json_array_append_new(w->arr, o)) {
        w->oom = 1;
        return 1;
    }
    return 0;
}
static int on_symbol(void *ud, const tp_symbol_info *s) {
    return add_row(ud, json_pack("{s:o,s:I,s:o,s:I}", "symbol", tp_http_str(s->symbol), "trade_count",
                                 (json_int_t)s->trade_count, "last_price", num(s->last_price), "last_ts",
                                 (json_int_t)s->last_ts_ms));
}
static int on_trade(void *ud, const tp_trade *t, int64_t ingest_ms) {
    return add_row(ud, tp_http_trade_json(t, ingest_ms));
}
static int on_candle(void *ud, const tp_candle *c) {
    return add_row(ud, tp_http_candle_json(c));
}
static int on_average(void *ud, const tp_average *a) {
    return add_row(ud, tp_http_average_json(a));
}
/* "expected": was the symbol expected to trade during the gap, or was its
 * market closed all along (feed/market_hours.h: derived, not stored) */
static int on_gap(void *ud, const tp_gap_row *g) {
    int expected = tp_market_hours_expected(g->symbol.ptr, g->symbol.len, g->from_ms, g->to_ms);
    json_t *o = json_pack("{s:o,s:I,s:I,s:s,s:I,s:i,s:b}", "symbol", tp_http_str(g->symbol), "from",
                          (json_int_t)g->from_ms, "to", (json_int_t)g->to_ms, "reason",
                          g->reason ? g->reason : "", "detected_at", (json_int_t)g->detected_at_ms,
                          "connection", (int)g->connection, "expected", expected);
    if (o && g->from_trade_id) { /* the missing venue trade ids, when known */
        json_object_set_new(o, "from_trade_id", json_integer((json_int_t)g->from_trade_id));
        json_object_set_new(o, "to_trade_id", json_integer((json_int_t)g->to_trade_id));
    }
    return add_row(ud, o);
}

/* One CSV field (RFC 4180): a string quoted when it holds a comma, quote,
 * CR or LF (quotes doubled); a number as JSON writes it; null empty; an
 * array or object as its JSON text, quoted. */
static int csv_field(tp_buf *b, json_t *v) {
    char *text = NULL;
    const char *t;
    size_t n;
    if (json_is_null(v) || !v) {
        return 0;
    } else if (json_is_string(v)) {
        t = json_string_value(v), n = json_string_length(v);
    } else if (json_is_true(v) || json_is_false(v)) {
        t = json_is_true(v) ? "true" : "false", n = strlen(t);
    } else {
        text = json_dumps(v, JSON_ENCODE_ANY | TP_HTTP_JSON_FLAGS);
        if (!text) return -1;
        t = text, n = strlen(text);
    }
    int quote = json_is_array(v) || json_is_object(v) || memchr(t, ',', n) || memchr(t, '"', n) ||
                memchr(t, '\r', n) || memchr(t, '\n', n);
    int rc = quote ? tp_buf_append(b, "\"", 1) : 0;
    for (size_t i = 0; !rc && i < n; i++)
        rc = t[i] == '"' && quote ? tp_buf_append(b, "\"\"", 2) : tp_buf_append(b, t + i, 1);
    if (!rc && quote) rc = tp_buf_append(b, "\"", 1);
    free(text);
    return rc;
}

/* format=csv: the rows of an answer as CSV, CRLF line ends (RFC 4180),
 * UTF-8. The header names every field any row has, in the order they
 * first appear (a gap row has its trade id range only when known); a row
 * without a field leaves it empty. */
static void csv_answer(tp_http_resp *r, json_t *list) {
    tp_buf b = {0};
    int rc = 0;
    json_t *cols = json_object(); /* the union of the rows' field names, in order */
    const char *k;
    json_t *v, *fv;
    size_t i;
    json_array_foreach(list, i, v) {
        json_object_foreach(v, k, fv) {
            if (!json_object_get(cols, k)) rc |= json_object_set_new(cols, k, json_null());
        }
    }
    int col = 0;
    json_object_foreach(cols, k, fv) {
        json_t *name = json_string(k);
        rc |= (col++ ? tp_buf_append(&b, ",", 1) : 0) || csv_field(&b, name);
        json_decref(name);
    }
    if (col) rc |= tp_buf_append(&b, "\r\n", 2);
    json_array_foreach(list, i, v) {
        col = 0;
        json_object_foreach(cols, k, fv) {
            rc |= (col++ ? tp_buf_append(&b, ",", 1) : 0) || csv_field(&b, json_object_get(v, k));
        }
        rc |= tp_buf_append(&b, "\r\n", 2);
    }
    json_decref(cols);
    if (rc || tp_buf_append(&b, "", 1)) {
        tp_buf_free(&b);
        tp_http_error(r, 500, "out of memory building the CSV answer");
        return;
    }
    r->status = 200;
    r->ctype = "text/csv; charset=utf-8; header=present";
    r->body = (char *)b.p;
    r->len = b.len - 1;
    r->body_static = 0;
}

/* times=iso: every time field of an answer (epoch ms) as ISO 8601 text,
 * and the times of sparkline points. */
static void iso_times(json_t *j) {
    static const char *const k_time_keys[] = {"ts",           "ingest_ts",  "start",    "updated",
                                              "window_start", "window_end", "from",     "to",
                                              "detected_at",  "last_ts",    "day_start"};
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) iso_times(v);
        return;
    }
    if (!json_is_object(j)) return;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (json_is_integer(v)) {
            for (size_t i = 0; i < sizeof k_time_keys / sizeof k_time_keys[0]; i++)
                if (!strcmp(k, k_time_keys[i])) {
                    char t[40];
                    json_object_set_new(j, k, json_string(tp_iso_format(json_integer_value(v), t, sizeof t)));
                    break;
                }
        } else if (!strcmp(k, "sparkline") && json_is_array(v)) {
            size_t i;
            json_t *pt;
            json_array_foreach(v, i, pt) {
                json_t *t0 = json_array_get(pt, 0);
                char t[40];
                if (json_is_integer(t0))
                    json_array_set_new(pt, 0,
                                       json_string(tp_iso_format(json_integer_value(t0), t, sizeof t)));
            }
        } else {
            iso_times(v);
        }
    }
}

/* Candles of an interval the store does not keep, folded from those it
 * does (rollup.h); rows into w, oldest first. */
static int rolled_up(tp_sink *sink, const tp_query *q, int64_t interval_s, const tp_tz *tz, rows *w,
                     char *err, size_t errlen) {
    tp_rollup ru;
    tp_rollup_init(&ru, interval_s);
    if (tz) tp_rollup_set_tz(&ru, tz);
    tp_query base;
    tp_rollup_query(&ru, q, ROLLUP_MAX_ROWS, &base);
    int rc = tp_sink_query_candles(sink, &base, tp_rollup_add, &ru, err, errlen);
    if (!rc) {
        tp_rollup_finish(&ru);
        tp_rollup_trim(&ru, &base, q->limit);
        if (ru.oom) w->oom = 1;
        for (size_t i = 0; i < ru.n && !w->oom; i++) on_candle(w, &ru.out[i]);
    }
    tp_rollup_free(&ru);
    return rc;
}

static void query_failed(tp_http_store *st, tp_http_resp *r, int rc, const char *err) {
    tp_warn(MOD, "store query failed: %s", err);
    tp_http_store_reset(st);
    tp_http_error(r, rc == TP_EUNAVAIL ? 503 : 500, "store query failed: %s", err);
}

/* The route of path and the parameters it allows; -1 (r filled with 404)
 * for no endpoint. */
enum { R_SYMBOLS, R_TRADES, R_CANDLES, R_AVERAGES, R_GAPS, R_WATCHLIST };
static int route_of_(const char *path, unsigned *allowed, tp_http_resp *r);
/* Every endpoint takes times=ms|iso and format=json|csv. */
static int route_of(const char *path, unsigned *allowed, tp_http_resp *r) {
    int route = route_of_(path, allowed, r);
    *allowed |= P_TIMES | P_FORMAT;
    return route;
}
static int route_of_(const char *path, unsigned *allowed, tp_http_resp *r) {
    if (!strcmp(path, "/api/symbols")) return *allowed = 0, R_SYMBOLS;
    if (!strcmp(path, "/api/trades")) return *allowed = P_SYMBOL | P_FROM | P_TO | P_LIMIT, R_TRADES;
    if (!strcmp(path, "/api/candles"))
        return *allowed = P_SYMBOL | P_FROM | P_TO | P_LIMIT | P_INTERVAL | P_TZ, R_CANDLES;
    if (!strcmp(path, "/api/averages")) return *allowed = P_SYMBOL | P_FROM | P_TO | P_LIMIT, R_AVERAGES;
    if (!strcmp(path, "/api/gaps")) return *allowed = P_SYMBOL | P_FROM | P_TO | P_LIMIT, R_GAPS;
    if (!strcmp(path, "/api/watchlist")) return *allowed = 0, R_WATCHLIST;
    tp_http_error(r, 404,
                  "no such endpoint; try /api/symbols, /api/trades, /api/candles, /api/averages, /api/gaps, "
                  "/api/watchlist or /api/openapi.json");
    return -1;
}

int tp_http_api_check(int max_limit, const char *path, char **args, int nargs, tp_http_resp *r) {
    unsigned allowed;
    params p;
    if (route_of(path, &allowed, r) < 0) return -1;
    return parse_params(args, nargs, allowed, max_limit, &p, r);
}

void tp_http_api(tp_http_store *st, int max_limit, const char *path, char **args, int nargs,
                 tp_http_resp *r) {
    unsigned allowed;
    int route = route_of(path, &allowed, r);
    if (route < 0) return;
    params p;
    if (parse_params(args, nargs, allowed, max_limit, &p, r)) return;
    if (tp_http_store_ready(st, r)) return;
    if (!tp_sink_can_read(st->sink)) {
        tp_http_error(r, 501, "the %s store is write-only: there is nothing to query",
                      tp_sink_scheme(st->sink));
        return;
    }
    if (route == R_GAPS && !tp_sink_can_query_gaps(st->sink)) {
        tp_http_error(r, 501, "the %s store keeps no feed gaps", tp_sink_scheme(st->sink));
        return;
    }

    tp_tz *tz = NULL;
    if (p.tz) {
        char terr[256];
        if (tp_tz_open(p.tz, &tz, terr, sizeof terr)) {
            tp_http_error(r, 400, "tz: %s", terr);
            return;
        }
    }
    tp_query q = {.symbol = p.symbol,
                  .from_ms = p.from,
                  .to_ms = p.to,
                  .limit = (int)p.limit,
                  .interval_s = (int)p.interval_s};
    rows w = {json_array(), 0};
    char err[256] = "";
    int rc;
    const char *key;
    switch (route) {
    case R_SYMBOLS:
        rc = tp_sink_query_symbols(st->sink, on_symbol, &w, err, sizeof err), key = "symbols";
        break;
    case R_TRADES:
        rc = tp_sink_query_trades(st->sink, &q, on_trade, &w, err, sizeof err), key = "trades";
        break;
    case R_CANDLES:
        rc = p.interval_s == 1 || p.interval_s == 60
                 ? tp_sink_query_candles(st->sink, &q, on_candle, &w, err, sizeof err)
                 : rolled_up(st->sink, &q, p.interval_s, tz, &w, err, sizeof err);
        key = "candles";
        break;
    case R_GAPS: rc = tp_sink_query_gaps(st->sink, &q, on_gap, &w, err, sizeof err), key = "gaps"; break;
    case R_WATCHLIST:
        rc = tp_http_watchlist(st->sink, tp_now_ms(), w.arr, err, sizeof err), key = "symbols";
        break;
    default:
        rc = tp_sink_query_averages(st->sink, &q, on_average, &w, err, sizeof err), key = "averages";
        break;
    }
    tp_tz_free(tz);
    if (rc) {
        json_decref(w.arr);
        query_failed(st, r, rc, err);
        return;
    }
    if (w.oom) {
        json_decref(w.arr);
        tp_http_error(r, 500, "out of memory building the response");
        return;
    }
    json_t *o = json_object();
    if (p.symbol) json_object_set_new(o, "symbol", json_string(p.symbol));
    if (route == R_CANDLES) {
        char iv[24];
        json_object_set_new(o, "interval", json_string(tp_rollup_interval_text(p.interval_s, iv, sizeof iv)));
        json_object_set_new(o, "interval_s", json_integer((json_int_t)p.interval_s));
        if (p.tz) json_object_set_new(o, "tz", json_string(p.tz));
    }
    json_object_set_new(o, "count", json_integer((json_int_t)json_array_size(w.arr)));
    json_object_set_new(o, key, w.arr);
    if (p.iso) iso_times(o);
    if (p.csv) {
        csv_answer(r, json_object_get(o, key));
        json_decref(o);
        return;
    }
    tp_http_json(r, o);
}
