/* json_str.h - the one JSON string writer.
 *
 * Everything tickpipe writes as JSON by hand (trade conditions in the
 * stores, the simulator's frames, the Finnhub re-encoder, subscribe
 * messages) escapes strings here, so the rules live in one place: '"' and
 * '\\' are escaped, control bytes get their short form (\n \r \t \b \f) or
 * \u00XX, everything else is copied. With TP_JSON_REPAIR_UTF8 an invalid
 * UTF-8 byte becomes \ufffd, so the text is valid JSON whatever came in.
 *
 * Pure functions on caller memory, any thread. The hot paths (store writes,
 * the simulator) call it per string without allocating. */
#ifndef TP_JSON_STR_H
#define TP_JSON_STR_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define TP_JSON_REPAIR_UTF8 1u

/* At most this many output bytes per input byte. */
#define TP_JSON_ESCAPE_MAX 6

/* Write s[0, n) escaped as a JSON string body (no quotes) into out, at
 * most cap bytes, no NUL. Returns the length the whole escaped text needs:
 * a result > cap means out holds only a prefix (cut at an escape
 * boundary), as with snprintf. out may be NULL when cap is 0. */
size_t tp_json_escape_to(char *out, size_t cap, const char *s, size_t n, unsigned flags);

/* Append s[0, n) escaped (no quotes) to b; 0, or -1 on OOM. */
int tp_json_escape(tp_buf *b, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at p (first byte >= 0x80, p < e), or
 * 0 if invalid: no overlong forms, no surrogates, nothing above U+10FFFF. */
static inline size_t tp_utf8_seq(const unsigned char *p, const unsigned char *e) {
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(e - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

#endif
