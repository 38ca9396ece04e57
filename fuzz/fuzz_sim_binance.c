/* fuzz_sim_binance.c - the simulator's Binance personality reading client
 * messages ({"method":"SUBSCRIBE","params":[...],"id":N}) on arbitrary
 * bytes: the answer is one JSON object that fits, every symbol handed on is
 * "BINANCE:" and upper-case letters and digits, and an error answer hands on
 * none (all or nothing). */
#include "sim/personality.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t nsubs;

static void on_sub(void *ud, int subscribe, const char *name) {
    (void)ud, (void)subscribe;
    if (strncmp(name, "BINANCE:", 8) || !name[8]) abort();
    for (const char *p = name + 8; *p; p++)
        if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p)) abort();
    nsubs++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const tp_sim_personality *p = tp_sim_personality_find("binance");
    if (!p || !p->client_msg) abort();
    char out[256];
    nsubs = 0;
    size_t n = p->client_msg((const char *)data, size, on_sub, NULL, out, sizeof out);
    if (!n) return 0; /* no answer: nothing handed on */
    if (n >= sizeof out || strlen(out) != n) abort();
    json_error_t je;
    json_t *o = json_loadb(out, n, 0, &je);
    if (!json_is_object(o)) abort();
    if (json_object_get(o, "code") && nsubs) abort(); /* an error takes no symbol */
    json_decref(o);
    return 0;
}
