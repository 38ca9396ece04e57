/* finnhub_json_ref.h - the reference Finnhub frame parser (jansson), the
 * oracle tp_finnhub_parse() (codec/finnhub_json.h) is tested and fuzzed
 * against. Same contract as tp_finnhub_parse(). Not part of the product:
 * the library tp_finnhub_ref (CMakeLists.txt) is linked only into tests,
 * fuzz targets and benchmarks. */
#ifndef TP_FINNHUB_JSON_REF_H
#define TP_FINNHUB_JSON_REF_H

#include "codec/finnhub_json.h"

int tp_finnhub_parse_ref(const char *frame, size_t len, tp_batch *out, tp_msg_info *info, char *err,
                         size_t errlen);

#endif
