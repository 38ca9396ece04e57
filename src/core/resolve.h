/* resolve.h - every address of a host name, in the order to try them.
 *
 * A name can have several addresses (localhost: ::1 and 127.0.0.1 on a
 * standard Debian /etc/hosts) and the server may listen on only one of
 * them, so a client tries each in turn until one connects, as curl does.
 * The order is RFC 8305 section 4: getaddrinfo's own (RFC 6724) order,
 * with the families interleaved from the first one's, so one dead family
 * costs one attempt, not all of its addresses. */
#ifndef TP_RESOLVE_H
#define TP_RESOLVE_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <stddef.h>

#define TP_RESOLVE_MAX 16

typedef struct tp_addr {
    int family;                  /* AF_INET or AF_INET6 */
    char text[INET6_ADDRSTRLEN]; /* numeric, no brackets */
} tp_addr;

/* The addresses of host (a name or a numeric address), at most
 * TP_RESOLVE_MAX, duplicates dropped, into out; their count, or a TP_E*
 * code with err set ("cannot resolve HOST: ..."). */
int tp_resolve(const char *host, tp_addr *out, size_t max, char *err, size_t errlen);

/* The interleaving alone, in place (n addresses): exposed for the tests. */
void tp_resolve_interleave(tp_addr *a, size_t n);

#endif
