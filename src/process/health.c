/* health.c - feed, store and queue health for /healthz (see health.h).
 *
 * Design. Three parts, each a flag, the time it started failing and the
 * latest detail, behind one mutex: writers are the pipeline thread (store,
 * after every flush attempt) and run's loop (feed and queue, polled), the
 * reader is the HTTP thread answering /healthz and building the dashboard's
 * stats. Nothing here blocks on I/O, so /healthz answers at once even while
 * the store hangs. /readyz (tp_health_ready) reads the feed part only. */
#include "process/health.h"

#include "core/config.h"
#include "core/err.h"
#include "core/json_str.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct part_state {
    int failing;
    int64_t since_ms;
    char detail[400];
} part_state;

struct tp_health {
    pthread_mutex_t mu;
    part_state part[TP_HEALTH_PARTS];
};

static const char *const k_names[TP_HEALTH_PARTS] = {"feed", "store", "queue"};

int tp_health_new(tp_health **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return TP_ENOMEM;
    pthread_mutex_init(&(*out)->mu, NULL);
    return 0;
}

void tp_health_free(tp_health *h) {
    if (!h) return;
    pthread_mutex_destroy(&h->mu);
    free(h);
}

void tp_health_set(tp_health *h, tp_health_part part, int ok, const char *detail) {
    if (!h || part < 0 || part >= TP_HEALTH_PARTS) return;
    pthread_mutex_lock(&h->mu);
    part_state *p = &h->part[part];
    if (ok) {
        p->failing = 0;
        p->since_ms = 0;
        p->detail[0] = '\0';
    } else {
        if (!p->failing) p->since_ms = tp_now_ms();
        p->failing = 1;
        snprintf(p->detail, sizeof p->detail, "%s", detail ? detail : "");
    }
    pthread_mutex_unlock(&h->mu);
}

int tp_health_ok(tp_health *h, tp_health_part part) {
    if (!h || part < 0 || part >= TP_HEALTH_PARTS) return 1;
    pthread_mutex_lock(&h->mu);
    int ok = !h->part[part].failing;
    pthread_mutex_unlock(&h->mu);
    return ok;
}

static void iso_ms(int64_t ms, char out[32]) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

int tp_health_report(tp_health *h, char *out, size_t outlen) {
    if (!outlen) return 0;
    part_state ps[TP_HEALTH_PARTS];
    pthread_mutex_lock(&h->mu);
    memcpy(ps, h->part, sizeof ps);
    pthread_mutex_unlock(&h->mu);
    int bad = 0;
    for (int i = 0; i < TP_HEALTH_PARTS; i++) bad |= ps[i].failing;
    size_t o = 0;
#define PUT(...)                                                                                             \
    do {                                                                                                     \
        int w_ = snprintf(out + o, outlen - o, __VA_ARGS__);                                                 \
        o += w_ < 0 ? 0 : (size_t)w_ < outlen - o ? (size_t)w_ : outlen - o - 1;                             \
    } while (0)
    PUT("{\"status\":\"%s\"", bad ? "failing" : "ok");
    for (int i = 0; i < TP_HEALTH_PARTS; i++)
        PUT(",\"%s\":\"%s\"", k_names[i], ps[i].failing ? "failing" : "ok");
    if (bad) {
        PUT(",\"problems\":[");
        int64_t now = tp_now_ms();
        int first = 1;
        for (int i = 0; i < TP_HEALTH_PARTS; i++) {
            if (!ps[i].failing) continue;
            char since[32], esc[sizeof ps[i].detail * 2];
            iso_ms(ps[i].since_ms, since);
            size_t n = tp_json_escape_to(esc, sizeof esc - 1, ps[i].detail, strlen(ps[i].detail),
                                         TP_JSON_REPAIR_UTF8);
            esc[n < sizeof esc - 1 ? n : sizeof esc - 1] = '\0';
            PUT("%s{\"part\":\"%s\",\"since_ms\":%lld,\"since\":\"%s\",\"for_s\":%.1f,\"detail\":\"%s\"}",
                first ? "" : ",", k_names[i], (long long)ps[i].since_ms, since,
                (double)(now - ps[i].since_ms) / 1000.0, esc);
            first = 0;
        }
        PUT("]");
    }
    PUT("}");
#undef PUT
    return bad;
}

int tp_health_ready(tp_health *h, char *out, size_t outlen) {
    if (!outlen) return 0;
    part_state feed;
    pthread_mutex_lock(&h->mu);
    feed = h->part[TP_HEALTH_FEED];
    pthread_mutex_unlock(&h->mu);
    if (!feed.failing) {
        snprintf(out, outlen, "{\"status\":\"ready\"}");
        return 0;
    }
    char esc[sizeof feed.detail * 2];
    size_t n = tp_json_escape_to(esc, sizeof esc - 1, feed.detail, strlen(feed.detail), TP_JSON_REPAIR_UTF8);
    esc[n < sizeof esc - 1 ? n : sizeof esc - 1] = '\0';
    snprintf(out, outlen,
             "{\"status\":\"not ready\",\"feed\":\"failing\",\"since_ms\":%lld,\"detail\":\"%s\"}",
             (long long)feed.since_ms, esc);
    return 1;
}
