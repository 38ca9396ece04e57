/* sim.h - the Finnhub-compatible simulator (`tickpipe simulate`, and the
 * in-process feed of `tickpipe run` when there is no API token).
 *
 * A libwebsockets server that behaves like wss://ws.finnhub.io: token
 * check, subscribe/unsubscribe, pings, one connection per token, a random-
 * walk market (or a replayed recording), fault injection, and the REST
 * symbol search /api/v1/search?q=. */
#ifndef TP_SIM_H
#define TP_SIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct tp_sim_config {
    const char *listen; /* "127.0.0.1:8765"; port 0 = pick a free one */
    const char *token;  /* NULL: any non-empty token is accepted */
    double rate;        /* trades/s in total over all subscriptions */
    int batch;          /* max trades per message */
    uint64_t seed;
    double ping_interval_s;
    const char *replay_path; /* replay a recording instead of the market */
    double replay_speed;     /* 0 = as fast as the client reads */
    int replay_loop;
    const char *tls_cert, *tls_key;
    /* fault injection (0 = off) */
    double drop_every_s;   /* close the connection every N s */
    double silent_after_s; /* stop sending anything after N s */
    double malformed_rate; /* fraction of frames replaced by garbage */
    double error_every_s;  /* send {"type":"error",...} every N s */
} tp_sim_config;

void tp_sim_config_default(tp_sim_config *c);

typedef struct tp_sim tp_sim;
/* Start serving in a background thread. */
int tp_sim_start(const tp_sim_config *cfg, tp_sim **out, char *err, size_t errlen);
int tp_sim_port(const tp_sim *s); /* the port actually bound */
void tp_sim_stop(tp_sim *s);      /* stops and joins the thread, frees */

/* The blocking form used by `tickpipe simulate`: serves until *stop != 0. */
int tp_sim_serve(const tp_sim_config *cfg, volatile int *stop, char *err, size_t errlen);

#endif
