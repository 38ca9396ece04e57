/* fuzz_rest_search.c - the REST symbol search answer parser on arbitrary
 * bytes: it must return 0 or TP_EPARSE with a message, never crash, and
 * every delivered field must be a NUL-terminated string. */
#include "core/err.h"
#include "feed/rest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int on_sym(void *ud, const tp_rest_symbol *s) {
    size_t *total = ud;
    if (!s->symbol || !s->display_symbol || !s->type || !s->description) abort();
    *total += strlen(s->symbol) + strlen(s->display_symbol) + strlen(s->type) + strlen(s->description);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    size_t count = 0, total = 0;
    err[0] = 0;
    int rc = tp_rest_parse_search((const char *)data, size, "fuzz", on_sym, &total, &count, err, sizeof err);
    if (rc != 0 && rc != TP_EPARSE) abort();
    if (rc != 0 && (count != 0 || !err[0])) abort();
    return 0;
}
