/* feed.c - finding a feed in the table (feed.h). The table itself,
 * tp_feed_k_feeds, is generated from the one list of feeds,
 * cmake/feeds.cmake (feed_table.c in the build tree): a new feed is one
 * file with its tp_feed_ops and one line there. */
#include "feed/feed.h"

#include <string.h>

extern const tp_feed_ops *const tp_feed_k_feeds[];
extern const size_t tp_feed_k_nfeeds;
extern const char tp_feed_k_names[];

const tp_feed_ops *tp_feed_find(const char *name) {
    for (size_t i = 0; i < tp_feed_k_nfeeds; i++)
        if (name && !strcmp(tp_feed_k_feeds[i]->name, name)) return tp_feed_k_feeds[i];
    return NULL;
}

const tp_feed_ops *tp_feed_default(void) {
    return tp_feed_k_feeds[0];
}

const char *tp_feed_names(void) {
    return tp_feed_k_names;
}
