/* fuzz_kraken.c - the Kraken feed's parser (feed/kraken.c) on arbitrary bytes: the checks of venue_fuzz.h. */
#include "venue_fuzz.h"

static int write_one(const tp_trade *t, int snapshot, char *out, size_t outlen) {
    return tp_kraken_trade_json(t, 1, snapshot, out, outlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return venue_fuzz_one("kraken", write_one, data, size);
}
