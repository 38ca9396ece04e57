/* kafka_conf.c - see kafka_conf.h. */
#include "kafka/kafka_conf.h"

#include "core/err.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tp_kafka_props_add(tp_kafka_props *p, const char *kv, char *err, size_t errlen) {
    const char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq || eq == kv) /* no '=': perhaps a secret with a typo, so it is not echoed */
        return tp_seterr(err, errlen, TP_EINVAL,
                         "-X: expected key=value, e.g. -X linger.ms=5 (what was given is not repeated here: "
                         "it may hold a secret)");
    const char **n = realloc(p->kv, (p->n + 1) * sizeof *n);
    if (!n) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    p->kv = n;
    p->kv[p->n++] = kv;
    return 0;
}

void tp_kafka_props_free(tp_kafka_props *p) {
    free(p->kv);
    p->kv = NULL;
    p->n = 0;
}

/* librdkafka syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug. Its
 * info lines are chatty, so they go to debug. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    tp_log_level l = level <= 3 ? TP_LOG_ERROR : level == 4 ? TP_LOG_WARN : TP_LOG_DEBUG;
    if (tp_log_enabled(l)) tp_log(l, "kafka", "%s: %s", fac, buf);
}

const char *const tp_kafka_env_vars[][2] = {
    {"KAFKA_SECURITY_PROTOCOL", "security.protocol"}, {"KAFKA_SASL_MECHANISM", "sasl.mechanisms"},
    {"KAFKA_SASL_USERNAME", "sasl.username"},         {"KAFKA_SASL_PASSWORD", "sasl.password"},
    {"KAFKA_SSL_CA_LOCATION", "ssl.ca.location"},     {NULL, NULL},
};

/* Properties whose values are secrets: librdkafka's message for a bad
 * value may quote the value, so for these only the name is reported. */
static int secret_key(const char *key) {
    return strstr(key, "password") || strstr(key, "secret") || !strcmp(key, "ssl.key.pem") ||
           !strcmp(key, "ssl_key") || strstr(key, "sasl.oauthbearer.config");
}

static int set_one(rd_kafka_conf_t *c, const char *key, const char *val, char *err, size_t errlen) {
    char e[512];
    if (rd_kafka_conf_set(c, key, val, e, sizeof e) != RD_KAFKA_CONF_OK) {
        if (secret_key(key))
            return tp_seterr(err, errlen, TP_EINVAL, "Kafka property %s: invalid value", key);
        return tp_seterr(err, errlen, TP_EINVAL, "Kafka property %s: %s", key, e);
    }
    return 0;
}

static int set_kv(rd_kafka_conf_t *c, const char *kv, char *err, size_t errlen) {
    const char *eq = strchr(kv, '=');
    if (!eq) return tp_seterr(err, errlen, TP_EINVAL, "expected key=value");
    char key[256];
    size_t kl = (size_t)(eq - kv);
    if (kl == 0 || kl >= sizeof key) return tp_seterr(err, errlen, TP_EINVAL, "bad property name");
    memcpy(key, kv, kl);
    key[kl] = '\0';
    return set_one(c, key, eq + 1, err, errlen);
}

rd_kafka_conf_t *tp_kafka_conf_new(const char *brokers, const char *const *defaults,
                                   const tp_kafka_props *user, char *err, size_t errlen) {
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (!c) {
        tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(c, log_cb);
    char e[512];
    if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, e, sizeof e) != RD_KAFKA_CONF_OK) {
        tp_seterr(err, errlen, TP_EINVAL, "brokers '%s': %s", brokers, e);
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    for (size_t i = 0; defaults && defaults[i]; i++) {
        if (set_kv(c, defaults[i], err, errlen)) {
            rd_kafka_conf_destroy(c);
            return NULL;
        }
    }
    for (size_t i = 0; tp_kafka_env_vars[i][0]; i++) {
        const char *v = getenv(tp_kafka_env_vars[i][0]);
        if (!v || !*v) continue;
        char e2[600];
        if (set_one(c, tp_kafka_env_vars[i][1], v, e2, sizeof e2)) {
            tp_seterr(err, errlen, TP_EINVAL, "%s: %s", tp_kafka_env_vars[i][0], e2);
            rd_kafka_conf_destroy(c);
            return NULL;
        }
    }
    for (size_t i = 0; user && i < user->n; i++) {
        char e2[600];
        if (set_kv(c, user->kv[i], e2, sizeof e2)) {
            tp_seterr(err, errlen, TP_EINVAL, "-X %s", e2);
            rd_kafka_conf_destroy(c);
            return NULL;
        }
    }
    return c;
}
