/* buf.h - a growable byte buffer, reused across messages (reset keeps the
 * memory). Owned by one thread. */
#ifndef TP_BUF_H
#define TP_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct tp_buf {
    uint8_t *p;
    size_t len, cap;
} tp_buf;

/* Make room for `more` bytes past len; 0 or -1 on OOM. */
static inline int tp_buf_reserve(tp_buf *b, size_t more) {
    if (b->cap - b->len >= more) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < more) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}
static inline int tp_buf_append(tp_buf *b, const void *data, size_t n) {
    if (tp_buf_reserve(b, n)) return -1;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}
static inline void tp_buf_reset(tp_buf *b) {
    b->len = 0;
}
static inline void tp_buf_free(tp_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
