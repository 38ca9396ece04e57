/* finnhub_json.c - the hot-path Finnhub frame parser and trade writer.
 *
 * A single pass over the frame, no tree and no allocation except the batch
 * arena (trade array growth aside). It accepts exactly what jansson (the
 * reference parser, finnhub_json_ref.c) accepts with the flags the reference
 * uses, and produces the same values:
 * - strict RFC 8259 syntax; one object, then only whitespace;
 * - strings: valid UTF-8, no raw control characters, only the standard
 *   escapes, \uXXXX with surrogates paired, no \u0000 (jansson refuses NUL);
 * - numbers: a token without '.'/exponent is a 64-bit integer (out of range
 *   is an error, "-0" is the integer 0); any other token is a double, as
 *   strtod rounds it, and overflow to infinity is an error;
 * - nesting: a value more than 2048 levels deep (the root counts as level 1)
 *   is an error, as jansson's JSON_PARSER_MAX_DEPTH; unknown values are
 *   skipped iteratively, so depth costs no stack;
 * - a repeated key: the last one wins.
 *
 * Keys may come in any order, so "data" is parsed into the batch before the
 * parser knows whether "type" will say "trade": trades are appended as they
 * come, the first semantic problem (a trade without "p", ...) is remembered
 * rather than reported, and once the object is closed the batch is either
 * kept (a valid trade frame) or rewound to the mark taken on entry. Strings
 * are remembered as spans of the frame and decoded straight into the arena.
 *
 * Doubles: a number with at most 19 significant digits whose value is at
 * most 2^53 and whose decimal exponent is within +-22 is computed with one
 * exact multiplication or division (correctly rounded, as strtod); every
 * other real goes through strtod on a NUL-terminated copy of the token. */
#include "codec/finnhub_json.h"
#include "core/err.h"
#include "core/hex.h"
#include "core/json_str.h"

#include <errno.h>
#include <float.h>
#include <langinfo.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef struct lexer {
    const unsigned char *p, *start, *end;
    char *err;
    size_t errlen;
} lexer;

/* A string token: its raw bytes between the quotes and its decoded length. */
typedef struct jstr {
    const unsigned char *raw;
    size_t rawlen, len;
    int esc;
} jstr;

typedef struct jnum {
    int is_int;
    int64_t i;
    double d;
} jnum;

static int syntax(lexer *L, const unsigned char *at, const char *what) {
    return tp_seterr(L->err, L->errlen, TP_EPARSE, "invalid JSON at byte %zu: %s", (size_t)(at - L->start),
                     what);
}

static inline void skip_ws(lexer *L) {
    const unsigned char *p = L->p, *e = L->end;
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    L->p = p;
}

/* 1 for bytes that end the fast path of a string: '"', '\\', controls,
 * and every non-ASCII byte (checked as UTF-8). */
static const unsigned char str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static int hex4(const unsigned char *p, const unsigned char *e, uint32_t *out) {
    if (e - p < 4) return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = tp_hex_digit(p[i]);
        if (d < 0) return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

static size_t utf8_len(uint32_t cp) {
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Scan and validate the string at L->p (a '"'); leave L->p after it. */
static int scan_string(lexer *L, jstr *out) {
    const unsigned char *p = L->p + 1, *e = L->end;
    size_t saved = 0; /* raw bytes minus decoded bytes */
    int esc = 0;
    out->raw = p;
    for (;;) {
        while (p < e && !str_stop[*p]) p++;
        if (p >= e) return syntax(L, p, "unterminated string");
        unsigned char c = *p;
        if (c == '"') break;
        if (c == '\\') {
            esc = 1;
            if (p + 1 >= e) return syntax(L, p, "unterminated string");
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                saved += 1;
                break;
            case 'u': {
                uint32_t cp;
                if (hex4(p + 2, e, &cp)) return syntax(L, p, "invalid \\u escape (needs 4 hex digits)");
                if (cp == 0) return syntax(L, p, "\\u0000 is not allowed in strings");
                if (cp >= 0xDC00 && cp <= 0xDFFF) return syntax(L, p, "unpaired UTF-16 low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (e - p < 12 || p[6] != '\\' || p[7] != 'u')
                        return syntax(L, p, "UTF-16 high surrogate not followed by a low surrogate");
                    if (hex4(p + 8, e, &lo))
                        return syntax(L, p + 6, "invalid \\u escape (needs 4 hex digits)");
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return syntax(L, p, "UTF-16 high surrogate not followed by a low surrogate");
                    p += 12;
                    saved += 12 - 4;
                } else {
                    p += 6;
                    saved += 6 - utf8_len(cp);
                }
                break;
            }
            default: return syntax(L, p, "invalid escape in string");
            }
        } else if (c < 0x20) {
            char what[64];
            snprintf(what, sizeof what, "control character 0x%02x in string", c);
            return syntax(L, p, what);
        } else {
            size_t n = tp_utf8_seq(p, e);
            if (!n) return syntax(L, p, "invalid UTF-8 in string");
            p += n;
        }
    }
    out->rawlen = (size_t)(p - out->raw);
    out->len = out->rawlen - saved;
    out->esc = esc;
    L->p = p + 1;
    return 0;
}

static char *put_utf8(char *d, uint32_t cp) {
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    return d;
}

/* Decode a scanned (hence valid) string into d, which has room for s->len. */
static void decode_string(const jstr *s, char *d) {
    if (!s->esc) {
        if (s->rawlen) memcpy(d, s->raw, s->rawlen);
        return;
    }
    const unsigned char *p = s->raw, *e = s->raw + s->rawlen;
    while (p < e) {
        if (*p != '\\') {
            *d++ = (char)*p++;
            continue;
        }
        unsigned char c = p[1];
        p += 2;
        switch (c) {
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'u': {
            uint32_t cp = 0, lo = 0;
            hex4(p, e, &cp);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                hex4(p + 2, e, &lo);
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            d = put_utf8(d, cp);
            break;
        }
        default: *d++ = (char)c; break; /* '"', '\\', '/' */
        }
    }
}

/* Copy a decoded string into the batch arena (NUL-terminated there). */
static const char *arena_string(tp_batch *b, const jstr *s) {
    if (!s->esc) return tp_batch_strdup(b, (const char *)s->raw, s->rawlen);
    char *d = tp_batch_alloc(b, s->len + 1);
    if (!d) return NULL;
    decode_string(s, d);
    d[s->len] = '\0';
    return d;
}

/* Does the decoded string equal lit? */
static int str_is(const jstr *s, const char *lit, size_t litlen) {
    if (s->len != litlen) return 0;
    if (!s->esc) return memcmp(s->raw, lit, litlen) == 0;
    char buf[16];
    if (litlen > sizeof buf) return 0;
    decode_string(s, buf);
    return memcmp(buf, lit, litlen) == 0;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* strtod on a NUL-terminated copy of the token, with the decimal point of
 * the current locale (as jansson does). -1 if the value overflows. */
static int slow_strtod(const unsigned char *tok, size_t n, double *out) {
    char small[128];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return -2;
    memcpy(buf, tok, n);
    buf[n] = '\0';
    const char *point = nl_langinfo(RADIXCHAR); /* thread-safe, unlike localeconv() */
    if (point[0] != '.') {
        char *dot = strchr(buf, '.');
        if (dot) *dot = point[0];
    }
    errno = 0;
    double v = strtod(buf, NULL);
    int over = (v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE;
    if (buf != small) free(buf);
    if (over) return -1;
    *out = v;
    return 0;
}

/* Scan the number at L->p. With want == 0 only the validity (syntax and
 * range) is checked and out->d may be left unset. */
static int scan_number(lexer *L, jnum *out, int want) {
    const unsigned char *p = L->p, *e = L->end, *tok = p;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= e || *p < '0' || *p > '9') return syntax(L, tok, "invalid number");
    uint64_t m = 0; /* significant digits, at most 19 of them */
    int nd = 0, fd = 0, slow = 0;
    long nint = 0; /* digits of the integer part, leading "0" excluded */
    if (*p == '0') {
        p++;
        if (p < e && *p >= '0' && *p <= '9') return syntax(L, tok, "invalid number (leading zero)");
    } else {
        while (p < e && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (nd < 19) {
                m = m * 10 + d;
                nd++;
            } else {
                slow = 1;
            }
            nint++;
            p++;
        }
    }
    int is_real = 0;
    if (p < e && *p == '.') {
        is_real = 1;
        p++;
        if (p >= e || *p < '0' || *p > '9')
            return syntax(L, tok, "invalid number (digit expected after '.')");
        while (p < e && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (m == 0 && d == 0) {
                fd++;
            } else if (nd < 19) {
                m = m * 10 + d;
                nd++;
                fd++;
            } else {
                slow = 1;
            }
            p++;
        }
    }
    long ex = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        is_real = 1;
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p >= e || *p < '0' || *p > '9')
            return syntax(L, tok, "invalid number (digit expected in exponent)");
        while (p < e && *p >= '0' && *p <= '9') {
            if (ex < 1000000) ex = ex * 10 + (*p - '0');
            p++;
        }
        if (eneg) ex = -ex;
    }
    L->p = p;
    if (!is_real) {
        /* At most 19 digits were accumulated; a 20th digit or more means
         * out of range for sure, 19 digits fit in uint64. */
        if (slow) return syntax(L, tok, "integer out of the 64-bit range");
        if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX)
            return syntax(L, tok, "integer out of the 64-bit range");
        out->is_int = 1;
        out->i = neg ? (int64_t)(0 - m) : (int64_t)m;
        return 0;
    }
    out->is_int = 0;
    if (!slow) {
        if (m == 0) {
            out->d = neg ? -0.0 : 0.0;
            return 0;
        }
        long e10 = ex - fd;
#if FLT_EVAL_METHOD == 0
        if (m <= (1ULL << 53) && e10 >= -22 && e10 <= 22) {
            double d = (double)m;
            d = e10 >= 0 ? d * pow10_exact[e10] : d / pow10_exact[-e10];
            out->d = neg ? -d : d;
            return 0;
        }
#endif
    }
    /* The value is below 10^(nint + ex): no overflow possible under 10^308. */
    if (!want && nint + ex <= 308) return 0;
    int rc = slow_strtod(tok, (size_t)(p - tok), &out->d);
    if (rc == -1) return syntax(L, tok, "number out of the range of a double");
    if (rc) return tp_seterr(L->err, L->errlen, TP_ENOMEM, "out of memory");
    return 0;
}

static int scan_literal(lexer *L) {
    const unsigned char *p = L->p;
    size_t left = (size_t)(L->end - p);
    if (*p == 't' && left >= 4 && memcmp(p, "true", 4) == 0) {
        L->p += 4;
        return 0;
    }
    if (*p == 'f' && left >= 5 && memcmp(p, "false", 5) == 0) {
        L->p += 5;
        return 0;
    }
    if (*p == 'n' && left >= 4 && memcmp(p, "null", 4) == 0) {
        L->p += 4;
        return 0;
    }
    return syntax(L, p, "invalid literal (expected true, false or null)");
}

/* Validate and skip the value at L->p, which sits at nesting level depth
 * (the root object is level 1). Iterative: an explicit stack, no recursion. */
static int skip_value(lexer *L, int depth) {
    unsigned char stack[MAX_DEPTH + 1]; /* 1 = object, 0 = array */
    int top = 0, rc;
    jstr s;
    jnum num;
value:
    if (depth + top > MAX_DEPTH) return syntax(L, L->p, "nesting deeper than 2048 levels");
    skip_ws(L);
    if (L->p >= L->end) return syntax(L, L->p, "unexpected end of frame (value expected)");
    switch (*L->p) {
    case '{':
        stack[top++] = 1;
        L->p++;
        skip_ws(L);
        if (L->p < L->end && *L->p == '}') {
            L->p++;
            top--;
            goto close;
        }
        goto key;
    case '[':
        stack[top++] = 0;
        L->p++;
        skip_ws(L);
        if (L->p < L->end && *L->p == ']') {
            L->p++;
            top--;
            goto close;
        }
        goto value;
    case '"':
        if ((rc = scan_string(L, &s))) return rc;
        goto close;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if ((rc = scan_number(L, &num, 0))) return rc;
        goto close;
    case 't':
    case 'f':
    case 'n':
        if ((rc = scan_literal(L))) return rc;
        goto close;
    default: return syntax(L, L->p, "unexpected character (value expected)");
    }
key:
    skip_ws(L);
    if (L->p >= L->end || *L->p != '"') return syntax(L, L->p, "string key expected");
    if ((rc = scan_string(L, &s))) return rc;
    skip_ws(L);
    if (L->p >= L->end || *L->p != ':') return syntax(L, L->p, "':' expected after key");
    L->p++;
    goto value;
close:
    if (top == 0) return 0;
    skip_ws(L);
    if (L->p >= L->end) return syntax(L, L->p, "unexpected end of frame");
    if (stack[top - 1]) {
        if (*L->p == ',') {
            L->p++;
            goto key;
        }
        if (*L->p == '}') {
            L->p++;
            top--;
            goto close;
        }
        return syntax(L, L->p, "',' or '}' expected");
    }
    if (*L->p == ',') {
        L->p++;
        goto value;
    }
    if (*L->p == ']') {
        L->p++;
        top--;
        goto close;
    }
    return syntax(L, L->p, "',' or ']' expected");
}

/* Scan a key and the ':' after it; L->p is left at the value. */
static int scan_key(lexer *L, jstr *k) {
    int rc;
    skip_ws(L);
    if (L->p >= L->end || *L->p != '"') return syntax(L, L->p, "string key expected");
    if ((rc = scan_string(L, k))) return rc;
    skip_ws(L);
    if (L->p >= L->end || *L->p != ':') return syntax(L, L->p, "':' expected after key");
    L->p++;
    skip_ws(L);
    if (L->p >= L->end) return syntax(L, L->p, "unexpected end of frame (value expected)");
    return 0;
}

/* After a member or element: 1 if another follows (',' consumed), 0 if the
 * container closed (closer consumed), or a negative error. */
static int next_member(lexer *L, unsigned char closer) {
    skip_ws(L);
    if (L->p < L->end) {
        if (*L->p == ',') {
            L->p++;
            return 1;
        }
        if (*L->p == closer) {
            L->p++;
            return 0;
        }
    }
    return syntax(L, L->p, closer == '}' ? "',' or '}' expected" : "',' or ']' expected");
}

enum { K_MISSING = 0, K_OK, K_OTHER, K_NULL, K_BADITEM };

typedef struct frame_state {
    tp_batch *b;
    tp_batch_mark mark;
    int sem_failed;    /* a semantic problem was found in "data" */
    char sem_msg[200]; /* ... described here */
    int have_type, type_is_str;
    jstr type;
    int msg_is_str;
    jstr msg;
    int have_data, data_is_array;
} frame_state;

static void sem_fail(frame_state *F, lexer *L, const unsigned char *at, const char *fmt, size_t i) {
    if (F->sem_failed) return;
    F->sem_failed = 1;
    char what[120];
    snprintf(what, sizeof what, fmt, i);
    snprintf(F->sem_msg, sizeof F->sem_msg, "%s (item at byte %zu)", what, (size_t)(at - L->start));
}

typedef struct item_state {
    int s_kind, p_kind, v_kind, t_kind, c_kind;
    jstr s;
    jnum pn, vn, tn;
    const unsigned char *c_at;
    size_t c_n;
} item_state;

static int parse_number_field(lexer *L, int *kind, jnum *n) {
    unsigned char c = *L->p;
    if (c == '-' || (c >= '0' && c <= '9')) {
        *kind = K_OK;
        return scan_number(L, n, 1);
    }
    *kind = K_OTHER;
    return skip_value(L, 4);
}

/* "c": remember where the list starts and whether every item is a string
 * or null; the strings are decoded once the trade is known to be good. */
static int parse_cond(lexer *L, item_state *it) {
    int rc;
    it->c_at = L->p;
    it->c_n = 0;
    it->c_kind = K_OK;
    L->p++;
    skip_ws(L);
    if (L->p < L->end && *L->p == ']') {
        L->p++;
        return 0;
    }
    for (;;) {
        skip_ws(L);
        if (L->p >= L->end) return syntax(L, L->p, "unexpected end of frame (value expected)");
        if (*L->p == '"') {
            jstr s;
            if ((rc = scan_string(L, &s))) return rc;
        } else {
            const unsigned char *v0 = L->p;
            if ((rc = skip_value(L, 5))) return rc;
            if (!(L->p - v0 == 4 && memcmp(v0, "null", 4) == 0)) it->c_kind = K_BADITEM;
        }
        it->c_n++;
        if ((rc = next_member(L, ']')) <= 0) return rc;
    }
}

/* Turn a checked item into a trade in the batch. */
static void emit_trade(frame_state *F, lexer *L, const item_state *it, const unsigned char *at, size_t idx) {
    if (it->s_kind != K_OK) return sem_fail(F, L, at, "data[%zu].s missing or not a string", idx);
    if (it->p_kind != K_OK) return sem_fail(F, L, at, "data[%zu].p missing or not a number", idx);
    if (it->v_kind != K_OK) return sem_fail(F, L, at, "data[%zu].v missing or not a number", idx);
    int64_t tms;
    if (it->t_kind != K_OK) return sem_fail(F, L, at, "data[%zu].t missing or not a whole number", idx);
    if (it->tn.is_int) {
        tms = it->tn.i;
    } else {
        double d = it->tn.d;
        if (d != floor(d) || fabs(d) > 9.0e15)
            return sem_fail(F, L, at, "data[%zu].t missing or not a whole number", idx);
        tms = (int64_t)d;
    }
    double price = it->pn.is_int ? (double)it->pn.i : it->pn.d;
    double vol = it->vn.is_int ? (double)it->vn.i : it->vn.d;
    if (!isfinite(price) || !isfinite(vol))
        return sem_fail(F, L, at, "data[%zu] has a non-finite number", idx);
    int32_t ncond = TP_COND_NULL;
    tp_str *cond = NULL;
    if (it->c_kind == K_OTHER) return sem_fail(F, L, at, "data[%zu].c is not a list", idx);
    if (it->c_kind == K_BADITEM)
        return sem_fail(F, L, at, "data[%zu].c has an item that is not a string or null", idx);
    tp_batch *b = F->b;
    if (it->c_kind == K_OK) {
        if (it->c_n > INT32_MAX) return sem_fail(F, L, at, "data[%zu].c has too many items", idx);
        ncond = (int32_t)it->c_n;
        if (ncond > 0) {
            cond = tp_batch_alloc(b, sizeof(tp_str) * (size_t)ncond);
            if (!cond) return sem_fail(F, L, at, "out of memory at data[%zu]", idx);
            /* Second look at the already validated list. */
            lexer R = *L;
            R.p = it->c_at + 1;
            for (int32_t k = 0; k < ncond; k++) {
                skip_ws(&R);
                if (*R.p == '"') {
                    jstr s;
                    scan_string(&R, &s);
                    cond[k].len = (uint32_t)s.len;
                    cond[k].ptr = arena_string(b, &s);
                    if (!cond[k].ptr) return sem_fail(F, L, at, "out of memory at data[%zu]", idx);
                } else {
                    R.p += 4; /* null */
                    cond[k].ptr = NULL;
                    cond[k].len = 0;
                }
                skip_ws(&R);
                R.p++; /* ',' or ']' */
            }
        }
    }
    tp_trade *tr = tp_batch_add(b);
    if (!tr) return sem_fail(F, L, at, "too many trades (limit reached at data[%zu])", idx);
    tr->symbol.len = (uint32_t)it->s.len;
    tr->symbol.ptr = arena_string(b, &it->s);
    if (!tr->symbol.ptr) return sem_fail(F, L, at, "out of memory at data[%zu]", idx);
    tr->price = price;
    tr->volume = vol;
    tr->ts_ms = tms;
    tr->ncond = ncond;
    tr->cond = cond;
}

/* One element of "data" that starts with '{' (level 3). */
static int parse_item(frame_state *F, lexer *L, size_t idx) {
    const unsigned char *at = L->p;
    item_state it;
    memset(&it, 0, sizeof it);
    int rc;
    L->p++;
    skip_ws(L);
    if (L->p < L->end && *L->p == '}') {
        L->p++;
    } else {
        for (;;) {
            jstr k;
            if ((rc = scan_key(L, &k))) return rc;
            int name = 0;
            if (!k.esc && k.rawlen == 1)
                name = k.raw[0];
            else if (k.esc && k.len == 1) {
                char c1[4];
                decode_string(&k, c1);
                name = (unsigned char)c1[0];
            }
            switch (name) {
            case 's':
                if (*L->p == '"') {
                    it.s_kind = K_OK;
                    rc = scan_string(L, &it.s);
                } else {
                    it.s_kind = K_OTHER;
                    rc = skip_value(L, 4);
                }
                break;
            case 'p': rc = parse_number_field(L, &it.p_kind, &it.pn); break;
            case 'v': rc = parse_number_field(L, &it.v_kind, &it.vn); break;
            case 't': rc = parse_number_field(L, &it.t_kind, &it.tn); break;
            case 'c':
                if (*L->p == '[') {
                    rc = parse_cond(L, &it);
                } else {
                    const unsigned char *v0 = L->p;
                    rc = skip_value(L, 4);
                    it.c_kind = (L->p - v0 == 4 && memcmp(v0, "null", 4) == 0) ? K_NULL : K_OTHER;
                }
                break;
            default: rc = skip_value(L, 4); break;
            }
            if (rc) return rc;
            if ((rc = next_member(L, '}')) < 0) return rc;
            if (rc == 0) break;
        }
    }
    if (!F->sem_failed) emit_trade(F, L, &it, at, idx);
    return 0;
}

/* "data" (level 2), L->p at '['. */
static int parse_data(frame_state *F, lexer *L) {
    int rc;
    L->p++;
    skip_ws(L);
    if (L->p < L->end && *L->p == ']') {
        L->p++;
        return 0;
    }
    for (size_t idx = 0;; idx++) {
        skip_ws(L);
        if (L->p >= L->end) return syntax(L, L->p, "unexpected end of frame (value expected)");
        if (!F->sem_failed && *L->p == '{') {
            rc = parse_item(F, L, idx);
        } else {
            if (*L->p != '{') sem_fail(F, L, L->p, "data[%zu] is not an object", idx);
            rc = skip_value(L, 3);
        }
        if (rc) return rc;
        if ((rc = next_member(L, ']')) <= 0) return rc;
    }
}

static int parse_root(frame_state *F, lexer *L) {
    int rc;
    skip_ws(L);
    if (L->p >= L->end) return syntax(L, L->p, "empty frame");
    if (*L->p != '{') {
        return tp_seterr(L->err, L->errlen, TP_EPARSE, "frame is not a JSON object (byte %zu)",
                         (size_t)(L->p - L->start));
    }
    L->p++;
    skip_ws(L);
    if (L->p < L->end && *L->p == '}') {
        L->p++;
    } else {
        for (;;) {
            jstr k;
            if ((rc = scan_key(L, &k))) return rc;
            if (str_is(&k, "data", 4)) {
                if (F->have_data) {
                    /* A repeated "data": the last one wins. */
                    tp_batch_rewind(F->b, F->mark);
                    F->sem_failed = 0;
                }
                F->have_data = 1;
                F->data_is_array = *L->p == '[';
                rc = F->data_is_array ? parse_data(F, L) : skip_value(L, 2);
            } else if (str_is(&k, "type", 4)) {
                F->have_type = 1;
                F->type_is_str = *L->p == '"';
                rc = F->type_is_str ? scan_string(L, &F->type) : skip_value(L, 2);
            } else if (str_is(&k, "msg", 3)) {
                F->msg_is_str = *L->p == '"';
                rc = F->msg_is_str ? scan_string(L, &F->msg) : skip_value(L, 2);
            } else {
                rc = skip_value(L, 2);
            }
            if (rc) return rc;
            if ((rc = next_member(L, '}')) < 0) return rc;
            if (rc == 0) break;
        }
    }
    skip_ws(L);
    if (L->p != L->end) return syntax(L, L->p, "unexpected data after the JSON object");
    return 0;
}

static int set_text(tp_batch *b, tp_msg_info *info, const jstr *s) {
    static const jstr empty = {(const unsigned char *)"", 0, 0, 0};
    if (!s) s = &empty;
    info->text.ptr = arena_string(b, s);
    info->text.len = (uint32_t)s->len;
    return info->text.ptr ? 0 : TP_ENOMEM;
}

int tp_finnhub_parse(const char *frame, size_t len, tp_batch *out, tp_msg_info *info, char *err,
                     size_t errlen) {
    memset(info, 0, sizeof(*info));
    frame_state F;
    F.b = out;
    F.mark = tp_batch_get_mark(out);
    F.sem_failed = 0;
    F.have_type = F.type_is_str = F.msg_is_str = F.have_data = F.data_is_array = 0;
    lexer L = {(const unsigned char *)frame, (const unsigned char *)frame, (const unsigned char *)frame + len,
               err, errlen};
    size_t n0 = out->n;
    int rc = parse_root(&F, &L);
    if (rc) {
        tp_batch_rewind(out, F.mark);
        return rc;
    }
    if (!F.type_is_str) {
        tp_batch_rewind(out, F.mark);
        return tp_seterr(err, errlen, TP_EPARSE, "\"type\" missing or not a string");
    }
    if (str_is(&F.type, "trade", 5)) {
        if (!F.have_data || !F.data_is_array) {
            tp_batch_rewind(out, F.mark);
            return tp_seterr(err, errlen, TP_EPARSE, "trade frame without a \"data\" array");
        }
        if (F.sem_failed) {
            tp_batch_rewind(out, F.mark);
            return tp_seterr(err, errlen, TP_EPARSE, "%s", F.sem_msg);
        }
        info->type = TP_MSG_TRADE;
        info->ntrades = out->n - n0;
        return 0;
    }
    tp_batch_rewind(out, F.mark);
    if (str_is(&F.type, "ping", 4)) {
        info->type = TP_MSG_PING;
        return 0;
    }
    if (str_is(&F.type, "error", 5)) {
        info->type = TP_MSG_ERROR;
        rc = set_text(out, info, F.msg_is_str ? &F.msg : NULL);
    } else {
        info->type = TP_MSG_UNKNOWN;
        rc = set_text(out, info, &F.type);
    }
    if (rc) {
        tp_batch_rewind(out, F.mark);
        memset(info, 0, sizeof(*info));
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    return 0;
}

/* ---- writer ---- */

typedef struct writer {
    char *p, *end;
    int full;
} writer;

static void w_bytes(writer *w, const char *s, size_t n) {
    if (w->full || (size_t)(w->end - w->p) < n) {
        w->full = 1;
        return;
    }
    memcpy(w->p, s, n);
    w->p += n;
}

static void w_str(writer *w, const char *s) {
    w_bytes(w, s, strlen(s));
}

/* A JSON string; invalid UTF-8 bytes become U+FFFD so the line stays valid. */
static void w_json_string(writer *w, const char *s, size_t n) {
    w_bytes(w, "\"", 1);
    size_t room = w->full ? 0 : (size_t)(w->end - w->p);
    size_t need = tp_json_escape_to(w->p, room, s, n, TP_JSON_REPAIR_UTF8);
    if (need > room)
        w->full = 1;
    else
        w->p += need;
    w_bytes(w, "\"", 1);
}

/* The shortest of %.15g/%.16g/%.17g that reads back as the same double,
 * always in real form (".0" added to integral values, so -0.0 stays -0.0
 * and the reader sees a real). Non-finite values become null. */
static void w_double(writer *w, double d) {
    if (!isfinite(d)) {
        w_str(w, "null");
        return;
    }
    char buf[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, sizeof buf - 2, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d) break;
    }
    if (!strpbrk(buf, ".eE")) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    w_bytes(w, buf, (size_t)n);
}

int tp_finnhub_trade_json(const tp_trade *t, char *out, size_t outlen) {
    if (outlen == 0) return -1;
    writer w = {out, out + outlen - 1, 0};
    char num[32];
    w_str(&w, "{\"s\":");
    w_json_string(&w, t->symbol.ptr ? t->symbol.ptr : "", t->symbol.ptr ? t->symbol.len : 0);
    w_str(&w, ",\"p\":");
    w_double(&w, t->price);
    snprintf(num, sizeof num, ",\"t\":%lld", (long long)t->ts_ms);
    w_str(&w, num);
    w_str(&w, ",\"v\":");
    w_double(&w, t->volume);
    w_str(&w, ",\"c\":");
    if (t->ncond < 0 || (t->ncond > 0 && !t->cond)) {
        w_str(&w, "null");
    } else {
        w_bytes(&w, "[", 1);
        for (int32_t i = 0; i < t->ncond; i++) {
            if (i) w_bytes(&w, ",", 1);
            if (t->cond[i].ptr)
                w_json_string(&w, t->cond[i].ptr, t->cond[i].len);
            else
                w_str(&w, "null");
        }
        w_bytes(&w, "]", 1);
    }
    w_bytes(&w, "}", 1);
    if (w.full) return -1;
    *w.p = '\0';
    return (int)(w.p - out);
}
