/* fuzz_sim_coinbase.c - the simulator's Coinbase personality reading client
 * messages ({"type":"subscribe","product_ids":[...],"channels":[...]}) on
 * arbitrary bytes: the answer is one JSON object that fits, every product
 * handed on is "COINBASE:" and BASE-QUOTE in upper-case letters and digits,
 * and an error answer hands on none (all or nothing). */
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
    if (strncmp(name, "COINBASE:", 9) || !name[9]) abort();
    int dashes = 0;
    for (const char *p = name + 9; *p; p++) {
        if (*p == '-')
            dashes++;
        else if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p))
            abort();
    }
    if (dashes != 1) abort();
    nsubs++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const tp_sim_personality *p = tp_sim_personality_find("coinbase");
    if (!p || !p->client_msg) abort();
    static char out[65536];
    nsubs = 0;
    size_t n = p->client_msg((const char *)data, size, on_sub, NULL, out, sizeof out);
    if (!n) return 0;
    if (n >= sizeof out || strlen(out) != n) abort();
    json_error_t je;
    json_t *o = json_loadb(out, n, 0, &je);
    if (!json_is_object(o)) abort();
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type || (strcmp(type, "error") && strcmp(type, "subscriptions"))) abort();
    if (!strcmp(type, "error") && nsubs) abort(); /* an error takes no product */
    json_decref(o);
    return 0;
}
