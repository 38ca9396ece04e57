/* finnhub.c - the simulator's Finnhub personality (personality.h): the
 * protocol sim.c speaks by itself (token check, one connection per token,
 * {"type":"subscribe"} messages, batched trade frames, {"type":"ping"}). */
#include "sim/personality.h"

const tp_sim_personality tp_sim_finnhub = {
    .name = "finnhub",
    .needs_token = 1,
};
