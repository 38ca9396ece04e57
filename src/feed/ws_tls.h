/* ws_tls.h - TLS for the feed source over bytes that someone else carries.
 *
 * The feed's connection is a raw libwebsockets socket (source.c), which
 * does the TCP and the event loop; this is the TLS on top of it, with
 * OpenSSL through memory BIOs: ciphertext read from the socket goes in with
 * tp_ws_tls_rx(), the plaintext comes out through a callback, and the
 * ciphertext to send (handshake records, encrypted writes) collects in the
 * session until the caller takes it with tp_ws_tls_take() and writes it.
 * The server's certificate is verified against the system CA store (which
 * SSL_CERT_FILE / SSL_CERT_DIR override, as everywhere in OpenSSL) and the
 * host name (or IP address) of the URL.
 *
 * Ownership: the caller owns the SSL_CTX (one per source: loading the CA
 * store costs tens of ms) and each session (one per connection). Threading:
 * a session and its context are used by the thread running the source. */
#ifndef TP_WS_TLS_H
#define TP_WS_TLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ssl_ctx_st tp_ws_tls_ctx; /* an OpenSSL SSL_CTX */
typedef struct tp_ws_tls tp_ws_tls;

int tp_ws_tls_ctx_new(tp_ws_tls_ctx **out, char *err, size_t errlen);
void tp_ws_tls_ctx_free(tp_ws_tls_ctx *ctx);

/* A client session for host; starts the handshake (its first record is
 * pending at once). */
int tp_ws_tls_new(tp_ws_tls_ctx *ctx, const char *host, tp_ws_tls **out, char *err, size_t errlen);
void tp_ws_tls_free(tp_ws_tls *t);

/* Plaintext from the server; nonzero stops the reading. */
typedef int (*tp_ws_tls_plain_fn)(void *ud, const uint8_t *p, size_t n);

/* Ciphertext from the socket. 0 done (more may be pending to send), 1
 * on_plain stopped it, TP_EREFUSED for an untrusted certificate, TP_EEOF
 * when the server closed the TLS session, TP_EUNAVAIL for any other TLS
 * failure; err says which. *ready is set once the handshake is complete
 * (check it after each call: the first plaintext may be written then). */
int tp_ws_tls_rx(tp_ws_tls *t, const uint8_t *in, size_t n, tp_ws_tls_plain_fn on_plain, void *ud, int *ready,
                 char *err, size_t errlen);

/* Encrypt plaintext (only once ready); the records join the pending
 * ciphertext. */
int tp_ws_tls_write(tp_ws_tls *t, const void *p, size_t n, char *err, size_t errlen);

/* The pending ciphertext to send: *p is valid until the next call on t;
 * tp_ws_tls_consumed() says how much of it was sent. */
size_t tp_ws_tls_pending(tp_ws_tls *t, const uint8_t **p);
void tp_ws_tls_consumed(tp_ws_tls *t, size_t n);

#endif
