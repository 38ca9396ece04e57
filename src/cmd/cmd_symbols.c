/* cmd_symbols.c - `tickpipe symbols QUERY`: Finnhub's REST symbol search
 * (feed/rest.h) printed as an aligned table. Results are collected first so
 * the columns can be sized to their contents. */
#include "cmd/commands.h"

#include "cmd/feed_config.h"
#include "cmd/flags.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "feed/feed.h"
#include "feed/rest.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rows {
    char **cells; /* 4 per row */
    size_t n, cap;
    const char *exact;
    int oom;
} rows;

static int on_symbol(void *ud, const tp_rest_symbol *sym) {
    rows *r = ud;
    if (r->exact && strcmp(sym->symbol, r->exact)) return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        char **nc = realloc(r->cells, cap * 4 * sizeof *nc);
        if (!nc) {
            r->oom = 1;
            return 1;
        }
        r->cells = nc;
        r->cap = cap;
    }
    const char *v[4] = {sym->symbol, sym->display_symbol, sym->type, sym->description};
    for (int i = 0; i < 4; i++) {
        /* one result per line: tabs and newlines in a description would break the table */
        char *c = strdup(v[i]);
        if (!c) {
            for (int j = 0; j < i; j++) free(r->cells[r->n * 4 + (size_t)j]);
            r->oom = 1;
            return 1;
        }
        for (char *p = c; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
        r->cells[r->n * 4 + (size_t)i] = c;
    }
    r->n++;
    return 0;
}

/* The aligned table: columns sized to their contents. */
static void print_rows(const rows *r) {
    static const char *const hdr[4] = {"SYMBOL", "DISPLAY SYMBOL", "TYPE", "DESCRIPTION"};
    size_t w[4];
    for (int i = 0; i < 4; i++) w[i] = strlen(hdr[i]);
    for (size_t k = 0; k < r->n; k++)
        for (int i = 0; i < 3; i++) {
            size_t l = strlen(r->cells[k * 4 + (size_t)i]);
            if (l > w[i]) w[i] = l;
        }
    printf("%-*s  %-*s  %-*s  %s\n", (int)w[0], hdr[0], (int)w[1], hdr[1], (int)w[2], hdr[2], hdr[3]);
    for (size_t k = 0; k < r->n; k++) {
        char **row = r->cells + k * 4;
        printf("%-*s  %-*s  %-*s  %s\n", (int)w[0], row[0], (int)w[1], row[1], (int)w[2], row[2], row[3]);
    }
}

int tp_cmd_symbols(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    if (first_arg + 1 != argc)
        return tp_cmd_usage_error(&tp_spec_symbols, "give exactly one QUERY (e.g. `tickpipe symbols apple`); "
                                                    "see 'tickpipe symbols --help'");
    const char *query = argv[first_arg];
    char err[512];
    rows r = {0};
    r.exact = a->symbols.exact ? query : NULL;
    const char *rest = a->api.rest_url ? a->api.rest_url : tp_feed_finnhub.default_rest_url;
    tp_symbols toks = {0};
    if (tp_api_tokens(&a->api, &toks)) return tp_cmd_fail(&tp_spec_symbols, "out of memory");
    if (!toks.n) /* the server would answer 401, said as "the token was rejected" */
        return tp_cmd_usage_error(&tp_spec_symbols, "no API token: give --token or set FINNHUB_API_TOKEN "
                                                    "(any token works with `tickpipe simulate`)");
    int rc = tp_rest_search(rest, toks.n ? toks.items[0] : "", query, (long)a->symbols.timeout_ms, on_symbol,
                            &r, NULL, err, sizeof err);
    tp_symbols_free(&toks);
    int status = 0;
    if (rc) {
        fprintf(stderr, "tickpipe symbols: %s\n", err);
        status = 1;
    } else if (r.oom) {
        fprintf(stderr, "tickpipe symbols: out of memory\n");
        status = 1;
    } else if (r.n == 0) {
        printf("no symbols match \"%s\"\n", query);
        if (a->symbols.exact) status = 1;
    } else {
        print_rows(&r);
    }
    for (size_t k = 0; k < r.n * 4; k++) free(r.cells[k]);
    free(r.cells);
    if (fflush(stdout)) status = 1;
    return status;
}
