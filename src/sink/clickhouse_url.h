/* clickhouse_url.h - the ClickHouse store's URL,
 * clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DB][?user=U&password=P&database=D],
 * parsed as the store does at open. Exposed for the fuzz target. */
#ifndef TP_CLICKHOUSE_URL_H
#define TP_CLICKHOUSE_URL_H

#include <stddef.h>

typedef struct tp_ch_url {
    char base[300];  /* http://host:port/ */
    char where[280]; /* host:port */
    char db[128];
    char user[128], password[256];
} tp_ch_url;

/* 0, or TP_EINVAL / TP_ENOMEM with err saying what is wrong (never the
 * password). */
int tp_clickhouse_parse_url(const char *url, tp_ch_url *out, char *err, size_t errlen);

#endif
