/* http_internal.h - pieces shared by the HTTP server's files (not an API).
 *
 * http_server.c  libwebsockets context, routing, response bodies, /ws
 *                clients and their queues, stats push, store polling
 * http_rest.c    query-string validation, the /api/ handlers, and the JSON
 *                form of each row type (the same objects go out over /ws)
 * http_assets.c  the embedded dashboard files
 *
 * Everything here runs on the server thread, except the row formatters,
 * which tp_http_publish_*() also call on the publisher's thread (they touch
 * no shared state). */
#ifndef TP_HTTP_INTERNAL_H
#define TP_HTTP_INTERNAL_H

#include "sink/sink.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define TP_HTTP_MAX_SYMBOL 64 /* bytes; longer symbol= values get 400 */
#define TP_HTTP_MAX_ARGS 16

/* A response built by a handler; body is malloc'd (or static when
 * body_static is set). */
typedef struct tp_http_resp {
    int status;
    const char *ctype;
    char *body;
    size_t len;
    int body_static;
} tp_http_resp;

/* The reader store, opened lazily on the server thread. */
typedef struct tp_http_store {
    const char *url;
    tp_sink *sink;
    int64_t failed_at_ms; /* last failed open */
    int64_t backoff_ms;   /* wait before the next try: 1 s, doubling to 30 s (an open can block) */
    char last_err[256];
} tp_http_store;

/* Make sure st->sink is open; 0, or fills resp with a 503 JSON error. */
int tp_http_store_ready(tp_http_store *st, tp_http_resp *r);
/* Drop the reader after a query error, so the next request reopens it. */
void tp_http_store_reset(tp_http_store *st);

/* Route an /api/... request. args are "name=value" strings (URL-decoded). */
void tp_http_api(tp_http_store *st, int max_limit, const char *path, char **args, int nargs, tp_http_resp *r);

/* Fill r with {"error": msg} and status. */
void tp_http_error(tp_http_resp *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Serialize j (stolen) into r with status 200. */
void tp_http_json(tp_http_resp *r, json_t *j);

/* Row formatters (the same objects in REST answers and /ws messages). */
json_t *tp_http_trade_json(const tp_trade *t, int64_t ingest_ms);
json_t *tp_http_candle_json(const tp_candle *c);
json_t *tp_http_average_json(const tp_average *a);
json_t *tp_http_str(tp_str s); /* a JSON string, or null if not UTF-8 */
#define TP_HTTP_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Embedded assets. */
typedef struct tp_http_asset {
    const char *path; /* "/", "/app.js", ... */
    const char *ctype;
    const char *data;
    size_t len;
} tp_http_asset;
const tp_http_asset *tp_http_asset_find(const char *path);

#endif
