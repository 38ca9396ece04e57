/* test_handoff.c - the run hand-off queue (core/handoff.h): order, copies,
 * the bound in trades (a put blocks until the consumer takes), close and
 * drain, stop_waiting, abort; the signal component (core/shutdown.h):
 * first signal drains, second gives up, a signal before arm is not lost,
 * the --duration deadline; the ticker (core/ticker.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/handoff.h"
#include "core/shutdown.h"
#include "core/ticker.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void fill(tp_batch *b, size_t n, int64_t base) {
    tp_batch_reset(b);
    for (size_t i = 0; i < n; i++) {
        tp_trade *t = tp_batch_add(b);
        char sym[16];
        int len = snprintf(sym, sizeof sym, "S%lld", (long long)(base + (int64_t)i));
        t->symbol.ptr = tp_batch_strdup(b, sym, (size_t)len);
        t->symbol.len = (uint32_t)len;
        t->price = (double)(base + (int64_t)i);
        t->ts_ms = base + (int64_t)i;
    }
    b->recv_ms = base;
    snprintf(b->origin.topic, sizeof b->origin.topic, "feed");
    b->origin.offset = base;
}

static void test_order_and_copy(void **state) {
    (void)state;
    tp_handoff *q;
    assert_int_equal(tp_handoff_new(100, NULL, NULL, &q), 0);
    tp_batch b;
    tp_batch_init(&b);
    fill(&b, 3, 10);
    assert_int_equal(tp_handoff_put(q, &b, 3, "feed:x"), 0);
    fill(&b, 5, 20); /* the source reuses its batch: the queue holds copies */
    assert_int_equal(tp_handoff_put(q, &b, 2, NULL), 0);
    assert_int_equal(tp_handoff_trades(q), 5);
    int done = 0;
    tp_batch *got = tp_handoff_take(q, 0, &done);
    assert_non_null(got);
    assert_int_equal(got->n, 3);
    assert_string_equal(got->trades[0].symbol.ptr, "S10");
    assert_string_equal(got->origin.topic, "feed:x");
    assert_int_equal(got->origin.offset, 10);
    tp_handoff_release(q, got);
    got = tp_handoff_take(q, 0, &done);
    assert_int_equal(got->n, 2); /* take = 2 of 5 */
    assert_string_equal(got->trades[1].symbol.ptr, "S21");
    assert_string_equal(got->origin.topic, "feed");
    tp_handoff_release(q, got);
    assert_null(tp_handoff_take(q, 10, &done)); /* timed out */
    assert_int_equal(done, 0);
    tp_handoff_close(q);
    assert_null(tp_handoff_take(q, 1000, &done));
    assert_int_equal(done, 1);
    tp_batch_free(&b);
    tp_handoff_free(q);
}

typedef struct producer {
    tp_handoff *q;
    _Atomic int put_done;
    int rc;
} producer;

static void *put_one(void *arg) {
    producer *p = arg;
    tp_batch b;
    tp_batch_init(&b);
    fill(&b, 4, 100);
    p->rc = tp_handoff_put(p->q, &b, 4, NULL);
    atomic_store(&p->put_done, 1);
    tp_batch_free(&b);
    return NULL;
}

static void wait_ms(int ms) {
    usleep((useconds_t)ms * 1000);
}

static void test_bound_blocks(void **state) {
    (void)state;
    tp_counter *full = tp_metrics_counter("tickpipe_test_queue_full_total", NULL, "test");
    tp_handoff *q;
    assert_int_equal(tp_handoff_new(5, full, NULL, &q), 0);
    tp_batch b;
    tp_batch_init(&b);
    fill(&b, 5, 1);
    assert_int_equal(tp_handoff_put(q, &b, 5, NULL), 0); /* now full */
    producer p = {.q = q};
    pthread_t th;
    pthread_create(&th, NULL, put_one, &p);
    wait_ms(200);
    assert_int_equal(atomic_load(&p.put_done), 0); /* blocked: backpressure */
    int done;
    tp_batch *got = tp_handoff_take(q, 0, &done);
    assert_non_null(got);
    tp_handoff_release(q, got);
    pthread_join(th, NULL); /* room again: the put went through */
    assert_int_equal(p.rc, 0);
    assert_int_equal(tp_handoff_trades(q), 4);

    /* full again: stop_waiting lets a blocked put through past the bound */
    fill(&b, 1, 1);
    assert_int_equal(tp_handoff_put(q, &b, 1, NULL), 0);
    atomic_store(&p.put_done, 0);
    pthread_create(&th, NULL, put_one, &p);
    wait_ms(100);
    assert_int_equal(atomic_load(&p.put_done), 0);
    tp_handoff_stop_waiting(q);
    pthread_join(th, NULL);
    assert_int_equal(p.rc, 0);
    assert_int_equal(tp_handoff_trades(q), 9);

    /* abort: a put returns at once without queueing */
    tp_handoff_abort(q);
    assert_int_equal(tp_handoff_put(q, &b, 1, NULL), 1);
    assert_int_equal(tp_handoff_trades(q), 9);
    assert_true(tp_handoff_aborted(q));
    tp_batch_free(&b);
    tp_handoff_free(q); /* frees what is still queued */
}

typedef struct calls {
    _Atomic int drains, give_ups;
} calls;

static void on_drain(void *ud) {
    atomic_fetch_add(&((calls *)ud)->drains, 1);
}

static void on_give_up(void *ud) {
    atomic_fetch_add(&((calls *)ud)->give_ups, 1);
}

static int wait_until(_Atomic int *v, int want, int ms) {
    for (int i = 0; i < ms / 10 && atomic_load(v) < want; i++) wait_ms(10);
    return atomic_load(v) >= want;
}

static void test_shutdown_signals(void **state) {
    (void)state;
    tp_shutdown *sd;
    char err[256];
    assert_int_equal(tp_shutdown_start(0, &sd, err, sizeof err), 0);
    calls c = {0};
    /* a signal before the callbacks are armed is kept */
    kill(getpid(), SIGTERM);
    assert_true(tp_shutdown_wait(sd, 5000));
    assert_int_equal(tp_shutdown_signals(sd), 1);
    tp_shutdown_ops ops = {.drain = on_drain, .give_up = on_give_up, .ud = &c};
    tp_shutdown_arm(sd, &ops);
    assert_int_equal(atomic_load(&c.drains), 1);
    assert_int_equal(atomic_load(&c.give_ups), 0);
    kill(getpid(), SIGINT); /* the second gives up */
    assert_true(wait_until(&c.give_ups, 1, 5000));
    assert_int_equal(atomic_load(&c.drains), 1);
    tp_shutdown_arm(sd, NULL);
    kill(getpid(), SIGINT); /* disarmed: counted, nothing called */
    for (int i = 0; i < 500 && tp_shutdown_signals(sd) < 3; i++) wait_ms(10);
    assert_int_equal(tp_shutdown_signals(sd), 3);
    assert_int_equal(atomic_load(&c.give_ups), 1);
    tp_shutdown_end(sd);
}

static void test_shutdown_deadline(void **state) {
    (void)state;
    tp_shutdown *sd;
    char err[256];
    int64_t t0 = tp_mono_us();
    assert_int_equal(tp_shutdown_start(300, &sd, err, sizeof err), 0);
    calls c = {0};
    tp_shutdown_ops ops = {.drain = on_drain, .give_up = on_give_up, .ud = &c};
    tp_shutdown_arm(sd, &ops);
    assert_false(tp_shutdown_wait(sd, 50));
    assert_true(wait_until(&c.drains, 1, 10000));
    int64_t dt = tp_mono_us() - t0;
    assert_true(dt >= 300000);
    assert_int_equal(tp_shutdown_signals(sd), 0); /* the deadline is no signal */
    assert_int_equal(atomic_load(&c.give_ups), 0);
    tp_shutdown_end(sd);
}

static void tick(void *ud) {
    atomic_fetch_add((_Atomic int *)ud, 1);
}

static void test_ticker(void **state) {
    (void)state;
    _Atomic int n = 0;
    tp_ticker t;
    assert_int_equal(tp_ticker_start(&t, 20, tick, &n), 0);
    assert_true(wait_until(&n, 3, 10000));
    tp_ticker_stop(&t);
    int after = atomic_load(&n);
    wait_ms(60);
    assert_int_equal(atomic_load(&n), after);              /* no call after stop */
    assert_int_equal(tp_ticker_start(&t, 0, tick, &n), 0); /* off */
    tp_ticker_stop(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_copy),   cmocka_unit_test(test_bound_blocks),
        cmocka_unit_test(test_shutdown_signals), cmocka_unit_test(test_shutdown_deadline),
        cmocka_unit_test(test_ticker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
