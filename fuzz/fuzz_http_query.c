/* fuzz_http_query.c - the REST API's query-string validation and routing
 * (tp_http_api in src/http/http_rest.c) on arbitrary parameters, over the
 * an empty in-memory SQLite store: the first byte picks the endpoint, the rest is split on '&'
 * into "name=value" arguments as the server hands them over (URL-decoded,
 * at most TP_HTTP_MAX_ARGS). No crash, and every answer is a JSON object:
 * 200 with a "count", or 400/404 with an "error" string; and the
 * store-free check (tp_http_api_check) refuses exactly what it refuses. */
#include "http/http_internal.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_paths[] = {"/api/symbols", "/api/trades", "/api/candles", "/api/averages",
                                      "/api/nothing"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tp_http_store st = {.url = "sqlite::memory:"};
    if (size < 1) return 0;
    const char *path = k_paths[data[0] % (sizeof k_paths / sizeof k_paths[0])];
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    char *args[TP_HTTP_MAX_ARGS];
    int nargs = 0;
    char *save = NULL;
    for (char *a = strtok_r(text, "&", &save); a && nargs < TP_HTTP_MAX_ARGS; a = strtok_r(NULL, "&", &save))
        args[nargs++] = a;
    /* the server thread's store-free check must agree with the full answer */
    tp_http_resp c = {0};
    int bad = tp_http_api_check(5000, path, args, nargs, &c);
    tp_http_resp r = {0};
    tp_http_api(&st, 5000, path, args, nargs, &r);
    if (bad ? c.status != r.status : (r.status == 400 || r.status == 404)) abort();
    if (!c.body_static) free(c.body);
    if (!r.body || r.len != strlen(r.body)) abort();
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    if (!j || !json_is_object(j)) abort();
    if (r.status == 200) {
        if (!json_is_integer(json_object_get(j, "count"))) abort();
    } else if (r.status == 400 || r.status == 404) {
        if (!json_is_string(json_object_get(j, "error"))) abort();
    } else {
        abort();
    }
    json_decref(j);
    if (!r.body_static) free(r.body);
    free(text);
    return 0;
}
