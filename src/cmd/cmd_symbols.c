/* cmd_symbols.c - `tickpipe symbols QUERY`: Finnhub's REST symbol search
 * (feed/rest.h) printed as an aligned table. Results are collected first so
 * the columns can be sized to their contents. */
#include "cmd/commands.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "feed/rest.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tickpipe symbols [OPTIONS] QUERY\n"
            "\n"
            "Search Finnhub's symbols (REST GET /search?q=QUERY) and print the matches as a\n"
            "table: symbol, display symbol, type, description.\n"
            "\n"
            "  --rest-url URL      REST base URL (env FINNHUB_REST_URL; default https://finnhub.io/api/v1)\n"
            "  --token TOKEN       API token (env FINNHUB_API_TOKEN); never logged\n"
            "  --exact             print only the result whose symbol is exactly QUERY; exit 1 if none\n"
            "  --timeout S         give up after S seconds (default 10)\n"
            "  --log-level LEVEL   error, warn, info (default) or debug (env TICKPIPE_LOG)\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit status: 0 with results printed (an empty search prints \"no symbols match\"),\n"
            "1 on an error (network, HTTP status, an answer that is not a symbol search), 2 on\n"
            "a usage error.\n"
            "\n"
            "Example:\n"
            "  FINNHUB_REST_URL=http://127.0.0.1:8765/api/v1 tickpipe symbols --token t apple\n");
}

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

enum { OPT_REST_URL = 256, OPT_TOKEN, OPT_EXACT, OPT_TIMEOUT, OPT_LOG_LEVEL };

int tp_cmd_symbols(int argc, char **argv) {
    static const struct option opts[] = {
        {"rest-url", required_argument, NULL, OPT_REST_URL},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"exact", no_argument, NULL, OPT_EXACT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *f_rest = NULL, *f_token = NULL;
    int exact = 0;
    double timeout_s = 10;
    char err[512];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case OPT_REST_URL: f_rest = optarg; break;
        case OPT_TOKEN: f_token = optarg; break;
        case OPT_EXACT: exact = 1; break;
        case OPT_TIMEOUT:
            if (tp_cfg_parse_double(optarg, "--timeout", 0.001, 3600, &timeout_s, err, sizeof err)) {
                fprintf(stderr, "tickpipe symbols: %s\n", err);
                return 2;
            }
            break;
        case OPT_LOG_LEVEL: {
            int l = tp_log_level_parse(optarg);
            if (l < 0) {
                fprintf(stderr, "tickpipe symbols: --log-level '%s' is not one of error, warn, info, debug\n",
                        optarg);
                return 2;
            }
            tp_log_set_level((tp_log_level)l);
            break;
        }
        default:
            fprintf(stderr,
                    "tickpipe symbols: unknown or incomplete option '%s'; see 'tickpipe symbols --help'\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "tickpipe symbols: give exactly one QUERY (e.g. `tickpipe symbols apple`); "
                        "see 'tickpipe symbols --help'\n");
        return 2;
    }
    const char *query = argv[optind];
    const char *rest = tp_cfg_str(f_rest, "FINNHUB_REST_URL", "https://finnhub.io/api/v1");
    const char *token = tp_cfg_str(f_token, "FINNHUB_API_TOKEN", "");

    rows r = {0};
    r.exact = exact ? query : NULL;
    int rc =
        tp_rest_search(rest, token, query, (long)(timeout_s * 1000), on_symbol, &r, NULL, err, sizeof err);
    int status = 0;
    if (rc) {
        fprintf(stderr, "tickpipe symbols: %s\n", err);
        status = 1;
    } else if (r.oom) {
        fprintf(stderr, "tickpipe symbols: out of memory\n");
        status = 1;
    } else if (r.n == 0) {
        printf("no symbols match \"%s\"\n", query);
        if (exact) status = 1;
    } else {
        static const char *const hdr[4] = {"SYMBOL", "DISPLAY SYMBOL", "TYPE", "DESCRIPTION"};
        size_t w[4];
        for (int i = 0; i < 4; i++) w[i] = strlen(hdr[i]);
        for (size_t k = 0; k < r.n; k++)
            for (int i = 0; i < 3; i++) {
                size_t l = strlen(r.cells[k * 4 + (size_t)i]);
                if (l > w[i]) w[i] = l;
            }
        printf("%-*s  %-*s  %-*s  %s\n", (int)w[0], hdr[0], (int)w[1], hdr[1], (int)w[2], hdr[2], hdr[3]);
        for (size_t k = 0; k < r.n; k++) {
            char **row = r.cells + k * 4;
            printf("%-*s  %-*s  %-*s  %s\n", (int)w[0], row[0], (int)w[1], row[1], (int)w[2], row[2], row[3]);
        }
    }
    for (size_t k = 0; k < r.n * 4; k++) free(r.cells[k]);
    free(r.cells);
    if (fflush(stdout)) status = 1;
    return status;
}
