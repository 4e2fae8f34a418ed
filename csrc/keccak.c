/*
 * Keccak-256 as used by Ethereum: Keccak-f[1600] (FIPS 202 §3) with rate 136 bytes and the
 * original Keccak padding (0x01 ... 0x80), which differs from SHA3-256's 0x06 domain byte.
 * Compact, portable, little-endian lane loads; checked against pycryptodome in the tests.
 */
#include <string.h>

#include "pm.h"
#include "pm_internal.h"

#define KECCAK_RATE 136

static const uint64_t round_constants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* rho rotation offsets and pi lane order, walking the lanes along the pi permutation cycle */
static const unsigned rho_offsets[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                         27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned pi_lanes[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                      15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static inline uint64_t rotl64(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

static void keccak_f1600(uint64_t st[25]) {
    for (int round = 0; round < 24; round++) {
        /* theta: column parities, written out so the compiler keeps them in registers */
        uint64_t c0 = st[0] ^ st[5] ^ st[10] ^ st[15] ^ st[20];
        uint64_t c1 = st[1] ^ st[6] ^ st[11] ^ st[16] ^ st[21];
        uint64_t c2 = st[2] ^ st[7] ^ st[12] ^ st[17] ^ st[22];
        uint64_t c3 = st[3] ^ st[8] ^ st[13] ^ st[18] ^ st[23];
        uint64_t c4 = st[4] ^ st[9] ^ st[14] ^ st[19] ^ st[24];
        uint64_t d0 = c4 ^ rotl64(c1, 1), d1 = c0 ^ rotl64(c2, 1), d2 = c1 ^ rotl64(c3, 1);
        uint64_t d3 = c2 ^ rotl64(c4, 1), d4 = c3 ^ rotl64(c0, 1);
        for (int y = 0; y < 25; y += 5) {
            st[y] ^= d0;
            st[y + 1] ^= d1;
            st[y + 2] ^= d2;
            st[y + 3] ^= d3;
            st[y + 4] ^= d4;
        }
        /* rho and pi: walk the single 24-lane cycle of the pi permutation */
        uint64_t carry = st[1];
        for (int i = 0; i < 24; i++) {
            unsigned j = pi_lanes[i];
            uint64_t tmp = st[j];
            st[j] = rotl64(carry, rho_offsets[i]);
            carry = tmp;
        }
        /* chi, row by row */
        for (int y = 0; y < 25; y += 5) {
            uint64_t a0 = st[y], a1 = st[y + 1], a2 = st[y + 2], a3 = st[y + 3], a4 = st[y + 4];
            st[y] = a0 ^ (~a1 & a2);
            st[y + 1] = a1 ^ (~a2 & a3);
            st[y + 2] = a2 ^ (~a3 & a4);
            st[y + 3] = a3 ^ (~a4 & a0);
            st[y + 4] = a4 ^ (~a0 & a1);
        }
        /* iota */
        st[0] ^= round_constants[round];
    }
}

static inline uint64_t load64_le(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store64_le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Absorbs the concatenation of two buffers, so callers can hash a || b without copying. */
void pm_keccak256_2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32]) {
    uint64_t st[25] = {0};
    uint8_t block[KECCAK_RATE];
    size_t fill = 0;
    const uint8_t *parts[2] = {a, b};
    size_t lens[2] = {alen, blen};
    for (int p = 0; p < 2; p++) {
        const uint8_t *in = parts[p];
        size_t len = lens[p];
        while (len > 0) {
            if (fill == 0 && len >= KECCAK_RATE) { /* whole block straight from the input */
                for (int i = 0; i < KECCAK_RATE / 8; i++) st[i] ^= load64_le(in + 8 * i);
                keccak_f1600(st);
                in += KECCAK_RATE;
                len -= KECCAK_RATE;
                continue;
            }
            size_t take = KECCAK_RATE - fill < len ? KECCAK_RATE - fill : len;
            memcpy(block + fill, in, take);
            fill += take;
            in += take;
            len -= take;
            if (fill == KECCAK_RATE) {
                for (int i = 0; i < KECCAK_RATE / 8; i++) st[i] ^= load64_le(block + 8 * i);
                keccak_f1600(st);
                fill = 0;
            }
        }
    }
    memset(block + fill, 0, KECCAK_RATE - fill);
    block[fill] ^= 0x01;
    block[KECCAK_RATE - 1] ^= 0x80;
    for (int i = 0; i < KECCAK_RATE / 8; i++) st[i] ^= load64_le(block + 8 * i);
    keccak_f1600(st);
    for (int i = 0; i < 4; i++) store64_le(out + 8 * i, st[i]);
}

void pm_keccak256_raw(const uint8_t *in, size_t inlen, uint8_t out[32]) {
    pm_keccak256_2(in, inlen, NULL, 0, out);
}

int pm_keccak256(const uint8_t *in, size_t inlen, uint8_t *out32) {
    if ((in == NULL && inlen != 0) || out32 == NULL) return PM_ERR_ARG;
    pm_keccak256_raw(in, inlen, out32);
    return PM_OK;
}
