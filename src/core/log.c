/* log.c - see log.h. The level is the one piece of global state besides the
 * metrics; it is set once at start-up, before threads exist. */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_level = TP_LOG_INFO;

void tp_log_set_level(tp_log_level lvl) {
    atomic_store(&g_level, (int)lvl);
}

int tp_log_level_parse(const char *s) {
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (s && strcasecmp(s, names[i]) == 0) return i;
    return -1;
}

int tp_log_enabled(tp_log_level lvl) {
    return (int)lvl <= atomic_load(&g_level);
}

void tp_log(tp_log_level lvl, const char *module, const char *fmt, ...) {
    static const char *tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};
    if (!tp_log_enabled(lvl)) return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%s] ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
                     tags[lvl], module ? module : "tickpipe");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void tp_log_redact(const char *url, char *out, size_t outlen) {
    if (!outlen) return;
    size_t o = 0;
    const char *p = url ? url : "";
    /* user:password@host -> user:***@host */
    const char *scheme = strstr(p, "://");
    /* The userinfo ends at the LAST '@' of the authority (a raw '@' in a
     * password is taken as part of it by the stores' URL parsers), so mask
     * up to that one, not the first. */
    const char *auth = scheme ? scheme + 3 : NULL;
    const char *auth_end = auth ? auth + strcspn(auth, "/?#") : NULL;
    const char *at = NULL;
    for (const char *x = auth; x && x < auth_end; x++)
        if (*x == '@') at = x;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    int mask_userinfo = at && colon;
    while (*p && o + 1 < outlen) {
        if (mask_userinfo && p == colon + 1) {
            for (const char *s = "***"; *s && o + 1 < outlen; s++) out[o++] = *s;
            p = at;
            continue;
        }
        if ((*p == '?' || *p == '&') &&
            (strncasecmp(p + 1, "token=", 6) == 0 || strncasecmp(p + 1, "password=", 9) == 0)) {
            const char *eq = strchr(p, '=');
            while (p <= eq && o + 1 < outlen) out[o++] = *p++;
            for (const char *s = "***"; *s && o + 1 < outlen; s++) out[o++] = *s;
            while (*p && *p != '&') p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

void tp_log_sample(const void *data, size_t len, size_t max, char *out, size_t outlen) {
    const unsigned char *d = data;
    size_t o = 0;
    if (!outlen) return;
    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char c = d[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (o + 2 > outlen) break;
            out[o++] = (char)c;
        } else {
            if (o + 5 > outlen) break;
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        }
    }
    if (len > max && o + 4 <= outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
