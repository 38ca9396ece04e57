/* rest.c - Finnhub REST symbol search over libcurl, body parsed by jansson.
 *
 * The body is collected into a bounded buffer (4 MiB: a search answer is a
 * few KB, anything bigger is not Finnhub) and parsed only after a 200. */
#include "feed/rest.h"

#include "core/err.h"
#include "core/log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define REST_MAX_BODY (4u << 20)

static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct body {
    char *p;
    size_t n, cap;
    int too_big;
} body;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
    body *b = ud;
    size_t len = size * nmemb;
    if (b->n + len + 1 > REST_MAX_BODY) {
        b->too_big = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) return 0;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
    return len;
}

static const char *str_field(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

int tp_rest_parse_search(const char *text, size_t len, const char *what, tp_rest_symbol_fn fn, void *ud,
                         size_t *count, char *err, size_t errlen) {
    if (count) *count = 0;
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) {
        char sample[160];
        tp_log_sample(text, len, 120, sample, sizeof sample);
        return tp_seterr(err, errlen, TP_EPARSE, "the answer of %s is not JSON (%s at byte %d): %s", what,
                         je.text, je.position, sample);
    }
    json_t *res = json_object_get(root, "result");
    if (!json_is_object(root) || !json_is_array(res)) {
        json_decref(root);
        return tp_seterr(err, errlen, TP_EPARSE,
                         "the answer of %s has no \"result\" list; is this a Finnhub search endpoint?", what);
    }
    size_t i;
    json_t *item;
    json_array_foreach(res, i, item) {
        if (!json_is_object(item)) continue;
        tp_rest_symbol sym = {str_field(item, "symbol"), str_field(item, "displaySymbol"),
                              str_field(item, "type"), str_field(item, "description")};
        if (count) (*count)++;
        if (fn && fn(ud, &sym)) break;
    }
    json_decref(root);
    return 0;
}

int tp_rest_search(const char *base_url, const char *token, const char *query, long timeout_ms,
                   tp_rest_symbol_fn fn, void *ud, size_t *count, char *err, size_t errlen) {
    if (count) *count = 0;
    if (!base_url || !*base_url) return tp_seterr(err, errlen, TP_EINVAL, "no REST URL given");
    if (!query) return tp_seterr(err, errlen, TP_EINVAL, "no search query given");
    pthread_once(&g_curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (!c) return tp_seterr(err, errlen, TP_ENOMEM, "cannot create a libcurl handle");

    char *q = curl_easy_escape(c, query, 0);
    char *t = curl_easy_escape(c, token ? token : "", 0);
    size_t blen = strlen(base_url);
    while (blen && base_url[blen - 1] == '/') blen--;
    size_t ulen = blen + strlen(q ? q : "") + strlen(t ? t : "") + 32;
    char *url = malloc(ulen);
    char safe[512];
    body b = {0};
    int rc = 0;
    if (!q || !t || !url) {
        rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory building the search URL");
        goto out;
    }
    snprintf(url, ulen, "%.*s/search?q=%s&token=%s", (int)blen, base_url, q, t);
    tp_log_redact(url, safe, sizeof safe);

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "tickpipe/" TP_VERSION);
    CURLcode cr = curl_easy_perform(c);
    if (cr != CURLE_OK) {
        if (b.too_big)
            rc = tp_seterr(err, errlen, TP_EPARSE,
                           "the answer of %s is larger than %u bytes; not a symbol search", safe,
                           REST_MAX_BODY);
        else
            rc = tp_seterr(err, errlen, TP_EUNAVAIL, "cannot reach %s: %s", safe, curl_easy_strerror(cr));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        char sample[160];
        tp_log_sample(b.p ? b.p : "", b.n, 120, sample, sizeof sample);
        if (status == 401 || status == 403)
            rc =
                tp_seterr(err, errlen, TP_EREFUSED,
                          "the API token was rejected (HTTP %ld from %s): check FINNHUB_API_TOKEN or --token",
                          status, safe);
        else if (status == 429)
            rc = tp_seterr(err, errlen, TP_EUNAVAIL,
                           "rate limited by the server (HTTP 429 from %s): wait a minute and retry", safe);
        else if (status >= 500)
            rc = tp_seterr(err, errlen, TP_EUNAVAIL, "server error HTTP %ld from %s: %s", status, safe,
                           sample);
        else
            rc = tp_seterr(err, errlen, TP_EREFUSED, "HTTP %ld from %s: %s", status, safe, sample);
        goto out;
    }
    rc = tp_rest_parse_search(b.p ? b.p : "", b.n, safe, fn, ud, count, err, errlen);
out:
    free(b.p);
    free(url);
    if (q) curl_free(q);
    if (t) curl_free(t);
    curl_easy_cleanup(c);
    return rc;
}

typedef struct exists_ctx {
    const char *symbol;
    int found;
} exists_ctx;

static int on_exists(void *ud, const tp_rest_symbol *sym) {
    exists_ctx *e = ud;
    if (!strcmp(sym->symbol, e->symbol)) {
        e->found = 1;
        return 1;
    }
    return 0;
}

int tp_rest_symbol_exists(const char *base_url, const char *token, const char *symbol, int *exists, char *err,
                          size_t errlen) {
    exists_ctx e = {symbol, 0};
    *exists = 0;
    int rc = tp_rest_search(base_url, token, symbol, 0, on_exists, &e, NULL, err, errlen);
    if (rc) return rc;
    *exists = e.found;
    return 0;
}
