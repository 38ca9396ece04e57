/* id.h - deterministic 128-bit ids (UUID version 8 layout), internal to
 * process/.
 *
 * Trade ids hash (topic, partition, offset, index), or (symbol, venue trade
 * id) for a trade that carries its venue's id; average ids hash (symbol,
 * window start). The hash is a keyed mix of 64-bit words with the
 * splitmix64/murmur3 finaliser: not cryptographic, but every input bit
 * reaches every output bit, so 122 random bits make collisions negligible
 * (birthday bound ~2^61 ids). The bytes are written big-endian so an id is
 * the same on every machine. Pure functions, thread-safe. */
#ifndef TP_PROCESS_ID_H
#define TP_PROCESS_ID_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t tp_id_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* 64-bit hash of a byte string, seeded (8 bytes per step). */
static inline uint64_t tp_id_hash_bytes(const void *data, size_t len, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = tp_id_mix64(seed ^ (0x9e3779b97f4a7c15ULL * (len + 1)));
    while (len >= 8) {
        uint64_t w = 0;
        for (int i = 0; i < 8; i++) w |= (uint64_t)p[i] << (8 * i);
        h = tp_id_mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++) w |= (uint64_t)p[i] << (8 * i);
    return tp_id_mix64(h ^ w ^ ((uint64_t)len << 56));
}

/* Two independent 64-bit halves from (key hashes, a, b), UUID v8 layout. */
static inline void tp_id_make(uint64_t k1, uint64_t k2, uint64_t a, uint64_t b, uint8_t out[16]) {
    uint64_t hi = tp_id_mix64(tp_id_mix64(k1 ^ a) + b);
    uint64_t lo = tp_id_mix64(tp_id_mix64(k2 ^ (a * 0xc2b2ae3d27d4eb4fULL)) ^ (b * 0x165667b19e3779f9ULL));
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(hi >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x80); /* version 8 */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

#define TP_ID_SEED1 0x74696b7069706531ULL /* "tikpipe1" */
#define TP_ID_SEED2 0x74696b7069706532ULL
/* Ids from (symbol, venue trade id): other keys and a tag, so they never
 * follow the Kafka coordinates' pattern. */
#define TP_ID_SEED_VENUE1 0x74696b7076656e31ULL /* "tikpven1" */
#define TP_ID_SEED_VENUE2 0x74696b7076656e32ULL
#define TP_ID_VENUE_TAG 0x76656e7565746964ULL /* "venuetid" */

#endif
