/* json_str.c - see json_str.h. Runs of plain bytes are copied at once;
 * only the bytes that need it are looked at twice. */
#include "core/json_str.h"

#include "core/hex.h"

#include <string.h>

/* The escape for control or quoting byte c into esc; its length. */
static size_t escape_byte(unsigned char c, char esc[6]) {
    esc[0] = '\\';
    switch (c) {
    case '"': esc[1] = '"'; return 2;
    case '\\': esc[1] = '\\'; return 2;
    case '\n': esc[1] = 'n'; return 2;
    case '\r': esc[1] = 'r'; return 2;
    case '\t': esc[1] = 't'; return 2;
    case '\b': esc[1] = 'b'; return 2;
    case '\f': esc[1] = 'f'; return 2;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = tp_hex_char(c >> 4);
        esc[5] = tp_hex_char(c);
        return 6;
    }
}

size_t tp_json_escape_to(char *out, size_t cap, const char *s, size_t n, unsigned flags) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    size_t o = 0;
    int cut = 0; /* once something did not fit, only count */
#define PUT(src, len)                                                                                        \
    do {                                                                                                     \
        size_t l_ = (len);                                                                                   \
        if (!cut && o <= cap && cap - o >= l_)                                                               \
            memcpy(out + o, (src), l_);                                                                      \
        else                                                                                                 \
            cut = 1;                                                                                         \
        o += l_;                                                                                             \
    } while (0)
    while (p < e) {
        const unsigned char *run = p;
        int repair = flags & TP_JSON_REPAIR_UTF8;
        while (p < e && *p >= 0x20 && *p != '"' && *p != '\\' && (*p < 0x80 || !repair)) p++;
        if (p > run) PUT(run, (size_t)(p - run));
        if (p >= e) break;
        if (*p >= 0x80) { /* only when repairing */
            size_t k = tp_utf8_seq(p, e);
            if (k) {
                PUT(p, k);
                p += k;
            } else {
                PUT("\\ufffd", 6);
                p++;
            }
            continue;
        }
        char esc[6];
        size_t el = escape_byte(*p++, esc);
        PUT(esc, el);
    }
#undef PUT
    return o;
}

int tp_json_escape(tp_buf *b, const char *s, size_t n) {
    if (!n) return 0;
    if (tp_buf_reserve(b, n * TP_JSON_ESCAPE_MAX)) return -1;
    b->len += tp_json_escape_to((char *)b->p + b->len, b->cap - b->len, s, n, 0);
    return 0;
}
