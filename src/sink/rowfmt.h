/* rowfmt.h - row encodings shared by the stores (internal to sink/).
 *
 * Trade conditions are stored as a JSON text array, or SQL NULL when the
 * trade had no "c" (TP_COND_NULL), so null, [] and ["1","12"] stay
 * distinct on every store. Items that were JSON null stay null. Ids are
 * stored as their UUID text.
 *
 * tp_cond_decoder turns stored JSON back into tp_str items; it owns the
 * memory the items point to until the next decode or free. One per query,
 * one thread. */
#ifndef TP_SINK_ROWFMT_H
#define TP_SINK_ROWFMT_H

#include "core/buf.h"
#include "core/json_str.h"
#include "core/trade.h"

#include <stddef.h>
#include <stdint.h>

/* Append the JSON array of t's conditions to b (nothing for TP_COND_NULL;
 * the caller stores NULL then). Returns 0 or -1 on OOM. */
int tp_cond_json(tp_buf *b, const tp_trade *t);

/* (JSON string bodies: tp_json_escape in core/json_str.h.) */

/* Parse a 36-char UUID (with or without dashes); 0 or -1. */
int tp_uuid_parse(const char *s, size_t len, uint8_t out[16]);

typedef struct tp_cond_decoder {
    tp_str *items;
    size_t cap;
    tp_buf text;
} tp_cond_decoder;

/* Decode json (len bytes; json NULL = SQL NULL) into t->ncond/t->cond.
 * Returns 0, or -1 if the text is not a JSON array of strings/nulls. */
int tp_cond_decode(tp_cond_decoder *d, const char *json, size_t len, tp_trade *t);
void tp_cond_decoder_free(tp_cond_decoder *d);

#endif
