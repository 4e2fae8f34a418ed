/*
 * bv_batch.c: batch verification of same-sender tickets with one multi-scalar multiplication
 * (issue 10, DESIGN.md "Beyond the floor").
 *
 * For a ticket with digest z, signature (r, s, v) and v in {27, 28}, libsecp256k1's recovery
 * computes Q = r^-1 (s R - z G) where R is the curve point with x = r and y of parity v - 27
 * (recid 0/1, so x = r exactly; r < n < p). "recover(sig) == Q" is therefore exactly the point
 * equation R = (z/s) G + (r/s) Q. With random weights a_i drawn after the tickets are fixed,
 *
 *     sum a_i R_i - (sum a_i z_i / s_i) G - (sum a_i r_i / s_i) Q = O
 *
 * holds for every batch of valid tickets, and for a batch containing a bad ticket only with
 * probability below 2^-128 (each weight has > 128 bits of min-entropy mod n; expand_weight).
 * Q itself is never computed: the anchor ticket (the first one that the one-by-one path
 * accepts) gives Q = r0^-1 (s0 R0 - z0 G), which is substituted, so the check is one MSM over
 * G, R0 and the R_i. Every scalar is cut into two halves of <= 128 bits (G's coefficient over
 * G and H = 2^128 G; R0's and each weight over P and lambda P with the GLV endomorphism), so
 * about 130 doublings are shared by all points. Sets of >= BV_BUCKET_MIN candidates are
 * summed with buckets (one per digit position, affine additions with one batched inversion per
 * round), smaller ones with Strauss; both use affine odd-multiple tables (window BV_W) built
 * with one shared inversion per level.
 * When a batch fails, bisection finds the bad tickets and each of those gets the verdict of the
 * one-by-one path (pm_validate_tickets on that single ticket), so the per-ticket statuses are
 * exactly the one-by-one path's.
 *
 * VARIABLE TIME: all inputs are public (see bv_field.h); the weights are secret from the
 * ticket sender only in the sense that they are drawn after the tickets are fixed.
 *
 * No allocation: the caller passes a scratch buffer of pm_bv_scratch_size(n) bytes.
 */
#include <string.h>

#include "bv_point.h"
#include "pm.h"
#include "pm_internal.h"

#define BV_W 4                       /* wNAF window: digits +-1, +-3, +-5, +-7 */
#define BV_TBL (1 << (BV_W - 2))     /* odd multiples P, 3P, ..., (2^(W-1) - 1) P */
#define BV_HLEN 132                  /* wNAF digits of one <= 129-bit half scalar, padded */
/* Every scalar is split in two halves of <= 128 bits, so the MSM needs ~130 doublings:
 * the G coefficient as c = lo + 2^128 hi over G and H = 2^128 G; the R0 coefficient and the
 * weights with the GLV endomorphism, k = k1 + lambda k2 over P and lambda P = (beta x, y). */
#define BV_NBASE_FIXED 3             /* table points G, H, R0 */
#define BV_NHALF_FIXED 4             /* halves G, H, R0, lambda R0 */
/* Sparse weights (see expand_weight): BV_K non-zero wNAF digits at slot positions <= BV_PMAX,
 * slots 0..BV_HPOS-1 in the first half and BV_HPOS.. in the lambda half. */
#define BV_K 18
#define BV_HPOS 122
#define BV_PMAX (2 * BV_HPOS - 1)
#define BV_SLACK (BV_PMAX - (BV_K - 1) * BV_W + 1) /* 176 values for each sorted slack */
#define BV_DIGIT_BITS (BV_W - 1)     /* random bits per digit: magnitude (W - 2) and sign */
_Static_assert(2 * BV_K + (BV_K * BV_DIGIT_BITS + 7) / 8 <= PM_BV_WEIGHT_LEN,
               "PM_BV_WEIGHT_LEN too small for the sparse weights");
#define BV_LEAF 2                    /* bisection stops here and asks the one-by-one path */
#define BV_MAX_N ((size_t)1 << 24)
#define BV_ALIGN 64

static const uint8_t PENDING = 0xFF;

/* The generator, affine, as 4 little-endian words (SEC 2). */
static const uint64_t G_X[4] = {0x59F2815B16F81798ULL, 0x029BFCDB2DCE28D9ULL,
                                0x55A06295CE870B07ULL, 0x79BE667EF9DCBBACULL};
static const uint64_t G_Y[4] = {0x9C47D08FFB10D4B8ULL, 0xFD17B448A6855419ULL,
                                0x5DA4FBFC0E1108A8ULL, 0x483ADA7726A3C465ULL};
/* H = 2^128 G (computed with coincurve; the harness checks it against the naive reference). */
static const uint64_t H_X[4] = {0x1B7B444C9EC4C0DAULL, 0xE88C5678723EA335ULL,
                                0x9239C1AD981F162EULL, 0x8F68B9D2F63B5F33ULL};
static const uint64_t H_Y[4] = {0xF23CBF79501FFF82ULL, 0xBBEA2CFE95510BFDULL,
                                0xDE1D90C2B6BE215DULL, 0x662A9F2DBA063986ULL};

/*
 * GLV endomorphism of secp256k1 (Gallant-Lambert-Vanstone): lambda (beta x, y) for the cube
 * roots of unity lambda mod n and beta mod p with lambda G = (beta Gx, Gy), and the reduced
 * basis (a1, b1), (a2, b2) of the lattice {(x, y): x + lambda y = 0 mod n}, all derived with
 * Python big integers (csrc/tests/test_bv.c and tests/ re-check every relation). Every
 * non-zero lattice vector has a coordinate above 2^127, so k1 + lambda k2 is one-to-one on
 * pairs with |k1|, |k2| < 2^126.
 */
static const bv_sc BV_LAMBDA = {{0xDF02967C1B23BD72ULL, 0x122E22EA20816678ULL,
                                 0xA5261C028812645AULL, 0x5363AD4CC05C30E0ULL}};
static const uint64_t BV_BETA[4] = {0xC1396C28719501EEULL, 0x9CF0497512F58995ULL,
                                    0x6E64479EAC3434E9ULL, 0x7AE96A2B657C0710ULL};
/* -a1, -a2, -b1, -b2 mod n, and g1 = round(2^384 b2 / n), g2 = round(2^384 (-b1) / n). */
static const bv_sc GLV_NA1 = {{0xD765CDA83DB1562CULL, 0x8A280AC50774346DULL,
                               0xFFFFFFFFFFFFFFFEULL, 0xFFFFFFFFFFFFFFFFULL}};
static const bv_sc GLV_NA2 = {{0x68114DFF32F17169ULL, 0xA5E48BEF0665AC45ULL,
                               0xFFFFFFFFFFFFFFFDULL, 0xFFFFFFFFFFFFFFFFULL}};
static const bv_sc GLV_NB1 = {{0x6F547FA90ABFE4C3ULL, 0xE4437ED6010E8828ULL, 0, 0}};
static const bv_sc GLV_NB2 = {{0xD765CDA83DB1562CULL, 0x8A280AC50774346DULL,
                               0xFFFFFFFFFFFFFFFEULL, 0xFFFFFFFFFFFFFFFFULL}};
static const uint64_t GLV_G1[4] = {0xE893209A45DBB031ULL, 0x3DAA8A1471E8CA7FULL,
                                   0xE86C90E49284EB15ULL, 0x3086D221A7D46BCDULL};
static const uint64_t GLV_G2[4] = {0x1571B4AE8AC47F71ULL, 0x221208AC9DF506C6ULL,
                                   0x6F547FA90ABFE4C4ULL, 0xE4437ED6010E8828ULL};

/* round(k g / 2^384) for 256-bit k and g (at most 2^128). */
static void mulshift384(bv_sc *r, const bv_sc *k, const uint64_t g[4]) {
    uint64_t l[8] = {0};
    for (int i = 0; i < 4; i++) {
        bv_u128 carry = 0;
        for (int j = 0; j < 4; j++) {
            bv_u128 t = (bv_u128)k->d[i] * g[j] + l[i + j] + carry;
            l[i + j] = (uint64_t)t;
            carry = t >> 64;
        }
        l[i + 4] = (uint64_t)carry;
    }
    bv_u128 t = (bv_u128)l[6] + (l[5] >> 63);
    r->d[0] = (uint64_t)t;
    t = (t >> 64) + l[7];
    r->d[1] = (uint64_t)t;
    r->d[2] = (uint64_t)(t >> 64);
    r->d[3] = 0;
}

/* k = k1 + lambda k2 (mod n) with |k1|, |k2| <= 2^128 (as residues: small or n - small). */
static void glv_split(const bv_sc *k, bv_sc *k1, bv_sc *k2) {
    bv_sc c1, c2, t;
    mulshift384(&c1, k, GLV_G1);
    mulshift384(&c2, k, GLV_G2);
    bv_sc_mul(&t, &c1, &GLV_NA1);
    bv_sc_add(k1, k, &t);
    bv_sc_mul(&t, &c2, &GLV_NA2);
    bv_sc_add(k1, k1, &t);
    bv_sc_mul(k2, &c1, &GLV_NB1);
    bv_sc_mul(&t, &c2, &GLV_NB2);
    bv_sc_add(k2, k2, &t);
}

/* ------------------------------------------------------------------ wNAF */

static int bit_of(const uint64_t k[3], int i) {
    return i < 192 ? (int)((k[i >> 6] >> (i & 63)) & 1) : 0;
}

static int bits_of(const uint64_t k[3], int i, int w) {
    int v = 0;
    for (int j = w - 1; j >= 0; j--) v = (v << 1) | bit_of(k, i + j);
    return v;
}

/*
 * Width-BV_W NAF of a value below 2^129 (3 words, the top one 0 or 1): naf[i] is 0 or odd with
 * |naf[i]| < 2^(W-1), any W consecutive digits hold at most one non-zero, and
 * sum naf[i] 2^i == k (negated digits when neg). Returns the positions used (<= 130).
 */
static int wnaf_half(int8_t naf[BV_HLEN], const uint64_t k[3], int neg) {
    memset(naf, 0, BV_HLEN);
    int carry = 0, used = 0, i = 0;
    while (i < 130) {
        if (bit_of(k, i) == carry) { i++; continue; }
        int word = bits_of(k, i, BV_W) + carry;
        carry = (word >> (BV_W - 1)) & 1;
        word -= carry << BV_W;
        naf[i] = (int8_t)(neg ? -word : word);
        used = i + 1;
        i += BV_W;
    }
    return used;
}

/* wNAF of a residue k that is "small" (|k| <= 2^128) as a signed integer: k or -(n - k). */
static int wnaf_signed(int8_t naf[BV_HLEN], const bv_sc *k) {
    bv_sc m = *k;
    int neg = bv_cmp4(k->d, BV_HALF_N) > 0;
    if (neg) bv_sc_negate(&m, k);
    uint64_t w[3] = {m.d[0], m.d[1], m.d[2]};
    return wnaf_half(naf, w, neg);
}

/*
 * Expands PM_BV_WEIGHT_LEN random bytes into a sparse weight a = a1 + lambda a2 (mod n):
 * BV_K non-zero digits d_j in {+-1, +-3, ..., +-(2^(W-1) - 1)} at slots q_j = W j + s_j, where
 * s_0 <= ... <= s_{K-1} are BV_K values uniform in [0, BV_SLACK) (16 random bits each,
 * scaled), sorted; slot q < BV_HPOS is position q of a1, slot q >= BV_HPOS position
 * q - BV_HPOS of a2. Digits of one half are >= W apart, so each half is a width-W NAF, which
 * is unique, and |a1|, |a2| < 2^126, on which (a1, a2) -> a1 + lambda a2 is one-to-one. The
 * most likely weight therefore has probability <= K! (1.001/176)^K 8^-K < 2^-135: a batch
 * with a bad ticket passes only if that ticket's weight hits one residue. Each ticket costs
 * 18 additions (a dense 128-bit weight would cost about 26 at this window) and only 122 shared
 * doublings. Writes both halves' digits and counts, and the weight mod n to a.
 */
static void expand_weight(int8_t naf0[BV_HLEN], int8_t naf1[BV_HLEN], int used[2], bv_sc *a,
                          const uint8_t rnd[PM_BV_WEIGHT_LEN]) {
    int slack[BV_K];
    for (int j = 0; j < BV_K; j++) {
        /* multiply-shift: each value of [0, BV_SLACK) has 387 or 388 of the 65536 inputs */
        int v = (int)((((uint32_t)rnd[2 * j] << 8 | rnd[2 * j + 1]) * BV_SLACK) >> 16);
        int k = j;
        while (k > 0 && slack[k - 1] > v) { slack[k] = slack[k - 1]; k--; }
        slack[k] = v;
    }
    uint64_t pos[2][2] = {{0, 0}, {0, 0}}, neg[2][2] = {{0, 0}, {0, 0}};
    int8_t *naf[2] = {naf0, naf1};
    memset(naf0, 0, BV_HLEN);
    memset(naf1, 0, BV_HLEN);
    used[0] = used[1] = 0;
    for (int j = 0; j < BV_K; j++) {
        int bits = 0;
        for (int b = 0; b < BV_DIGIT_BITS; b++) {
            int at = j * BV_DIGIT_BITS + b;
            bits |= ((rnd[2 * BV_K + at / 8] >> (at % 8)) & 1) << b;
        }
        int sign = bits >> (BV_W - 2), mag = 2 * (bits & ((1 << (BV_W - 2)) - 1)) + 1;
        int q = BV_W * j + slack[j];
        int h = q >= BV_HPOS, p = q - h * BV_HPOS;
        uint64_t *t = sign ? neg[h] : pos[h];
        naf[h][p] = (int8_t)(sign ? -mag : mag);
        t[p >> 6] |= (uint64_t)mag << (p & 63);
        if ((p & 63) > 60) t[(p >> 6) + 1] |= (uint64_t)mag >> (64 - (p & 63));
        used[h] = p + 1;
    }
    bv_sc half[2];
    for (int h = 0; h < 2; h++) { /* pos, neg < 2^126 < n: already reduced */
        bv_sc sp = {{pos[h][0], pos[h][1], 0, 0}}, sn = {{neg[h][0], neg[h][1], 0, 0}};
        bv_sc_negate(&sn, &sn);
        bv_sc_add(&half[h], &sp, &sn);
    }
    bv_sc_mul(a, &half[1], &BV_LAMBDA);
    bv_sc_add(a, a, &half[0]);
    if (bv_sc_is_zero(a)) { /* probability < 2^-138; keep the ticket in the check */
        memset(naf0, 0, BV_HLEN);
        memset(naf1, 0, BV_HLEN);
        naf0[0] = 1;
        used[0] = 1;
        used[1] = 0;
        a->d[0] = 1;
    }
}

/* ------------------------------------------------------------------ MSM context */

typedef struct {
    size_t m;          /* table points: G, H, R0 and the candidates' R_i */
    bv_ge *tbl;        /* m * BV_TBL affine odd multiples */
    int8_t *naf;       /* per half (4 fixed, then 2 per candidate): BV_HLEN digits */
    int *used;         /* per half: digit positions used */
} msm_t;

/* Half h: its table point and whether it is the lambda image (x -> beta x). Halves 0..3 are
 * G, H, R0, lambda R0; candidate k owns halves 4 + 2k (R_k) and 5 + 2k (lambda R_k). */
static size_t half_base(size_t h, int *lam) {
    if (h < BV_NHALF_FIXED) {
        *lam = h == 3;
        return h < 3 ? h : 2;
    }
    *lam = (int)((h - BV_NHALF_FIXED) & 1);
    return BV_NBASE_FIXED + (h - BV_NHALF_FIXED) / 2;
}

/* The table entry for digit d != 0 of half h: +-(odd multiple), with x -> beta x for lambda. */
static void half_entry(const msm_t *c, size_t h, int d, bv_ge *out) {
    int lam;
    size_t b = half_base(h, &lam);
    const bv_ge *t = &c->tbl[b * BV_TBL + (size_t)((d < 0 ? -d : d) >> 1)];
    if (lam) {
        bv_fe beta;
        bv_fe_from_words(&beta, BV_BETA);
        bv_fe_mul(&out->x, &t->x, &beta);
    } else {
        out->x = t->x;
    }
    if (d < 0) {
        bv_fe_negate(&out->y, &t->y, 1);
        bv_fe_normalize_weak(&out->y);
    } else {
        out->y = t->y;
    }
}

/* Halves of a check over candidates [lo, hi): the 4 fixed ones, then 2 per candidate. */
static size_t half_at(size_t q, size_t lo) {
    return q < BV_NHALF_FIXED ? q : q + 2 * lo;
}

/* Inverts d[0..m) in place with one field inversion (Montgomery's trick); pre holds m
 * elements. Returns 0 (d unchanged in value) if some d[i] is zero. */
static int fe_batch_inv(bv_fe *d, bv_fe *pre, size_t m) {
    pre[0] = d[0];
    for (size_t i = 1; i < m; i++) bv_fe_mul(&pre[i], &pre[i - 1], &d[i]);
    if (bv_fe_is_zero(&pre[m - 1])) return 0;
    bv_fe inv, t;
    bv_fe_inv(&inv, &pre[m - 1]);
    for (size_t i = m; i-- > 1;) {
        bv_fe_mul(&t, &inv, &pre[i - 1]);
        bv_fe_mul(&inv, &inv, &d[i]);
        d[i] = t;
    }
    d[0] = inv;
    return 1;
}

/* r = a + b in affine coordinates given inv = 1/(b.x - a.x) (or 1/(2 a.y) and b == a). */
static void ge_add_affine(bv_ge *r, const bv_ge *a, const bv_ge *b, const bv_fe *inv, int dbl) {
    bv_fe l, t, x3;
    if (dbl) {
        bv_fe_sqr(&t, &a->x);
        bv_fe_mul_int(&t, 3);
    } else {
        bv_fe_negate(&t, &a->y, 1);
        bv_fe_add(&t, &b->y);
    }
    bv_fe_mul(&l, &t, inv);                       /* lambda */
    bv_fe_sqr(&x3, &l);                           /* x3 = l^2 - ax - bx */
    bv_fe_negate(&t, &a->x, 1); bv_fe_add(&x3, &t);
    bv_fe_negate(&t, &b->x, 1); bv_fe_add(&x3, &t);
    bv_fe_normalize_weak(&x3);
    bv_fe_negate(&t, &x3, 1); bv_fe_add(&t, &a->x); /* y3 = l (ax - x3) - ay */
    bv_fe_mul(&r->y, &l, &t);
    bv_fe_negate(&t, &a->y, 1); bv_fe_add(&r->y, &t);
    bv_fe_normalize_weak(&r->y);
    r->x = x3;
}

/*
 * Builds the odd-multiple tables P, 3P, ..., (2^(W-1) - 1)P of m affine base points directly in
 * affine form: 2P and each next entry for all points at once, one batched inversion per level
 * (about 6 multiplications per entry instead of a Jacobian addition plus normalisation).
 * dbl and den hold m elements, pre m elements. Returns 0 on a zero denominator, which needs
 * P = O or a point of order <= 2^W and so cannot happen on secp256k1.
 */
static int msm_tables_affine(msm_t *c, const bv_ge *pts, bv_ge *dbl, bv_fe *den, bv_fe *pre) {
    size_t m = c->m;
    for (size_t j = 0; j < m; j++) {
        c->tbl[j * BV_TBL] = pts[j];
        den[j] = pts[j].y;
        bv_fe_mul_int(&den[j], 2);
    }
    if (!fe_batch_inv(den, pre, m)) return 0;
    for (size_t j = 0; j < m; j++) ge_add_affine(&dbl[j], &pts[j], &pts[j], &den[j], 1);
    for (int k = 1; k < BV_TBL; k++) {
        for (size_t j = 0; j < m; j++) {
            const bv_ge *prev = &c->tbl[j * BV_TBL + (size_t)k - 1];
            bv_fe_negate(&den[j], &prev->x, 1);
            bv_fe_add(&den[j], &dbl[j].x);
        }
        if (!fe_batch_inv(den, pre, m)) return 0;
        for (size_t j = 0; j < m; j++) {
            const bv_ge *prev = &c->tbl[j * BV_TBL + (size_t)k - 1];
            ge_add_affine(&c->tbl[j * BV_TBL + (size_t)k], prev, &dbl[j], &den[j], 0);
        }
    }
    return 1;
}

/* Tables for m base points given in Jacobian form. tmp must hold 2m affine points and m field
 * elements, pre m field elements. Returns 0 (no table) if a base point is infinity or a
 * denominator vanishes, neither of which can happen for points of prime order n. */
static int msm_tables(msm_t *c, const bv_gej *base, void *tmp, bv_fe *pre) {
    size_t m = c->m;
    bv_ge *pts = (bv_ge *)tmp, *dbl = pts + m;
    bv_fe *den = (bv_fe *)(void *)(dbl + m);
    for (size_t j = 0; j < m; j++) {
        const bv_fe *z = &base[j].z;
        if (base[j].inf) return 0;
        if (z->n[0] == 1 && (z->n[1] | z->n[2] | z->n[3] | z->n[4]) == 0) {
            pts[j].x = base[j].x;
            pts[j].y = base[j].y;
        } else if (!bv_gej_batch_to_ge(&pts[j], &base[j], 1, pre)) {
            return 0;
        }
    }
    return msm_tables_affine(c, pts, dbl, den, pre);
}

/* Accumulates sum over the fixed halves and candidates [lo, hi) of naf_h * P_h (Strauss:
 * shared doublings, one mixed addition per non-zero digit). */
static void msm_eval(const msm_t *c, size_t lo, size_t hi, bv_gej *acc) {
    size_t nh = BV_NHALF_FIXED + 2 * (hi - lo);
    int top = 0;
    for (size_t q = 0; q < nh; q++) {
        size_t h = half_at(q, lo);
        if (c->used[h] > top) top = c->used[h];
    }
    acc->inf = 1;
    for (int i = top - 1; i >= 0; i--) {
        bv_gej_double(acc, acc);
        for (size_t q = 0; q < nh; q++) {
            size_t h = half_at(q, lo);
            int d = c->naf[h * BV_HLEN + (size_t)i];
            if (d == 0) continue;
            int lam;
            size_t b = half_base(h, &lam);
            const bv_ge *t = &c->tbl[b * BV_TBL + (size_t)((d < 0 ? -d : d) >> 1)];
            if (lam) {
                bv_ge e;
                half_entry(c, h, d > 0 ? d : -d, &e);
                bv_gej_add_ge_sign(acc, acc, &e, d < 0);
            } else {
                bv_gej_add_ge_sign(acc, acc, t, d < 0);
            }
        }
    }
}

/*
 * Bucket evaluation of the same sum for large sets (Pippenger-style, one bucket per digit
 * position): every non-zero digit d at position p of point j puts the table entry d P_j into
 * bucket p; the buckets are summed in affine coordinates, pairing entries in rounds with ONE
 * batched inversion per round (about 6 multiplications per addition instead of 11 for a mixed
 * Jacobian addition); finally sum 2^p B_p by Horner's rule. Equal points in a pair are
 * doubled and opposite points cancel, so adversarial inputs are handled exactly.
 */
#define BV_NB BV_HLEN        /* buckets: one per digit position */
#define BV_FIXED_DIGITS (130 / BV_W + 2) /* non-zero digits of a <= 129-bit wNAF */
#define BV_BUCKET_MIN 16     /* below this many candidates Strauss is faster */
#define BV_MIN_PAIRS 32      /* a batched round with fewer pairs does not pay for its inversion */

typedef struct {
    bv_ge *ent;     /* entries, grouped by bucket */
    bv_fe *den;     /* one denominator per pair, then its inverse */
    bv_fe *dpre;    /* prefix products for the batched inversion */
    uint8_t *ptype; /* 0 add, 1 double, 2 cancel */
} bucket_ws_t;

static void msm_eval_buckets(const msm_t *c, size_t lo, size_t hi, const bucket_ws_t *ws,
                             bv_gej *acc) {
    uint32_t bstart[BV_NB], bcnt[BV_NB];
    memset(bcnt, 0, sizeof bcnt);
    int top = 0;
    size_t nh = BV_NHALF_FIXED + 2 * (hi - lo);
    for (size_t q = 0; q < nh; q++) {
        size_t h = half_at(q, lo);
        const int8_t *naf = c->naf + h * BV_HLEN;
        for (int i = 0; i < c->used[h]; i++) bcnt[i] += naf[i] != 0;
        if (c->used[h] > top) top = c->used[h];
    }
    uint32_t total = 0;
    for (int p = 0; p < BV_NB; p++) {
        bstart[p] = total;
        total += bcnt[p];
        bcnt[p] = 0;
    }
    for (size_t q = 0; q < nh; q++) {
        size_t h = half_at(q, lo);
        const int8_t *naf = c->naf + h * BV_HLEN;
        for (int i = 0; i < c->used[h]; i++) {
            int d = naf[i];
            if (d != 0) half_entry(c, h, d, &ws->ent[bstart[i] + bcnt[i]++]);
        }
    }
    for (;;) {
        size_t np = 0;
        for (int p = 0; p < top; p++) {
            for (uint32_t q = 0; q + 1 < bcnt[p]; q += 2) {
                const bv_ge *a = &ws->ent[bstart[p] + q], *b = a + 1;
                bv_fe d;
                uint8_t type = 0;
                bv_fe_negate(&d, &a->x, 1);
                bv_fe_add(&d, &b->x);
                if (bv_fe_is_zero(&d)) {
                    if (bv_fe_equal(&a->y, &b->y)) {
                        d = a->y;
                        bv_fe_mul_int(&d, 2);
                        type = 1;
                    } else {
                        bv_fe_set_int(&d, 1);
                        type = 2;
                    }
                }
                ws->den[np] = d;
                ws->ptype[np] = type;
                np++;
            }
        }
        /* A round's inversion costs about 35 mixed additions: with fewer pairs left, the
         * Horner step below adds the remaining entries directly. */
        if (np < BV_MIN_PAIRS) break;
        fe_batch_inv(ws->den, ws->dpre, np); /* every denominator is non-zero */
        np = 0;
        for (int p = 0; p < top; p++) {
            uint32_t w = bstart[p], cnt = bcnt[p];
            for (uint32_t q = 0; q + 1 < cnt; q += 2) {
                bv_ge a = ws->ent[bstart[p] + q], b = ws->ent[bstart[p] + q + 1];
                uint8_t type = ws->ptype[np];
                const bv_fe *inv = &ws->den[np++];
                if (type == 2) continue; /* P + (-P) = O */
                ge_add_affine(&ws->ent[w++], &a, &b, inv, type == 1);
            }
            if (cnt & 1) ws->ent[w++] = ws->ent[bstart[p] + cnt - 1];
            bcnt[p] = w - bstart[p];
        }
    }
    acc->inf = 1;
    for (int p = top - 1; p >= 0; p--) {
        bv_gej_double(acc, acc);
        for (uint32_t q = 0; q < bcnt[p]; q++) bv_gej_add_ge(acc, acc, &ws->ent[bstart[p] + q]);
    }
}

/* Sets the fixed halves from the coefficients of G (split at bit 128 over G and H) and of R0
 * (GLV split over R0 and lambda R0). */
static void msm_set_fixed(msm_t *c, const bv_sc *cg, const bv_sc *cr) {
    uint64_t lo[3] = {cg->d[0], cg->d[1], 0}, hi[3] = {cg->d[2], cg->d[3], 0};
    bv_sc k1, k2;
    c->used[0] = wnaf_half(c->naf, lo, 0);
    c->used[1] = wnaf_half(c->naf + BV_HLEN, hi, 0);
    glv_split(cr, &k1, &k2);
    c->used[2] = wnaf_signed(c->naf + 2 * BV_HLEN, &k1);
    c->used[3] = wnaf_signed(c->naf + 3 * BV_HLEN, &k2);
}

static void ge_from_words(bv_ge *r, const uint64_t x[4], const uint64_t y[4]) {
    bv_fe_from_words(&r->x, x);
    bv_fe_from_words(&r->y, y);
}

/* ------------------------------------------------------------------ scratch layout */

typedef struct {
    bv_ge R;           /* decompressed R_i */
    bv_sc r, s, z;     /* signature scalars and digest mod n */
    bv_sc e, f;        /* a_i z_i / s_i and a_i r_i / s_i */
    bv_sc inv;         /* 1/s_i (batch inversion) */
    bv_sc pre;         /* prefix products for the batch inversion */
    size_t idx;        /* ticket index */
} cand_t;

typedef struct {
    size_t per_point;
} layout_t;

static size_t round_up(size_t x) { return (x + (BV_ALIGN - 1)) & ~(size_t)(BV_ALIGN - 1); }

/* Bytes of scratch one base point needs. */
static size_t per_point_bytes(void) {
    return round_up(sizeof(cand_t)) + round_up(BV_TBL * sizeof(bv_ge)) +
           round_up(2 * sizeof(bv_ge) + sizeof(bv_fe)) + round_up(sizeof(bv_fe)) +
           round_up(2 * BV_HLEN) + round_up(2 * sizeof(int)) + round_up(sizeof(bv_gej));
}

/* Bucket workspace for n candidates: <= BV_K digits per candidate, <= BV_FIXED_DIGITS per fixed
 * point, half as many pairs. */
static size_t bucket_entries(size_t n) { return BV_K * n + BV_NHALF_FIXED * BV_FIXED_DIGITS; }

static size_t bucket_bytes(size_t n) {
    size_t ents = bucket_entries(n), pairs = ents / 2 + 1;
    return round_up(ents * sizeof(bv_ge)) + 2 * round_up(pairs * sizeof(bv_fe)) + round_up(pairs);
}

size_t pm_bv_scratch_size(size_t n) {
    if (n > BV_MAX_N) return 0;
    return BV_ALIGN + 8 * BV_ALIGN + (n + BV_NBASE_FIXED) * per_point_bytes() + bucket_bytes(n);
}

typedef struct {
    cand_t *cand;
    bv_gej *base;
    uint8_t *tmp;
    bv_fe *pre;
    msm_t msm;
    bucket_ws_t bk;
} work_t;

static int carve(work_t *w, void *scratch, size_t scratch_len, size_t n) {
    size_t need = pm_bv_scratch_size(n);
    if (need == 0 || scratch_len < need) return 0;
    uintptr_t p = ((uintptr_t)scratch + (BV_ALIGN - 1)) & ~(uintptr_t)(BV_ALIGN - 1);
    size_t m = n + BV_NBASE_FIXED, halves = 2 * n + BV_NHALF_FIXED;
#define BV_TAKE(ptr, type, count)                  \
    do {                                           \
        (ptr) = (type *)p;                         \
        p += round_up((count) * sizeof(type));     \
    } while (0)
    BV_TAKE(w->cand, cand_t, n);
    BV_TAKE(w->base, bv_gej, m);
    BV_TAKE(w->tmp, uint8_t, m * (2 * sizeof(bv_ge) + sizeof(bv_fe)));
    BV_TAKE(w->pre, bv_fe, m);
    BV_TAKE(w->msm.tbl, bv_ge, m * BV_TBL);
    BV_TAKE(w->msm.naf, int8_t, halves * BV_HLEN);
    BV_TAKE(w->msm.used, int, halves);
    /* bucket workspace: <= BV_K digits per candidate, <= BV_FIXED_DIGITS per fixed point */
    size_t ents = bucket_entries(n), pairs = ents / 2 + 1;
    BV_TAKE(w->bk.ent, bv_ge, ents);
    BV_TAKE(w->bk.den, bv_fe, pairs);
    BV_TAKE(w->bk.dpre, bv_fe, pairs);
    BV_TAKE(w->bk.ptype, uint8_t, pairs);
#undef BV_TAKE
    return p <= (uintptr_t)scratch + scratch_len;
}

/* ------------------------------------------------------------------ the validator */

/* digest = keccak("\x19Ethereum Signed Message:\n32" || keccak(flat)), spec/protocol.md §1.3,
 * §2.1; flat already carries the ticket's nonce. */
static void ticket_digest(const uint8_t *flat, size_t flatlen, uint8_t digest[32]) {
    uint8_t h[32];
    pm_keccak256_raw(flat, flatlen, h);
    pm_personal_digest(h, digest);
}

/*
 * The checks of spec/protocol.md §2.3 steps 2-3 and the reasons libsecp256k1 itself refuses to
 * recover (parse: r or s >= n; recover: r = 0, s = 0, no point with x = r). Returns PM_OK with
 * r, s, R filled, or the status the one-by-one path would return. A signature that passes can
 * still fail recovery only by recovering the point at infinity, which the batch equation
 * rejects and the fallback then reports through libsecp256k1.
 */
static int precheck(const uint8_t sig[65], cand_t *c) {
    uint64_t sw[4];
    bv_load_words(sw, sig + 32);
    if (bv_cmp4(sw, BV_HALF_N) > 0) return PM_ERR_SIG_HIGH_S;
    if (sig[64] != 27 && sig[64] != 28) return PM_ERR_SIG_V;
    if (bv_sc_set_b32(&c->r, sig)) return PM_ERR_SIG_RECOVER;
    bv_sc_set_b32(&c->s, sig + 32);
    if (bv_sc_is_zero(&c->r) || bv_sc_is_zero(&c->s)) return PM_ERR_SIG_RECOVER;
    return PM_OK; /* the curve-point check follows in decompress_pending */
}

/* Decompresses R (x = r < n < p, parity from v) for every pending ticket, two at a time;
 * a ticket whose r has no curve point gets PM_ERR_SIG_RECOVER like libsecp256k1 gives. */
static void decompress_pending(cand_t *cand, const uint8_t *sigs, uint8_t *status, size_t n) {
    size_t held = n; /* a pending ticket waiting for a partner */
    for (size_t i = 0; i < n; i++) {
        if (status[i] != PENDING) continue;
        if (held == n) { held = i; continue; }
        bv_fe x[2];
        int odd[2] = {sigs[PM_SIG_LEN * held + 64] == 28, sigs[PM_SIG_LEN * i + 64] == 28}, ok[2];
        bv_ge R[2];
        bv_fe_from_words(&x[0], cand[held].r.d);
        bv_fe_from_words(&x[1], cand[i].r.d);
        bv_ge_set_xo2(R, ok, x, odd);
        if (ok[0]) cand[held].R = R[0]; else status[held] = PM_ERR_SIG_RECOVER;
        if (ok[1]) cand[i].R = R[1]; else status[i] = PM_ERR_SIG_RECOVER;
        held = n;
    }
    if (held != n) {
        bv_fe x;
        bv_fe_from_words(&x, cand[held].r.d);
        if (!bv_ge_set_xo(&cand[held].R, &x, sigs[PM_SIG_LEN * held + 64] == 28))
            status[held] = PM_ERR_SIG_RECOVER;
    }
}

typedef struct {
    const uint8_t *flat;
    size_t flatlen;
    const uint32_t *nonces;
    const uint8_t *sigs;
    const uint8_t *sender;
    const uint8_t *rand32;
    uint8_t *status, *won;
    work_t *w;
    size_t ncand;
    bv_sc cg_q, cr_q; /* per unit of q: coefficient of G is -g + q cg_q, of R0 is -q cr_q */
} ctx_t;

/* The one-by-one path for ticket i: exactly what pm_validate_tickets says. */
static int single(ctx_t *x, size_t i) {
    return pm_validate_tickets(x->flat, x->flatlen, x->nonces + i, x->sigs + PM_SIG_LEN * i, 1,
                               x->sender, x->rand32, x->status + i, x->won + i);
}

/* 1 iff the batch equation holds over candidates [lo, hi). */
static int check_range(ctx_t *x, size_t lo, size_t hi) {
    bv_sc g = {{0}}, q = {{0}}, cg, cr, t;
    for (size_t k = lo; k < hi; k++) {
        bv_sc_add(&g, &g, &x->w->cand[k].e);
        bv_sc_add(&q, &q, &x->w->cand[k].f);
    }
    bv_sc_mul(&t, &q, &x->cg_q);
    bv_sc_negate(&cg, &g);
    bv_sc_add(&cg, &cg, &t);
    bv_sc_mul(&t, &q, &x->cr_q);
    bv_sc_negate(&cr, &t);
    msm_set_fixed(&x->w->msm, &cg, &cr);
    bv_gej acc;
    if (hi - lo >= BV_BUCKET_MIN) msm_eval_buckets(&x->w->msm, lo, hi, &x->w->bk, &acc);
    else msm_eval(&x->w->msm, lo, hi, &acc);
    return acc.inf;
}

static int mark_ok(ctx_t *x, size_t lo, size_t hi) {
    for (size_t k = lo; k < hi; k++) {
        size_t i = x->w->cand[k].idx;
        x->status[i] = PM_OK;
        x->won[i] = 0;
        if (x->rand32 != NULL) {
            /* spec/protocol.md §3: keccak(sig || u256(rand)) < winProb (template bytes 72..104),
             * the same test as pm_win_check */
            uint8_t h[32];
            pm_keccak256_2(x->sigs + PM_SIG_LEN * i, PM_SIG_LEN, x->rand32, 32, h);
            x->won[i] = memcmp(h, x->flat + 72, 32) < 0;
        }
    }
    return PM_OK;
}

/* [lo, hi) is known to hold at least one bad ticket (a batch of valid tickets always passes). */
static int find_bad(ctx_t *x, size_t lo, size_t hi) {
    if (hi - lo <= BV_LEAF) {
        for (size_t k = lo; k < hi; k++) {
            int rc = single(x, x->w->cand[k].idx);
            if (rc != PM_OK) return rc;
        }
        return PM_OK;
    }
    size_t mid = lo + (hi - lo) / 2;
    int rc;
    if (check_range(x, lo, mid)) {
        rc = mark_ok(x, lo, mid);
        return rc != PM_OK ? rc : find_bad(x, mid, hi);
    }
    rc = find_bad(x, lo, mid);
    if (rc != PM_OK) return rc;
    if (check_range(x, mid, hi)) return mark_ok(x, mid, hi);
    return find_bad(x, mid, hi);
}

/*
 * The sender's key as an affine point if pub64 (x || y, big-endian) is on the curve AND its
 * address (last 20 bytes of keccak(x || y), spec/protocol.md §2.3 step 4) is the expected
 * sender: a key that passes is exactly what libsecp256k1 recovers from every valid ticket.
 */
static int sender_key(const uint8_t *pub64, const uint8_t *sender20, bv_ge *q) {
    uint8_t h[32];
    if (pub64 == NULL) return 0;
    if (!bv_fe_set_b32(&q->x, pub64) || !bv_fe_set_b32(&q->y, pub64 + 32) || !bv_ge_on_curve(q))
        return 0;
    pm_keccak256_raw(pub64, 64, h);
    return memcmp(h + 12, sender20, 20) == 0;
}

int pm_bv_validate_tickets(const uint8_t *flat_template, size_t flatlen, const uint32_t *nonces,
                           const uint8_t *sigs, size_t n, const uint8_t *expected_sender20,
                           const uint8_t *rand32, const uint8_t *weights, void *scratch,
                           size_t scratch_len, uint8_t *status, uint8_t *won) {
    return pm_bv_validate_tickets_key(flat_template, flatlen, nonces, sigs, n, expected_sender20,
                                      NULL, rand32, weights, scratch, scratch_len, status, won);
}

int pm_bv_validate_tickets_key(const uint8_t *flat_template, size_t flatlen,
                               const uint32_t *nonces, const uint8_t *sigs, size_t n,
                               const uint8_t *expected_sender20, const uint8_t *sender_pub64,
                               const uint8_t *rand32, const uint8_t *weights, void *scratch,
                               size_t scratch_len, uint8_t *status, uint8_t *won) {
    if ((flatlen != PM_FLAT_NO_AUX && flatlen != PM_FLAT_WITH_AUX) || flat_template == NULL ||
        expected_sender20 == NULL)
        return PM_ERR_ARG;
    if (n == 0) return PM_OK;
    if (n > BV_MAX_N || nonces == NULL || sigs == NULL || status == NULL || won == NULL ||
        weights == NULL || scratch == NULL)
        return PM_ERR_ARG;
    work_t w;
    if (!carve(&w, scratch, scratch_len, n)) return PM_ERR_ARG;
    ctx_t x = {flat_template, flatlen, nonces, sigs, expected_sender20, rand32, status, won, &w, 0,
               {{0}}, {{0}}};

    /* 1. Pre-checks; pending tickets keep their scalars in cand[i] for now (cand has n slots). */
    for (size_t i = 0; i < n; i++) {
        int st = precheck(sigs + PM_SIG_LEN * i, &w.cand[i]);
        status[i] = st == PM_OK ? PENDING : (uint8_t)st;
        won[i] = 0;
    }
    decompress_pending(w.cand, sigs, status, n);
    /* 2. The sender's key: given (and checked against the sender's address), or else the
     * anchor, the first ticket the one-by-one path accepts, which stands in for it. */
    bv_ge key;
    int have_key = sender_key(sender_pub64, expected_sender20, &key);
    size_t anchor = n, first = 0;
    cand_t a0;
    if (!have_key) {
        for (size_t i = 0; i < n && anchor == n; i++) {
            if (status[i] != PENDING) continue;
            int rc = single(&x, i);
            if (rc != PM_OK) return rc;
            if (status[i] == PM_OK) anchor = i;
        }
        if (anchor == n) return PM_OK;
        a0 = w.cand[anchor];
        first = anchor + 1;
    }
    /* 3. Compact the remaining pending tickets into cand[0..ncand), hashing each. */
    uint8_t flat[PM_FLAT_WITH_AUX];
    memcpy(flat, flat_template, flatlen);
    size_t nc = 0;
    for (size_t i = first; i < n; i++) {
        if (status[i] != PENDING) continue;
        cand_t *c = &w.cand[nc++];
        if (c != &w.cand[i]) *c = w.cand[i];
        c->idx = i;
        uint8_t digest[32];
        pm_put_nonce(flat, nonces[i]);
        ticket_digest(flat, flatlen, digest);
        bv_sc_set_b32(&c->z, digest);
    }
    x.ncand = nc;
    if (nc == 0) return PM_OK;
    if (have_key) {
        /* Q itself: coefficient of G is -g, of Q is -q */
        memset(&a0, 0, sizeof a0);
        a0.r.d[0] = 1;
        a0.s.d[0] = 1;
        a0.R = key;
    } else {
        uint8_t digest[32];
        pm_put_nonce(flat, nonces[anchor]);
        ticket_digest(flat, flatlen, digest);
        bv_sc_set_b32(&a0.z, digest);
    }
    /* 4. Montgomery batch inversion of every s_i and of r0 (1 with a known key). */
    bv_sc acc = a0.r, inv;
    for (size_t k = 0; k < nc; k++) {
        w.cand[k].pre = acc;
        bv_sc_mul(&acc, &acc, &w.cand[k].s);
    }
    bv_sc_inv(&inv, &acc);
    for (size_t k = nc; k-- > 0;) {
        bv_sc_mul(&w.cand[k].inv, &inv, &w.cand[k].pre);
        bv_sc_mul(&inv, &inv, &w.cand[k].s);
    }
    bv_sc r0inv = inv;
    bv_sc_mul(&x.cg_q, &a0.z, &r0inv);
    bv_sc_mul(&x.cr_q, &a0.s, &r0inv);
    /* 5. Weights and per-candidate scalars; base points and their wNAFs. */
    msm_t *msm = &w.msm;
    msm->m = BV_NBASE_FIXED + nc;
    bv_ge g, h;
    ge_from_words(&g, G_X, G_Y);
    ge_from_words(&h, H_X, H_Y);
    bv_gej_set_ge(&w.base[0], &g);
    bv_gej_set_ge(&w.base[1], &h);
    bv_gej_set_ge(&w.base[2], &a0.R);
    for (size_t k = 0; k < nc; k++) {
        cand_t *c = &w.cand[k];
        bv_sc a, t;
        size_t h0 = BV_NHALF_FIXED + 2 * k;
        expand_weight(msm->naf + h0 * BV_HLEN, msm->naf + (h0 + 1) * BV_HLEN, msm->used + h0, &a,
                      weights + PM_BV_WEIGHT_LEN * c->idx);
        bv_sc_mul(&t, &a, &c->inv);
        bv_sc_mul(&c->e, &t, &c->z);
        bv_sc_mul(&c->f, &t, &c->r);
        bv_gej_set_ge(&w.base[BV_NBASE_FIXED + k], &c->R);
    }
    if (!msm_tables(msm, w.base, w.tmp, w.pre)) {
        /* Cannot happen for points of prime order; fall back to the one-by-one path. */
        for (size_t k = 0; k < nc; k++) {
            int rc = single(&x, w.cand[k].idx);
            if (rc != PM_OK) return rc;
        }
        return PM_OK;
    }
    /* 6. One MSM for everything; bisection only when it fails. */
    if (check_range(&x, 0, nc)) return mark_ok(&x, 0, nc);
    return find_bad(&x, 0, nc);
}

/*
 * The signer's public key of one ticket (flat template with this nonce, 65-byte signature) by
 * our own arithmetic, Q = r^-1 (s R - z G), as x || y: for callers that cache a sender's key
 * for pm_bv_validate_tickets_key after the one-by-one path has accepted a ticket (the key is
 * re-checked against the sender's address there). Returns PM_OK, the pre-check status
 * (high s, v, no point), or PM_ERR_SIG_RECOVER when Q is the point at infinity.
 */
int pm_bv_ticket_key(const uint8_t *flat_template, size_t flatlen, uint32_t nonce,
                     const uint8_t *sig65, uint8_t *pub64) {
    if ((flatlen != PM_FLAT_NO_AUX && flatlen != PM_FLAT_WITH_AUX) || flat_template == NULL ||
        sig65 == NULL || pub64 == NULL)
        return PM_ERR_ARG;
    cand_t c;
    int st = precheck(sig65, &c);
    if (st != PM_OK) return st;
    bv_fe x;
    bv_fe_from_words(&x, c.r.d);
    if (!bv_ge_set_xo(&c.R, &x, sig65[64] == 28)) return PM_ERR_SIG_RECOVER;
    uint8_t flat[PM_FLAT_WITH_AUX], digest[32];
    memcpy(flat, flat_template, flatlen);
    pm_put_nonce(flat, nonce);
    ticket_digest(flat, flatlen, digest);
    bv_sc z, rinv, u1, u2;
    bv_sc_set_b32(&z, digest);
    bv_sc_inv(&rinv, &c.r);
    bv_sc_mul(&u1, &z, &rinv);
    bv_sc_negate(&u1, &u1); /* -z/r */
    bv_sc_mul(&u2, &c.s, &rinv); /* s/r */
    uint8_t a[32], b[32], p[64];
    bv_sc_get_b32(a, &u1);
    bv_sc_get_b32(b, &u2);
    bv_fe_get_b32(p, &c.R.x);
    bv_fe_get_b32(p + 32, &c.R.y);
    return pm_bv_selftest(9, a, b, p, pub64);
}

/* ------------------------------------------------------------------ test shim */

/*
 * Exposes the arithmetic to the differential tests (tests/test_batch_verify*.py): big-endian
 * 32-byte operands a, b; out receives 32 or 64 bytes. Returns PM_OK, PM_ERR_ARG for an unknown
 * op or NULL pointer, or PM_ERR_SIG_RECOVER when the result does not exist (no square root,
 * no point, infinity).
 *   1 fe_mul  2 fe_sqr  3 fe_inv  4 fe_sqrt  5 sc_mul  6 sc_inv  7 sc_add
 *   8 decompress(x = a, parity = b[31] & 1) -> x||y
 *   9 a*G + b*P for P = c (64 bytes x||y), through the batch MSM -> x||y
 */
int pm_bv_selftest(int op, const uint8_t *a, const uint8_t *b, const uint8_t *c, uint8_t *out) {
    if (a == NULL || b == NULL || out == NULL) return PM_ERR_ARG;
    bv_fe fa, fb, fr;
    bv_sc sa, sb, sr;
    uint64_t wa[4], wb[4];
    bv_load_words(wa, a);
    bv_load_words(wb, b);
    bv_fe_from_words(&fa, wa);
    bv_fe_from_words(&fb, wb);
    bv_sc_set_b32(&sa, a);
    bv_sc_set_b32(&sb, b);
    switch (op) {
    case 1: bv_fe_mul(&fr, &fa, &fb); bv_fe_get_b32(out, &fr); return PM_OK;
    case 2: bv_fe_sqr(&fr, &fa); bv_fe_get_b32(out, &fr); return PM_OK;
    case 3: bv_fe_inv(&fr, &fa); bv_fe_get_b32(out, &fr); return PM_OK;
    case 4:
        if (!bv_fe_sqrt(&fr, &fa)) return PM_ERR_SIG_RECOVER;
        bv_fe_get_b32(out, &fr);
        return PM_OK;
    case 5: bv_sc_mul(&sr, &sa, &sb); bv_sc_get_b32(out, &sr); return PM_OK;
    case 6: bv_sc_inv(&sr, &sa); bv_sc_get_b32(out, &sr); return PM_OK;
    case 7: bv_sc_add(&sr, &sa, &sb); bv_sc_get_b32(out, &sr); return PM_OK;
    case 8: {
        bv_ge p;
        if (!bv_fe_set_b32(&fa, a) || !bv_ge_set_xo(&p, &fa, b[31] & 1)) return PM_ERR_SIG_RECOVER;
        bv_fe_get_b32(out, &p.x);
        bv_fe_get_b32(out + 32, &p.y);
        return PM_OK;
    }
    case 9: {
        if (c == NULL) return PM_ERR_ARG;
        bv_ge p;
        if (!bv_fe_set_b32(&p.x, c) || !bv_fe_set_b32(&p.y, c + 32) || !bv_ge_on_curve(&p))
            return PM_ERR_ARG;
        bv_gej base[BV_NBASE_FIXED], tmp[BV_NBASE_FIXED * BV_TBL];
        bv_fe pre[BV_NBASE_FIXED * BV_TBL];
        bv_ge tbl[BV_NBASE_FIXED * BV_TBL];
        int8_t naf[BV_NHALF_FIXED * BV_HLEN];
        int used[BV_NHALF_FIXED];
        msm_t m = {BV_NBASE_FIXED, tbl, naf, used};
        bv_ge g, h;
        ge_from_words(&g, G_X, G_Y);
        ge_from_words(&h, H_X, H_Y);
        bv_gej_set_ge(&base[0], &g);
        bv_gej_set_ge(&base[1], &h);
        bv_gej_set_ge(&base[2], &p);
        if (!msm_tables(&m, base, tmp, pre)) return PM_ERR_ARG;
        msm_set_fixed(&m, &sa, &sb);
        bv_gej acc;
        msm_eval(&m, 0, 0, &acc);
        if (acc.inf) return PM_ERR_SIG_RECOVER;
        bv_ge res;
        bv_fe pz;
        if (!bv_gej_batch_to_ge(&res, &acc, 1, &pz)) return PM_ERR_SIG_RECOVER;
        bv_fe_get_b32(out, &res.x);
        bv_fe_get_b32(out + 32, &res.y);
        return PM_OK;
    }
    default: return PM_ERR_ARG;
    }
}
