/* ticker.c - see ticker.h. */
#include "core/ticker.h"

#include "core/config.h"
#include "core/err.h"

#include <errno.h>
#include <string.h>

static void *ticker_main(void *arg) {
    tp_ticker *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec ts;
        tp_mono_deadline(&ts, t->interval_ms);
        while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &ts) != ETIMEDOUT) {
        }
        if (t->stop) break;
        pthread_mutex_unlock(&t->mu);
        t->fn(t->ud);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int tp_ticker_start(tp_ticker *t, int64_t interval_ms, void (*fn)(void *ud), void *ud) {
    memset(t, 0, sizeof *t);
    if (interval_ms <= 0) return 0;
    t->interval_ms = interval_ms;
    t->fn = fn;
    t->ud = ud;
    pthread_mutex_init(&t->mu, NULL);
    tp_cond_init_mono(&t->cv);
    if (pthread_create(&t->thread, NULL, ticker_main, t)) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        return TP_ENOMEM;
    }
    t->running = 1;
    return 0;
}

void tp_ticker_stop(tp_ticker *t) {
    if (!t->running) return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    t->running = 0;
}
