/* kafka_conf.h - librdkafka configuration shared by the producer and the
 * consumer.
 *
 * Brokers come from --brokers, else KAFKA_SERVER:KAFKA_PORT (the usual
 * variables), else localhost:9092 (tp_cfg_brokers). Any librdkafka property
 * can be set with -X key=value, as kcat does; those are applied last, so a
 * user can override every default tickpipe sets. librdkafka's own log lines
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

/* A conf with bootstrap.servers = brokers, the given defaults ("key=value"
 * strings, may be NULL-terminated list or NULL), then the user's props.
 * NULL with err set ("-X foo=bar: No such configuration property ...") on
 * a bad property. */
rd_kafka_conf_t *tp_kafka_conf_new(const char *brokers, const char *const *defaults,
                                   const tp_kafka_props *user, char *err, size_t errlen);

#endif
