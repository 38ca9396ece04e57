/* http_rest.c - the REST API over a reader store.
 *
 *   GET /api/symbols
 *   GET /api/trades?symbol=S[&from=MS][&to=MS][&limit=N]
 *   GET /api/candles?symbol=S[&interval=1s|1m][&from=MS][&to=MS][&limit=N]
 *   GET /api/averages?symbol=S[&from=MS][&to=MS][&limit=N]
 *   GET /api/gaps?symbol=S[&from=MS][&to=MS][&limit=N]   feed gaps overlapping the range
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
#include "core/err.h"
#include "core/log.h"
#include "feed/market_hours.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD "http"
#define DEFAULT_LIMIT 1000

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
    return json_pack("{s:o,s:i,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:b,s:b}", "symbol",
                     tp_http_str(c->symbol), "interval", (int)c->interval_s, "start", (json_int_t)c->start_ms,
                     "open", num(c->open), "high", num(c->high), "low", num(c->low), "close", num(c->close),
                     "volume", num(c->volume), "vwap", num(c->vwap), "count", (json_int_t)c->trade_count,
                     "updated", (json_int_t)c->updated_ms, "final", c->final, "incomplete",
                     c->incomplete != 0);
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

enum { P_SYMBOL = 1, P_FROM = 2, P_TO = 4, P_LIMIT = 8, P_INTERVAL = 16 };
static const char *const k_param_names[] = {"symbol", "from", "to", "limit", "interval"};

typedef struct params {
    const char *symbol;
    int64_t from, to;
    int64_t limit;
    int interval_s;
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
        for (int k = 0; k < 5; k++)
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
            if (strict_i64(val, what, 0, INT64_C(253402300799999), &v, r)) return -1;
            if (which == 1)
                p->from = v;
            else
                p->to = v;
            break;
        }
        case P_LIMIT:
            if (strict_i64(val, "limit", 1, max_limit, &p->limit, r)) return -1;
            break;
        case P_INTERVAL:
            if (!strcmp(val, "1s"))
                p->interval_s = 1;
            else if (!strcmp(val, "1m"))
                p->interval_s = 60;
            else {
                tp_http_error(r, 400, "interval must be 1s or 1m");
                return -1;
            }
            break;
        }
    }
    if ((allowed & P_SYMBOL) && !p->symbol) {
        tp_http_error(r, 400, "missing parameter 'symbol'");
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

static void query_failed(tp_http_store *st, tp_http_resp *r, int rc, const char *err) {
    tp_warn(MOD, "store query failed: %s", err);
    tp_http_store_reset(st);
    tp_http_error(r, rc == TP_EUNAVAIL ? 503 : 500, "store query failed: %s", err);
}

/* The route of path and the parameters it allows; -1 (r filled with 404)
 * for no endpoint. */
enum { R_SYMBOLS, R_TRADES, R_CANDLES, R_AVERAGES, R_GAPS };
static int route_of(const char *path, unsigned *allowed, tp_http_resp *r) {
    if (!strcmp(path, "/api/symbols")) return *allowed = 0, R_SYMBOLS;
    if (!strcmp(path, "/api/trades")) return *allowed = P_SYMBOL | P_FROM | P_TO | P_LIMIT, R_TRADES;
    if (!strcmp(path, "/api/candles"))
        return *allowed = P_SYMBOL | P_FROM | P_TO | P_LIMIT | P_INTERVAL, R_CANDLES;
    if (!strcmp(path, "/api/averages")) return *allowed = P_SYMBOL | P_FROM | P_TO | P_LIMIT, R_AVERAGES;
    if (!strcmp(path, "/api/gaps")) return *allowed = P_SYMBOL | P_FROM | P_TO | P_LIMIT, R_GAPS;
    tp_http_error(
        r, 404, "no such endpoint; try /api/symbols, /api/trades, /api/candles, /api/averages or /api/gaps");
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

    tp_query q = {.symbol = p.symbol,
                  .from_ms = p.from,
                  .to_ms = p.to,
                  .limit = (int)p.limit,
                  .interval_s = p.interval_s};
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
        rc = tp_sink_query_candles(st->sink, &q, on_candle, &w, err, sizeof err), key = "candles";
        break;
    case R_GAPS: rc = tp_sink_query_gaps(st->sink, &q, on_gap, &w, err, sizeof err), key = "gaps"; break;
    default:
        rc = tp_sink_query_averages(st->sink, &q, on_average, &w, err, sizeof err), key = "averages";
        break;
    }
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
    if (route == R_CANDLES) json_object_set_new(o, "interval", json_string(p.interval_s == 1 ? "1s" : "1m"));
    json_object_set_new(o, "count", json_integer((json_int_t)json_array_size(w.arr)));
    json_object_set_new(o, key, w.arr);
    tp_http_json(r, o);
}
