/* cmd_serve.c - `tickpipe serve`: the dashboard, REST API, live push and
 * metrics over any store, without the pipeline (what a deployment runs
 * beside produce and process).
 *
 * The HTTP server runs on its own thread (http/http.h); this thread only
 * waits for SIGINT/SIGTERM (core/shutdown.h). Live updates come from polling the store
 * (--poll-interval), since nothing in this process writes it. */
#include "cmd/commands.h"

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "http/http.h"
#include "sink/sink.h"

#include "cmd/flags.h"
#include "core/listen.h"
#include "core/shutdown.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int tp_cmd_serve(tp_cmd_args *a, int argc, char **argv, int first_arg) {
    char err[512];
    tp_http_config cfg;
    tp_http_config_default(&cfg);
    cfg.listen = a->http.listen;
    cfg.store_url = a->store.store;
    cfg.poll_store_ms = a->serve.poll_ms;
    cfg.max_limit = (int)a->http.max_limit;
    if (tp_sink_check_reader_url(cfg.store_url, err, sizeof err))
        return tp_cmd_usage_error(&tp_spec_serve, "%s", err);
    /* serve only reads: a SQLite file that is not there is a wrong path,
     * not a store to create (opening it would make an empty one) */
    if (!strncmp(cfg.store_url, "sqlite:", 7)) {
        const char *path = cfg.store_url + 7;
        if (!strncmp(path, "//", 2)) path += 2;
        struct stat st;
        if (strcmp(path, ":memory:") && stat(path, &st))
            return tp_cmd_fail(&tp_spec_serve,
                               "the SQLite store %s does not exist: serve reads the file that run or process "
                               "writes (theirs is sqlite:data/tickpipe.db unless --store says otherwise)",
                               path);
    }
    tp_shutdown *sd = NULL;
    if (tp_shutdown_start(0, &sd, err, sizeof err)) return tp_cmd_fail(&tp_spec_serve, "%s", err);

    tp_http *h = NULL;
    int rc = tp_http_start(&cfg, &h, err, sizeof err);
    if (rc) {
        tp_shutdown_end(sd);
        return rc == TP_EINVAL ? tp_cmd_usage_error(&tp_spec_serve, "%s", err)
                               : tp_cmd_fail(&tp_spec_serve, "%s", err);
    }
    char safe[512], url[300];
    tp_log_redact(cfg.store_url, safe, sizeof safe);
    tp_listen_url("http", cfg.listen, tp_http_port(h), url, sizeof url);
    fprintf(stderr, "tickpipe serve: dashboard at %s/ (store %s)\n", url, safe);
    tp_shutdown_wait(sd, -1);
    tp_info("serve", "stopping");
    tp_http_stop(h);
    tp_shutdown_end(sd);
    return 0;
}
