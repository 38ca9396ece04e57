/* fuzz_symbols.c - the symbol list parser (FINNHUB_STOCKS_TICKERS: a JSON
 * list or a comma list) on arbitrary text: no crash, and on success every
 * item is non-empty, trimmed and unique. */
#include "core/config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    tp_symbols s = {0};
    char err[256];
    if (tp_symbols_parse(text, &s, err, sizeof err) == 0) {
        for (size_t i = 0; i < s.n; i++) {
            size_t n = strlen(s.items[i]);
            if (n == 0) abort();
            if (isspace((unsigned char)s.items[i][0]) || isspace((unsigned char)s.items[i][n - 1])) abort();
            for (size_t j = 0; j < i; j++)
                if (!strcmp(s.items[i], s.items[j])) abort();
        }
    }
    tp_symbols_free(&s);
    free(text);
    return 0;
}
