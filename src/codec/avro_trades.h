/* avro_trades.h - Avro binary encoding of Finnhub messages.
 *
 * The schema is schemas/trades.avsc (record FinnhubProducer.message, the
 * reference schema of Finnhub pipelines, embedded in the binary at build time as
 * tp_avro_schema_json). One Kafka message = one `message` record with no
 * framing (no Confluent header, no container file), as existing consumers expect.
 *
 * Encoding is hand-written for speed (no allocation per trade); avro-c and
 * Python's avro package are the test oracles. The three shapes of "c" stay
 * distinct: null (union branch 1), an empty array, a non-empty array whose
 * items are themselves union[null,string].
 * Thread-safety: functions touch only their arguments. */
#ifndef TP_AVRO_TRADES_H
#define TP_AVRO_TRADES_H

#include "core/buf.h"
#include "core/trade.h"

extern const char tp_avro_schema_json[];

/* Parse the schema with avro-c and check that it is the shape the encoder
 * writes (same record/field names, types and union order). */
int tp_avro_schema_check(const char *schema_json, char *err, size_t errlen);

/* Append the encoding of message{data: [trades[idx[0]], ...], type} to out.
 * idx may be NULL to mean trades[0..n). */
int tp_avro_encode(const tp_trade *trades, const uint32_t *idx, size_t n, const char *type, tp_buf *out);

/* Decode one message; trades are appended to out (strings in its arena),
 * the type string copied into type (truncated to typelen-1). On error:
 * TP_EPARSE with the byte offset in err, and out is left as before. Never
 * reads past len; rejects negative lengths, lengths past the end, trailing
 * bytes, and more than max_trades (0 = no limit) trades. */
int tp_avro_decode(const uint8_t *buf, size_t len, tp_batch *out, char *type, size_t typelen, char *err,
                   size_t errlen);

#endif
