/* gap_record.h - a feed gap (feed/gaps.h) as a Kafka control record.
 *
 * `produce` carries each gap to `process` on the trades topic itself, keyed
 * by the symbol, so it lands on the partition of the symbol's trades, in
 * order with them. The value is a FinnhubProducer `message` of the trades
 * schema with type "gap" and an empty data array, so a consumer that reads
 * the topic with trades.avsc decodes it as a message without trades; the
 * gap itself is in the record's headers (decimal ASCII numbers):
 *
 *   tp-gap                 v1
 *   tp-gap-symbol          AAPL
 *   tp-gap-from-ms         event time of the symbol's last trade before
 *   tp-gap-to-ms           event time of its first trade after
 *   tp-gap-reason          reconnect | silence | key_in_use | server_error
 *                          | id_jump
 *   tp-gap-detected-at-ms  receive time of that first trade
 *   tp-gap-connection      the producer's connection index
 *   tp-gap-from-trade-id   first missing venue trade id   } only when the
 *   tp-gap-to-trade-id     last missing venue trade id    } ids are known
 *
 * A later version adds headers and keeps these; a reader takes any record
 * whose tp-gap header it knows (v1) and ignores headers it does not.
 *
 * Pure functions, any thread. */
#ifndef TP_KAFKA_GAP_RECORD_H
#define TP_KAFKA_GAP_RECORD_H

#include "feed/gaps.h"
#include "sink/sink.h"

#include <stddef.h>
#include <stdint.h>

#define TP_GAP_RECORD_TYPE "gap" /* the Avro message's type field */
#define TP_GAP_RECORD_NHEADERS 7
#define TP_GAP_RECORD_MAX_SYMBOL 255

typedef struct tp_gap_header {
    const char *name;
    const char *value; /* NUL-terminated */
} tp_gap_header;

/* The headers of gap g; the numbers are formatted into buf (kept by the
 * caller while the headers are used), the symbol and reason point into g
 * and the reason table. */
typedef struct tp_gap_record_buf {
    char from[24], to[24], detected[24], connection[16];
    char from_id[24], to_id[24];
} tp_gap_record_buf;
void tp_gap_record_headers(const tp_feed_gap *g, tp_gap_record_buf *buf,
                           tp_gap_header out[TP_GAP_RECORD_NHEADERS]);
/* The trade-id headers of gap g (tp-gap-from-trade-id, tp-gap-to-trade-id)
 * to send after the others: returns 2 when g carries an id range, 0 (out
 * untouched) when not. buf is the one given to tp_gap_record_headers. */
#define TP_GAP_RECORD_NID_HEADERS 2
size_t tp_gap_record_id_headers(const tp_feed_gap *g, tp_gap_record_buf *buf,
                                tp_gap_header out[TP_GAP_RECORD_NID_HEADERS]);

/* Look up header name in a record: *val and *len of its last value, 0 if
 * present, nonzero if not. */
typedef int (*tp_gap_header_fn)(void *ud, const char *name, const void **val, size_t *len);

/* The gap a record's headers describe, into row (its symbol copied into
 * sym, the reason one of the static names; the trade-id range 0, 0 when
 * the record has no trade-id headers). 0, or TP_EPARSE with err naming the
 * header that is missing or wrong (one trade-id header without the other,
 * an id that is not positive, from after to). */
int tp_gap_record_parse(tp_gap_header_fn get, void *ud, tp_gap_row *row,
                        char sym[TP_GAP_RECORD_MAX_SYMBOL + 1], char *err, size_t errlen);

#endif
