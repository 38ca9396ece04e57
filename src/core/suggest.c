/* suggest.c - see suggest.h. */
#include "core/suggest.h"

#include <ctype.h>
#include <string.h>

#define MAXW 64

size_t tp_edit_distance(const char *a, size_t alen, const char *b) {
    size_t blen = strlen(b);
    if (alen > MAXW || blen > MAXW) return (size_t)-1;
    size_t d[MAXW + 1][MAXW + 1];
    for (size_t i = 0; i <= alen; i++) d[i][0] = i;
    for (size_t j = 0; j <= blen; j++) d[0][j] = j;
    for (size_t i = 1; i <= alen; i++)
        for (size_t j = 1; j <= blen; j++) {
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t v = d[i - 1][j - 1] + !same;
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1; /* a swap of two neighbours */
            d[i][j] = v;
        }
    return d[alen][blen];
}

const char *tp_suggest(const char *word, size_t wlen, const char *const *cands, size_t n) {
    const char *best = NULL;
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i]) continue;
        size_t d = tp_edit_distance(word, wlen, cands[i]);
        if (d < bd) {
            bd = d;
            best = cands[i];
        }
    }
    return best && bd <= 2 && bd * 2 < wlen ? best : NULL;
}
