/* err.c - error names and the errstr helper. */
#include "core/err.h"

#include <stdio.h>

const char *tp_strerror(int code) {
    switch (code) {
    case TP_OK: return "ok";
    case TP_EINVAL: return "invalid argument";
    case TP_EPARSE: return "parse error";
    case TP_ENOMEM: return "out of memory";
    case TP_EIO: return "I/O error";
    case TP_EUNAVAIL: return "unavailable";
    case TP_ELIMIT: return "over limit";
    case TP_ESTATE: return "bad state";
    case TP_EAGAIN: return "try again";
    case TP_EREFUSED: return "refused";
    case TP_EEOF: return "end of input";
    default: return "unknown error";
    }
}

int tp_seterr(char *err, size_t errlen, int code, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}
