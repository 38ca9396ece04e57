/* fuzz_coinbase.c - the Coinbase feed's parser (feed/coinbase.c) on arbitrary bytes: the checks of
 * venue_fuzz.h. */
#include "venue_fuzz.h"

static int write_one(const tp_trade *t, int snapshot, char *out, size_t outlen) {
    return tp_coinbase_match_json(t, 1, snapshot, out, outlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return venue_fuzz_one("coinbase", write_one, data, size);
}
