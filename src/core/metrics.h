/* metrics.h - process-wide counters, gauges and histograms.
 *
 * Global mutable state, beside the log level (set once at start). A module
 * registers its metrics once (at start-up or lazily; registration takes a
 * lock and is idempotent by name+labels) and keeps the returned pointer; updates are lock-free atomics
 * callable from any thread. tp_metrics_render() writes the Prometheus text
 * exposition format for /metrics.
 *
 * Names follow Prometheus conventions: tickpipe_<stage>_<what>_total for
 * counters, base units (_seconds, _bytes, _timestamp_seconds for a point in
 * time), and a histogram's help says what one observation is. labels is
 * either NULL or a preformatted label set without braces, e.g.
 * "type=\"ping\"".
 *
 * Besides the registered metrics, every render adds tickpipe_build_info
 * {version,commit} = 1 and the standard process_* metrics (CPU, memory,
 * descriptors, start time), read from /proc/self at that moment. */
#ifndef TP_METRICS_H
#define TP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tp_counter {
    _Atomic uint64_t v;
} tp_counter;
typedef struct tp_gauge {
    _Atomic int64_t v;
} tp_gauge;

#define TP_HIST_BUCKETS 14
typedef struct tp_histogram {
    _Atomic uint64_t bucket[TP_HIST_BUCKETS + 1]; /* last = +Inf */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_us; /* microseconds */
} tp_histogram;

/* Register (or find) a metric; never returns NULL (aborts on OOM at
 * start-up, which is the only place it can happen). */
tp_counter *tp_metrics_counter(const char *name, const char *labels, const char *help);
tp_gauge *tp_metrics_gauge(const char *name, const char *labels, const char *help);
/* A gauge kept as an integer count of 1/per_unit of its unit and rendered
 * as value / per_unit: e.g. a time in epoch ms as _timestamp_seconds
 * (per_unit 1000). tp_metrics_value() reads it in the rendered unit. */
tp_gauge *tp_metrics_gauge_scaled(const char *name, const char *labels, const char *help, int64_t per_unit);
/* Latency histogram in seconds, buckets 100us .. 60s. */
tp_histogram *tp_metrics_histogram(const char *name, const char *labels, const char *help);

static inline void tp_counter_add(tp_counter *c, uint64_t n) {
    atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}
static inline uint64_t tp_counter_get(tp_counter *c) {
    return atomic_load_explicit(&c->v, memory_order_relaxed);
}
static inline void tp_gauge_set(tp_gauge *g, int64_t v) {
    atomic_store_explicit(&g->v, v, memory_order_relaxed);
}
static inline void tp_gauge_add(tp_gauge *g, int64_t d) {
    atomic_fetch_add_explicit(&g->v, d, memory_order_relaxed);
}
static inline int64_t tp_gauge_get(tp_gauge *g) {
    return atomic_load_explicit(&g->v, memory_order_relaxed);
}
/* A gauge holding TP_GAUGE_ABSENT is left out of /metrics (and of
 * tp_metrics_value): a series whose subject is gone or not known yet, e.g.
 * the lag of a partition this member no longer owns. */
#define TP_GAUGE_ABSENT INT64_MIN
static inline void tp_gauge_clear(tp_gauge *g) {
    tp_gauge_set(g, TP_GAUGE_ABSENT);
}
void tp_histogram_observe_us(tp_histogram *h, uint64_t us);

/* A fine log-scale histogram of a non-negative quantity, for quantiles a
 * component reports itself (the pipeline's receipt-to-durable latency):
 * a plain uint64_t[TP_LOGHIST_BUCKETS] the owner thread fills, not a
 * registered metric. Bucket 0 holds v <= 0, bucket k > 0 holds
 * (2^((k-1)/8), 2^(k/8)] (8 per octave, +-9%), the last one everything
 * above. Pure functions, any thread. */
#define TP_LOGHIST_BUCKETS 200
size_t tp_loghist_bucket(int64_t v);
/* Upper bound of the bucket holding quantile q (0..1) of hist (0 for
 * bucket 0); -1 when hist is empty. */
int64_t tp_loghist_quantile(const uint64_t hist[TP_LOGHIST_BUCKETS], double q);

/* Read a metric back (the dashboard's health panel): the value of the
 * counter or gauge `name` with exactly `labels`, or, when labels is NULL,
 * the sum over every label set; a histogram gives its count. Returns 0 and
 * sets *out, or -1 if no metric of that name is registered. */
int tp_metrics_value(const char *name, const char *labels, double *out);
/* Sum of every counter whose name ends with suffix (e.g. "_errors_total"). */
double tp_metrics_sum_suffix(const char *suffix);

/* Render all metrics in Prometheus text format into a malloc'd string
 * (caller frees); NULL on OOM. */
char *tp_metrics_render(size_t *len);

#endif
