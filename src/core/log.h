/* log.h - logging to stderr.
 *
 * One line per event: "2026-11-25T05:06:47.123Z WARN  [module] text". The
 * level comes from TICKPIPE_LOG (error|warn|info|debug, default info) or
 * --log-level. Thread-safe (each line is one write(2)). Secrets never go
 * through here: tp_log_redact() masks a token in a URL before logging it. */
#ifndef TP_LOG_H
#define TP_LOG_H

#include <stddef.h>

typedef enum tp_log_level { TP_LOG_ERROR = 0, TP_LOG_WARN, TP_LOG_INFO, TP_LOG_DEBUG } tp_log_level;

void tp_log_set_level(tp_log_level lvl);
/* Parses "error|warn|info|debug"; returns -1 if unknown. */
int tp_log_level_parse(const char *s);
int tp_log_enabled(tp_log_level lvl);
void tp_log(tp_log_level lvl, const char *module, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define tp_error(mod, ...) tp_log(TP_LOG_ERROR, mod, __VA_ARGS__)
#define tp_warn(mod, ...) tp_log(TP_LOG_WARN, mod, __VA_ARGS__)
#define tp_info(mod, ...) tp_log(TP_LOG_INFO, mod, __VA_ARGS__)
#define tp_debug(mod, ...)                                                                                   \
    do {                                                                                                     \
        if (tp_log_enabled(TP_LOG_DEBUG)) tp_log(TP_LOG_DEBUG, mod, __VA_ARGS__);                            \
    } while (0)

/* Copy url into out with the value of any token=/password= query parameter
 * and any user:password@ part replaced by "***". The password part is read
 * as widely as any store's parser may read it: from the first ':' after the
 * scheme to the last '@' before the query, so a raw '@', '/' or ':' in a
 * password is masked too. */
void tp_log_redact(const char *url, char *out, size_t outlen);

/* Remove url's secrets from text (an error message, NUL-terminated, in a
 * buffer of textcap bytes), in place: every form of the password and of a
 * token=/password= parameter value (as written, percent-decoded,
 * percent-encoded) becomes "***"; one shorter than 6 bytes only where
 * no letter or digit touches it (a password "p" leaves "protocol" alone).
 * For messages that come back from a library (libpq, libcurl, a server)
 * that was handed the URL. */
void tp_log_scrub(const char *url, char *text, size_t textcap);

/* Copy at most max bytes of data into out as printable text (control and
 * non-ASCII bytes escaped), for logging a sample of bad input. */
void tp_log_sample(const void *data, size_t len, size_t max, char *out, size_t outlen);

#endif
