/* headers.h - the Kafka record headers tickpipe writes besides the gap
 * record's (kafka/gap_record.h).
 *
 *   tp-recv-ms        on a replayed trade record (produce --replay, whose
 *                     record timestamp is the send time): the recorded
 *                     receive time, epoch ms in decimal; process's door
 *                     checks trade times against it (core/trade_check.h)
 *   tickpipe.error    on every dead letter: why, in words ("avro decode:
 *                     ...", "trade checks: price: ...")
 *   tp-reject         on a dead letter of produce's door: the reason's
 *                     name (time_future, price, ...)
 *   tp-trade-ids      on a trade record whose trades carry venue trade ids:
 *                     the ids in the record's order, decimal, comma-separated
 *                     (kafka/trade_ids.h)
 * process's dead letters also carry tickpipe.source.topic, .partition and
 * .offset (kafka/consumer.c). */
#ifndef TP_KAFKA_HEADERS_H
#define TP_KAFKA_HEADERS_H

#define TP_RECV_HEADER "tp-recv-ms"
#define TP_REJECT_HEADER "tp-reject"
#define TP_ERROR_HEADER "tickpipe.error"

#endif
