/* cassandra_url.h - the Cassandra store's URL,
 * cassandra://[USER[:PASSWORD]@]HOST[:PORT][,HOST2[:PORT]...][/KEYSPACE][?PARAMS],
 * parsed as the store does at open: through libcurl's URL API (curl_url),
 * as the ClickHouse URL is, with the query values percent-decoded by
 * core/hex.h's tp_pct_decode (the one decoder of every store URL).
 * PARAMS: consistency=, replication=, tls=, cafile=, user=, password=.
 * Exposed for the unit tests and the fuzz target. */
#ifndef TP_CASSANDRA_URL_H
#define TP_CASSANDRA_URL_H

#include "sink/cql.h"

#include <stddef.h>

typedef struct tp_cass_url {
    tp_cql_host hosts[TP_CQL_MAX_HOSTS]; /* contact points; an IPv6 address without [ ] */
    int nhosts;
    char where[300]; /* "h1:9042,[::1]:9043", for messages */
    int credentials; /* a user or password was given */
    char user[256], password[256];
    char ks[64];           /* lower case; "market" when the URL has none */
    int consistency;       /* TP_CQL_LOCAL_QUORUM unless consistency= */
    char replication[512]; /* a CQL map literal */
    int tls;
    char ca_file[512]; /* "" = the system's CAs */
} tp_cass_url;

/* 0, or TP_EINVAL / TP_ENOMEM with err saying what is wrong (never the
 * password). */
int tp_cassandra_parse_url(const char *url, tp_cass_url *out, char *err, size_t errlen);

#endif
