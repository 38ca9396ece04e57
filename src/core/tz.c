/* tz.c - IANA time zones from TZif files (tz.h; RFC 8536). */
#include "core/tz.h"

#include "core/err.h"
#include "core/iso_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRANSITIONS 100000
#define MAX_FILE (1 << 20)

typedef struct rule {
    char kind; /* 'M' (month.week.day), 'J' (Julian day 1-365, no Feb 29) or 'n' (day 0-365) */
    int m, w, d, n;
    int32_t time; /* seconds after local midnight (may be negative or past a day) */
} rule;

typedef struct posix {
    int valid;
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    rule start, end;
} posix;

struct tp_tz {
    int64_t *at;   /* transition times, UTC seconds, ascending */
    uint8_t *type; /* the type taking effect at each */
    size_t n;
    int32_t off[256]; /* seconds east of UTC, by type */
    size_t ntypes;
    posix footer;
};

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t be64(const unsigned char *p) {
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- the POSIX TZ string of the footer ---- */

static int name_part(const char **s) {
    const char *p = *s;
    if (*p == '<') {
        const char *q = strchr(p, '>');
        if (!q || q == p + 1) return -1;
        *s = q + 1;
        return 0;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) p++;
    if (p - *s < 3) return -1;
    *s = p;
    return 0;
}

/* [+-]h[hh][:mm[:ss]] into seconds; max_h bounds the hours */
static int hms(const char **s, int max_h, int32_t *out) {
    const char *p = *s;
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    int h = 0, m = 0, sec = 0, nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 3) h = h * 10 + (*p++ - '0'), nd++;
    if (!nd || h > max_h) return -1;
    if (*p == ':') {
        p++;
        if (!(p[0] >= '0' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9')) return -1;
        m = (p[0] - '0') * 10 + (p[1] - '0'), p += 2;
        if (*p == ':') {
            p++;
            if (!(p[0] >= '0' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9')) return -1;
            sec = (p[0] - '0') * 10 + (p[1] - '0'), p += 2;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    *s = p;
    return 0;
}

static int num(const char **s, int lo, int hi, int *out) {
    const char *p = *s;
    int v = 0, nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 4) v = v * 10 + (*p++ - '0'), nd++;
    if (!nd || v < lo || v > hi) return -1;
    *out = v;
    *s = p;
    return 0;
}

static int parse_rule(const char **s, rule *r) {
    const char *p = *s;
    memset(r, 0, sizeof *r);
    if (*p == 'M') {
        p++;
        r->kind = 'M';
        if (num(&p, 1, 12, &r->m) || *p++ != '.' || num(&p, 1, 5, &r->w) || *p++ != '.' ||
            num(&p, 0, 6, &r->d))
            return -1;
    } else if (*p == 'J') {
        p++;
        r->kind = 'J';
        if (num(&p, 1, 365, &r->n)) return -1;
    } else {
        r->kind = 'n';
        if (num(&p, 0, 365, &r->n)) return -1;
    }
    r->time = 7200;
    if (*p == '/' && (p++, hms(&p, 167, &r->time))) return -1;
    *s = p;
    return 0;
}

static int parse_posix(const char *s, posix *z) {
    memset(z, 0, sizeof *z);
    int32_t o;
    if (name_part(&s) || hms(&s, 24, &o)) return -1;
    z->std_off = -o; /* POSIX offsets are west of UTC */
    if (*s) {
        if (name_part(&s)) return -1;
        z->has_dst = 1;
        z->dst_off = z->std_off + 3600;
        if (*s && *s != ',') {
            if (hms(&s, 24, &o)) return -1;
            z->dst_off = -o;
        }
        /* no rules: POSIX leaves them to the implementation; US rules are
         * the usual default, but a TZif footer always has them */
        if (*s++ != ',' || parse_rule(&s, &z->start) || *s++ != ',' || parse_rule(&s, &z->end)) return -1;
    }
    if (*s) return -1;
    z->valid = 1;
    return 0;
}

static int is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* UTC seconds of the rule's local time in year y, local time at offset off */
static int64_t rule_at(const rule *r, int64_t y, int32_t off) {
    int64_t day;
    if (r->kind == 'J') {
        day = tp_days_from_civil(y, 1, 1) + r->n - 1 + (is_leap(y) && r->n >= 60);
    } else if (r->kind == 'n') {
        day = tp_days_from_civil(y, 1, 1) + r->n;
    } else {
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int64_t first = tp_days_from_civil(y, r->m, 1);
        int wd1 = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; Sunday = 0 */
        int dom = 1 + (r->d - wd1 + 7) % 7 + (r->w - 1) * 7;
        int dim = mdays[r->m - 1] + (r->m == 2 && is_leap(y));
        while (dom > dim) dom -= 7;
        day = first + dom - 1;
    }
    return day * 86400 + r->time - off;
}

static int32_t posix_offset(const posix *z, int64_t t) {
    if (!z->has_dst) return z->std_off;
    /* the year by standard time: transitions never sit within hours of New Year */
    int64_t days = (t + z->std_off) / 86400 - ((t + z->std_off) % 86400 < 0);
    int64_t y = 1970 + days / 366;
    while (tp_days_from_civil(y + 1, 1, 1) <= days) y++;
    while (tp_days_from_civil(y, 1, 1) > days) y--;
    int64_t start = rule_at(&z->start, y, z->std_off), end = rule_at(&z->end, y, z->dst_off);
    int dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? z->dst_off : z->std_off;
}

/* ---- the TZif file ---- */

int tp_tz_parse(const unsigned char *b, size_t len, tp_tz **out, char *err, size_t errlen) {
    *out = NULL;
#define BAD(what) return snprintf(err, errlen, "not a TZif file: %s", what), TP_EINVAL
    if (len < 44 || memcmp(b, "TZif", 4)) BAD("no TZif header");
    if (b[4] < '2') BAD("version 1 (no 64-bit times)");
    /* skip the version 1 block */
    uint32_t c1[6];
    for (int i = 0; i < 6; i++) c1[i] = be32(b + 20 + 4 * i);
    uint64_t skip =
        44 + (uint64_t)c1[3] * 5 + (uint64_t)c1[4] * 6 + c1[5] + (uint64_t)c1[2] * 8 + c1[1] + c1[0];
    if (skip + 44 > len) BAD("truncated");
    const unsigned char *h = b + skip;
    if (memcmp(h, "TZif", 4)) BAD("no second header");
    uint32_t isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28), timecnt = be32(h + 32),
             typecnt = be32(h + 36), charcnt = be32(h + 40);
    /* a zone counting leap seconds (the right/ tree) would put midnights
     * up to 27 s off: refused */
    if (leapcnt) BAD("a leap-second zone (right/...); use the zone of the same name without right/");
    if (timecnt > MAX_TRANSITIONS || typecnt == 0 || typecnt > 256 || (isutcnt && isutcnt != typecnt) ||
        (isstdcnt && isstdcnt != typecnt))
        BAD("counts out of range");
    uint64_t need = 44 + (uint64_t)timecnt * 9 + (uint64_t)typecnt * 6 + charcnt + (uint64_t)leapcnt * 12 +
                    isstdcnt + isutcnt;
    if (skip + need > len) BAD("truncated data");
    const unsigned char *p = h + 44;
    tp_tz *z = calloc(1, sizeof *z);
    if (!z || (timecnt && (!(z->at = malloc(timecnt * sizeof *z->at)) || !(z->type = malloc(timecnt))))) {
        tp_tz_free(z);
        return snprintf(err, errlen, "out of memory"), TP_ENOMEM;
    }
    z->n = timecnt;
    z->ntypes = typecnt;
    for (uint32_t i = 0; i < timecnt; i++) {
        z->at[i] = be64(p + 8 * (size_t)i);
        if (i && z->at[i] <= z->at[i - 1]) {
            tp_tz_free(z);
            BAD("transitions out of order");
        }
    }
    p += (size_t)timecnt * 8;
    for (uint32_t i = 0; i < timecnt; i++) {
        z->type[i] = p[i];
        if (p[i] >= typecnt) {
            tp_tz_free(z);
            BAD("a transition names no type");
        }
    }
    p += timecnt;
    for (uint32_t i = 0; i < typecnt; i++) {
        int32_t off = (int32_t)be32(p + 6 * (size_t)i);
        if (off < -89999 || off > 93599) { /* RFC 8536: -25 h < off < 26 h */
            tp_tz_free(z);
            BAD("an offset out of range");
        }
        z->off[i] = off;
    }
    /* the footer: "\nTZ\n" after the version 2 data */
    const unsigned char *f = b + skip + need, *end = b + len;
    if (f < end && *f == '\n') {
        const unsigned char *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
        if (nl && nl > f + 1 && nl - f - 1 < 128) {
            char tzs[128];
            memcpy(tzs, f + 1, (size_t)(nl - f - 1));
            tzs[nl - f - 1] = '\0';
            if (parse_posix(tzs, &z->footer)) {
                tp_tz_free(z);
                BAD("a footer that is not a POSIX TZ string");
            }
        }
    }
#undef BAD
    *out = z;
    return 0;
}

static int name_ok(const char *n) {
    size_t len = strlen(n);
    if (!len || len > 200 || n[0] == '/' || n[len - 1] == '/') return 0;
    for (const char *p = n; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '+' || c == '/'))
            return 0;
        if (c == '/' && p[1] == '/') return 0;
    }
    return 1; /* no '.', so no ".." part */
}

int tp_tz_open(const char *name, tp_tz **out, char *err, size_t errlen) {
    *out = NULL;
    if (!name_ok(name)) {
        snprintf(err, errlen, "'%.60s' is not a time zone name (Area/City, such as America/New_York, or UTC)",
                 name);
        return TP_EINVAL;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "unknown time zone '%s' (%s: %s; Debian's tzdata package holds them)", name,
                 path, strerror(errno));
        return TP_EINVAL;
    }
    unsigned char *buf = malloc(MAX_FILE);
    size_t n = buf ? fread(buf, 1, MAX_FILE, fp) : 0;
    fclose(fp);
    if (!buf) return snprintf(err, errlen, "out of memory"), TP_ENOMEM;
    char perr[160];
    int rc = tp_tz_parse(buf, n, out, perr, sizeof perr);
    free(buf);
    if (rc) snprintf(err, errlen, "time zone '%s': %s", name, perr);
    return rc;
}

int32_t tp_tz_offset(const tp_tz *z, int64_t utc_ms) {
    int64_t t = utc_ms / 1000 - (utc_ms % 1000 < 0);
    if (z->n == 0 || t >= z->at[z->n - 1]) {
        if (z->footer.valid) return posix_offset(&z->footer, t);
        return z->n ? z->off[z->type[z->n - 1]] : z->off[0];
    }
    if (t < z->at[0]) return z->off[0];
    size_t lo = 0, hi = z->n - 1; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->off[z->type[lo]];
}

void tp_tz_free(tp_tz *z) {
    if (!z) return;
    free(z->at);
    free(z->type);
    free(z);
}
