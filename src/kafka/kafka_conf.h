/* kafka_conf.h - librdkafka configuration shared by the producer and the
 * consumer.
 *
 * Brokers come from --brokers, else KAFKA_SERVER:KAFKA_PORT (the usual
 * variables), else localhost:9092 (tp_cfg_brokers). Any librdkafka property
 * can be set with -X key=value, as kcat does; those are applied last, so a
 * user can override every default tickpipe sets.
 *
 * Security settings also come from the environment, so that a password
 * need not appear on a command line (where `ps` shows it): applied after
 * tickpipe's defaults and before -X,
 *   KAFKA_SECURITY_PROTOCOL  security.protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)
 *   KAFKA_SASL_MECHANISM     sasl.mechanisms (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)
 *   KAFKA_SASL_USERNAME      sasl.username
 *   KAFKA_SASL_PASSWORD      sasl.password
 *   KAFKA_SSL_CA_LOCATION    ssl.ca.location (the CA file that signed the brokers' certificates)
 * No value of a secret property (sasl.password, ssl.key.password, ...) is
 * ever written to a log line or an error message: errors name the property
 * only. librdkafka's own log lines
 * go through tp_log under the module "kafka", so they share one format and
 * one level switch with the rest of tickpipe.
 *
 * Ownership: tp_kafka_conf_new returns a conf the caller passes to
 * rd_kafka_new (which takes it) or destroys. Thread-safety: pure functions. */
#ifndef TP_KAFKA_CONF_H
#define TP_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef struct tp_kafka_props {
    const char **kv; /* "key=value" strings, from -X flags, in order */
    size_t n;
} tp_kafka_props;

/* Append one -X argument (the string must outlive the props); TP_EINVAL if
 * it has no '='. */
int tp_kafka_props_add(tp_kafka_props *p, const char *kv, char *err, size_t errlen);
void tp_kafka_props_free(tp_kafka_props *p);

/* The environment variables above, in the order applied. */
extern const char *const tp_kafka_env_vars[][2];

/* A conf with bootstrap.servers = brokers, the given defaults ("key=value"
 * strings, may be NULL-terminated list or NULL), the environment's
 * security settings, then the user's props.
 * NULL with err set ("-X foo=bar: No such configuration property ...") on
 * a bad property. */
rd_kafka_conf_t *tp_kafka_conf_new(const char *brokers, const char *const *defaults,
                                   const tp_kafka_props *user, char *err, size_t errlen);

#endif
