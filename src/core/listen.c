/* listen.c - see listen.h. */
#include "core/listen.h"

#include "core/config.h"
#include "core/err.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int tp_listen_parse(const char *s, const char *what, const char *example, tp_listen_addr *out, char *err,
                    size_t errlen) {
    const char *hs = s, *he, *ps;
    if (!s) goto bad;
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':') goto bad;
        hs = s + 1;
        he = rb;
        ps = rb + 2;
    } else {
        const char *colon = strrchr(s, ':');
        he = colon ? colon : s;
        ps = colon ? colon + 1 : s;
    }
    int64_t port;
    char perr[128];
    if (tp_cfg_parse_i64(ps, "port", 0, 65535, &port, perr, sizeof perr)) goto bad;
    size_t hl = (size_t)(he - hs);
    if (hl >= sizeof out->host) goto bad;
    memcpy(out->host, hs, hl);
    out->host[hl] = '\0';
    if (!strcmp(out->host, "*")) out->host[0] = '\0';
    if (!strcmp(out->host, "localhost")) snprintf(out->host, sizeof out->host, "127.0.0.1");
    out->port = (int)port;
    return 0;
bad:
    return tp_seterr(err, errlen, TP_EINVAL, "%s '%s': expected ADDR:PORT, e.g. %s (port 0 picks a free one)",
                     what, s ? s : "", example);
}

void tp_listen_url(const char *scheme, const char *listen, int port, char *out, size_t outlen) {
    tp_listen_addr a;
    const char *h = "127.0.0.1";
    if (!tp_listen_parse(listen, "", "", &a, NULL, 0) && a.host[0] && strcmp(a.host, "0.0.0.0") &&
        strcmp(a.host, "::"))
        h = a.host;
    int v6 = strchr(h, ':') != NULL;
    snprintf(out, outlen, "%s://%s%s%s:%d", scheme, v6 ? "[" : "", h, v6 ? "]" : "", port);
}
