/* shutdown.c - see shutdown.h.
 *
 * The signal thread waits in sigtimedwait() on SIGINT, SIGTERM and SIGUSR2;
 * SIGUSR2 is only ever sent to it by tp_shutdown_end() (pthread_kill), to
 * wake it for exit. The timeout is the time left to the --duration deadline
 * (monotonic), at most 1 s, so the thread also notices a deadline passing
 * while no signal comes. */
#include "core/shutdown.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tp_shutdown {
    pthread_t thread;
    pthread_mutex_t mu; /* held while a callback runs, and by arm() */
    pthread_cond_t cv;  /* broadcast when a drain is asked for */
    tp_shutdown_ops ops;
    int armed;
    int drained_ops; /* drain was called on the current ops */
    int gave_up_ops; /* give_up was called on the current ops */
    int64_t deadline_us;
    sigset_t set, old_mask;
    _Atomic int requested, signals, quit;
};

/* With mu held: call what the state asks for and has not been called yet. */
static void act(tp_shutdown *sd) {
    if (!sd->armed) return;
    if (atomic_load(&sd->requested) && !sd->drained_ops) {
        sd->drained_ops = 1;
        if (sd->ops.drain) sd->ops.drain(sd->ops.ud);
    }
    if (atomic_load(&sd->signals) >= 2 && !sd->gave_up_ops) {
        sd->gave_up_ops = 1;
        if (sd->ops.give_up) sd->ops.give_up(sd->ops.ud);
    }
}

static void request(tp_shutdown *sd) {
    pthread_mutex_lock(&sd->mu);
    atomic_store(&sd->requested, 1);
    pthread_cond_broadcast(&sd->cv);
    act(sd);
    pthread_mutex_unlock(&sd->mu);
}

static void *signal_main(void *arg) {
    tp_shutdown *sd = arg;
    while (!atomic_load(&sd->quit)) {
        int64_t wait_us = 1000000;
        if (sd->deadline_us && !atomic_load(&sd->requested)) {
            int64_t left = sd->deadline_us - tp_mono_us();
            if (left <= 0) {
                tp_info("shutdown", "--duration reached; stopping");
                request(sd);
                continue;
            }
            if (left < wait_us) wait_us = left;
        }
        struct timespec ts = {(time_t)(wait_us / 1000000), (long)(wait_us % 1000000) * 1000};
        int sig = sigtimedwait(&sd->set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            int n = atomic_fetch_add(&sd->signals, 1) + 1;
            if (n == 2) tp_warn("shutdown", "second %s: giving up on the work still pending", strsignal(sig));
            request(sd);
        }
    }
    return NULL;
}

int tp_shutdown_start(int64_t duration_ms, tp_shutdown **out, char *err, size_t errlen) {
    tp_shutdown *sd = calloc(1, sizeof *sd);
    if (!sd) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    pthread_mutex_init(&sd->mu, NULL);
    tp_cond_init_mono(&sd->cv);
    sd->deadline_us = duration_ms > 0 ? tp_mono_us() + duration_ms * 1000 : 0;
    sigemptyset(&sd->set);
    sigaddset(&sd->set, SIGINT);
    sigaddset(&sd->set, SIGTERM);
    sigaddset(&sd->set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sd->set, &sd->old_mask);
    int rc = pthread_create(&sd->thread, NULL, signal_main, sd);
    if (rc) {
        pthread_sigmask(SIG_SETMASK, &sd->old_mask, NULL);
        pthread_mutex_destroy(&sd->mu);
        pthread_cond_destroy(&sd->cv);
        free(sd);
        return tp_seterr(err, errlen, TP_ENOMEM, "cannot start the signal thread: %s", strerror(rc));
    }
    *out = sd;
    return 0;
}

void tp_shutdown_arm(tp_shutdown *sd, const tp_shutdown_ops *ops) {
    pthread_mutex_lock(&sd->mu);
    sd->armed = ops != NULL;
    if (ops) sd->ops = *ops;
    sd->drained_ops = sd->gave_up_ops = 0;
    act(sd);
    pthread_mutex_unlock(&sd->mu);
}

int tp_shutdown_requested(tp_shutdown *sd) {
    return atomic_load(&sd->requested);
}

int tp_shutdown_signals(tp_shutdown *sd) {
    return atomic_load(&sd->signals);
}

int tp_shutdown_wait(tp_shutdown *sd, int64_t timeout_ms) {
    pthread_mutex_lock(&sd->mu);
    if (timeout_ms < 0) {
        while (!atomic_load(&sd->requested)) pthread_cond_wait(&sd->cv, &sd->mu);
    } else if (!atomic_load(&sd->requested)) {
        struct timespec ts;
        tp_mono_deadline(&ts, timeout_ms);
        pthread_cond_timedwait(&sd->cv, &sd->mu, &ts);
    }
    pthread_mutex_unlock(&sd->mu);
    return atomic_load(&sd->requested);
}

void tp_shutdown_end(tp_shutdown *sd) {
    if (!sd) return;
    tp_shutdown_arm(sd, NULL);
    atomic_store(&sd->quit, 1);
    pthread_kill(sd->thread, SIGUSR2);
    pthread_join(sd->thread, NULL);
    pthread_sigmask(SIG_SETMASK, &sd->old_mask, NULL);
    pthread_mutex_destroy(&sd->mu);
    pthread_cond_destroy(&sd->cv);
    free(sd);
}
