/* config.c - see config.h. */
#include "core/config.h"

#include "core/err.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

const char *tp_cfg_str(const char *flag, const char *env, const char *def) {
    if (flag) return flag;
    if (env) {
        const char *v = getenv(env);
        if (v && *v) return v;
    }
    return def;
}

int tp_cfg_parse_i64(const char *s, const char *what, int64_t min, int64_t max, int64_t *out, char *err,
                     size_t errlen) {
    char *end;
    errno = 0;
    if (!s || !*s) return tp_seterr(err, errlen, TP_EINVAL, "%s: a number is required", what);
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return tp_seterr(err, errlen, TP_EINVAL, "%s: '%s' is not a whole number from %lld to %lld", what, s,
                         (long long)min, (long long)max);
    *out = v;
    return 0;
}

int tp_cfg_parse_double(const char *s, const char *what, double min, double max, double *out, char *err,
                        size_t errlen) {
    char *end;
    errno = 0;
    if (!s || !*s) return tp_seterr(err, errlen, TP_EINVAL, "%s: a number is required", what);
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        return tp_seterr(err, errlen, TP_EINVAL, "%s: '%s' is not a number from %g to %g", what, s, min, max);
    *out = v;
    return 0;
}

static int symbols_push(tp_symbols *s, const char *p, size_t len) {
    while (len && isspace((unsigned char)*p)) p++, len--;
    while (len && isspace((unsigned char)p[len - 1])) len--;
    if (!len) return 0;
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->items[i]) == len && memcmp(s->items[i], p, len) == 0) return 0;
    char **items = realloc(s->items, (s->n + 1) * sizeof(char *));
    if (!items) return TP_ENOMEM;
    s->items = items;
    s->items[s->n] = strndup(p, len);
    if (!s->items[s->n]) return TP_ENOMEM;
    s->n++;
    return 0;
}

int tp_symbols_parse(const char *text, tp_symbols *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (!text) return 0;
    const char *p = text;
    while (isspace((unsigned char)*p)) p++;
    if (*p == '[') {
        json_error_t je;
        json_t *arr = json_loads(p, 0, &je);
        if (!arr || !json_is_array(arr)) {
            json_decref(arr);
            return tp_seterr(
                err, errlen, TP_EINVAL,
                "symbol list is not a JSON list of strings (%s); use [\"AAPL\",\"MSFT\"] or AAPL,MSFT",
                je.text);
        }
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
            if (!json_is_string(v)) {
                json_decref(arr);
                tp_symbols_free(out);
                return tp_seterr(err, errlen, TP_EINVAL, "symbol list item %zu is not a string", i);
            }
            if (symbols_push(out, json_string_value(v), json_string_length(v))) {
                json_decref(arr);
                tp_symbols_free(out);
                return TP_ENOMEM;
            }
        }
        json_decref(arr);
        return 0;
    }
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (symbols_push(out, p, len)) {
            tp_symbols_free(out);
            return TP_ENOMEM;
        }
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

void tp_symbols_free(tp_symbols *s) {
    for (size_t i = 0; i < s->n; i++) free(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

void tp_cfg_brokers(const char *flag, char *out, size_t outlen) {
    if (flag && *flag) {
        snprintf(out, outlen, "%s", flag);
        return;
    }
    const char *host = getenv("KAFKA_SERVER");
    const char *port = getenv("KAFKA_PORT");
    if (host && *host) {
        if (port && *port && !strchr(host, ':') && !strchr(host, ','))
            snprintf(out, outlen, "%s:%s", host, port);
        else
            snprintf(out, outlen, "%s", host);
        return;
    }
    snprintf(out, outlen, "localhost:%s", port && *port ? port : "9092");
}

int64_t tp_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tp_mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int tp_cfg_log_level(const char *s, char *err, size_t errlen) {
    int l = tp_log_level_parse(s);
    if (l < 0)
        return tp_seterr(err, errlen, TP_EINVAL, "--log-level '%s' is not one of error, warn, info, debug",
                         s);
    tp_log_set_level((tp_log_level)l);
    return 0;
}

int tp_cfg_env_flag(const char *env) {
    const char *v = getenv(env);
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

void tp_cfg_alarm_after(double seconds) {
    struct itimerval it = {{0, 0}, {0, 0}};
    if (seconds > 0) {
        it.it_value.tv_sec = (time_t)seconds;
        it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
        if (!it.it_value.tv_sec && !it.it_value.tv_usec) it.it_value.tv_usec = 1;
    }
    setitimer(ITIMER_REAL, &it, NULL);
}

int tp_cond_init_mono(pthread_cond_t *cv) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
    return rc;
}

void tp_mono_deadline(struct timespec *ts, int64_t ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}
