/* config.h - configuration helpers shared by the subcommands.
 *
 * Precedence everywhere: command-line flag, then environment variable (the
 * names Finnhub pipelines already use, see README), then a default that works on a
 * laptop. These helpers never print the values they read: the API token
 * must not reach a log. */
#ifndef TP_CONFIG_H
#define TP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* flag if non-NULL, else getenv(env) if set and non-empty, else def. */
const char *tp_cfg_str(const char *flag, const char *env, const char *def);

/* Parse an integer/double with range check. Returns 0 or TP_EINVAL with a
 * message naming `what` (e.g. "--rate"). */
int tp_cfg_parse_i64(const char *s, const char *what, int64_t min, int64_t max, int64_t *out, char *err,
                     size_t errlen);
int tp_cfg_parse_double(const char *s, const char *what, double min, double max, double *out, char *err,
                        size_t errlen);

/* A list of symbols: a JSON list ("[\"AAPL\",\"MSFT\"]", as
 * FINNHUB_STOCKS_TICKERS has it) or a comma list ("AAPL,MSFT"). Whitespace around
 * items is trimmed, empty items and duplicates are dropped. */
typedef struct tp_symbols {
    char **items;
    size_t n;
} tp_symbols;
int tp_symbols_parse(const char *text, tp_symbols *out, char *err, size_t errlen);
void tp_symbols_free(tp_symbols *s);

/* The brokers list from --brokers, else KAFKA_SERVER:KAFKA_PORT, else
 * "localhost:9092". Writes into out. */
void tp_cfg_brokers(const char *flag, char *out, size_t outlen);

/* --log-level / TICKPIPE_LOG: parse s and set the level; TP_EINVAL with
 * the message "--log-level 'S' is not one of error, warn, info, debug". */
int tp_cfg_log_level(const char *s, char *err, size_t errlen);
/* An on/off environment variable: 1 if set to 1, true or yes (any case). */
int tp_cfg_env_flag(const char *env);
/* --duration: deliver SIGALRM once after `seconds` (at least 1 us later);
 * seconds <= 0 cancels a pending one. */
void tp_cfg_alarm_after(double seconds);

/* Clocks. */
int64_t tp_now_ms(void);  /* wall clock, epoch ms */
int64_t tp_mono_us(void); /* monotonic, microseconds */

/* Timed waits on the monotonic clock, so a wall-clock step does not
 * shorten or stretch them: a condition variable made with tp_cond_init_mono
 * waits until the deadline tp_mono_deadline(ms from now) gives. */
#include <pthread.h>
#include <time.h>
int tp_cond_init_mono(pthread_cond_t *cv);
void tp_mono_deadline(struct timespec *ts, int64_t ms_from_now);

#endif
