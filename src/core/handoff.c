/* handoff.c - see handoff.h.
 *
 * One mutex guards the list, the free list and the counters; the copy of a
 * batch's trades happens outside it, into an item taken from the free list
 * (or allocated), so the consumer is never held up by a copy. */
#include "core/handoff.h"

#include "core/config.h"
#include "core/err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
    tp_batch b; /* first: tp_handoff_release maps a batch back to its item */
    struct item *next;
} item;

struct tp_handoff {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    item *head, *tail, *free_list;
    size_t trades, max_trades;
    int closed, aborted, no_wait;
    tp_counter *m_full;
    tp_gauge *m_depth;
};

int tp_handoff_new(size_t max_trades, tp_counter *m_full, tp_gauge *m_depth, tp_handoff **out) {
    tp_handoff *q = calloc(1, sizeof *q);
    if (!q) return TP_ENOMEM;
    pthread_mutex_init(&q->mu, NULL);
    tp_cond_init_mono(&q->not_empty);
    tp_cond_init_mono(&q->not_full);
    q->max_trades = max_trades ? max_trades : 1;
    q->m_full = m_full;
    q->m_depth = m_depth;
    *out = q;
    return 0;
}

static void free_list(item *it) {
    while (it) {
        item *next = it->next;
        tp_batch_free(&it->b);
        free(it);
        it = next;
    }
}

void tp_handoff_free(tp_handoff *q) {
    if (!q) return;
    free_list(q->head);
    free_list(q->free_list);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q);
}

/* Wait for room (or for the wait to be called off); with mu held. */
static void wait_room(tp_handoff *q) {
    int counted = 0;
    while (q->trades >= q->max_trades && !q->aborted && !q->no_wait) {
        if (!counted && q->m_full) tp_counter_add(q->m_full, 1);
        counted = 1;
        pthread_cond_wait(&q->not_full, &q->mu);
    }
}

static int copy_into(item *it, const tp_batch *b, size_t take, const char *topic) {
    tp_batch_reset(&it->b);
    for (size_t i = 0; i < take; i++)
        if (!tp_batch_copy_trade(&it->b, &b->trades[i])) return TP_ENOMEM;
    it->b.recv_ms = b->recv_ms;
    it->b.origin = b->origin;
    if (topic) snprintf(it->b.origin.topic, sizeof it->b.origin.topic, "%s", topic);
    return 0;
}

int tp_handoff_put(tp_handoff *q, const tp_batch *b, size_t take, const char *topic) {
    pthread_mutex_lock(&q->mu);
    wait_room(q);
    if (q->aborted) {
        pthread_mutex_unlock(&q->mu);
        return 1;
    }
    item *it = q->free_list;
    if (it) q->free_list = it->next;
    pthread_mutex_unlock(&q->mu);
    if (!it) {
        it = calloc(1, sizeof *it);
        if (!it) return TP_ENOMEM;
        tp_batch_init(&it->b);
    }
    if (copy_into(it, b, take, topic)) {
        tp_batch_free(&it->b);
        free(it);
        return TP_ENOMEM;
    }
    it->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->trades += it->b.n;
    if (q->m_depth) tp_gauge_set(q->m_depth, (int64_t)q->trades);
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

void tp_handoff_close(tp_handoff *q) {
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

tp_batch *tp_handoff_take(tp_handoff *q, int64_t wait_ms, int *done) {
    pthread_mutex_lock(&q->mu);
    if (!q->head && !q->closed && wait_ms > 0) {
        struct timespec ts;
        tp_mono_deadline(&ts, wait_ms);
        pthread_cond_timedwait(&q->not_empty, &q->mu, &ts);
    }
    item *it = q->head;
    if (it) {
        q->head = it->next;
        if (!q->head) q->tail = NULL;
        q->trades -= it->b.n;
        if (q->m_depth) tp_gauge_set(q->m_depth, (int64_t)q->trades);
        pthread_cond_signal(&q->not_full);
    }
    *done = !it && q->closed;
    pthread_mutex_unlock(&q->mu);
    return it ? &it->b : NULL;
}

void tp_handoff_release(tp_handoff *q, tp_batch *b) {
    item *it = (item *)b;
    tp_batch_reset(&it->b);
    pthread_mutex_lock(&q->mu);
    it->next = q->free_list;
    q->free_list = it;
    pthread_mutex_unlock(&q->mu);
}

void tp_handoff_stop_waiting(tp_handoff *q) {
    pthread_mutex_lock(&q->mu);
    q->no_wait = 1;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

void tp_handoff_abort(tp_handoff *q) {
    pthread_mutex_lock(&q->mu);
    q->aborted = 1;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

int tp_handoff_aborted(tp_handoff *q) {
    pthread_mutex_lock(&q->mu);
    int a = q->aborted;
    pthread_mutex_unlock(&q->mu);
    return a;
}

size_t tp_handoff_trades(tp_handoff *q) {
    pthread_mutex_lock(&q->mu);
    size_t n = q->trades;
    pthread_mutex_unlock(&q->mu);
    return n;
}
