/* cmd_capture.c - `tickpipe capture`: connect to a feed and print its
 * trades as JSON lines, or record its raw frames for `simulate --replay`.
 *
 * A thin shell over the source (feed/source.h): the flag tables (cmd/flags.h)
 * give a tp_source_config (cmd/feed_config.h), trades are written by the
 * batch callback, raw frames by the frame hook. Stopping (SIGINT/SIGTERM or
 * --duration through core/shutdown.h, --max-trades via the callback) goes
 * through tp_source_stop, so the recording is flushed and the summary
 * printed in every case. */
#include "cmd/commands.h"

#include "codec/finnhub_json.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "feed/record.h"
#include "feed/source.h"

#include "cmd/feed_config.h"
#include "cmd/flags.h"
#include "core/shutdown.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct capture_state {
    FILE *out;
    int print;
    uint64_t printed, max_trades;
    tp_record_writer *rec;
    tp_source *src;
    int rec_failed;
    int out_failed;
    char line[65536];
} capture_state;

static int on_batch(void *ud, tp_batch *b) {
    capture_state *st = ud;
    if (st->print) {
        for (size_t i = 0; i < b->n; i++) {
            if (st->max_trades && st->printed >= st->max_trades) break;
            int n = tp_finnhub_trade_json(&b->trades[i], st->line, sizeof st->line - 1);
            if (n < 0) {
                tp_warn("capture", "a trade of %u-byte symbol does not fit the output line; skipped",
                        b->trades[i].symbol.len);
                continue;
            }
            st->line[n++] = '\n';
            if (fwrite(st->line, 1, (size_t)n, st->out) != (size_t)n) {
                st->out_failed = errno ? errno : EIO;
                return 1;
            }
            st->printed++;
        }
        if (fflush(st->out)) {
            st->out_failed = errno ? errno : EIO;
            return 1;
        }
    } else {
        st->printed += b->n;
    }
    if (st->max_trades && st->printed >= st->max_trades) return 1;
    return st->rec_failed;
}

static void on_frame(void *ud, const char *frame, size_t len, int64_t recv_ms) {
    capture_state *st = ud;
    if (!st->rec || st->rec_failed) return;
    if (tp_record_write(st->rec, recv_ms, frame, len)) {
        tp_error("capture", "cannot write to the recording; stopping");
        st->rec_failed = 1;
        tp_source_stop(st->src);
    }
}

static void stop_source(void *ud) {
    tp_source_stop(ud);
}

static int finish(const capture_state *st, const char *record, int run_rc, const char *rerr) {
    int status = 0;
    if (st->rec_failed) {
        fprintf(stderr, "tickpipe capture: the recording %s is incomplete: a write failed\n", record);
        status = 1;
    }
    if (st->out_failed && st->out_failed != EPIPE) {
        fprintf(stderr, "tickpipe capture: cannot write to stdout: %s\n", strerror(st->out_failed));
        status = 1;
    }
    if (run_rc) {
        fprintf(stderr, "tickpipe capture: %s\n", rerr);
        status = 1;
    }
    return status;
}

static void print_summary(const capture_state *st, tp_source *src, double secs) {
    tp_source_stats ss;
    tp_source_get_stats(src, &ss);
    fprintf(stderr,
            "summary: trades=%llu frames=%llu pings=%llu errors=%llu malformed=%llu reconnects=%llu "
            "unknown=%llu oversize=%llu duplicates=%llu duplicate_trades=%llu gaps=%llu printed=%llu "
            "seconds=%.3f handovers=%llu\n",
            (unsigned long long)ss.trades, (unsigned long long)ss.frames, (unsigned long long)ss.pings,
            (unsigned long long)ss.errors, (unsigned long long)ss.malformed,
            (unsigned long long)ss.reconnects, (unsigned long long)ss.unknown,
            (unsigned long long)ss.oversize, (unsigned long long)ss.duplicates,
            (unsigned long long)ss.duplicate_trades, (unsigned long long)ss.gaps,
            (unsigned long long)(st->print ? st->printed : 0), secs, (unsigned long long)ss.handovers);
}

int tp_cmd_capture(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    const tp_cmd_spec *spec = &tp_spec_capture;
    char err[512];
    tp_source_config cfg;
    tp_symbols syms = {0};
    int rc = tp_feed_config(spec, &a->api, &a->feed, NULL, TP_FEED_NEED_TOKEN, &cfg, &syms);
    if (rc >= 0) return rc;

    capture_state *st = calloc(1, sizeof *st);
    if (!st) {
        tp_symbols_free(&syms);
        fprintf(stderr, "tickpipe capture: out of memory\n");
        return 1;
    }
    st->out = stdout;
    st->print = !a->capture.record || a->capture.print;
    st->max_trades = (uint64_t)a->stop.max_trades;

    tp_source *src = NULL;
    rc = tp_source_new(&cfg, on_batch, st, &src, err, sizeof err);
    tp_symbols_free(&syms); /* the source copied them */
    if (rc) {
        free(st);
        return tp_cmd_usage_error(spec, "%s", err);
    }
    st->src = src;
    if (a->capture.record) {
        if (tp_record_writer_open(a->capture.record, &st->rec, err, sizeof err)) {
            tp_source_free(src);
            free(st);
            return tp_cmd_fail(spec, "%s", err);
        }
        tp_source_set_frame_hook(src, on_frame, st);
    }
    tp_shutdown *sd = NULL;
    if (tp_shutdown_start(a->stop.duration_ms, &sd, err, sizeof err)) {
        tp_record_writer_close(st->rec);
        tp_source_free(src);
        free(st);
        return tp_cmd_fail(spec, "%s", err);
    }
    tp_shutdown_ops ops = {.drain = stop_source, .ud = src};
    tp_shutdown_arm(sd, &ops);

    int64_t t0 = tp_mono_us();
    char rerr[512] = "";
    int run_rc = tp_source_run(src, rerr, sizeof rerr);
    tp_shutdown_end(sd);

    if (fflush(stdout) && !st->out_failed) st->out_failed = errno ? errno : EIO;
    if (st->rec && tp_record_writer_close(st->rec)) st->rec_failed = 1;
    int status = finish(st, a->capture.record, run_rc, rerr);
    print_summary(st, src, (double)(tp_mono_us() - t0) / 1e6);
    tp_source_free(src);
    free(st);
    return status;
}
