/* err.h - tickpipe's error codes.
 *
 * Every fallible call returns 0 on success or a negative tp_err. The human
 * text of the error goes into a caller-supplied buffer (char *err, size_t
 * errlen), librdkafka style, so the caller decides whether to log, retry or
 * print it. Codes are coarse on purpose: they tell the caller what to do
 * (retry, give up, skip the input), the text tells the user why. */
#ifndef TP_ERR_H
#define TP_ERR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum tp_err {
    TP_OK = 0,
    TP_EINVAL = -1,   /* bad argument, flag or configuration: fix and rerun */
    TP_EPARSE = -2,   /* malformed input (frame, record, URL): skip it */
    TP_ENOMEM = -3,   /* allocation failed */
    TP_EIO = -4,      /* file or socket error */
    TP_EUNAVAIL = -5, /* remote side down (broker, store): retry later */
    TP_ELIMIT = -6,   /* input over a configured size limit: skip it */
    TP_ESTATE = -7,   /* call not valid in the current state */
    TP_EAGAIN = -8,   /* no data yet / queue full: try again */
    TP_EREFUSED = -9, /* remote side refused permanently (bad token, bad SQL) */
    TP_EEOF = -10,    /* end of input */
} tp_err;

/* A short name for a code ("parse error", ...). Never NULL. */
const char *tp_strerror(int code);

/* Format into err (if non-NULL), always NUL-terminated; returns code so a
 * caller can write `return tp_seterr(err, errlen, TP_EINVAL, "...", ...)`. */
int tp_seterr(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
