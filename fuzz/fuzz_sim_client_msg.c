/* fuzz_sim_client_msg.c - the simulator's parser of client control messages
 * ({"type":"subscribe","symbol":...}) on arbitrary bytes: a known result,
 * and on (un)subscribe a non-empty NUL-terminated symbol that fits. */
#include "sim/sim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char sym[TP_SIM_MAX_SYMBOL + 1];
    tp_sim_msg m = tp_sim_parse_client_msg((const char *)data, size, sym, sizeof sym);
    switch (m) {
    case TP_SIM_MSG_SUBSCRIBE:
    case TP_SIM_MSG_UNSUBSCRIBE: {
        size_t n = strnlen(sym, sizeof sym);
        if (n == 0 || n == sizeof sym) abort();
        break;
    }
    case TP_SIM_MSG_INVALID:
    case TP_SIM_MSG_UNKNOWN_TYPE:
    case TP_SIM_MSG_BAD_SYMBOL: break;
    default: abort();
    }
    return 0;
}
