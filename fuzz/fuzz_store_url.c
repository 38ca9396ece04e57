/* fuzz_store_url.c - store URL handling on arbitrary text: the ClickHouse
 * and Cassandra URL parsers over libcurl's curl_url (every field
 * NUL-terminated, the database name or keyspace always letters, digits and
 * _, the password never in an error) and the store table's scheme check. */
#include "core/err.h"
#include "sink/cassandra_url.h"
#include "sink/clickhouse_url.h"
#include "sink/sink.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *text = malloc(size + 14);
    if (!text) return 0;
    memcpy(text, "clickhouse://", 13);
    memcpy(text + 13, data, size);
    text[size + 13] = 0;
    char err[512] = "";
    tp_ch_url u;
    int rc = tp_clickhouse_parse_url(text, &u, err, sizeof err);
    if (rc == 0) {
        if (memchr(u.base, 0, sizeof u.base) == NULL || memchr(u.where, 0, sizeof u.where) == NULL ||
            memchr(u.db, 0, sizeof u.db) == NULL || memchr(u.user, 0, sizeof u.user) == NULL ||
            memchr(u.password, 0, sizeof u.password) == NULL)
            abort();
        if (!u.where[0] || strncmp(u.base, "http://", 7)) abort();
        for (const char *c = u.db; *c; c++)
            if (!(*c == '_' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= 'A' && *c <= 'Z')))
                abort();
        if (u.password[0] && strstr(err, u.password)) abort();
    } else if (rc != TP_EINVAL || !err[0]) {
        abort();
    }
    /* the same text as a Cassandra URL */
    char *ct = malloc(size + 13);
    if (!ct) abort();
    memcpy(ct, "cassandra://", 12);
    memcpy(ct + 12, data, size);
    ct[size + 12] = 0;
    static tp_cass_url cu;
    err[0] = '\0'; /* the ClickHouse parse's error must not count as this one's */
    rc = tp_cassandra_parse_url(ct, &cu, err, sizeof err);
    if (rc == 0) {
        if (cu.nhosts < 1 || cu.nhosts > TP_CQL_MAX_HOSTS || !memchr(cu.where, 0, sizeof cu.where) ||
            !memchr(cu.user, 0, sizeof cu.user) || !memchr(cu.password, 0, sizeof cu.password) ||
            !memchr(cu.ks, 0, sizeof cu.ks) || !memchr(cu.ca_file, 0, sizeof cu.ca_file))
            abort();
        for (int i = 0; i < cu.nhosts; i++)
            if (!cu.hosts[i].name[0] || !memchr(cu.hosts[i].name, 0, sizeof cu.hosts[i].name) ||
                !cu.hosts[i].port)
                abort();
        for (const char *c = cu.ks; *c; c++)
            if (!(*c == '_' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z'))) abort();
        if (cu.password[0] && strstr(err, cu.password)) abort();
    } else if (rc != TP_EINVAL || !err[0] || cu.password[0]) {
        abort();
    }
    free(ct);
    /* the scheme check on the raw text (no store is opened) */
    memcpy(text, data, size);
    text[size] = 0;
    rc = tp_sink_check_url(text, err, sizeof err);
    if (rc != 0 && rc != TP_EINVAL) abort();
    free(text);
    return 0;
}
