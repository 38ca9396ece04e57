/* ws_tls.c - TLS through OpenSSL memory BIOs for the feed source (ws_tls.h).
 *
 * Why memory BIOs: libwebsockets 4.1 cannot start TLS on a raw client
 * socket (it tries the handshake before the TCP connect has finished), and
 * the feed's WebSocket framing is ours now (ws_frame.h), so lws carries TCP
 * only and this file turns it into TLS. The rbio holds ciphertext read and
 * not yet decrypted; the wbio collects ciphertext to send, which is moved
 * into `out` so that a partial write by the caller can resume.
 *
 * Errors are named for the user: an untrusted certificate says what to
 * trust and how (SSL_CERT_FILE), a handshake failure hints at a server
 * without TLS on that port. */
#include "feed/ws_tls.h"

#include "core/err.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

struct tp_ws_tls {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    int ready;
    uint8_t *out; /* ciphertext to send: out[off..len) */
    size_t off, len, cap;
};

static const char *ssl_errtext(char *buf, size_t n) {
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(buf, n, "no detail from OpenSSL");
    } else {
        ERR_error_string_n(e, buf, n);
    }
    ERR_clear_error();
    return buf;
}

int tp_ws_tls_ctx_new(tp_ws_tls_ctx **out, char *err, size_t errlen) {
    char e[256];
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (!c) return tp_seterr(err, errlen, TP_ENOMEM, "TLS: %s", ssl_errtext(e, sizeof e));
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_set_default_verify_paths(c) != 1) {
        SSL_CTX_free(c);
        return tp_seterr(err, errlen, TP_EINVAL,
                         "TLS: cannot load the system CA store: %s (set SSL_CERT_FILE)",
                         ssl_errtext(e, sizeof e));
    }
    *out = c;
    return 0;
}

void tp_ws_tls_ctx_free(tp_ws_tls_ctx *ctx) {
    if (ctx) SSL_CTX_free(ctx);
}

/* Move what the wbio holds into out. */
static int drain(tp_ws_tls *t) {
    size_t n = (size_t)BIO_ctrl_pending(t->wbio);
    if (!n) return 0;
    if (t->off && t->off == t->len) t->off = t->len = 0;
    if (t->len + n > t->cap) {
        if (t->off) { /* compact first */
            memmove(t->out, t->out + t->off, t->len - t->off);
            t->len -= t->off;
            t->off = 0;
        }
        size_t cap = t->cap ? t->cap : 16384;
        while (cap < t->len + n) cap *= 2;
        uint8_t *np = realloc(t->out, cap);
        if (!np) return TP_ENOMEM;
        t->out = np;
        t->cap = cap;
    }
    int r = BIO_read(t->wbio, t->out + t->len, (int)n);
    if (r > 0) t->len += (size_t)r;
    return 0;
}

int tp_ws_tls_new(tp_ws_tls_ctx *ctx, const char *host, tp_ws_tls **out, char *err, size_t errlen) {
    char e[256];
    *out = NULL;
    tp_ws_tls *t = calloc(1, sizeof *t);
    if (!t) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        if (t->rbio) BIO_free(t->rbio);
        if (t->wbio) BIO_free(t->wbio);
        if (t->ssl) SSL_free(t->ssl);
        free(t);
        return tp_seterr(err, errlen, TP_ENOMEM, "TLS: %s", ssl_errtext(e, sizeof e));
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    struct in6_addr a6;
    struct in_addr a4;
    int is_ip = inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(t->ssl, host);
    X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
    if (is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    else
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
    SSL_set_connect_state(t->ssl);
    int r = SSL_do_handshake(t->ssl); /* writes the ClientHello into wbio */
    if (r != 1 && SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ) {
        tp_ws_tls_free(t);
        return tp_seterr(err, errlen, TP_EUNAVAIL, "TLS: cannot start the handshake: %s",
                         ssl_errtext(e, sizeof e));
    }
    if (drain(t)) {
        tp_ws_tls_free(t);
        return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    }
    *out = t;
    return 0;
}

void tp_ws_tls_free(tp_ws_tls *t) {
    if (!t) return;
    SSL_free(t->ssl); /* frees both BIOs */
    free(t->out);
    free(t);
}

/* Why an SSL call failed, for the user. */
static int failure(tp_ws_tls *t, int r, char *err, size_t errlen) {
    char e[256];
    int se = SSL_get_error(t->ssl, r);
    if (se == SSL_ERROR_ZERO_RETURN)
        return tp_seterr(err, errlen, TP_EEOF, "the server ended the TLS session");
    long v = SSL_get_verify_result(t->ssl);
    if (!t->ready && v != X509_V_OK) {
        ERR_clear_error();
        return tp_seterr(err, errlen, TP_EREFUSED,
                         "TLS: the server's certificate is not trusted: %s (trust its CA through the system "
                         "store or SSL_CERT_FILE=PATH)",
                         X509_verify_cert_error_string(v));
    }
    if (!t->ready)
        return tp_seterr(
            err, errlen, TP_EUNAVAIL,
            "TLS handshake failed: %s (does the server speak TLS on that port? use ws:// if not)",
            ssl_errtext(e, sizeof e));
    return tp_seterr(err, errlen, TP_EUNAVAIL, "TLS: %s", ssl_errtext(e, sizeof e));
}

int tp_ws_tls_rx(tp_ws_tls *t, const uint8_t *in, size_t n, tp_ws_tls_plain_fn on_plain, void *ud, int *ready,
                 char *err, size_t errlen) {
    while (n) { /* a memory BIO takes all, but write in int-sized parts */
        int part = n > (1u << 30) ? 1 << 30 : (int)n;
        int w = BIO_write(t->rbio, in, part);
        if (w <= 0) return tp_seterr(err, errlen, TP_ENOMEM, "TLS: cannot buffer the received bytes");
        in += w;
        n -= (size_t)w;
    }
    int rc = 0;
    if (!t->ready) {
        int r = SSL_do_handshake(t->ssl);
        if (r == 1) {
            t->ready = 1;
        } else if (SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ) {
            rc = failure(t, r, err, errlen);
        }
    }
    uint8_t buf[65536];
    while (!rc && t->ready) {
        int r = SSL_read(t->ssl, buf, sizeof buf);
        if (r > 0) {
            if (on_plain(ud, buf, (size_t)r)) rc = 1;
            continue;
        }
        if (SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ) rc = failure(t, r, err, errlen);
        break;
    }
    *ready = t->ready;
    if (drain(t) && !rc) rc = tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    return rc;
}

int tp_ws_tls_write(tp_ws_tls *t, const void *p, size_t n, char *err, size_t errlen) {
    if (!t->ready) return tp_seterr(err, errlen, TP_ESTATE, "TLS: write before the handshake is complete");
    if (n) {
        int r = SSL_write(t->ssl, p, (int)n);
        if (r <= 0) return failure(t, r, err, errlen);
    }
    if (drain(t)) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    return 0;
}

size_t tp_ws_tls_pending(tp_ws_tls *t, const uint8_t **p) {
    *p = t->out + t->off;
    return t->len - t->off;
}

void tp_ws_tls_consumed(tp_ws_tls *t, size_t n) {
    t->off += n;
    if (t->off >= t->len) t->off = t->len = 0;
}
