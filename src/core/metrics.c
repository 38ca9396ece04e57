/* metrics.c - a small registry: a linked list of named metrics under a
 * mutex for registration and rendering; the values themselves are atomics
 * so the hot path never locks. */
#include "core/metrics.h"

#include "tp_commit.h" /* TP_COMMIT, written by the build (cmake/commit.cmake) */

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef TP_VERSION
#define TP_VERSION "0.0.0"
#endif

enum kind { K_COUNTER, K_GAUGE, K_HIST };

typedef struct entry {
    struct entry *next;
    enum kind kind;
    char *name, *labels, *help;
    int64_t per_unit; /* gauges: rendered as v / per_unit (a power of 10) */
    union {
        tp_counter c;
        tp_gauge g;
        tp_histogram h;
    } u;
} entry;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static entry *g_head, *g_tail;

/* upper bounds in microseconds */
static const uint64_t k_bounds_us[TP_HIST_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000, 60000000};

static entry *find_or_add(enum kind kind, const char *name, const char *labels, const char *help,
                          int64_t per_unit) {
    pthread_mutex_lock(&g_lock);
    for (entry *e = g_head; e; e = e->next) {
        if (e->kind == kind && strcmp(e->name, name) == 0 &&
            strcmp(e->labels ? e->labels : "", labels ? labels : "") == 0) {
            pthread_mutex_unlock(&g_lock);
            return e;
        }
    }
    entry *e = calloc(1, sizeof(*e));
    if (!e) abort();
    e->kind = kind;
    e->per_unit = per_unit > 1 ? per_unit : 1;
    e->name = strdup(name);
    e->labels = labels ? strdup(labels) : NULL;
    e->help = strdup(help ? help : name);
    if (!e->name || !e->help || (labels && !e->labels)) abort();
    /* Keep metrics of one name together so HELP/TYPE print once. */
    entry *after = NULL;
    for (entry *x = g_head; x; x = x->next)
        if (strcmp(x->name, name) == 0) after = x;
    if (after) {
        e->next = after->next;
        after->next = e;
        if (g_tail == after) g_tail = e;
    } else {
        if (g_tail)
            g_tail->next = e;
        else
            g_head = e;
        g_tail = e;
    }
    pthread_mutex_unlock(&g_lock);
    return e;
}

tp_counter *tp_metrics_counter(const char *name, const char *labels, const char *help) {
    return &find_or_add(K_COUNTER, name, labels, help, 1)->u.c;
}
tp_gauge *tp_metrics_gauge(const char *name, const char *labels, const char *help) {
    return &find_or_add(K_GAUGE, name, labels, help, 1)->u.g;
}
tp_gauge *tp_metrics_gauge_scaled(const char *name, const char *labels, const char *help, int64_t per_unit) {
    return &find_or_add(K_GAUGE, name, labels, help, per_unit)->u.g;
}
tp_histogram *tp_metrics_histogram(const char *name, const char *labels, const char *help) {
    return &find_or_add(K_HIST, name, labels, help, 1)->u.h;
}

void tp_histogram_observe_us(tp_histogram *h, uint64_t us) {
    int i = 0;
    while (i < TP_HIST_BUCKETS && us > k_bounds_us[i]) i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

/* The value in the rendered unit; 0 with *absent set for a cleared gauge. */
static double entry_value(const entry *e, int *absent) {
    *absent = 0;
    if (e->kind == K_COUNTER) return (double)atomic_load_explicit(&e->u.c.v, memory_order_relaxed);
    if (e->kind == K_GAUGE) {
        int64_t v = atomic_load_explicit(&e->u.g.v, memory_order_relaxed);
        if (v == TP_GAUGE_ABSENT) return *absent = 1, 0;
        return (double)v / (double)e->per_unit;
    }
    return (double)atomic_load_explicit(&e->u.h.count, memory_order_relaxed);
}

int tp_metrics_value(const char *name, const char *labels, double *out) {
    int found = 0;
    double sum = 0;
    pthread_mutex_lock(&g_lock);
    for (entry *e = g_head; e; e = e->next) {
        if (strcmp(e->name, name) != 0) continue;
        if (labels && strcmp(e->labels ? e->labels : "", labels) != 0) continue;
        found = 1;
        int absent;
        double v = entry_value(e, &absent);
        if (!absent) sum += v;
    }
    pthread_mutex_unlock(&g_lock);
    if (found) *out = sum;
    return found ? 0 : -1;
}

double tp_metrics_sum_suffix(const char *suffix) {
    size_t sl = strlen(suffix);
    double sum = 0;
    pthread_mutex_lock(&g_lock);
    for (entry *e = g_head; e; e = e->next) {
        size_t nl = strlen(e->name);
        int absent;
        if (e->kind == K_COUNTER && nl >= sl && strcmp(e->name + nl - sl, suffix) == 0)
            sum += entry_value(e, &absent);
    }
    pthread_mutex_unlock(&g_lock);
    return sum;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...) {
    if (s->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            s->oom = 1;
            return;
        }
        if ((size_t)n < s->cap - s->len) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = s->cap * 2 + (size_t)n;
        char *p = realloc(s->p, cap);
        if (!p) {
            s->oom = 1;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
}

static void labels_out(sbuf *s, const char *labels, const char *extra) {
    int has = labels && *labels;
    if (!has && !extra) return;
    sb_printf(s, "{%s%s%s}", has ? labels : "", has && extra ? "," : "", extra ? extra : "");
}

/* v / per_unit exactly, per_unit a power of 10: 1765112345123 / 1000 ->
 * 1765112345.123 */
static void scaled_out(sbuf *s, int64_t v, int64_t per_unit) {
    if (per_unit <= 1) {
        sb_printf(s, "%lld", (long long)v);
        return;
    }
    int digits = 0;
    for (int64_t p = per_unit; p > 1; p /= 10) digits++;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    sb_printf(s, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(a / (uint64_t)per_unit), digits,
              (unsigned long long)(a % (uint64_t)per_unit));
}

static void family(sbuf *s, const char *name, const char *type, const char *help) {
    sb_printf(s, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Standard process metrics, as the Prometheus client libraries give them,
 * read from /proc/self now. Whatever cannot be read is left out. */
static void process_metrics(sbuf *s) {
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/stat", "r");
    char line[1024];
    int have_stat = 0;
    unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
    long long rss = 0;
    if (f) {
        if (fgets(line, sizeof line, f)) {
            /* after "pid (comm) ": state is field 3; utime 14, stime 15,
             * starttime 22, vsize 23, rss 24 */
            const char *p = strrchr(line, ')');
            if (p && sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
                            "%llu %llu %lld",
                            &utime, &stime, &start, &vsize, &rss) == 5)
                have_stat = 1;
        }
        fclose(f);
    }
    double btime = -1;
    if ((f = fopen("/proc/stat", "r"))) {
        while (fgets(line, sizeof line, f)) {
            unsigned long long b;
            if (sscanf(line, "btime %llu", &b) == 1) {
                btime = (double)b;
                break;
            }
        }
        fclose(f);
    }
    if (have_stat && tck > 0) {
        family(s, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        sb_printf(s, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / (double)tck);
        family(s, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        sb_printf(s, "process_virtual_memory_bytes %llu\n", vsize);
        family(s, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        sb_printf(s, "process_resident_memory_bytes %lld\n", rss * (long long)(page > 0 ? page : 4096));
        if (btime >= 0) {
            family(s, "process_start_time_seconds", "gauge",
                   "Start time of the process since unix epoch in seconds.");
            sb_printf(s, "process_start_time_seconds %.2f\n", btime + (double)start / (double)tck);
        }
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.') n++;
        closedir(d);
        family(s, "process_open_fds", "gauge", "Number of open file descriptors.");
        sb_printf(s, "process_open_fds %ld\n", n > 0 ? n - 1 : 0); /* not the one reading the list */
    }
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) {
        family(s, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        if (rl.rlim_cur == RLIM_INFINITY)
            sb_printf(s, "process_max_fds +Inf\n");
        else
            sb_printf(s, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
}

char *tp_metrics_render(size_t *len) {
    sbuf s = {malloc(8192), 0, 8192, 0};
    if (!s.p) return NULL;
    s.p[0] = '\0';
    family(&s, "tickpipe_build_info", "gauge",
           "Always 1; the labels say which tickpipe this is (version, and the git commit it was built from)");
    sb_printf(&s, "tickpipe_build_info{version=\"%s\",commit=\"%s\"} 1\n", TP_VERSION, TP_COMMIT);
    process_metrics(&s);
    static const char *types[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&g_lock);
    const char *last = "";
    for (entry *e = g_head; e; e = e->next) {
        if (strcmp(last, e->name) != 0) {
            sb_printf(&s, "# HELP %s %s\n# TYPE %s %s\n", e->name, e->help, e->name, types[e->kind]);
            last = e->name;
        }
        if (e->kind == K_COUNTER) {
            sb_printf(&s, "%s", e->name);
            labels_out(&s, e->labels, NULL);
            sb_printf(&s, " %llu\n", (unsigned long long)tp_counter_get(&e->u.c));
        } else if (e->kind == K_GAUGE) {
            int64_t v = tp_gauge_get(&e->u.g);
            if (v == TP_GAUGE_ABSENT) continue;
            sb_printf(&s, "%s", e->name);
            labels_out(&s, e->labels, NULL);
            sb_printf(&s, " ");
            scaled_out(&s, v, e->per_unit);
            sb_printf(&s, "\n");
        } else {
            uint64_t cum = 0;
            char le[48];
            for (int i = 0; i <= TP_HIST_BUCKETS; i++) {
                cum += atomic_load_explicit(&e->u.h.bucket[i], memory_order_relaxed);
                if (i < TP_HIST_BUCKETS)
                    snprintf(le, sizeof le, "le=\"%g\"", (double)k_bounds_us[i] / 1e6);
                else
                    snprintf(le, sizeof le, "le=\"+Inf\"");
                sb_printf(&s, "%s_bucket", e->name);
                labels_out(&s, e->labels, le);
                sb_printf(&s, " %llu\n", (unsigned long long)cum);
            }
            sb_printf(&s, "%s_sum", e->name);
            labels_out(&s, e->labels, NULL);
            sb_printf(&s, " %.6f\n", (double)atomic_load(&e->u.h.sum_us) / 1e6);
            sb_printf(&s, "%s_count", e->name);
            labels_out(&s, e->labels, NULL);
            sb_printf(&s, " %llu\n", (unsigned long long)cum);
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (s.oom) {
        free(s.p);
        return NULL;
    }
    if (len) *len = s.len;
    return s.p;
}

size_t tp_loghist_bucket(int64_t v) {
    if (v <= 0) return 0;
    size_t k = (size_t)ceil(8.0 * log2((double)v));
    if (k == 0) k = 1; /* v = 1 */
    return k < TP_LOGHIST_BUCKETS ? k : TP_LOGHIST_BUCKETS - 1;
}

int64_t tp_loghist_quantile(const uint64_t hist[TP_LOGHIST_BUCKETS], double q) {
    uint64_t total = 0;
    for (size_t i = 0; i < TP_LOGHIST_BUCKETS; i++) total += hist[i];
    if (!total) return -1;
    uint64_t want = (uint64_t)ceil(q * (double)total), acc = 0;
    if (!want) want = 1;
    for (size_t i = 0; i < TP_LOGHIST_BUCKETS; i++) {
        acc += hist[i];
        if (acc >= want) return (int64_t)floor(exp2((double)i / 8.0) + 1e-9) * (i > 0);
    }
    return (int64_t)floor(exp2((double)(TP_LOGHIST_BUCKETS - 1) / 8.0));
}
