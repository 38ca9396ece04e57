/* fuzz_store_url.c - store URL handling on arbitrary text: the ClickHouse
 * URL parser over libcurl's curl_url (every field NUL-terminated, the
 * database name always letters, digits and _, the password never in an
 * error)
 * and the store table's scheme check. */
#include "core/err.h"
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
    /* the scheme check on the raw text (no store is opened) */
    memcpy(text, data, size);
    text[size] = 0;
    rc = tp_sink_check_url(text, err, sizeof err);
    if (rc != 0 && rc != TP_EINVAL) abort();
    free(text);
    return 0;
}
