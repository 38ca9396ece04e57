/* iso_time.h - ISO 8601 / RFC 3339 times to and from epoch milliseconds.
 *
 * Two readers: tp_rfc3339_to_ms, the strict RFC 3339 date-time the
 * venues write, and tp_iso_parse, the looser forms a user types. The latter
 * is strict too: YYYY-MM-DD, optionally followed by 'T' (or a space)
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

/* An RFC 3339 date-time ("2014-11-07T08:19:27.028459Z", "...+01:00") into
 * epoch milliseconds, the fraction (0 to 9 digits) truncated. Strict: the
 * whole of s[0, n) must be the date-time, the date must exist (no
 * 2026-02-30), hours 00-23, minutes and seconds 00-59 (no leap second),
 * offset 'Z' or +-HH:MM (HH <= 23). 'T' and 'Z' may be lower case
 * (RFC 3339 allows it). 0, or -1. */
int tp_rfc3339_to_ms(const char *s, size_t n, int64_t *ms);

/* Epoch ms as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (microseconds, the last three
 * digits 0), years 0001-9999; the length (27), or -1 if it does not fit
 * or the year is out of range. NUL-terminated. */
int tp_ms_to_rfc3339(int64_t ms, char *out, size_t outlen);

/* Parse len bytes of s, as the rules above (the REST API's from and to);
 * 0 with *ms, or -1. */
int tp_iso_parse(const char *s, size_t len, int64_t *ms);
/* Write ms as "2023-11-14T22:13:20.000Z" (24 bytes and a NUL) into out
 * (at least 32 bytes); returns out. */
char *tp_iso_format(int64_t ms, char *out, size_t outlen);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t tp_days_from_civil(int64_t y, int m, int d);
/* The civil date of a day since 1970-01-01. */
void tp_civil_from_days(int64_t z, int64_t *y, int *m, int *d);

#endif
