/* health.h - what `tickpipe run` reports on /healthz: is the feed
 * connected, does the store take writes, is the hand-off queue full, and
 * since when each is not.
 *
 * Each part is ok or failing; a transition to failing records the time
 * (epoch ms), a later failure of the same part only replaces the detail
 * (the store's last error), and a transition to ok clears both. The report
 * is one JSON object:
 *   {"status":"ok","feed":"ok","store":"ok","queue":"ok"}
 *   {"status":"failing","feed":"ok","store":"failing","queue":"ok",
 *    "problems":[{"part":"store","since_ms":1764..,"since":"2026-..Z",
 *                 "for_s":12.3,"detail":"PostgreSQL at ...: ..."}]}
 * and tp_health_report returns 0 (healthy, HTTP 200) or 1 (HTTP 503).
 *
 * Ownership and threads: the creator owns the tp_health and frees it after
 * every user is gone. set and report may be called from any thread (a
 * short internal lock; neither does I/O), not from a signal handler. */
#ifndef TP_HEALTH_H
#define TP_HEALTH_H

#include <stddef.h>
#include <stdint.h>

typedef enum tp_health_part {
    TP_HEALTH_FEED = 0,
    TP_HEALTH_STORE,
    TP_HEALTH_QUEUE,
    TP_HEALTH_PARTS
} tp_health_part;

typedef struct tp_health tp_health;

int tp_health_new(tp_health **out); /* 0 or TP_ENOMEM; every part starts ok */
void tp_health_free(tp_health *h);
/* ok = 1: the part works; ok = 0: it fails, detail (may be NULL) says how. */
void tp_health_set(tp_health *h, tp_health_part part, int ok, const char *detail);
int tp_health_ok(tp_health *h, tp_health_part part);
/* The JSON report (truncated to outlen, always NUL-terminated); 0 when every
 * part is ok, else 1. */
int tp_health_report(tp_health *h, char *out, size_t outlen);
/* Readiness (/readyz) of run: its HTTP server starts only once the store
 * is open and the windows are rebuilt, so ready means the feed is
 * connected (on every connection). {"status":"ready"} and 0, or
 * {"status":"not ready","feed":"failing","detail":...} and 1. A failing
 * store or a full queue is not "not ready" (the dashboard still serves what
 * is stored): /healthz reports those. */
int tp_health_ready(tp_health *h, char *out, size_t outlen);

#endif
