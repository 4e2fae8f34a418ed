/* Internal helpers shared by the C files of the core; not part of the Python-visible API. */
#ifndef PM_INTERNAL_H
#define PM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pm.h"

/* Keccak-256 without argument checks (callers have checked). */
void pm_keccak256_raw(const uint8_t *in, size_t inlen, uint8_t out[32]);

/* Keccak-256 of a || b (either may be empty; a NULL pointer needs a zero length). */
void pm_keccak256_2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32]);

/* Writes u256(nonce) into the nonce word of a flat ticket (spec/protocol.md §1.3). */
static inline void pm_put_nonce(uint8_t *flat, uint32_t nonce) {
    uint8_t *word = flat + PM_NONCE_OFFSET;
    memset(word, 0, 28);
    word[28] = (uint8_t)(nonce >> 24);
    word[29] = (uint8_t)(nonce >> 16);
    word[30] = (uint8_t)(nonce >> 8);
    word[31] = (uint8_t)nonce;
}

#endif /* PM_INTERNAL_H */
