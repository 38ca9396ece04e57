/* tz.h - IANA time zones from the system's zoneinfo files (Debian's
 * tzdata), for day candles aligned to a zone's midnight.
 *
 * A zone is read once from TZDIR (default /usr/share/zoneinfo) as a TZif
 * file (RFC 8536, version 2 or later: the 64-bit transition table) plus
 * its footer, a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0") that gives the
 * offsets after the last transition (slim files end their table early and
 * rely on it). Nothing is read from the TZ environment variable and no
 * libc time zone state is touched, so it is safe on any thread.
 *
 * Thread-safety: tp_tz_open/free on one thread; tp_tz_offset on a loaded
 * zone from any number. */
#ifndef TP_TZ_H
#define TP_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct tp_tz tp_tz;

/* Load the zone `name` ("America/New_York", "UTC"): letters, digits, '_',
 * '-', '+' and '/' between parts, no "." part. 0, or TP_EINVAL (a bad
 * name, not found, not a TZif file) with err. */
int tp_tz_open(const char *name, tp_tz **out, char *err, size_t errlen);
/* Parse a TZif file held in memory (what tp_tz_open reads; the fuzz
 * target's entry). 0, or TP_EINVAL with err. */
int tp_tz_parse(const unsigned char *buf, size_t len, tp_tz **out, char *err, size_t errlen);
/* The zone's offset from UTC at an instant, in seconds east (New York in
 * winter: -18000). */
int32_t tp_tz_offset(const tp_tz *tz, int64_t utc_ms);
void tp_tz_free(tp_tz *tz);

#endif
