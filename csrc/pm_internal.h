/* Internal helpers shared by the C files of the core; not part of the Python-visible API. */
#ifndef PM_INTERNAL_H
#define PM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Keccak-256 without argument checks (callers have checked). */
void pm_keccak256_raw(const uint8_t *in, size_t inlen, uint8_t out[32]);

/* Keccak-256 of a || b (either may be empty; a NULL pointer needs a zero length). */
void pm_keccak256_2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t out[32]);

#endif /* PM_INTERNAL_H */
