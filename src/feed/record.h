/* record.h - recordings of raw WebSocket frames with their receive times.
 *
 * Written by `tickpipe capture --record FILE`, read by
 * `tickpipe simulate --replay FILE` and `produce --replay FILE`.
 * Format: the line "TPREC1\n", then per frame "<recv_ms> <len>\n" followed
 * by len bytes of the frame and "\n". Text-safe, appendable, and a reader
 * can resynchronise or stop cleanly at a truncated tail. */
#ifndef TP_RECORD_H
#define TP_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct tp_record_writer tp_record_writer;
int tp_record_writer_open(const char *path, tp_record_writer **out, char *err, size_t errlen);
int tp_record_write(tp_record_writer *w, int64_t recv_ms, const char *frame, size_t len);
int tp_record_writer_close(tp_record_writer *w); /* flushes; nonzero on I/O error */

typedef struct tp_record_reader tp_record_reader;
int tp_record_reader_open(const char *path, size_t max_frame, tp_record_reader **out, char *err,
                          size_t errlen);
/* 0 with a frame (valid until the next call), TP_EEOF at the end, TP_EPARSE
 * on a corrupt file (err says where). */
int tp_record_next(tp_record_reader *r, int64_t *recv_ms, const char **frame, size_t *len, char *err,
                   size_t errlen);
int tp_record_rewind(tp_record_reader *r);
void tp_record_reader_close(tp_record_reader *r);

#endif
