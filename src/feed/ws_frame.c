/* ws_frame.c - RFC 6455 client framing and upgrade handshake (ws_frame.h).
 *
 * Why it exists: libwebsockets' client parser walks every payload byte
 * through its state machine, which was about half of `tickpipe produce`'s
 * instructions. Frames from a server are unmasked, so decoding is a header
 * parse and then handing the payload on where it lies in the read buffer;
 * this file does only that, and libwebsockets is still what carries the
 * bytes (TCP or TLS) and what the tests compare this decoder against.
 *
 * Design: a two-state machine (header, payload). A header (2-14 bytes) is
 * collected into d->hdr so that it may arrive split over reads; its length
 * is known after the second byte. Payload bytes of a data frame go to
 * on_data straight from the input, as many as are there; a control
 * frame's payload (at most 125 bytes) is gathered into d->ctl and handed on
 * when complete, so a close reason or a ping body is never seen in halves.
 * Every check of the RFC that a client must make on a server's frames is
 * made before any of a frame's payload is handed on. */
#include "feed/ws_frame.h"

#include "core/err.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void tp_ws_decoder_init(tp_ws_decoder *d) {
    memset(d, 0, sizeof *d);
}

static size_t header_need(const uint8_t *h) {
    unsigned l7 = h[1] & 0x7F;
    return 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
}

/* The collected header is complete: check it and set up the payload. */
static int start_frame(tp_ws_decoder *d, char *err, size_t errlen) {
    const uint8_t *h = d->hdr;
    int fin = (h[0] & 0x80) != 0, opcode = h[0] & 0x0F;
    if (h[0] & 0x70)
        return tp_seterr(err, errlen, TP_EPARSE,
                         "a WebSocket frame with reserved bits set (0x%02x; no extension was negotiated)",
                         h[0]);
    if (h[1] & 0x80) return tp_seterr(err, errlen, TP_EPARSE, "a masked WebSocket frame from the server");
    uint64_t len = h[1] & 0x7F;
    if (len == 126) {
        len = ((uint64_t)h[2] << 8) | h[3];
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) len = (len << 8) | h[2 + i];
        if (len >> 63)
            return tp_seterr(err, errlen, TP_EPARSE, "a WebSocket frame length with its top bit set");
    }
    if (opcode >= 0x8) {
        if (opcode > TP_WS_PONG)
            return tp_seterr(err, errlen, TP_EPARSE, "a WebSocket frame of unknown control opcode 0x%x",
                             opcode);
        if (!fin) return tp_seterr(err, errlen, TP_EPARSE, "a fragmented WebSocket control frame");
        if (len > 125)
            return tp_seterr(err, errlen, TP_EPARSE, "a WebSocket control frame of %llu bytes (at most 125)",
                             (unsigned long long)len);
        d->ctl_len = 0;
    } else if (opcode == TP_WS_CONT) {
        if (!d->msg_opcode)
            return tp_seterr(err, errlen, TP_EPARSE, "a WebSocket continuation frame outside a message");
    } else if (opcode == TP_WS_TEXT || opcode == TP_WS_BINARY) {
        if (d->msg_opcode)
            return tp_seterr(err, errlen, TP_EPARSE, "a new WebSocket message inside a fragmented one");
        d->msg_opcode = opcode;
    } else {
        return tp_seterr(err, errlen, TP_EPARSE, "a WebSocket frame of unknown data opcode 0x%x", opcode);
    }
    d->opcode = opcode;
    d->fin = fin;
    d->remaining = len;
    d->state = 1;
    return 0;
}

int tp_ws_decode(tp_ws_decoder *d, const uint8_t *buf, size_t len, tp_ws_data_fn on_data,
                 tp_ws_control_fn on_control, void *ud, char *err, size_t errlen) {
    size_t i = 0;
    for (;;) {
        if (d->state == 0) {
            if (i == len) return 0;
            /* the header: byte by byte until its length is known, then the rest at once */
            size_t need = d->hdr_len < 2 ? 2 : header_need(d->hdr);
            while (d->hdr_len < need && i < len) {
                d->hdr[d->hdr_len++] = buf[i++];
                if (d->hdr_len == 2) need = header_need(d->hdr);
            }
            if (d->hdr_len < need) return 0;
            d->hdr_len = 0;
            int rc = start_frame(d, err, errlen);
            if (rc) return rc;
            /* an empty frame has nothing to wait for: hand it on now */
        }
        size_t avail = len - i;
        size_t n = d->remaining < avail ? (size_t)d->remaining : avail;
        if (d->opcode >= 0x8) {
            memcpy(d->ctl + d->ctl_len, buf + i, n);
            d->ctl_len += n;
            i += n;
            d->remaining -= n;
            if (d->remaining) return 0;
            d->state = 0;
            if (on_control(ud, d->opcode, d->ctl, d->ctl_len)) return 1;
            continue;
        }
        if (n == 0 && d->remaining) return 0; /* need more bytes */
        d->remaining -= n;
        int last = d->fin && d->remaining == 0;
        int op = d->msg_opcode;
        if (d->remaining == 0) {
            d->state = 0;
            if (d->fin) d->msg_opcode = 0;
        }
        /* an empty piece is handed on only when it ends a message */
        if ((n || last) && on_data(ud, op, buf + i, n, last)) return 1;
        i += n;
    }
}

long tp_ws_encode(int opcode, const void *p, size_t n, const uint8_t mask[4], uint8_t *out, size_t cap) {
    size_t h = n < 126 ? 2 : n < 65536 ? 4 : 10;
    if (cap < h + 4 || cap - h - 4 < n) return -1;
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (n < 126) {
        out[1] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        out[1] = 0x80 | 126;
        out[2] = (uint8_t)(n >> 8);
        out[3] = (uint8_t)n;
    } else {
        out[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    }
    memcpy(out + h, mask, 4);
    const uint8_t *src = p;
    for (size_t i = 0; i < n; i++) out[h + 4 + i] = src[i] ^ mask[i & 3];
    return (long)(h + 4 + n);
}

static void base64(const uint8_t *in, size_t n, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

void tp_ws_make_key(const uint8_t nonce[16], char key[25]) {
    base64(nonce, 16, key);
}

long tp_ws_request(const char *host, int port, int tls, const char *path, const char *key, char *out,
                   size_t cap) {
    char hostport[300];
    /* the port only when it is not the scheme's default (RFC 6455 4.1) */
    if (port == (tls ? 443 : 80))
        snprintf(hostport, sizeof hostport, "%s", host);
    else
        snprintf(hostport, sizeof hostport, "%s:%d", host, port);
    int n = snprintf(out, cap,
                     /* the headers libwebsockets' client sent, which feeds know */
                     "GET %s HTTP/1.1\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nHost: %s\r\n"
                     "Origin: http%s://%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nUser-Agent: tickpipe\r\n\r\n",
                     path && *path ? path : "/", hostport, tls ? "s" : "", host, key);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Does the comma-separated header value v[0..n) hold token (any case)? */
static int has_token(const char *v, size_t n, const char *token) {
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t j = i;
        while (j < n && v[j] != ',') j++;
        size_t e = j;
        while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e - i == tl && !strncasecmp(v + i, token, tl)) return 1;
        i = j;
    }
    return 0;
}

#define TP_WS_MAX_RESPONSE 16384

int tp_ws_response(const char *buf, size_t len, const char *key, size_t *used, int *status, char *err,
                   size_t errlen) {
    *status = 0;
    size_t end = 0;
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = i + 1;
            break;
        }
    if (!end) {
        if (len >= TP_WS_MAX_RESPONSE)
            return tp_seterr(err, errlen, TP_EPARSE,
                             "the server's answer to the WebSocket upgrade has no end of header in %d bytes",
                             TP_WS_MAX_RESPONSE);
        return 1;
    }
    int code = 0;
    if (end < 12 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' ||
        buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9')
        return tp_seterr(err, errlen, TP_EPARSE, "the server's answer to the WebSocket upgrade is not HTTP");
    code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    *status = code;
    if (code != 101)
        return tp_seterr(err, errlen, TP_EREFUSED, "the server refused the WebSocket upgrade with HTTP %d",
                         code);
    /* the accept value the server must send: base64(SHA-1(key + GUID)) */
    char cat[64];
    snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, strlen(cat), sha);
    char want[32];
    base64(sha, sizeof sha, want);
    int upgrade = 0, connection = 0, accept = 0;
    size_t i = 0;
    while (buf[i] != '\n') i++; /* skip the status line */
    i++;
    while (i + 2 <= end && !(buf[i] == '\r' && buf[i + 1] == '\n')) {
        size_t eol = i;
        while (buf[eol] != '\n') eol++; /* there is one: the header ends with \r\n\r\n */
        size_t line_end = eol > i && buf[eol - 1] == '\r' ? eol - 1 : eol;
        const char *colon = memchr(buf + i, ':', line_end - i);
        if (colon) {
            size_t nl = (size_t)(colon - (buf + i));
            const char *v = colon + 1;
            size_t vl = (size_t)(buf + line_end - v);
            while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
            if (nl == 7 && !strncasecmp(buf + i, "upgrade", 7))
                upgrade = has_token(v, vl, "websocket");
            else if (nl == 10 && !strncasecmp(buf + i, "connection", 10))
                connection = has_token(v, vl, "upgrade");
            else if (nl == 20 && !strncasecmp(buf + i, "sec-websocket-accept", 20))
                accept = vl == strlen(want) && !memcmp(v, want, vl);
            else if (nl == 24 && !strncasecmp(buf + i, "sec-websocket-extensions", 24) && vl)
                return tp_seterr(err, errlen, TP_EPARSE,
                                 "the server chose a WebSocket extension that was not offered");
        }
        i = eol + 1;
    }
    if (!upgrade || !connection)
        return tp_seterr(err, errlen, TP_EPARSE,
                         "the server's 101 answer lacks 'Upgrade: websocket' or 'Connection: Upgrade'");
    if (!accept)
        return tp_seterr(
            err, errlen, TP_EPARSE,
            "the server's Sec-WebSocket-Accept does not match the key sent (not a WebSocket server, "
            "or a proxy in between)");
    *used = end;
    return 0;
}
