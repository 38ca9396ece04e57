/* http_server.c - server and routing of `serve` and `run` (see http.h and
 * http_internal.h), on the libwebsockets service thread.
 *
 * One libwebsockets context with one vhost and one protocol whose callback
 * handles both roles: plain HTTP requests (LWS_CALLBACK_HTTP; the body is
 * written in LWS_CALLBACK_HTTP_WRITEABLE, 16 KB at a time; the dashboard's
 * files are in memory, not on disk) and WebSocket clients on /ws (browsers
 * connect without a subprotocol, so lws binds them to this first protocol;
 * other paths are refused at FILTER_PROTOCOL_CONNECTION).
 *
 * Nothing here waits on a store. An /api/ request becomes a tp_http_job
 * for the store worker (http_store.c); its answer comes back through
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED, which also drains the live-push
 * hand-offs (http_push.c), and is then written like any other response.
 * /healthz, /metrics and the assets are answered at once. HEAD gets what
 * GET would, headers only. A one-second timer pushes pipeline health
 * ("stats") to /ws clients. */
#include "http/http.h"
#include "http/http_internal.h"

#include "core/config.h"
#include "core/err.h"
#include "core/json_str.h"
#include "core/listen.h"
#include "core/log.h"
#include "core/metrics.h"
#include "sink/store_forms.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MOD "http"
#define BODY_CHUNK 16384
#define API_TIMEOUT_S 60 /* an /api/ request waiting this long for the store is closed */

/* ---- per-connection state: an HTTP request or a /ws client ---- */

enum { ROUTE_PAGE, ROUTE_ASSET, ROUTE_API, ROUTE_METRICS, ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_OTHER, ROUTE_N };
static const char *const k_route_label[ROUTE_N] = {"/",        "asset",   "api",  "/metrics",
                                                   "/healthz", "/readyz", "other"};

typedef struct pss {
    int is_ws;
    /* HTTP */
    struct lws *wsi;
    tp_http_resp resp;
    size_t off;
    int hdr_pending;  /* the answer came from the worker: headers not written yet */
    int head;         /* a HEAD request: the headers a GET would get, no body */
    tp_http_job *job; /* at the store worker; NULL when none */
    char route_label[24];
    int64_t start_us;
    /* WebSocket */
    tp_http_client c;
} pss;

static void count_request(const char *route, int code, int64_t us) {
    char labels[96];
    snprintf(labels, sizeof labels, "route=\"%s\",code=\"%d\"", route, code);
    tp_counter_add(
        tp_metrics_counter("tickpipe_http_requests_total", labels, "HTTP requests by route and status"), 1);
    snprintf(labels, sizeof labels, "route=\"%s\"", route);
    tp_histogram_observe_us(
        tp_metrics_histogram(
            "tickpipe_http_request_duration_seconds", labels,
            "One observation per HTTP request: the seconds from the request to its last byte written"),
        us > 0 ? (uint64_t)us : 0);
}

static void on_stats_timer(lws_sorted_usec_list_t *sul) {
    tp_http *h = lws_container_of(sul, tp_http, sul_stats);
    tp_http_stats_tick(h);
    lws_sul_schedule(h->ctx, 0, &h->sul_stats, on_stats_timer, LWS_US_PER_SEC);
}

/* ---- HTTP requests ---- */

static int write_headers(struct lws *wsi, pss *p) {
    unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *pp = start, *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)p->resp.status, p->resp.ctype, p->resp.len, &pp, end))
        return 1;
    static const char k_nocache[] = "no-cache";
    static const char k_nosniff[] = "nosniff";
    static const char k_allow[] = "GET, HEAD";
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)k_nocache, (int)strlen(k_nocache), &pp, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                    (const unsigned char *)k_nosniff, (int)strlen(k_nosniff), &pp, end))
        return 1;
    if (p->resp.status == 405 &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:", (const unsigned char *)k_allow,
                                    (int)strlen(k_allow), &pp, end))
        return 1;
    if (lws_finalize_write_http_header(wsi, start, &pp, end)) return 1;
    p->off = 0;
    lws_callback_on_writable(wsi);
    return 0;
}

static int send_response(struct lws *wsi, pss *p) {
    return write_headers(wsi, p);
}

void tp_http_resp_free(tp_http_resp *r) {
    if (!r->body_static) free(r->body);
    r->body = NULL;
    r->len = 0;
}

/* The route label of an /api/ request: its endpoint, or "other", so a
 * client cannot mint label values with made-up paths. */
static void api_label(pss *p, const char *path) {
    static const char *const k_endpoints[] = {"/api/symbols",  "/api/trades", "/api/candles",
                                              "/api/averages", "/api/gaps",   "/api/watchlist"};
    const char *label = "other";
    for (size_t i = 0; i < sizeof k_endpoints / sizeof k_endpoints[0]; i++)
        if (!strcmp(path, k_endpoints[i])) label = k_endpoints[i];
    snprintf(p->route_label, sizeof p->route_label, "%s", label);
}

/* Hand an /api/ request to the store worker; args move to the job. 0 =
 * the answer comes later (deliver_jobs), else p->resp is filled now. */
static int submit_api(tp_http *h, struct lws *wsi, pss *p, const char *path, char **args, int *nargs) {
    tp_http_job *j = calloc(1, sizeof *j);
    if (!j || strlen(path) >= sizeof j->path) {
        free(j);
        if (j)
            tp_http_error(&p->resp, 404,
                          "no such endpoint; try /api/symbols, /api/trades, /api/candles, /api/averages, "
                          "/api/gaps, /api/watchlist or /api/openapi.json");
        else
            tp_http_error(&p->resp, 500, "out of memory");
        return -1;
    }
    memcpy(j->path, path, strlen(path) + 1);
    memcpy(j->args, args, (size_t)*nargs * sizeof *args);
    j->nargs = *nargs;
    j->pss = p;
    if (tp_http_worker_submit(h, j)) {
        j->nargs = 0; /* the args stay the caller's */
        tp_http_job_free(j);
        tp_counter_add(h->m_rest_busy, 1);
        tp_http_error(&p->resp, 503, "the store is busy (%d queries waiting); retry shortly",
                      TP_HTTP_REST_QUEUE);
        return -1;
    }
    *nargs = 0;
    p->job = j;
    /* a store that never answers must not hold the connection forever */
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, API_TIMEOUT_S);
    return 0;
}

/* [svc] answers from the store worker: send those whose browser is still
 * connected. */
static void deliver_jobs(tp_http *h) {
    tp_http_job *next;
    for (tp_http_job *j = tp_http_worker_done(h); j; j = next) {
        next = j->next;
        pss *p = j->pss;
        if (p) {
            p->job = NULL;
            p->resp = j->resp;
            memset(&j->resp, 0, sizeof j->resp);
            api_label(p, j->path);
            p->hdr_pending = 1;
            lws_set_timeout(p->wsi, NO_PENDING_TIMEOUT, 0);
            lws_callback_on_writable(p->wsi);
        }
        tp_http_job_free(j);
    }
}

/* The answer of a health function: 200 or 503, JSON when it says so. */
static void answer_health(tp_http_health_fn fn, void *ud, tp_http_resp *r) {
    char line[1024] = "";
    int bad = fn(ud, line, sizeof line - 1);
    size_t n = strnlen(line, sizeof line - 2);
    if (!n || line[n - 1] != '\n') line[n++] = '\n';
    line[n] = '\0';
    char *body = strdup(line);
    if (!body) {
        tp_http_error(r, 500, "out of memory");
        return;
    }
    *r = (tp_http_resp){bad ? 503 : 200, line[0] == '{' ? "application/json" : "text/plain; charset=utf-8",
                        body, n, 0};
}

static void healthz(tp_http *h, tp_http_resp *r) {
    if (!h->cfg.health) {
        *r = (tp_http_resp){200, "text/plain; charset=utf-8", (char *)"ok\n", 3, 1};
        return;
    }
    answer_health(h->cfg.health, h->cfg.health_ud, r);
}

/* Readiness without cfg.ready: the store worker's last view [wlock]. */
static int store_ready(void *ud, char *out, size_t outlen) {
    tp_http *h = ud;
    pthread_mutex_lock(&h->wlock);
    int ok = h->store_opened && h->store_ok;
    char e[sizeof h->store_err], esc[sizeof h->store_err * 2];
    memcpy(e, h->store_err, sizeof e);
    pthread_mutex_unlock(&h->wlock);
    if (ok) return snprintf(out, outlen, "{\"status\":\"ready\"}"), 0;
    size_t n = tp_json_escape_to(esc, sizeof esc - 1, e, strnlen(e, sizeof e - 1), TP_JSON_REPAIR_UTF8);
    esc[n < sizeof esc - 1 ? n : sizeof esc - 1] = '\0';
    snprintf(out, outlen, "{\"status\":\"not ready\",\"store\":\"unavailable\",\"detail\":\"%s\"}",
             esc[0] ? esc : "the store has not been opened yet");
    return 1;
}

static void readyz(tp_http *h, tp_http_resp *r) {
    if (h->cfg.ready)
        answer_health(h->cfg.ready, h->cfg.ready_ud, r);
    else if (h->cfg.metrics_only)
        *r = (tp_http_resp){200, "application/json", (char *)"{\"status\":\"ready\"}\n", 19, 1};
    else
        answer_health(store_ready, h, r);
}

static void free_args(char **args, int n) {
    for (int i = 0; i < n; i++) free(args[i]);
}

static int on_http(tp_http *h, struct lws *wsi, pss *p, const char *path) {
    memset(p, 0, sizeof *p);
    p->wsi = wsi;
    p->start_us = tp_mono_us();
    int route = ROUTE_OTHER;
    /* HEAD is routed and answered like GET (the same status, Content-Type
     * and Content-Length), then on_http_writeable leaves the body out */
    p->head = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 &&
              lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0 && !p->head) {
        snprintf(p->route_label, sizeof p->route_label, "%s", k_route_label[ROUTE_OTHER]);
        tp_http_error(&p->resp, 405, "only GET and HEAD are supported");
        return send_response(wsi, p);
    }
    char *args[TP_HTTP_MAX_ARGS];
    int nargs = 0, too_many = 0, too_long = 0, oom = 0, nul = 0;
    /* A decoded %0A or %0D ends libwebsockets' request line where it
     * stands (the rest of the value, and the " HTTP/1.1" after it, are
     * skipped), so the parameter would arrive cut short, looking valid:
     * a request line without its HTTP version is refused instead. */
    int cut = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP) <= 0;
    char frag[1024];
    for (int i = 0;; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) {
            /* -1 both at the end and for a parameter that does not fit:
             * never skip a parameter silently */
            if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i) >= (int)sizeof frag) too_long = 1;
            break;
        }
        if (nargs == TP_HTTP_MAX_ARGS) {
            too_many = 1;
            break;
        }
        if ((size_t)n != strlen(frag)) { /* a decoded %00 */
            nul = 1;
            break;
        }
        args[nargs] = strdup(frag);
        if (!args[nargs]) {
            oom = 1;
            break;
        }
        nargs++;
    }
    const tp_http_asset *a;
    if (cut || nul) {
        if (!strncmp(path, "/api/", 5)) route = ROUTE_API;
        tp_http_error(&p->resp, 400,
                      "the request URL holds a control character (a decoded %%00, %%0A or %%0D), or the "
                      "request line has no HTTP version");
    } else if (too_many) {
        tp_http_error(&p->resp, 400, "too many query parameters");
    } else if (too_long) {
        tp_http_error(&p->resp, 400, "a query parameter is longer than %d bytes", (int)sizeof frag - 1);
    } else if (oom) {
        tp_http_error(&p->resp, 500, "out of memory reading the query parameters");
    } else if (h->cfg.metrics_only && strcmp(path, "/metrics") && strcmp(path, "/healthz") &&
               strcmp(path, "/readyz")) {
        tp_http_error(&p->resp, 404, "not found: this address serves /metrics, /healthz and /readyz only");
    } else if (!strcmp(path, "/api/openapi.json") && (a = tp_http_asset_find(path))) {
        route = ROUTE_ASSET;
        p->resp = (tp_http_resp){200, a->ctype, (char *)a->data, a->len, 1};
    } else if (!strncmp(path, "/api/", 5)) {
        route = ROUTE_API;
        /* bad requests never wait behind a slow store */
        if (!tp_http_api_check(h->cfg.max_limit, path, args, nargs, &p->resp) &&
            !submit_api(h, wsi, p, path, args, &nargs))
            return 0; /* answered by deliver_jobs */
    } else if (!strcmp(path, "/metrics")) {
        route = ROUTE_METRICS;
        size_t len = 0;
        char *text = tp_metrics_render(&len);
        if (text) {
            p->resp = (tp_http_resp){200, "text/plain; version=0.0.4; charset=utf-8", text, len, 0};
        } else {
            tp_http_error(&p->resp, 500, "out of memory rendering metrics");
        }
    } else if (!strcmp(path, "/healthz")) {
        route = ROUTE_HEALTHZ;
        healthz(h, &p->resp);
    } else if (!strcmp(path, "/readyz")) {
        route = ROUTE_READYZ;
        readyz(h, &p->resp);
    } else if ((a = tp_http_asset_find(path))) {
        route = !strcmp(path, "/") || !strcmp(path, "/index.html") ? ROUTE_PAGE : ROUTE_ASSET;
        p->resp = (tp_http_resp){200, a->ctype, (char *)a->data, a->len, 1};
    } else if (!strcmp(path, "/ws")) {
        tp_http_error(&p->resp, 400, "/ws is a WebSocket endpoint; connect with a WebSocket client");
    } else {
        tp_http_error(&p->resp, 404,
                      "not found: try / (dashboard), /api/symbols, /metrics, /healthz or /readyz");
    }
    free_args(args, nargs);
    if (route == ROUTE_API)
        api_label(p, path);
    else
        snprintf(p->route_label, sizeof p->route_label, "%s", k_route_label[route]);
    return send_response(wsi, p);
}

static int on_http_writeable(struct lws *wsi, pss *p) {
    if (p->job) return 0; /* still at the store worker */
    if (p->hdr_pending) {
        p->hdr_pending = 0;
        return write_headers(wsi, p) ? -1 : 0;
    }
    if (p->head) { /* the headers are out, with the Content-Length of the body a GET gets */
        count_request(p->route_label, p->resp.status, tp_mono_us() - p->start_us);
        tp_http_resp_free(&p->resp);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    if (!p->resp.body && p->resp.len) return -1;
    unsigned char buf[LWS_PRE + BODY_CHUNK];
    size_t left = p->resp.len - p->off, n = left < BODY_CHUNK ? left : BODY_CHUNK;
    int final = n == left;
    memcpy(buf + LWS_PRE, p->resp.body + p->off, n);
    if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) return -1;
    p->off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    count_request(p->route_label, p->resp.status, tp_mono_us() - p->start_us);
    tp_http_resp_free(&p->resp);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- /ws clients ---- */

static void ws_on_message(tp_http_client *c) {
    json_error_t je;
    json_t *j = json_loadb(c->rx, c->rxlen, 0, &je);
    json_t *sym = j ? json_object_get(j, "symbol") : NULL;
    if (!j || !json_is_object(j) || (sym && !json_is_string(sym) && !json_is_null(sym))) {
        tp_debug(MOD, "ignoring a /ws message that is not {\"symbol\": \"...\"}");
    } else if (!sym || json_is_null(sym)) {
        c->filter[0] = '\0';
    } else if (json_string_length(sym) <= TP_HTTP_MAX_SYMBOL) {
        snprintf(c->filter, sizeof c->filter, "%s", json_string_value(sym));
    }
    json_decref(j);
}

static int check_ws_path(struct lws *wsi) {
    char uri[64];
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0) return 1;
    return strcmp(uri, "/ws") != 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct lws_context *ctx = lws_get_context(wsi);
    tp_http *h = ctx ? lws_context_user(ctx) : NULL;
    pss *p = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: return on_http(h, wsi, p, in ? (const char *)in : "/");
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!p || p->is_ws) return 0;
        return on_http_writeable(wsi, p);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (p && !p->is_ws) {
            if (p->job) p->job->pss = NULL; /* the worker's answer will be dropped */
            p->job = NULL;
            tp_http_resp_free(&p->resp);
        }
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if ((h && h->cfg.metrics_only) || check_ws_path(wsi)) return 1;
        if (h && atomic_load(&h->nclients) >= TP_HTTP_MAX_WS_CLIENTS) {
            /* keep descriptors for REST, /metrics and /healthz */
            static _Atomic unsigned long refused;
            unsigned long n = atomic_fetch_add(&refused, 1);
            if (n % 1000 == 0)
                tp_warn(MOD, "refusing /ws clients: %d are connected, the limit (%lu refused so far)",
                        TP_HTTP_MAX_WS_CLIENTS, n + 1);
            return 1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED: {
        memset(p, 0, sizeof *p);
        p->is_ws = 1;
        tp_http_client *c = &p->c;
        c->wsi = wsi;
        /* /ws?symbol=S filters from the first message on (a {"symbol":S}
         * message sent after connecting races with pushes already queued) */
        char arg[TP_HTTP_MAX_SYMBOL + 16];
        const char *v = lws_get_urlarg_by_name(wsi, "symbol=", arg, (int)sizeof arg);
        if (v && *v && strlen(v) <= TP_HTTP_MAX_SYMBOL) snprintf(c->filter, sizeof c->filter, "%s", v);
        c->next = h->clients;
        if (h->clients) h->clients->prev = c;
        h->clients = c;
        atomic_fetch_add(&h->nclients, 1);
        tp_gauge_set(h->m_ws_clients, atomic_load(&h->nclients));
        tp_http_msg *m = tp_http_stats_msg(h); /* health at once, not in a second */
        if (m) {
            tp_http_client_push(h, c, m);
            tp_http_msg_unref(m);
        }
        break;
    }
    case LWS_CALLBACK_RECEIVE: {
        tp_http_client *c = &p->c;
        if (c->rxlen + len > sizeof c->rx)
            c->rx_too_big = 1;
        else {
            memcpy(c->rx + c->rxlen, in, len);
            c->rxlen += len;
        }
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            if (!c->rx_too_big) ws_on_message(c);
            c->rxlen = 0;
            c->rx_too_big = 0;
        }
        break;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        tp_http_client *c = &p->c;
        if (!c->n) break;
        tp_http_msg *m = c->q[c->head];
        c->head = (c->head + 1) % TP_HTTP_CLIENT_QUEUE;
        c->n--;
        int w = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT); /* lws keeps any unsent tail */
        tp_http_msg_unref(m);
        if (w < 0) return -1;
        tp_counter_add(h->m_ws_msgs, 1);
        if (c->n) lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLOSED: {
        if (!p || !p->is_ws) break;
        tp_http_client *c = &p->c;
        if (c->prev)
            c->prev->next = c->next;
        else
            h->clients = c->next;
        if (c->next) c->next->prev = c->prev;
        while (c->n) {
            tp_http_msg_unref(c->q[c->head]);
            c->head = (c->head + 1) % TP_HTTP_CLIENT_QUEUE;
            c->n--;
        }
        atomic_fetch_sub(&h->nclients, 1);
        tp_gauge_set(h->m_ws_clients, atomic_load(&h->nclients));
        break;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (h) {
            tp_http_drain_pending(h);
            deliver_jobs(h);
        }
        break;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols k_protocols[] = {
    {"tickpipe", callback, sizeof(pss), TP_HTTP_WS_RX_MAX, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- lifecycle ---- */

void tp_http_config_default(tp_http_config *c) {
    memset(c, 0, sizeof *c);
    c->listen = "127.0.0.1:8080";
    c->store_url = TP_STORE_READER_DEFAULT_URL;
    c->poll_store_ms = 0;
    c->max_limit = 5000;
}

static void lws_log_emit(int level, const char *line) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    tp_debug("lws", "%.*s", (int)n, line);
}

/* Bind once ourselves for a precise error message (lws only logs one). */
static int probe_bind(const char *host, int port, char *err, size_t errlen) {
    int v6 = strchr(host, ':') != NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return tp_seterr(err, errlen, TP_EINVAL, "--http: '%s' is not an IP address", host);
        sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (!*host)
            a->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return tp_seterr(err, errlen, TP_EINVAL, "--http: '%s' is not an IPv4 address (or localhost)",
                             host);
        sl = sizeof *a;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return tp_seterr(err, errlen, TP_EIO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&ss, sl);
    int e = errno;
    close(fd);
    if (rc)
        return tp_seterr(err, errlen, TP_EIO, "cannot listen on %s:%d: %s%s", *host ? host : "*", port,
                         strerror(e),
                         e == EADDRINUSE ? " (another program has the port; pick another with --http)" : "");
    return 0;
}

static void *server_main(void *arg) {
    tp_http *h = arg;
    while (!atomic_load(&h->stop))
        if (lws_service(h->ctx, 0) < 0) break;
    return NULL;
}

int tp_http_start(const tp_http_config *cfg, tp_http **out, char *err, size_t errlen) {
    *out = NULL;
    tp_listen_addr la; /* core/listen.h: the one listen-address parser */
    int rc = tp_listen_parse(cfg->listen ? cfg->listen : "127.0.0.1:8080", "--http", "127.0.0.1:8080", &la,
                             err, errlen);
    if (rc) return rc;
    const char *host = la.host;
    int port = la.port;
    if (cfg->max_limit < 1) return tp_seterr(err, errlen, TP_EINVAL, "max_limit must be at least 1");
    if ((rc = probe_bind(host, port, err, errlen))) return rc;

    tp_http *h = calloc(1, sizeof *h);
    if (!h) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    h->cfg = *cfg;
    h->listen = strdup(cfg->listen ? cfg->listen : "127.0.0.1:8080");
    h->store_url = strdup(cfg->store_url ? cfg->store_url : "");
    if (!h->listen || !h->store_url) {
        free(h->listen);
        free(h->store_url);
        free(h);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    h->cfg.listen = h->listen;
    h->cfg.store_url = h->store_url;
    h->store.url = h->store_url;
    h->rate_stored = h->rate_ingest = -1;
    pthread_mutex_init(&h->lock, NULL);
    h->m_ws_msgs =
        tp_metrics_counter("tickpipe_http_ws_messages_total", NULL, "messages sent to /ws clients");
    h->m_ws_dropped = tp_metrics_counter("tickpipe_http_ws_dropped_total", NULL,
                                         "live messages dropped for slow /ws clients (oldest first)");
    h->m_store_errors = tp_metrics_counter("tickpipe_http_store_errors_total", NULL,
                                           "store errors seen by the HTTP server (queries and polling)");
    h->m_ws_clients = tp_metrics_gauge("tickpipe_http_ws_clients", NULL, "connected /ws clients");
    h->m_rest_busy = tp_metrics_counter("tickpipe_http_store_busy_total", NULL,
                                        "REST requests answered 503 because too many waited for the store");
    if ((rc = tp_http_worker_start(h, err, errlen))) {
        tp_http_stop(h);
        return rc;
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = *host ? host : NULL;
    info.protocols = k_protocols;
    info.gid = -1;
    info.uid = -1;
    info.user = h;
    info.options = strchr(host, ':') ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6;
    info.options |= LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.fd_limit_per_thread = 1024;
    h->ctx = lws_create_context(&info);
    if (!h->ctx) {
        tp_http_stop(h);
        return tp_seterr(err, errlen, TP_EIO, "cannot start the HTTP server on %s", cfg->listen);
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(h->ctx, "default");
    h->port = vh ? lws_get_vhost_listen_port(vh) : port;
    pthread_mutex_lock(&h->lock);
    h->ctx_alive = 1;
    pthread_mutex_unlock(&h->lock);
    lws_sul_schedule(h->ctx, 0, &h->sul_stats, on_stats_timer, LWS_US_PER_SEC);
    if (pthread_create(&h->thread, NULL, server_main, h)) {
        tp_http_stop(h);
        return tp_seterr(err, errlen, TP_EIO, "cannot start the HTTP server thread");
    }
    h->thread_started = 1;
    *out = h;
    return 0;
}

int tp_http_port(const tp_http *h) {
    return h ? h->port : 0;
}

void tp_http_stop(tp_http *h) {
    if (!h) return;
    atomic_store(&h->stop, 1);
    if (h->ctx) lws_cancel_service(h->ctx);
    if (h->thread_started) pthread_join(h->thread, NULL);
    pthread_mutex_lock(&h->lock);
    h->ctx_alive = 0; /* the worker and publishers stop waking it */
    pthread_mutex_unlock(&h->lock);
    if (h->ctx) {
        lws_sul_cancel(&h->sul_stats);
        /* closes clients: their queues are freed in CLOSED, and requests
         * still at the worker are detached in CLOSED_HTTP */
        lws_context_destroy(h->ctx);
    }
    tp_http_worker_stop(h); /* waits for a store call in progress */
    tp_http_push_free(h);
    pthread_mutex_destroy(&h->lock);
    free(h->listen);
    free(h->store_url);
    free(h);
}
