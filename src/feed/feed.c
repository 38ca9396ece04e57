/* feed.c - the table of feeds (feed.h). A new feed is one file with its
 * tp_feed_ops and one entry here. */
#include "feed/feed.h"
#include "feed/venue.h"

#include <string.h>

static const tp_feed_ops *const k_feeds[] = {
    &tp_feed_finnhub,
    &tp_feed_coinbase,
    &tp_feed_kraken,
};

const tp_feed_ops *tp_feed_find(const char *name) {
    for (size_t i = 0; i < sizeof k_feeds / sizeof k_feeds[0]; i++)
        if (name && !strcmp(k_feeds[i]->name, name)) return k_feeds[i];
    return NULL;
}

const char *tp_feed_names(void) {
    return "finnhub, coinbase, kraken";
}
