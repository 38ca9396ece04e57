/* fuzz_record.c - libFuzzer target for the recording reader (feed/record.c).
 *
 * The input is a whole recording file (the magic is prepended when missing,
 * so the fuzzer spends its time in the records). It is placed in a memfd and
 * read to the end twice (the second time after a rewind) with a small
 * max_frame so the oversize path is reached; every frame returned must lie
 * within the input's size, and both passes must agree. */
#include "core/log.h"
#include "core/err.h"
#include "feed/record.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static uint64_t read_all(tp_record_reader *r, size_t size, int *last_rc) {
    uint64_t h = 1469598103934665603ull;
    char err[256];
    for (;;) {
        int64_t ms;
        const char *f;
        size_t len;
        int rc = tp_record_next(r, &ms, &f, &len, err, sizeof err);
        if (rc == TP_ELIMIT) continue;
        if (rc) {
            *last_rc = rc;
            return h;
        }
        if (len > size) __builtin_trap();
        for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)f[i]) * 1099511628211ull;
        h = (h ^ (uint64_t)ms) * 1099511628211ull;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int init;
    if (!init) {
        tp_log_set_level(TP_LOG_ERROR);
        init = 1;
    }
    int fd = memfd_create("fuzz_record", 0);
    if (fd < 0) return 0;
    int ok = 1;
    if (size < 7 || memcmp(data, "TPREC1\n", 7) != 0) ok = write_all(fd, (const uint8_t *)"TPREC1\n", 7) == 0;
    if (ok) ok = write_all(fd, data, size) == 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    tp_record_reader *r;
    char err[256];
    if (ok && tp_record_reader_open(path, 256, &r, err, sizeof err) == 0) {
        int rc1 = 0, rc2 = 0;
        uint64_t h1 = read_all(r, size, &rc1);
        if (tp_record_rewind(r) == 0) {
            uint64_t h2 = read_all(r, size, &rc2);
            if (h1 != h2 || rc1 != rc2) __builtin_trap();
        }
        tp_record_reader_close(r);
    }
    close(fd);
    return 0;
}
