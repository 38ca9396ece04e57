/* ticker.h - call a function every interval on its own thread, so a
 * progress line also appears while the caller is blocked (a full Kafka
 * queue, a store that is down). Intervals are on CLOCK_MONOTONIC.
 *
 * Ownership and threads: the caller owns the tp_ticker; start and stop come
 * from one thread; fn runs on the ticker's thread and must be thread-safe
 * with respect to what it reads. tp_ticker_stop returns after the last call
 * of fn has finished. */
#ifndef TP_TICKER_H
#define TP_TICKER_H

#include <pthread.h>
#include <stdint.h>

typedef struct tp_ticker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, running;
    int64_t interval_ms;
    void (*fn)(void *ud);
    void *ud;
} tp_ticker;

/* interval_ms <= 0: nothing starts (stop is then a no-op). 0 or TP_ENOMEM. */
int tp_ticker_start(tp_ticker *t, int64_t interval_ms, void (*fn)(void *ud), void *ud);
void tp_ticker_stop(tp_ticker *t);

#endif
