/* record.c - recordings of raw WebSocket frames (format in record.h).
 *
 * A recording is "TPREC1\n" followed by records "<recv_ms> <len>\n<len
 * bytes>\n". The length prefix makes any frame content safe (newlines,
 * NULs); the trailing "\n" makes the file readable with less and lets the
 * reader check that it is still in step.
 *
 * Reading is strict about what it cannot explain and lenient about the one
 * damage that happens in practice: a writer killed in the middle of a record
 * leaves a truncated tail, which ends the recording (TP_EEOF, with a warning
 * naming the byte offset) instead of failing a replay that has already
 * played everything before it. Anything else that does not follow the format
 * (a bad header line, a missing terminator) is TP_EPARSE with the byte
 * offset and the record number. A frame over max_frame is skipped without
 * being read into memory (fseeko) and reported as TP_ELIMIT; the next call
 * goes on with the following frame. */
#include "feed/record.h"

#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define REC_MAGIC "TPREC1\n"
#define REC_MAGIC_LEN 7
#define REC_DEFAULT_MAX (64u << 20) /* max_frame 0: still bounded */
#define REC_HEADER_MAX 48           /* "-9223372036854775808 18446744073709551615\n" fits */

struct tp_record_writer {
    FILE *f;
    int failed;
    char path[];
};

struct tp_record_reader {
    FILE *f;
    size_t max_frame;
    char *buf;
    size_t cap;
    off_t pos;      /* byte offset of the next record */
    uint64_t index; /* number of the next record, from 1 */
    int done;       /* a truncated tail was seen: stay at EOF */
    char path[];
};

/* ------------------------------------------------------------------ writer */

int tp_record_writer_open(const char *path, tp_record_writer **out, char *err, size_t errlen) {
    *out = NULL;
    if (!path || !*path) return tp_seterr(err, errlen, TP_EINVAL, "no recording file given");
    size_t plen = strlen(path);
    tp_record_writer *w = calloc(1, sizeof *w + plen + 1);
    if (!w) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    memcpy(w->path, path, plen + 1);
    w->f = fopen(path, "wb");
    if (!w->f) {
        int e = errno;
        free(w);
        return tp_seterr(err, errlen, TP_EIO, "cannot create the recording %s: %s", path, strerror(e));
    }
    setvbuf(w->f, NULL, _IOFBF, 1 << 16);
    if (fwrite(REC_MAGIC, 1, REC_MAGIC_LEN, w->f) != REC_MAGIC_LEN) {
        int e = errno;
        fclose(w->f);
        free(w);
        return tp_seterr(err, errlen, TP_EIO, "cannot write to the recording %s: %s", path, strerror(e));
    }
    *out = w;
    return 0;
}

int tp_record_write(tp_record_writer *w, int64_t recv_ms, const char *frame, size_t len) {
    if (!w || w->failed) return TP_EIO;
    if (len && !frame) return TP_EINVAL;
    char head[REC_HEADER_MAX];
    int n = snprintf(head, sizeof head, "%lld %zu\n", (long long)recv_ms, len);
    if (fwrite(head, 1, (size_t)n, w->f) != (size_t)n || (len && fwrite(frame, 1, len, w->f) != len) ||
        fputc('\n', w->f) == EOF) {
        w->failed = 1;
        tp_error("record", "cannot write to the recording %s: %s", w->path, strerror(errno));
        return TP_EIO;
    }
    return 0;
}

int tp_record_writer_close(tp_record_writer *w) {
    if (!w) return 0;
    int rc = w->failed ? TP_EIO : 0;
    if (fflush(w->f) != 0 && !rc) {
        tp_error("record", "cannot flush the recording %s: %s", w->path, strerror(errno));
        rc = TP_EIO;
    }
    if (fclose(w->f) != 0 && !rc) rc = TP_EIO;
    free(w);
    return rc;
}

/* ------------------------------------------------------------------ reader */

int tp_record_reader_open(const char *path, size_t max_frame, tp_record_reader **out, char *err,
                          size_t errlen) {
    *out = NULL;
    if (!path || !*path) return tp_seterr(err, errlen, TP_EINVAL, "no recording file given");
    size_t plen = strlen(path);
    tp_record_reader *r = calloc(1, sizeof *r + plen + 1);
    if (!r) return tp_seterr(err, errlen, TP_ENOMEM, "out of memory");
    memcpy(r->path, path, plen + 1);
    r->max_frame = max_frame ? max_frame : REC_DEFAULT_MAX;
    r->f = fopen(path, "rb");
    if (!r->f) {
        int e = errno;
        free(r);
        return tp_seterr(err, errlen, e == ENOENT ? TP_EINVAL : TP_EIO, "cannot open the recording %s: %s",
                         path, strerror(e));
    }
    char magic[REC_MAGIC_LEN];
    size_t got = fread(magic, 1, REC_MAGIC_LEN, r->f);
    if (got != REC_MAGIC_LEN || memcmp(magic, REC_MAGIC, REC_MAGIC_LEN) != 0) {
        fclose(r->f);
        free(r);
        return tp_seterr(err, errlen, TP_EPARSE,
                         "%s is not a tickpipe recording (it does not start with \"TPREC1\"; "
                         "recordings are written by `tickpipe capture --record`)",
                         path);
    }
    r->pos = REC_MAGIC_LEN;
    r->index = 1;
    *out = r;
    return 0;
}

static int truncated_tail(tp_record_reader *r, const char *what, char *err, size_t errlen) {
    r->done = 1;
    tp_warn("record", "%s: the recording ends inside record #%llu (%s at byte %lld); the rest is ignored",
            r->path, (unsigned long long)r->index, what, (long long)r->pos);
    return tp_seterr(err, errlen, TP_EEOF, "%s: truncated record #%llu at byte %lld (%s)", r->path,
                     (unsigned long long)r->index, (long long)r->pos, what);
}

static int corrupt(tp_record_reader *r, const char *what, char *err, size_t errlen) {
    return tp_seterr(err, errlen, TP_EPARSE, "%s: corrupt recording at byte %lld (record #%llu): %s", r->path,
                     (long long)r->pos, (unsigned long long)r->index, what);
}

/* Parse "<recv_ms> <len>" (no sign on len, at most 19 digits each). */
static int parse_header(const char *s, size_t n, int64_t *ms, uint64_t *len) {
    size_t i = 0;
    int neg = 0;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    size_t d0 = i;
    uint64_t v = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i - d0 < 19) v = v * 10 + (uint64_t)(s[i++] - '0');
    if (i == d0 || i >= n || s[i] != ' ') return -1;
    *ms = neg ? -(int64_t)v : (int64_t)v;
    i++;
    d0 = i;
    uint64_t l = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i - d0 < 19) l = l * 10 + (uint64_t)(s[i++] - '0');
    if (i == d0 || i != n) return -1;
    *len = l;
    return 0;
}

int tp_record_next(tp_record_reader *r, int64_t *recv_ms, const char **frame, size_t *len, char *err,
                   size_t errlen) {
    if (r->done) return tp_seterr(err, errlen, TP_EEOF, "end of the recording");
    char head[REC_HEADER_MAX];
    size_t hn = 0;
    int c;
    for (;;) {
        c = getc(r->f);
        if (c == EOF) {
            if (ferror(r->f))
                return tp_seterr(err, errlen, TP_EIO, "%s: read error: %s", r->path, strerror(errno));
            if (hn == 0) return tp_seterr(err, errlen, TP_EEOF, "end of the recording");
            return truncated_tail(r, "in the record header", err, errlen);
        }
        if (c == '\n') break;
        if (hn + 1 >= sizeof head) return corrupt(r, "record header line too long", err, errlen);
        head[hn++] = (char)c;
    }
    int64_t ms;
    uint64_t flen;
    if (parse_header(head, hn, &ms, &flen)) return corrupt(r, "expected \"<recv_ms> <length>\"", err, errlen);

    if (flen > r->max_frame) {
        /* skip the body without reading it, then check the terminator */
        if (fseeko(r->f, (off_t)flen, SEEK_CUR) != 0)
            return tp_seterr(err, errlen, TP_EIO, "%s: cannot skip an oversize frame: %s", r->path,
                             strerror(errno));
        c = getc(r->f);
        if (c == EOF) return truncated_tail(r, "in an oversize frame", err, errlen);
        if (c != '\n') return corrupt(r, "oversize frame not followed by a newline", err, errlen);
        int rc = tp_seterr(
            err, errlen, TP_ELIMIT,
            "%s: record #%llu at byte %lld holds a %llu-byte frame, over the limit of %zu bytes", r->path,
            (unsigned long long)r->index, (long long)r->pos, (unsigned long long)flen, r->max_frame);
        r->pos += (off_t)(hn + 1 + flen + 1);
        r->index++;
        return rc;
    }
    if (flen + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < flen + 1) cap *= 2;
        char *nb = realloc(r->buf, cap);
        if (!nb)
            return tp_seterr(err, errlen, TP_ENOMEM, "out of memory for a %llu-byte frame",
                             (unsigned long long)flen);
        r->buf = nb;
        r->cap = cap;
    }
    size_t got = flen ? fread(r->buf, 1, (size_t)flen, r->f) : 0;
    if (got != flen) {
        if (ferror(r->f))
            return tp_seterr(err, errlen, TP_EIO, "%s: read error: %s", r->path, strerror(errno));
        return truncated_tail(r, "in the frame", err, errlen);
    }
    c = getc(r->f);
    if (c == EOF) {
        if (ferror(r->f))
            return tp_seterr(err, errlen, TP_EIO, "%s: read error: %s", r->path, strerror(errno));
        return truncated_tail(r, "before the frame's newline", err, errlen);
    }
    if (c != '\n') return corrupt(r, "frame not followed by a newline (wrong length?)", err, errlen);
    r->buf[flen] = '\0';
    r->pos += (off_t)(hn + 1 + flen + 1);
    r->index++;
    *recv_ms = ms;
    *frame = r->buf;
    *len = (size_t)flen;
    return 0;
}

int tp_record_rewind(tp_record_reader *r) {
    if (fseeko(r->f, REC_MAGIC_LEN, SEEK_SET) != 0) return TP_EIO;
    clearerr(r->f);
    r->pos = REC_MAGIC_LEN;
    r->index = 1;
    r->done = 0;
    return 0;
}

void tp_record_reader_close(tp_record_reader *r) {
    if (!r) return;
    fclose(r->f);
    free(r->buf);
    free(r);
}
