/* shutdown.h - how every long-running command stops: the first SIGINT or
 * SIGTERM (or the --duration deadline) drains, the second gives up.
 *
 * tp_shutdown_start() blocks SIGINT and SIGTERM in the calling thread, so
 * every thread created after it inherits the block, and starts one thread
 * that takes the signals with sigtimedwait(). The callbacks therefore run
 * on that ordinary thread, not in a signal handler: they may lock, log and
 * call anything thread-safe (tp_source_stop, tp_pipeline_stop, ...). The
 * --duration deadline is kept on CLOCK_MONOTONIC by the same thread, so a
 * wall-clock step neither shortens nor stretches a run.
 *
 * Call it first in a command, before any thread exists (librdkafka, lws and
 * the HTTP server start threads), and end it before returning.
 *
 * Ownership and threads: the command owns the tp_shutdown. start, arm and
 * end come from the command's main thread; requested/signals/wait from any
 * thread. The callbacks are called with an internal lock held; arm()
 * takes the same lock, so after tp_shutdown_arm(sd, NULL) returns no
 * callback is running or will run, and the objects they touch may go. */
#ifndef TP_SHUTDOWN_H
#define TP_SHUTDOWN_H

#include <stddef.h>
#include <stdint.h>

typedef struct tp_shutdown_ops {
    void (*drain)(void *ud);   /* first signal or the deadline: stop taking input, finish the work */
    void (*give_up)(void *ud); /* second signal: stop waiting (e.g. for a store that is down) */
    void *ud;
} tp_shutdown_ops;

typedef struct tp_shutdown tp_shutdown;

/* duration_ms > 0: drain that long after the start. */
int tp_shutdown_start(int64_t duration_ms, tp_shutdown **out, char *err, size_t errlen);
/* Set (or with NULL, clear) the callbacks. A signal that came before they
 * were set is acted on at once: drain (and give_up after two signals). */
void tp_shutdown_arm(tp_shutdown *sd, const tp_shutdown_ops *ops);
/* 1 once a drain was asked for (signal or deadline). */
int tp_shutdown_requested(tp_shutdown *sd);
/* SIGINT/SIGTERM received so far. */
int tp_shutdown_signals(tp_shutdown *sd);
/* Block until a drain is asked for or timeout_ms passed (< 0: forever);
 * returns tp_shutdown_requested(). */
int tp_shutdown_wait(tp_shutdown *sd, int64_t timeout_ms);
/* Stop the thread, restore the signal mask of the calling thread, free. */
void tp_shutdown_end(tp_shutdown *sd);

#endif
