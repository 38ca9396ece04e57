/* hex.c - see hex.h. */
#include "core/hex.h"

void tp_hex_encode(const uint8_t *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = tp_hex_char(in[i] >> 4);
        out[2 * i + 1] = tp_hex_char(in[i]);
    }
}

int tp_hex_decode(const char *in, size_t n, uint8_t *out) {
    for (size_t i = 0; i < n; i++) {
        int hi = tp_hex_digit((unsigned char)in[2 * i]), lo = tp_hex_digit((unsigned char)in[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

long tp_pct_decode(const char *in, size_t n, int plus_is_space, char *out, size_t outlen) {
    size_t o = 0;
    if (!outlen) return -1;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '%' && i + 2 < n && tp_hex_digit((unsigned char)in[i + 1]) >= 0 &&
            tp_hex_digit((unsigned char)in[i + 2]) >= 0) {
            c = (char)(tp_hex_digit((unsigned char)in[i + 1]) << 4 | tp_hex_digit((unsigned char)in[i + 2]));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (!c || o + 1 >= outlen) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}
