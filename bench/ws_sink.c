/* ws_sink.c - the two ends of the simulator benchmark.
 *
 *   ws_sink client URL SYMBOLS N   connect (URL holds ?token=), subscribe the
 *                                  comma-separated SYMBOLS, read until N trades
 *                                  have arrived, print a result line
 *   ws_sink serve FRAME_FILE       the reference server: on 127.0.0.1:0 (port
 *                                  printed on stdout), after the first message
 *                                  of a client, send the frame in FRAME_FILE
 *                                  over and over, one per writeable callback
 *
 * The client counts trades as occurrences of "\"s\":" and does no parsing,
 * so it measures the server, not itself. The reference server sends one
 * pre-made frame with no generation at all: what libwebsockets itself moves
 * on this machine, the ceiling of `tickpipe simulate`. */
#include <libwebsockets.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t g_want, g_trades, g_frames, g_bytes;
static char g_carry[4];
static size_t g_ncarry;
static char **g_syms;
static size_t g_nsyms, g_sub_next;
static int g_done, g_failed;
static double g_t0, g_t1;
static unsigned char *g_frame;
static size_t g_frame_len;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t count_trades(const char *p, size_t n) {
    /* occurrences of "s": - with the last 3 bytes of the previous piece */
    uint64_t c = 0;
    char edge[8];
    size_t k = g_ncarry, m = n < 3 ? n : 3;
    memcpy(edge, g_carry, k);
    memcpy(edge + k, p, m);
    for (size_t i = 0; i + 4 <= k + m; i++)
        if (!memcmp(edge + i, "\"s\":", 4) && i < k) c++;
    const char *end = p + n;
    for (const char *q = p; (q = memmem(q, (size_t)(end - q), "\"s\":", 4)) != NULL; q += 4) c++;
    g_ncarry = n < 3 ? n : 3;
    memcpy(g_carry, end - g_ncarry, g_ncarry);
    return c;
}

static int client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED: lws_callback_on_writable(wsi); break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (g_sub_next < g_nsyms) {
            unsigned char buf[LWS_PRE + 512];
            int n = snprintf((char *)buf + LWS_PRE, 500, "{\"type\":\"subscribe\",\"symbol\":\"%s\"}",
                             g_syms[g_sub_next++]);
            if (lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n) return -1;
            if (g_sub_next < g_nsyms) lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!g_t0) g_t0 = now_s();
        g_bytes += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) g_frames++;
        g_trades += count_trades(in, len);
        if (g_trades >= g_want) {
            g_t1 = now_s();
            g_done = 1;
            return -1;
        }
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "ws_sink: cannot connect: %s\n", in ? (const char *)in : "?");
        g_failed = g_done = 1;
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!g_done) {
            fprintf(stderr, "ws_sink: closed after %llu trades\n", (unsigned long long)g_trades);
            g_failed = 1;
        }
        g_done = 1;
        break;
    default: break;
    }
    (void)user;
    return 0;
}

static int server_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    int *streaming = user;
    switch (reason) {
    case LWS_CALLBACK_RECEIVE:
        if (streaming && !*streaming) {
            *streaming = 1;
            lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (lws_write(wsi, g_frame + LWS_PRE, g_frame_len, LWS_WRITE_TEXT) < (int)g_frame_len) return -1;
        lws_callback_on_writable(wsi);
        break;
    default: break;
    }
    (void)in;
    (void)len;
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int run_client(const char *url, const char *symbols, uint64_t n) {
    char *syms = strdup(symbols), *save = NULL;
    for (char *t = strtok_r(syms, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        g_syms = realloc(g_syms, (g_nsyms + 1) * sizeof *g_syms);
        g_syms[g_nsyms++] = t;
    }
    g_want = n;
    static struct lws_protocols protos[] = {{"sink", client_cb, 0, 1 << 16, 0, NULL, 0},
                                            {NULL, NULL, 0, 0, 0, NULL, 0}};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protos;
    info.gid = info.uid = -1;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) return 1;
    char u[1024];
    snprintf(u, sizeof u, "%s", url);
    const char *proto, *addr, *path;
    int port;
    if (lws_parse_uri(u, &proto, &addr, &port, &path)) return 1;
    char fullpath[1024];
    snprintf(fullpath, sizeof fullpath, "/%s", path);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = addr;
    ci.port = port;
    ci.path = fullpath;
    ci.host = addr;
    ci.origin = addr;
    ci.local_protocol_name = "sink";
    if (!lws_client_connect_via_info(&ci)) return 1;
    while (!g_done && lws_service(ctx, 0) >= 0) {
    }
    lws_context_destroy(ctx);
    if (g_failed) return 1;
    double s = g_t1 - g_t0;
    printf("trades=%llu frames=%llu bytes=%llu seconds=%.3f trades_per_s=%.0f\n",
           (unsigned long long)g_trades, (unsigned long long)g_frames, (unsigned long long)g_bytes, s,
           (double)g_trades / s);
    return 0;
}

static volatile int g_stop;
static void on_sig(int sig) {
    (void)sig;
    g_stop = 1;
}

static int run_server(const char *frame_file) {
    FILE *f = fopen(frame_file, "rb");
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    g_frame = malloc(LWS_PRE + (size_t)n);
    if (fread(g_frame + LWS_PRE, 1, (size_t)n, f) != (size_t)n) return 1;
    fclose(f);
    g_frame_len = (size_t)n;
    while (g_frame_len && g_frame[LWS_PRE + g_frame_len - 1] == '\n') g_frame_len--;
    static struct lws_protocols protos[] = {{"ref", server_cb, sizeof(int), 1 << 16, 0, NULL, 0},
                                            {NULL, NULL, 0, 0, 0, NULL, 0}};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = 0;
    info.iface = "127.0.0.1";
    info.protocols = protos;
    info.gid = info.uid = -1;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) return 1;
    printf("%d\n", lws_get_vhost_listen_port(lws_get_vhost_by_name(ctx, "default")));
    fflush(stdout);
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    while (!g_stop && lws_service(ctx, 0) >= 0) {
    }
    lws_context_destroy(ctx);
    return 0;
}

int main(int argc, char **argv) {
    lws_set_log_level(LLL_ERR, NULL);
    if (argc == 5 && !strcmp(argv[1], "client"))
        return run_client(argv[2], argv[3], strtoull(argv[4], NULL, 10));
    if (argc == 3 && !strcmp(argv[1], "serve")) return run_server(argv[2]);
    fprintf(stderr, "usage: ws_sink client URL SYMBOLS N | ws_sink serve FRAME_FILE\n");
    return 2;
}
