/* market_hours.h - when Finnhub's symbols trade, for telling a hole in a
 * feed from a market that was closed.
 *
 * Finnhub writes crypto and forex symbols with an exchange prefix
 * ("BINANCE:BTCUSDT", "OANDA:EUR_USD"): they trade around the clock. A
 * symbol without one ("AAPL") is a US stock: it trades 09:30-16:00
 * America/New_York, Monday to Friday (exchange holidays are not modelled),
 * and outside those hours its connection gets pings only. New York's UTC
 * offset follows the US rule since 2007 (UTC-4 from the second Sunday of
 * March to the first Sunday of November, each at 02:00 local, else UTC-5),
 * computed from civil dates: no time zone database is read.
 *
 * Whether a gap was "expected to trade" is a pure function of its symbol and
 * times, so it is derived where gaps are shown (the REST API, the
 * dashboard) rather than stored: every store and every path (run, Kafka)
 * then agrees without a column of its own.
 *
 * Pure functions, any thread. */
#ifndef TP_FEED_MARKET_HOURS_H
#define TP_FEED_MARKET_HOURS_H

#include <stddef.h>
#include "core/iso_time.h" /* tp_days_from_civil */

#include <stdint.h>

/* 1 if the symbol trades only in US stock market hours (no ':' in it). */
int tp_market_hours_is_stock(const char *symbol, size_t len);
/* Is the US stock market open at utc_ms? */
int tp_market_hours_us_open(int64_t utc_ms);
/* Was the symbol expected to trade at some moment strictly between from_ms
 * and to_ms (a gap's last trade before and first after)? Always 1 for a
 * symbol that trades around the clock. */
int tp_market_hours_expected(const char *symbol, size_t len, int64_t from_ms, int64_t to_ms);
#endif
