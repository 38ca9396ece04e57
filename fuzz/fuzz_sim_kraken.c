/* fuzz_sim_kraken.c - the simulator's Kraken v2 personality reading client
 * messages ({"method":"subscribe","params":{"channel":"trade","symbol":
 * [...]}}) on arbitrary bytes: the answer is JSON objects one a line that
 * fit, every pair handed on is "KRAKEN:" and BASE/QUOTE in upper-case
 * letters and digits, and each pair handed on has a successful answer. */
#include "sim/personality.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t nsubs;

static void on_sub(void *ud, int subscribe, const char *name) {
    (void)ud;
    if (subscribe < 0 || subscribe > 2) abort();
    if (strncmp(name, "KRAKEN:", 7) || !name[7]) abort();
    int slashes = 0;
    for (const char *p = name + 7; *p; p++) {
        if (*p == '/')
            slashes++;
        else if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p))
            abort();
    }
    if (slashes != 1) abort();
    nsubs++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const tp_sim_personality *p = tp_sim_personality_find("kraken");
    if (!p || !p->client_msg) abort();
    static char out[65536];
    nsubs = 0;
    size_t n = p->client_msg((const char *)data, size, on_sub, NULL, out, sizeof out);
    if (!n) {
        if (nsubs) abort(); /* a pair taken without an answer */
        return 0;
    }
    if (n >= sizeof out || strlen(out) != n) abort();
    size_t ok = 0;
    for (char *line = out, *nl; line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        json_error_t je;
        json_t *o = json_loadb(line, len, 0, &je);
        if (!json_is_object(o) || !json_is_string(json_object_get(o, "method"))) abort();
        ok += json_is_true(json_object_get(o, "success"));
        json_decref(o);
    }
    if (ok != nsubs) abort();
    return 0;
}
