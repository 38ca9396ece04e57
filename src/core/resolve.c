/* resolve.c - see resolve.h. */
#include "core/resolve.h"

#include "core/err.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

void tp_resolve_interleave(tp_addr *a, size_t n) {
    if (n < 3) return;
    tp_addr tmp[TP_RESOLVE_MAX];
    size_t m = n < TP_RESOLVE_MAX ? n : TP_RESOLVE_MAX;
    int first = a[0].family;
    size_t same[TP_RESOLVE_MAX], other[TP_RESOLVE_MAX], ns = 0, no = 0;
    for (size_t i = 0; i < m; i++) {
        if (a[i].family == first)
            same[ns++] = i;
        else
            other[no++] = i;
    }
    size_t k = 0, is = 0, io = 0;
    while (is < ns || io < no) {
        if (is < ns) tmp[k++] = a[same[is++]];
        if (io < no) tmp[k++] = a[other[io++]];
    }
    memcpy(a, tmp, m * sizeof *a);
}

int tp_resolve(const char *host, tp_addr *out, size_t max, char *err, size_t errlen) {
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* no AI_ADDRCONFIG: it drops loopback addresses on a machine with no
     * other address of their family; an address of a family with no route
     * fails at once (ENETUNREACH) and the next is tried */
    int g = getaddrinfo(host, NULL, &hints, &ai);
    if (g) return tp_seterr(err, errlen, TP_EUNAVAIL, "cannot resolve %s: %s", host, gai_strerror(g));
    if (max > TP_RESOLVE_MAX) max = TP_RESOLVE_MAX;
    size_t n = 0;
    for (struct addrinfo *p = ai; p && n < max; p = p->ai_next) {
        const void *src;
        if (p->ai_family == AF_INET)
            src = &((struct sockaddr_in *)p->ai_addr)->sin_addr;
        else if (p->ai_family == AF_INET6)
            src = &((struct sockaddr_in6 *)p->ai_addr)->sin6_addr;
        else
            continue;
        tp_addr a = {p->ai_family, ""};
        if (!inet_ntop(p->ai_family, src, a.text, sizeof a.text)) continue;
        int dup = 0;
        for (size_t i = 0; i < n && !dup; i++) dup = !strcmp(out[i].text, a.text);
        if (!dup) out[n++] = a;
    }
    freeaddrinfo(ai);
    if (!n) return tp_seterr(err, errlen, TP_EUNAVAIL, "cannot resolve %s: no IPv4 or IPv6 address", host);
    tp_resolve_interleave(out, n);
    return (int)n;
}
