/*
 * bv_field.h: secp256k1 field arithmetic (mod p) and scalar arithmetic (mod n) for batch
 * VERIFICATION only (issue 10).
 *
 * VARIABLE TIME. Every value these routines touch is public (signatures, digests, public keys,
 * and verifier-chosen random weights whose only job is to make a forged batch fail), so branches
 * and early exits on data are acceptable here. Never use this code with secret keys or signing
 * nonces: signing stays on libsecp256k1.
 *
 * Field elements: 5 limbs of 52 bits (value = sum n[i] * 2^(52 i)), lazily reduced. A value has
 * "magnitude m" when n[0..3] <= 2m(2^52-1) and n[4] <= 2m(2^48-1); mul/sqr accept m <= 8 and
 * return m = 1; add adds magnitudes; negate(a, m) needs the magnitude of a and returns m + 1.
 * Only fe_normalize gives the unique representative in [0, p).
 *
 * Scalars: 4 little-endian 64-bit words, always fully reduced mod n.
 *
 * Facts used: p = 2^256 - 2^32 - 977, so 2^256 = 0x1000003D1 (mod p) and 2^260 = 0x1000003D10;
 * n = 2^256 - 0x14551231950B75FC4402DA1732FC9BEBF (SEC 2, secp256k1 domain parameters).
 */
#ifndef BV_FIELD_H
#define BV_FIELD_H

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 bv_u128;

typedef struct { uint64_t n[5]; } bv_fe;
typedef struct { uint64_t d[4]; } bv_sc;

#define BV_M52 0xFFFFFFFFFFFFFULL
#define BV_M48 0xFFFFFFFFFFFFULL
#define BV_FOLD256 0x1000003D1ULL  /* 2^256 mod p */
#define BV_FOLD260 0x1000003D10ULL /* 2^260 mod p */

/* p in 5x52 limbs. */
#define BV_P0 0xFFFFEFFFFFC2FULL
#define BV_P1 0xFFFFFFFFFFFFFULL
#define BV_P4 0x0FFFFFFFFFFFFULL

/* ---------------------------------------------------------------- field: conversions */

static inline uint64_t bv_load64_be(const uint8_t *b) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
    return v;
}

static inline void bv_store64_be(uint8_t *b, uint64_t v) {
    for (int i = 7; i >= 0; i--) { b[i] = (uint8_t)v; v >>= 8; }
}

/* Loads a 256-bit big-endian integer into 4 little-endian words. */
static inline void bv_load_words(uint64_t w[4], const uint8_t b[32]) {
    for (int i = 0; i < 4; i++) w[i] = bv_load64_be(b + 8 * (3 - i));
}

static inline void bv_store_words(uint8_t b[32], const uint64_t w[4]) {
    for (int i = 0; i < 4; i++) bv_store64_be(b + 8 * (3 - i), w[i]);
}

/* 4x64 words (any value < 2^256) to 5x52 limbs (magnitude 1). */
static inline void bv_fe_from_words(bv_fe *r, const uint64_t w[4]) {
    r->n[0] = w[0] & BV_M52;
    r->n[1] = ((w[0] >> 52) | (w[1] << 12)) & BV_M52;
    r->n[2] = ((w[1] >> 40) | (w[2] << 24)) & BV_M52;
    r->n[3] = ((w[2] >> 28) | (w[3] << 36)) & BV_M52;
    r->n[4] = w[3] >> 16;
}

/* Returns 1 if the big-endian value is < p (and sets r), 0 otherwise. */
static inline int bv_fe_set_b32(bv_fe *r, const uint8_t b[32]) {
    uint64_t w[4];
    bv_load_words(w, b);
    bv_fe_from_words(r, w);
    /* value >= p  iff  top 224 bits are all ones and the low 32 bits >= 2^32 - 977 */
    if (w[3] == ~0ULL && w[2] == ~0ULL && w[1] == ~0ULL &&
        w[0] >= 0xFFFFFFFEFFFFFC2FULL)
        return 0;
    return 1;
}

static inline void bv_fe_set_int(bv_fe *r, uint64_t v) {
    r->n[0] = v; r->n[1] = r->n[2] = r->n[3] = r->n[4] = 0;
}

/* Propagates carries and folds bits >= 256 once: magnitude 1, value < 2^256 + small. */
static inline void bv_fe_normalize_weak(bv_fe *r) {
    uint64_t t0 = r->n[0], t1 = r->n[1], t2 = r->n[2], t3 = r->n[3], t4 = r->n[4];
    uint64_t x = t4 >> 48;
    t4 &= BV_M48;
    t0 += x * BV_FOLD256;
    t1 += t0 >> 52; t0 &= BV_M52;
    t2 += t1 >> 52; t1 &= BV_M52;
    t3 += t2 >> 52; t2 &= BV_M52;
    t4 += t3 >> 52; t3 &= BV_M52;
    r->n[0] = t0; r->n[1] = t1; r->n[2] = t2; r->n[3] = t3; r->n[4] = t4;
}

/* Full normalisation to the unique representative in [0, p). */
static inline void bv_fe_normalize(bv_fe *r) {
    bv_fe_normalize_weak(r);
    bv_fe_normalize_weak(r); /* now limbs are exact and value < 2^256 */
    uint64_t t0 = r->n[0], t1 = r->n[1], t2 = r->n[2], t3 = r->n[3], t4 = r->n[4];
    /* value >= p  iff  value + (2^256 - p) carries out of 256 bits */
    uint64_t u0 = t0 + BV_FOLD256;
    uint64_t u1 = t1 + (u0 >> 52); u0 &= BV_M52;
    uint64_t u2 = t2 + (u1 >> 52); u1 &= BV_M52;
    uint64_t u3 = t3 + (u2 >> 52); u2 &= BV_M52;
    uint64_t u4 = t4 + (u3 >> 52); u3 &= BV_M52;
    if (u4 >> 48) {
        r->n[0] = u0; r->n[1] = u1; r->n[2] = u2; r->n[3] = u3; r->n[4] = u4 & BV_M48;
    }
}

/* Normalised value to 4 little-endian words. */
static inline void bv_fe_to_words(uint64_t w[4], const bv_fe *a) {
    w[0] = a->n[0] | (a->n[1] << 52);
    w[1] = (a->n[1] >> 12) | (a->n[2] << 40);
    w[2] = (a->n[2] >> 24) | (a->n[3] << 28);
    w[3] = (a->n[3] >> 36) | (a->n[4] << 16);
}

/* Big-endian bytes of a field element (normalises a copy). */
static inline void bv_fe_get_b32(uint8_t b[32], const bv_fe *a) {
    bv_fe t = *a;
    uint64_t w[4];
    bv_fe_normalize(&t);
    bv_fe_to_words(w, &t);
    bv_store_words(b, w);
}

/* 1 if a == 0 (mod p). After one weak normalisation the limbs are base-2^52 digits of a value
 * below 2p, so a multiple of p is exactly 0 or p. */
static inline int bv_fe_is_zero(const bv_fe *a) {
    bv_fe t = *a;
    bv_fe_normalize_weak(&t);
    uint64_t z0 = t.n[0] | t.n[1] | t.n[2] | t.n[3] | t.n[4];
    uint64_t z1 = (t.n[0] ^ BV_P0) | (t.n[1] ^ BV_P1) | (t.n[2] ^ BV_P1) | (t.n[3] ^ BV_P1) |
                  (t.n[4] ^ BV_P4);
    return z0 == 0 || z1 == 0;
}

/* 1 if a == b (mod p). */
static inline int bv_fe_equal(const bv_fe *a, const bv_fe *b) {
    bv_fe x = *a, y = *b;
    bv_fe_normalize(&x);
    bv_fe_normalize(&y);
    return memcmp(x.n, y.n, sizeof x.n) == 0;
}

/* Compares little-endian 4-word integers: -1, 0, 1. */
static inline int bv_cmp4(const uint64_t a[4], const uint64_t b[4]) {
    for (int i = 3; i >= 0; i--) {
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- modular inverse */

static inline void bv_shr1_4(uint64_t x[4], uint64_t top) {
    x[0] = (x[0] >> 1) | (x[1] << 63);
    x[1] = (x[1] >> 1) | (x[2] << 63);
    x[2] = (x[2] >> 1) | (x[3] << 63);
    x[3] = (x[3] >> 1) | (top << 63);
}

/* x = x - y over 4 words; returns the borrow. */
static inline uint64_t bv_sub4(uint64_t x[4], const uint64_t y[4]) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        bv_u128 t = (bv_u128)x[i] - y[i] - borrow;
        x[i] = (uint64_t)t;
        borrow = (uint64_t)(t >> 64) & 1;
    }
    return borrow;
}

/* x = x + y over 4 words; returns the carry. */
static inline uint64_t bv_add4(uint64_t x[4], const uint64_t y[4]) {
    bv_u128 t = 0;
    for (int i = 0; i < 4; i++) {
        t += (bv_u128)x[i] + y[i];
        x[i] = (uint64_t)t;
        t >>= 64;
    }
    return (uint64_t)t;
}

static inline int bv_is_one4(const uint64_t x[4]) {
    return x[0] == 1 && (x[1] | x[2] | x[3]) == 0;
}

/*
 * r = a^-1 mod m for an odd modulus m and 0 < a < m (r = 0 for a = 0), by the binary extended
 * Euclidean algorithm. VARIABLE TIME (public inputs only), and several times faster than a
 * Fermat exponentiation. Invariants: x1 a = u and x2 a = v (mod m); gcd(u, v) = gcd(a, m) = 1.
 */
static inline void bv_modinv_var(uint64_t r[4], const uint64_t a[4], const uint64_t m[4]) {
    uint64_t u[4], v[4], x1[4] = {1, 0, 0, 0}, x2[4] = {0, 0, 0, 0};
    memcpy(u, a, sizeof u);
    memcpy(v, m, sizeof v);
    if ((u[0] | u[1] | u[2] | u[3]) == 0) { memset(r, 0, 4 * sizeof(uint64_t)); return; }
    for (;;) {
        if (bv_is_one4(u)) { memcpy(r, x1, sizeof x1); return; }
        if (bv_is_one4(v)) { memcpy(r, x2, sizeof x2); return; }
        while (!(u[0] & 1)) {
            bv_shr1_4(u, 0);
            uint64_t c = (x1[0] & 1) ? bv_add4(x1, m) : 0;
            bv_shr1_4(x1, c);
        }
        while (!(v[0] & 1)) {
            bv_shr1_4(v, 0);
            uint64_t c = (x2[0] & 1) ? bv_add4(x2, m) : 0;
            bv_shr1_4(x2, c);
        }
        if (bv_cmp4(u, v) >= 0) {
            bv_sub4(u, v);
            if (bv_sub4(x1, x2)) bv_add4(x1, m);
        } else {
            bv_sub4(v, u);
            if (bv_sub4(x2, x1)) bv_add4(x2, m);
        }
    }
}

/* ---------------------------------------------------------------- field: arithmetic */

static inline void bv_fe_add(bv_fe *r, const bv_fe *a) {
    r->n[0] += a->n[0]; r->n[1] += a->n[1]; r->n[2] += a->n[2];
    r->n[3] += a->n[3]; r->n[4] += a->n[4];
}

static inline void bv_fe_mul_int(bv_fe *r, uint64_t k) {
    r->n[0] *= k; r->n[1] *= k; r->n[2] *= k; r->n[3] *= k; r->n[4] *= k;
}

/* r = -a, where a has magnitude <= m. Result magnitude m + 1. */
static inline void bv_fe_negate(bv_fe *r, const bv_fe *a, uint64_t m) {
    uint64_t k = 2 * (m + 1);
    r->n[0] = k * BV_P0 - a->n[0];
    r->n[1] = k * BV_P1 - a->n[1];
    r->n[2] = k * BV_P1 - a->n[2];
    r->n[3] = k * BV_P1 - a->n[3];
    r->n[4] = k * BV_P4 - a->n[4];
}

/*
 * Reduction shared by mul and sqr: c[0..8] are the column sums of the 5x5 limb product
 * (column k has weight 2^(52k)). Column k >= 5 has weight 2^260 * 2^(52(k-5)) and folds down
 * with 2^260 = 0x1000003D10 (mod p): its low 52 bits into column k-5 and the rest into column
 * k-4, so every product fits in 128 bits and the five folds are independent (short latency).
 */
static inline void bv_fe_reduce9(bv_fe *r, bv_u128 c0, bv_u128 c1, bv_u128 c2, bv_u128 c3,
                                 bv_u128 c4, bv_u128 c5, bv_u128 c6, bv_u128 c7, bv_u128 c8) {
    const uint64_t K = BV_FOLD260;
    /* high columns to 52-bit digits d5..d8 plus a top digit d9 < 2^64 */
    c6 += (uint64_t)(c5 >> 52);
    c7 += (uint64_t)(c6 >> 52);
    c8 += (uint64_t)(c7 >> 52);
    bv_u128 t = c0 + (bv_u128)((uint64_t)c5 & BV_M52) * K;
    uint64_t l0 = (uint64_t)t & BV_M52;
    t = c1 + (bv_u128)((uint64_t)c6 & BV_M52) * K + (t >> 52);
    uint64_t l1 = (uint64_t)t & BV_M52;
    t = c2 + (bv_u128)((uint64_t)c7 & BV_M52) * K + (t >> 52);
    uint64_t l2 = (uint64_t)t & BV_M52;
    t = c3 + (bv_u128)((uint64_t)c8 & BV_M52) * K + (t >> 52);
    uint64_t l3 = (uint64_t)t & BV_M52;
    t = c4 + (bv_u128)(uint64_t)(c8 >> 52) * K + (t >> 52);
    uint64_t l4 = (uint64_t)t & BV_M48;
    /* bits >= 256: t >> 48 < 2^68 has weight 2^256; fold with 2^256 = 0x1000003D1 */
    bv_u128 top = t >> 48;
    bv_u128 u = (bv_u128)l0 + (bv_u128)((uint64_t)top & BV_M52) * BV_FOLD256;
    bv_u128 v = (bv_u128)l1 + (bv_u128)(uint64_t)(top >> 52) * BV_FOLD256 + (u >> 52);
    r->n[0] = (uint64_t)u & BV_M52;
    r->n[1] = (uint64_t)v & BV_M52;
    r->n[2] = l2 + (uint64_t)(v >> 52);
    r->n[3] = l3;
    r->n[4] = l4;
}

static inline void bv_fe_mul(bv_fe *r, const bv_fe *a, const bv_fe *b) {
    const uint64_t a0 = a->n[0], a1 = a->n[1], a2 = a->n[2], a3 = a->n[3], a4 = a->n[4];
    const uint64_t b0 = b->n[0], b1 = b->n[1], b2 = b->n[2], b3 = b->n[3], b4 = b->n[4];
#define BV_MUL(x, y) ((bv_u128)(x) * (y))
    bv_u128 c0 = BV_MUL(a0, b0);
    bv_u128 c1 = BV_MUL(a0, b1) + BV_MUL(a1, b0);
    bv_u128 c2 = BV_MUL(a0, b2) + BV_MUL(a1, b1) + BV_MUL(a2, b0);
    bv_u128 c3 = BV_MUL(a0, b3) + BV_MUL(a1, b2) + BV_MUL(a2, b1) + BV_MUL(a3, b0);
    bv_u128 c4 = BV_MUL(a0, b4) + BV_MUL(a1, b3) + BV_MUL(a2, b2) + BV_MUL(a3, b1) + BV_MUL(a4, b0);
    bv_u128 c5 = BV_MUL(a1, b4) + BV_MUL(a2, b3) + BV_MUL(a3, b2) + BV_MUL(a4, b1);
    bv_u128 c6 = BV_MUL(a2, b4) + BV_MUL(a3, b3) + BV_MUL(a4, b2);
    bv_u128 c7 = BV_MUL(a3, b4) + BV_MUL(a4, b3);
    bv_u128 c8 = BV_MUL(a4, b4);
    bv_fe_reduce9(r, c0, c1, c2, c3, c4, c5, c6, c7, c8);
}

static inline void bv_fe_sqr(bv_fe *r, const bv_fe *a) {
    const uint64_t a0 = a->n[0], a1 = a->n[1], a2 = a->n[2], a3 = a->n[3], a4 = a->n[4];
    const uint64_t d0 = 2 * a0, d1 = 2 * a1, d2 = 2 * a2, d3 = 2 * a3;
    bv_u128 c0 = BV_MUL(a0, a0);
    bv_u128 c1 = BV_MUL(d0, a1);
    bv_u128 c2 = BV_MUL(d0, a2) + BV_MUL(a1, a1);
    bv_u128 c3 = BV_MUL(d0, a3) + BV_MUL(d1, a2);
    bv_u128 c4 = BV_MUL(d0, a4) + BV_MUL(d1, a3) + BV_MUL(a2, a2);
    bv_u128 c5 = BV_MUL(d1, a4) + BV_MUL(d2, a3);
    bv_u128 c6 = BV_MUL(d2, a4) + BV_MUL(a3, a3);
    bv_u128 c7 = BV_MUL(d3, a4);
    bv_u128 c8 = BV_MUL(a4, a4);
#undef BV_MUL
    bv_fe_reduce9(r, c0, c1, c2, c3, c4, c5, c6, c7, c8);
}

static inline void bv_fe_sqr_n(bv_fe *r, const bv_fe *a, int k) {
    *r = *a;
    for (int i = 0; i < k; i++) bv_fe_sqr(r, r);
}

/*
 * Builds x^(2^k - 1) for the k used by both addition chains below:
 * x2, x3, x6, x9, x11, x22, x44, x88, x176, x220, x223.
 */
static inline void bv_fe_chain223(const bv_fe *a, bv_fe *x2, bv_fe *x22, bv_fe *x223) {
    bv_fe x3, x6, x9, x11, x44, x88, x176, x220, t;
    bv_fe_sqr(x2, a); bv_fe_mul(x2, x2, a);
    bv_fe_sqr(&x3, x2); bv_fe_mul(&x3, &x3, a);
    bv_fe_sqr_n(&t, &x3, 3); bv_fe_mul(&x6, &t, &x3);
    bv_fe_sqr_n(&t, &x6, 3); bv_fe_mul(&x9, &t, &x3);
    bv_fe_sqr_n(&t, &x9, 2); bv_fe_mul(&x11, &t, x2);
    bv_fe_sqr_n(&t, &x11, 11); bv_fe_mul(x22, &t, &x11);
    bv_fe_sqr_n(&t, x22, 22); bv_fe_mul(&x44, &t, x22);
    bv_fe_sqr_n(&t, &x44, 44); bv_fe_mul(&x88, &t, &x44);
    bv_fe_sqr_n(&t, &x88, 88); bv_fe_mul(&x176, &t, &x88);
    bv_fe_sqr_n(&t, &x176, 44); bv_fe_mul(&x220, &t, &x44);
    bv_fe_sqr_n(&t, &x220, 3); bv_fe_mul(x223, &t, &x3);
}

/* r = a^(p-2) = 1/a (0 for a = 0); measured faster here than bv_modinv_var for the field. */
static inline void bv_fe_inv(bv_fe *r, const bv_fe *a) {
    bv_fe x2, x22, x223, t;
    bv_fe_chain223(a, &x2, &x22, &x223);
    bv_fe_sqr_n(&t, &x223, 23); bv_fe_mul(&t, &t, &x22);
    bv_fe_sqr_n(&t, &t, 5); bv_fe_mul(&t, &t, a);
    bv_fe_sqr_n(&t, &t, 3); bv_fe_mul(&t, &t, &x2);
    bv_fe_sqr_n(&t, &t, 2); bv_fe_mul(r, &t, a);
}

/* r = a^((p+1)/4); returns 1 iff r^2 == a (a is a square), else 0. r may not alias a. */
static inline int bv_fe_sqrt(bv_fe *r, const bv_fe *a) {
    bv_fe x2, x22, x223, t;
    bv_fe_chain223(a, &x2, &x22, &x223);
    bv_fe_sqr_n(&t, &x223, 23); bv_fe_mul(&t, &t, &x22);
    bv_fe_sqr_n(&t, &t, 6); bv_fe_mul(&t, &t, &x2);
    bv_fe_sqr_n(r, &t, 2);
    bv_fe_sqr(&t, r);
    return bv_fe_equal(&t, a);
}

/*
 * Two independent square roots at once: the same addition chain run on two inputs in
 * lockstep, so the CPU overlaps the two dependency chains (about 15% faster per root than
 * bv_fe_sqrt). ok[i] = 1 iff a[i] is a square. r may not alias a.
 */
static inline void bv_fe_sqr_n2(bv_fe r[2], const bv_fe a[2], int k) {
    r[0] = a[0];
    r[1] = a[1];
    for (int i = 0; i < k; i++) {
        bv_fe_sqr(&r[0], &r[0]);
        bv_fe_sqr(&r[1], &r[1]);
    }
}

static inline void bv_fe_mul2(bv_fe r[2], const bv_fe a[2], const bv_fe b[2]) {
    bv_fe_mul(&r[0], &a[0], &b[0]);
    bv_fe_mul(&r[1], &a[1], &b[1]);
}

static inline void bv_fe_sqrt2(bv_fe r[2], int ok[2], const bv_fe a[2]) {
    bv_fe x2[2], x3[2], x6[2], x9[2], x11[2], x22[2], x44[2], x88[2], x176[2], x220[2];
    bv_fe x223[2], t[2];
    bv_fe_sqr_n2(x2, a, 1); bv_fe_mul2(x2, x2, a);
    bv_fe_sqr_n2(x3, x2, 1); bv_fe_mul2(x3, x3, a);
    bv_fe_sqr_n2(t, x3, 3); bv_fe_mul2(x6, t, x3);
    bv_fe_sqr_n2(t, x6, 3); bv_fe_mul2(x9, t, x3);
    bv_fe_sqr_n2(t, x9, 2); bv_fe_mul2(x11, t, x2);
    bv_fe_sqr_n2(t, x11, 11); bv_fe_mul2(x22, t, x11);
    bv_fe_sqr_n2(t, x22, 22); bv_fe_mul2(x44, t, x22);
    bv_fe_sqr_n2(t, x44, 44); bv_fe_mul2(x88, t, x44);
    bv_fe_sqr_n2(t, x88, 88); bv_fe_mul2(x176, t, x88);
    bv_fe_sqr_n2(t, x176, 44); bv_fe_mul2(x220, t, x44);
    bv_fe_sqr_n2(t, x220, 3); bv_fe_mul2(x223, t, x3);
    bv_fe_sqr_n2(t, x223, 23); bv_fe_mul2(t, t, x22);
    bv_fe_sqr_n2(t, t, 6); bv_fe_mul2(t, t, x2);
    bv_fe_sqr_n2(r, t, 2);
    bv_fe_sqr_n2(t, r, 1);
    ok[0] = bv_fe_equal(&t[0], &a[0]);
    ok[1] = bv_fe_equal(&t[1], &a[1]);
}

/* ---------------------------------------------------------------- scalars mod n */

static const uint64_t BV_N[4] = {0xBFD25E8CD0364141ULL, 0xBAAEDCE6AF48A03BULL,
                                 0xFFFFFFFFFFFFFFFEULL, 0xFFFFFFFFFFFFFFFFULL};
/* 2^256 - n */
static const uint64_t BV_NC[3] = {0x402DA1732FC9BEBFULL, 0x4551231950B75FC4ULL, 1ULL};
/* floor(n/2), the low-s bound (spec/protocol.md §2.3) */
static const uint64_t BV_HALF_N[4] = {0xDFE92F46681B20A0ULL, 0x5D576E7357A4501DULL,
                                      0xFFFFFFFFFFFFFFFFULL, 0x7FFFFFFFFFFFFFFFULL};

static inline int bv_sc_is_zero(const bv_sc *a) {
    return (a->d[0] | a->d[1] | a->d[2] | a->d[3]) == 0;
}

/* Adds 2^256 - n (i.e. subtracts n modulo 2^256) to w; returns the carry out. */
static inline uint64_t bv_add_nc(uint64_t w[4]) {
    bv_u128 t = (bv_u128)w[0] + BV_NC[0];
    w[0] = (uint64_t)t;
    t = (t >> 64) + w[1] + BV_NC[1];
    w[1] = (uint64_t)t;
    t = (t >> 64) + w[2] + BV_NC[2];
    w[2] = (uint64_t)t;
    t = (t >> 64) + w[3];
    w[3] = (uint64_t)t;
    return (uint64_t)(t >> 64);
}

/* Sets r = b mod n from 32 big-endian bytes; returns 1 if b was >= n (the overflow flag). */
static inline int bv_sc_set_b32(bv_sc *r, const uint8_t b[32]) {
    bv_load_words(r->d, b);
    if (bv_cmp4(r->d, BV_N) >= 0) {
        bv_add_nc(r->d);
        return 1;
    }
    return 0;
}

static inline void bv_sc_get_b32(uint8_t b[32], const bv_sc *a) { bv_store_words(b, a->d); }

static inline void bv_sc_add(bv_sc *r, const bv_sc *a, const bv_sc *b) {
    uint64_t w[4];
    bv_u128 t = 0;
    for (int i = 0; i < 4; i++) {
        t += (bv_u128)a->d[i] + b->d[i];
        w[i] = (uint64_t)t;
        t >>= 64;
    }
    if (t || bv_cmp4(w, BV_N) >= 0) bv_add_nc(w);
    memcpy(r->d, w, sizeof w);
}

static inline void bv_sc_negate(bv_sc *r, const bv_sc *a) {
    if (bv_sc_is_zero(a)) { *r = *a; return; }
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        bv_u128 t = (bv_u128)BV_N[i] - a->d[i] - borrow;
        r->d[i] = (uint64_t)t;
        borrow = (uint64_t)(t >> 64) & 1;
    }
}

/*
 * out[0..outw) = lo[0..low) + hi[0..hiw) * (2^256 - n). Caller sizes outw so nothing is lost.
 */
static inline void bv_sc_fold(uint64_t *out, int outw, const uint64_t *lo, int low,
                              const uint64_t *hi, int hiw) {
    for (int i = 0; i < outw; i++) out[i] = i < low ? lo[i] : 0;
    for (int i = 0; i < hiw; i++) {
        bv_u128 carry = 0;
        for (int j = 0; j < 3; j++) {
            bv_u128 t = (bv_u128)hi[i] * BV_NC[j] + out[i + j] + carry;
            out[i + j] = (uint64_t)t;
            carry = t >> 64;
        }
        for (int k = i + 3; carry && k < outw; k++) {
            bv_u128 t = (bv_u128)out[k] + carry;
            out[k] = (uint64_t)t;
            carry = t >> 64;
        }
    }
}

/* 192-bit column accumulator (c0, c1, c2) for the scalar product and reduction. */
#define BV_MULADD(x, y)                                    \
    do {                                                   \
        bv_u128 t_ = (bv_u128)(x) * (y) + c0;              \
        c0 = (uint64_t)t_;                                 \
        t_ = (t_ >> 64) + c1;                              \
        c1 = (uint64_t)t_;                                 \
        c2 += (uint64_t)(t_ >> 64);                        \
    } while (0)
#define BV_ADDW(x)                                         \
    do {                                                   \
        bv_u128 t_ = (bv_u128)(x) + c0;                    \
        c0 = (uint64_t)t_;                                 \
        t_ = (t_ >> 64) + c1;                              \
        c1 = (uint64_t)t_;                                 \
        c2 += (uint64_t)(t_ >> 64);                        \
    } while (0)
#define BV_EXTRACT(out)                                    \
    do {                                                   \
        (out) = c0;                                        \
        c0 = c1;                                           \
        c1 = c2;                                           \
        c2 = 0;                                            \
    } while (0)

static inline void bv_sc_mul(bv_sc *r, const bv_sc *a, const bv_sc *b) {
    const uint64_t *x = a->d, *y = b->d;
    const uint64_t C0 = BV_NC[0], C1 = BV_NC[1]; /* 2^256 - n = C0 + C1 2^64 + 2^128 */
    uint64_t c0 = 0, c1 = 0, c2 = 0, l[8];
    /* 512-bit product, column by column */
    BV_MULADD(x[0], y[0]); BV_EXTRACT(l[0]);
    BV_MULADD(x[0], y[1]); BV_MULADD(x[1], y[0]); BV_EXTRACT(l[1]);
    BV_MULADD(x[0], y[2]); BV_MULADD(x[1], y[1]); BV_MULADD(x[2], y[0]); BV_EXTRACT(l[2]);
    BV_MULADD(x[0], y[3]); BV_MULADD(x[1], y[2]); BV_MULADD(x[2], y[1]); BV_MULADD(x[3], y[0]);
    BV_EXTRACT(l[3]);
    BV_MULADD(x[1], y[3]); BV_MULADD(x[2], y[2]); BV_MULADD(x[3], y[1]); BV_EXTRACT(l[4]);
    BV_MULADD(x[2], y[3]); BV_MULADD(x[3], y[2]); BV_EXTRACT(l[5]);
    BV_MULADD(x[3], y[3]); BV_EXTRACT(l[6]);
    l[7] = c0;
    c0 = 0;
    /* m = l_lo + l_hi (2^256 - n): < 2^386, words m0..m6 */
    uint64_t m0, m1, m2, m3, m4, m5, m6;
    BV_ADDW(l[0]); BV_MULADD(l[4], C0); BV_EXTRACT(m0);
    BV_ADDW(l[1]); BV_MULADD(l[5], C0); BV_MULADD(l[4], C1); BV_EXTRACT(m1);
    BV_ADDW(l[2]); BV_MULADD(l[6], C0); BV_MULADD(l[5], C1); BV_ADDW(l[4]); BV_EXTRACT(m2);
    BV_ADDW(l[3]); BV_MULADD(l[7], C0); BV_MULADD(l[6], C1); BV_ADDW(l[5]); BV_EXTRACT(m3);
    BV_MULADD(l[7], C1); BV_ADDW(l[6]); BV_EXTRACT(m4);
    BV_ADDW(l[7]); BV_EXTRACT(m5);
    m6 = c0;
    c0 = c1 = c2 = 0;
    /* p = m_lo + (m4, m5, m6) (2^256 - n): < 2^259, words p0..p4 */
    uint64_t p0, p1, p2, p3, p4;
    BV_ADDW(m0); BV_MULADD(m4, C0); BV_EXTRACT(p0);
    BV_ADDW(m1); BV_MULADD(m5, C0); BV_MULADD(m4, C1); BV_EXTRACT(p1);
    BV_ADDW(m2); BV_MULADD(m6, C0); BV_MULADD(m5, C1); BV_ADDW(m4); BV_EXTRACT(p2);
    BV_ADDW(m3); BV_MULADD(m6, C1); BV_ADDW(m5); BV_EXTRACT(p3);
    BV_ADDW(m6); BV_EXTRACT(p4);
    /* s = p_lo + p4 (2^256 - n): < 2^256 + 2^133, then at most two subtractions of n */
    uint64_t s[5];
    bv_u128 t = (bv_u128)p4 * C0 + p0;
    s[0] = (uint64_t)t;
    t = (t >> 64) + (bv_u128)p4 * C1 + p1;
    s[1] = (uint64_t)t;
    t = (t >> 64) + (bv_u128)p4 + p2;
    s[2] = (uint64_t)t;
    t = (t >> 64) + p3;
    s[3] = (uint64_t)t;
    s[4] = (uint64_t)(t >> 64);
    while (s[4] || bv_cmp4(s, BV_N) >= 0) {
        uint64_t c = bv_add_nc(s); /* s - n = (s4 - 1) 2^256 + (s_lo + 2^256 - n) */
        s[4] = s[4] - 1 + c;
    }
    memcpy(r->d, s, 4 * sizeof(uint64_t));
}
#undef BV_MULADD
#undef BV_ADDW
#undef BV_EXTRACT

/* r = 1/a mod n (0 for a = 0), variable time. */
static inline void bv_sc_inv(bv_sc *r, const bv_sc *a) { bv_modinv_var(r->d, a->d, BV_N); }

#endif /* BV_FIELD_H */
