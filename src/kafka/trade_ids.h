/* trade_ids.h - the venue trade ids of a Kafka trade record, as a header.
 *
 * The record's value stays a FinnhubProducer message of the original
 * trades.avsc (no field for a venue id), so the ids travel beside it, in
 * the record header tp-trade-ids: the ids of the record's trades in the
 * order of the Avro data array, in decimal, separated by commas, nothing
 * else ("3275620001,3275620002,3275620005"; 0 for a trade without an id).
 * Readable as it is by kcat and any client. A record whose trades have no
 * venue id (Finnhub) has no such header and is exactly as before. `process`
 * reads the header and sets tp_trade.trade_id before the trade's id is
 * derived (process/pipeline.h tp_trade_venue_id); a header that does not
 * list exactly one id per trade of the record, or whose item is not a
 * decimal 64-bit integer, makes a bad record (dead-lettered whole, with
 * the reason; none of its trades is stored).
 *
 * Pure functions, any thread. */
#ifndef TP_KAFKA_TRADE_IDS_H
#define TP_KAFKA_TRADE_IDS_H

#include "core/buf.h"
#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

#define TP_TRADE_IDS_HEADER "tp-trade-ids"

/* The header value of the record holding t[idx[0]], ..., t[idx[n - 1]]
 * (idx NULL: t[0..n)) appended to out. 1 when some trade has an id (send
 * the header), 0 when none has (out untouched: send no header), or
 * TP_ENOMEM. */
int tp_trade_ids_encode(const tp_trade *t, const uint32_t *idx, size_t n, tp_buf *out);

/* Set t[i].trade_id for i < n from a header value of len bytes. 0, or
 * TP_EPARSE with err saying why (the trades are then untouched). */
int tp_trade_ids_apply(const void *val, size_t len, tp_trade *t, size_t n, char *err, size_t errlen);

#endif
