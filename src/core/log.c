/* log.c - see log.h. The level is the one piece of global state besides the
 * metrics; it is set once at start-up, before threads exist. */
#include "core/log.h"

#include "core/hex.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Where the part after "scheme:" starts (past "//" if there), or NULL for
 * text with no scheme. */
static const char *after_scheme(const char *url) {
    const char *p = url;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
           *p == '-' || *p == '.')
        p++;
    if (p == url || *p != ':') return NULL;
    p++;
    while (*p == '/') p++;
    return p;
}

/* The password of a URL's user:password@, as [*pw, *pw_end): from the first
 * ':' after the scheme to the LAST '@' before the query. The stores' parsers
 * differ on a raw '@' or '/' in a password (libpq takes the first '@',
 * curl and the Cassandra parser the last before the path), so this takes
 * the widest reading: whatever any of them may have taken for the password
 * is inside. 0 if the URL has none. */
static int userinfo_password(const char *url, const char **pw, const char **pw_end) {
    const char *auth = after_scheme(url);
    if (!auth) return 0;
    const char *end = auth + strcspn(auth, "?#");
    const char *at = NULL;
    for (const char *x = auth; x < end; x++)
        if (*x == '@') at = x;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon) return 0;
    *pw = colon + 1;
    *pw_end = at;
    return 1;
}

/* A query parameter that holds a secret: "password=", "token=" (any case),
 * and any name that only starts so ("password%3D...", a mangled one). The
 * length of the name part to keep, or 0. */
static size_t secret_param(const char *p) {
    static const char *const names[] = {"password", "token"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (!strncasecmp(p, names[i], n)) {
            const char *eq = p + strcspn(p, "=&#");
            return *eq == '=' ? (size_t)(eq - p) + 1 : n;
        }
    }
    return 0;
}

void tp_log_redact(const char *url, char *out, size_t outlen) {
    if (!outlen) return;
    size_t o = 0;
    const char *p = url ? url : "";
    const char *pw = NULL, *pw_end = NULL;
    userinfo_password(p, &pw, &pw_end);
    while (*p && o + 1 < outlen) {
        if (p == pw) { /* user:password@host -> user:***@host */
            for (const char *s = "***"; *s && o + 1 < outlen; s++) out[o++] = *s;
            p = pw_end;
            continue;
        }
        size_t keep;
        if ((*p == '?' || *p == '&') && (keep = secret_param(p + 1))) {
            for (size_t i = 0; i <= keep && o + 1 < outlen; i++) out[o++] = *p++;
            for (const char *s = "***"; *s && o + 1 < outlen; s++) out[o++] = *s;
            while (*p && *p != '&' && *p != '#') p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

/* The forms a secret may take in a library's message: as written, percent-
 * decoded (with and without '+' as space) and percent-encoded (upper and
 * lower case hex). */
#define SCRUB_MAX_FORMS 64
typedef struct scrub_forms {
    char *f[SCRUB_MAX_FORMS];
    size_t n;
} scrub_forms;

static void add_form(scrub_forms *s, const char *p, size_t n) {
    if (!n || s->n == SCRUB_MAX_FORMS) return;
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->f[i]) == n && !memcmp(s->f[i], p, n)) return;
    char *c = malloc(n + 1);
    if (!c) return;
    memcpy(c, p, n);
    c[n] = '\0';
    s->f[s->n++] = c;
}

static void add_secret(scrub_forms *s, const char *p, size_t n) {
    add_form(s, p, n);
    char *dec = malloc(n + 1), *enc = malloc(3 * n + 1);
    if (dec && enc) {
        for (int plus = 0; plus < 2; plus++) {
            long dn = tp_pct_decode(p, n, plus, dec, n + 1);
            if (dn <= 0) continue;
            add_form(s, dec, (size_t)dn);
            for (int lower = 0; lower < 2; lower++) {
                static const char *const k_hex[] = {"0123456789ABCDEF", "0123456789abcdef"};
                size_t e = 0;
                for (long i = 0; i < dn; i++) {
                    unsigned char c = (unsigned char)dec[i];
                    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '.' || c == '_' || c == '~') {
                        enc[e++] = (char)c;
                    } else {
                        enc[e++] = '%';
                        enc[e++] = k_hex[lower][c >> 4];
                        enc[e++] = k_hex[lower][c & 15];
                    }
                }
                add_form(s, enc, e);
            }
        }
    }
    free(dec);
    free(enc);
}

static int longer_first(const void *a, const void *b) {
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
    return la < lb ? 1 : la > lb ? -1 : 0;
}

void tp_log_scrub(const char *url, char *text, size_t textcap) {
    if (!url || !text || !textcap || !*text) return;
    scrub_forms s = {{0}, 0};
    const char *pw, *pw_end;
    if (userinfo_password(url, &pw, &pw_end)) {
        add_secret(&s, pw, (size_t)(pw_end - pw));
        /* libpq ends the userinfo at the first '@', curl at the last */
        for (const char *x = pw; x < pw_end; x++)
            if (*x == '@') add_secret(&s, pw, (size_t)(x - pw));
    }
    for (const char *p = url; *p; p++) {
        size_t keep;
        if ((*p == '?' || *p == '&') && (keep = secret_param(p + 1))) {
            const char *v = p + 1 + keep;
            add_secret(&s, v, strcspn(v, "&#"));
        }
    }
    if (!s.n) return;
    qsort(s.f, s.n, sizeof s.f[0], longer_first);
    char *out = malloc(textcap);
    if (out) {
        for (size_t k = 0; k < s.n; k++) {
            /* a short secret ("p") only where it stands alone, not inside
             * words ("protocol"): libraries quote or delimit what they echo */
            size_t fl = strlen(s.f[k]), o = 0;
            int whole = fl < 6;
            for (const char *t = text; *t && o + 1 < textcap;) {
                if (!strncmp(t, s.f[k], fl) && (!whole || ((t == text || !isalnum((unsigned char)t[-1])) &&
                                                           !isalnum((unsigned char)t[fl])))) {
                    for (const char *m = "***"; *m && o + 1 < textcap; m++) out[o++] = *m;
                    t += fl;
                } else {
                    out[o++] = *t++;
                }
            }
            out[o] = '\0';
            memcpy(text, out, o + 1);
        }
        free(out);
    } else { /* no memory for a copy: say nothing rather than risk the secret */
        snprintf(text, textcap, "(message withheld: it may hold a password)");
    }
    for (size_t k = 0; k < s.n; k++) free(s.f[k]);
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
