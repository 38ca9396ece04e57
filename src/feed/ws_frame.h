/* ws_frame.h - the client side of RFC 6455 framing and the HTTP upgrade,
 * without a socket: what the feed source (source.c) runs over the bytes of
 * a TCP or TLS connection.
 *
 * - tp_ws_decode() is an incremental decoder of the frames a server sends
 *   (unmasked). A data payload is handed on in the pieces it arrives in,
 *   pointing into the caller's buffer (no copy); a control frame (close,
 *   ping, pong, at most 125 bytes) is collected whole and handed on once.
 *   Protocol violations (a masked frame, reserved bits, an unknown opcode,
 *   a fragmented or long control frame, a continuation with no message, a
 *   new message inside one, a 64-bit length with its top bit set) end the
 *   decoding with TP_EPARSE and a text naming the violation.
 * - tp_ws_encode() makes one masked client frame (subscriptions, pong,
 *   close).
 * - tp_ws_request() and tp_ws_response() are the upgrade handshake: the GET
 *   with its Sec-WebSocket-Key, and the check of the server's 101 answer
 *   (Upgrade, Connection and Sec-WebSocket-Accept).
 *
 * Ownership: a tp_ws_decoder is a plain struct owned by the caller, one per
 * connection (reset with tp_ws_decoder_init on each new one). Every
 * function is pure apart from the decoder state and the callbacks; none
 * allocates. Threading: a decoder is used by one thread at a time. */
#ifndef TP_WS_FRAME_H
#define TP_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum {
    TP_WS_CONT = 0x0,
    TP_WS_TEXT = 0x1,
    TP_WS_BINARY = 0x2,
    TP_WS_CLOSE = 0x8,
    TP_WS_PING = 0x9,
    TP_WS_PONG = 0xA,
};

/* Called with each piece of a data message's payload (possibly empty);
 * opcode is the message's (TEXT or BINARY, also for its continuation
 * frames); last != 0 when the message ends with this piece. Nonzero stops
 * the decoding. */
typedef int (*tp_ws_data_fn)(void *ud, int opcode, const uint8_t *p, size_t n, int last);
/* Called with each whole control frame (CLOSE, PING or PONG). Nonzero
 * stops the decoding. */
typedef int (*tp_ws_control_fn)(void *ud, int opcode, const uint8_t *p, size_t n);

typedef struct tp_ws_decoder {
    int state;          /* 0 header, 1 payload */
    uint8_t hdr[14];    /* the header being collected */
    size_t hdr_len;     /* bytes of it so far */
    int opcode, fin;    /* of the frame being read */
    uint64_t remaining; /* payload bytes of the frame still to come */
    int msg_opcode;     /* TEXT/BINARY while a fragmented message is open, else 0 */
    uint8_t ctl[125];   /* a control frame's payload */
    size_t ctl_len;
} tp_ws_decoder;

void tp_ws_decoder_init(tp_ws_decoder *d);

/* Decode len bytes. 0 when all were consumed, 1 when a callback stopped
 * it (the rest is not decoded), TP_EPARSE with err set on a protocol
 * violation (the connection must be closed). */
int tp_ws_decode(tp_ws_decoder *d, const uint8_t *buf, size_t len, tp_ws_data_fn on_data,
                 tp_ws_control_fn on_control, void *ud, char *err, size_t errlen);

/* One final client frame of opcode with payload p[0..n), masked with mask,
 * into out (cap bytes; n + 14 always suffice). Returns its length, or -1
 * when it does not fit. */
long tp_ws_encode(int opcode, const void *p, size_t n, const uint8_t mask[4], uint8_t *out, size_t cap);

/* Sec-WebSocket-Key from 16 random bytes: 24 characters and a NUL. */
void tp_ws_make_key(const uint8_t nonce[16], char key[25]);

/* The upgrade request for host[:port] and path (which starts with '/').
 * Returns its length, or -1 when it does not fit cap. */
long tp_ws_request(const char *host, int port, int tls, const char *path, const char *key, char *out,
                   size_t cap);

/* Check the server's answer in buf[0..len). 1: the header is not complete
 * yet (read more); 0: a valid 101 upgrade whose header ends at *used (the
 * bytes after it are frames); TP_EREFUSED with *status set for a non-101
 * status, TP_EPARSE for an answer that is not a valid upgrade; err says
 * why in both cases. */
int tp_ws_response(const char *buf, size_t len, const char *key, size_t *used, int *status, char *err,
                   size_t errlen);

#endif
