/* listen.h - the one parser of listen addresses (--http, --listen, the
 * simulator inside run): "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT".
 * Host "" or "*" means every address; "localhost" means 127.0.0.1 (so a
 * dashboard bound there is reachable by the URL printed for it). Port 0
 * asks the kernel for a free port. Pure functions; any thread. */
#ifndef TP_LISTEN_H
#define TP_LISTEN_H

#include <stddef.h>

typedef struct tp_listen_addr {
    char host[256]; /* as given (brackets removed); "" = every address */
    int port;       /* 0..65535 */
} tp_listen_addr;

/* TP_EINVAL with "WHAT 'S': expected HOST:PORT, e.g. EXAMPLE (port 0 picks
 * a free one)" in err. */
int tp_listen_parse(const char *s, const char *what, const char *example, tp_listen_addr *out, char *err,
                    size_t errlen);

/* "SCHEME://HOST:PORT" to print for a server listening on `listen` with the
 * bound `port`: every-address hosts (and 0.0.0.0, ::) print as 127.0.0.1,
 * IPv6 hosts in brackets. */
void tp_listen_url(const char *scheme, const char *listen, int port, char *out, size_t outlen);

#endif
