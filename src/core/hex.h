/* hex.h - hex digits and percent-encoding, written once.
 *
 * Used by ids (UUID text), the JSON writer's \u escapes and URL parameters
 * (store URLs). Pure functions on caller buffers: no allocation, any
 * thread. */
#ifndef TP_HEX_H
#define TP_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
static inline int tp_hex_digit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The lower-case hex digit of v & 15. */
static inline char tp_hex_char(unsigned v) {
    return "0123456789abcdef"[v & 15];
}

/* Write n bytes as 2n lower-case hex digits (no NUL). */
void tp_hex_encode(const uint8_t *in, size_t n, char *out);

/* Decode exactly 2n hex digits into n bytes; 0, or -1 on a non-digit. */
int tp_hex_decode(const char *in, size_t n, uint8_t *out);

/* Percent-decode in[0, n) into out (NUL-terminated). "%XX" becomes the
 * byte; a '%' not followed by two hex digits stays as it is; with
 * plus_is_space, '+' becomes ' ' (form encoding, as in query strings).
 * Returns the decoded length, or -1 if it does not fit in outlen - 1 bytes
 * or decodes to a NUL byte (a C string cannot hold it). */
long tp_pct_decode(const char *in, size_t n, int plus_is_space, char *out, size_t outlen);

#endif
