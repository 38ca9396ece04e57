/* iso_time.h - ISO 8601 / RFC 3339 times to and from epoch milliseconds.
 *
 * Parsing is strict: YYYY-MM-DD, optionally followed by 'T' (or a space)
 * and hh:mm[:ss[.fraction]] and a zone, 'Z' or +hh:mm / -hh:mm (a time
 * without a zone is refused: it would mean a different instant on every
 * machine). A date alone is 00:00 UTC that day. Fields are checked
 * (months 1-12, the day within its month, leap years, hours 0-23, minutes
 * 0-59, seconds 0-60 with a leap second read as :59.999), the fraction has
 * 1 to 9 digits and is truncated to milliseconds. Years 1970 to 9999.
 *
 * Thread-safety: pure functions. */
#ifndef TP_ISO_TIME_H
#define TP_ISO_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Parse len bytes of s; 0 with *ms, or -1. */
int tp_iso_parse(const char *s, size_t len, int64_t *ms);
/* Write ms as "2023-11-14T22:13:20.000Z" (24 bytes and a NUL) into out
 * (at least 32 bytes); returns out. */
char *tp_iso_format(int64_t ms, char *out, size_t outlen);

#endif
