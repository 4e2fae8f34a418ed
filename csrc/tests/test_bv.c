/*
 * Standalone test harness for the batch verifier (csrc/bv_*.c, issue 10).
 *
 * Build and run (plain and under ASan+UBSan): sh csrc/tests/test_bv.sh [rounds] [seed]
 * or by hand:
 *   gcc -O2 -std=c11 -Wall -Wextra -Wno-comment -Icsrc -rdynamic csrc/tests/test_bv.c \
 *       csrc/keccak.c csrc/secp.c -ldl -o /tmp/test_bv
 *   /tmp/test_bv "$(python -c 'import coincurve._libsecp256k1 as m; print(m.__file__)')" 200
 *   (add -fsanitize=address,undefined -fno-sanitize-recover=all for the sanitizer build)
 * Long differential run (>= 1,000,000 signatures against libsecp256k1; a few minutes on one core):
 *   /tmp/test_bv "$lib" 14000 1   # 14000 random batches (sizes 1..1024, mean ~75 tickets)
 *
 * Part 1 (no libsecp256k1 needed): field and scalar arithmetic
 * against a deliberately naive reference (double-and-add modular multiplication on 4x64
 * words), including inputs at the magnitude limits; decompression; the GLV constants, the GLV
 * split, wNAF halves and sparse weights (digit shape and value); the MSM against naive affine
 * double-and-add built on the reference arithmetic, including P + P and P - P.
 *
 * Part 2 (when a shared object exporting libsecp256k1 is given, e.g. coincurve's
 * _libsecp256k1*.so): pm_bv_validate_tickets_key (no key, the sender's key, another sender's
 * key, an off-curve point) against the one-by-one path pm_validate_tickets on random batches
 * with mutated tickets (r, s, v, parity, digest, wrong signer, high s, r >= n, r with no curve
 * point, s = 0, r = 0, s = 1, s = floor(n/2)), repeated tickets and parity flips under equal
 * weights (bucket doublings and cancellations); every status and win flag must be identical.
 * pm_bv_ticket_key against the same verdicts.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "../bv_batch.c"

/* coincurve's extension references this libpython data symbol; data symbols bind at dlopen
 * time even with RTLD_LAZY, so the harness exports a stand-in (link with -rdynamic). No Python
 * function in the extension is ever called. */
__attribute__((visibility("default"))) unsigned char _Py_NoneStruct[64];

static int failures = 0;
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            if (failures < 20) {                                           \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);       \
                fprintf(stderr, __VA_ARGS__);                              \
                fprintf(stderr, "\n");                                     \
            }                                                              \
        }                                                                  \
    } while (0)

/* ------------------------------------------------------------ rng */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd64(void) {
    uint64_t x = rng_state;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
static void rnd_bytes(uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)rnd64();
}

/* ------------------------------------------------------------ naive reference */
typedef struct { uint64_t w[4]; } ref_t;
static const ref_t REF_P = {{0xFFFFFFFEFFFFFC2FULL, ~0ULL, ~0ULL, ~0ULL}};
static const ref_t REF_N = {{0xBFD25E8CD0364141ULL, 0xBAAEDCE6AF48A03BULL,
                             0xFFFFFFFFFFFFFFFEULL, 0xFFFFFFFFFFFFFFFFULL}};

static int ref_cmp(const ref_t *a, const ref_t *b) { return bv_cmp4(a->w, b->w); }

static void ref_sub_raw(ref_t *r, const ref_t *a, const ref_t *b) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        bv_u128 t = (bv_u128)a->w[i] - b->w[i] - borrow;
        r->w[i] = (uint64_t)t;
        borrow = (uint64_t)(t >> 64) & 1;
    }
}

/* a, b < m */
static void ref_add(ref_t *r, const ref_t *a, const ref_t *b, const ref_t *m) {
    ref_t s;
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        bv_u128 t = (bv_u128)a->w[i] + b->w[i] + carry;
        s.w[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
    if (carry || ref_cmp(&s, m) >= 0) ref_sub_raw(&s, &s, m);
    *r = s;
}

static void ref_sub(ref_t *r, const ref_t *a, const ref_t *b, const ref_t *m) {
    if (ref_cmp(a, b) >= 0) { ref_sub_raw(r, a, b); return; }
    ref_t t;
    ref_sub_raw(&t, m, b);
    ref_add(r, a, &t, m);
}

static void ref_mul(ref_t *r, const ref_t *a, const ref_t *b, const ref_t *m) {
    ref_t acc = {{0, 0, 0, 0}};
    for (int i = 255; i >= 0; i--) {
        ref_add(&acc, &acc, &acc, m);
        if ((b->w[i >> 6] >> (i & 63)) & 1) ref_add(&acc, &acc, a, m);
    }
    *r = acc;
}

static void ref_pow(ref_t *r, const ref_t *a, const ref_t *e, const ref_t *m) {
    ref_t acc = {{1, 0, 0, 0}};
    for (int i = 255; i >= 0; i--) {
        ref_mul(&acc, &acc, &acc, m);
        if ((e->w[i >> 6] >> (i & 63)) & 1) ref_mul(&acc, &acc, a, m);
    }
    *r = acc;
}

static void ref_inv(ref_t *r, const ref_t *a, const ref_t *m) {
    ref_t e = *m, two = {{2, 0, 0, 0}};
    ref_sub_raw(&e, &e, &two);
    ref_pow(r, a, &e, m);
}

static void ref_reduce(ref_t *r, const ref_t *m) {
    while (ref_cmp(r, m) >= 0) ref_sub_raw(r, r, m);
}

static void fe_to_ref(ref_t *r, const bv_fe *a) {
    bv_fe t = *a;
    bv_fe_normalize(&t);
    bv_fe_to_words(r->w, &t);
}

/* Random values biased towards edges: 0, 1, m-1, all-ones patterns, random. */
static void rnd_ref(ref_t *r, const ref_t *m) {
    switch (rnd64() % 8) {
    case 0: *r = (ref_t){{rnd64() % 3, 0, 0, 0}}; break;
    case 1: { ref_t one = {{1 + rnd64() % 3, 0, 0, 0}}; ref_sub_raw(r, m, &one); break; }
    case 2: r->w[0] = rnd64(); r->w[1] = ~0ULL; r->w[2] = ~0ULL; r->w[3] = ~0ULL >> (rnd64() % 2); break;
    case 3: for (int i = 0; i < 4; i++) r->w[i] = (rnd64() & 1) ? ~0ULL : 0; break;
    default: for (int i = 0; i < 4; i++) r->w[i] = rnd64(); break;
    }
    ref_reduce(r, m);
}

/* A field element equal to a (mod p) but with magnitude up to `mag`, to stress lazy limbs. */
static void fe_inflate(bv_fe *r, const ref_t *a, int mag) {
    bv_fe_from_words(r, a->w);
    /* add k*p spread over limbs without changing the value: add 2p limbwise k/2 times */
    for (int k = 1; k + 1 < mag; k += 2) {
        r->n[0] += 2 * BV_P0; r->n[1] += 2 * BV_P1; r->n[2] += 2 * BV_P1;
        r->n[3] += 2 * BV_P1; r->n[4] += 2 * BV_P4;
    }
}

static void test_field(int rounds) {
    for (int it = 0; it < rounds; it++) {
        ref_t a, b, want, got;
        rnd_ref(&a, &REF_P);
        rnd_ref(&b, &REF_P);
        bv_fe fa, fb, fr;
        int mag = 1 + (int)(rnd64() % 8);
        fe_inflate(&fa, &a, mag);
        fe_inflate(&fb, &b, 1 + (int)(rnd64() % 8));
        ref_mul(&want, &a, &b, &REF_P);
        bv_fe_mul(&fr, &fa, &fb);
        fe_to_ref(&got, &fr);
        CHECK(ref_cmp(&want, &got) == 0, "fe_mul it=%d", it);
        ref_mul(&want, &a, &a, &REF_P);
        bv_fe_sqr(&fr, &fa);
        fe_to_ref(&got, &fr);
        CHECK(ref_cmp(&want, &got) == 0, "fe_sqr it=%d", it);
        /* negate + add */
        ref_sub(&want, &b, &a, &REF_P);
        bv_fe_negate(&fr, &fa, (uint64_t)mag);
        bv_fe_add(&fr, &fb);
        fe_to_ref(&got, &fr);
        CHECK(ref_cmp(&want, &got) == 0, "fe_negate it=%d mag=%d", it, mag);
        if (it % 8 == 0) {
            int zero = (a.w[0] | a.w[1] | a.w[2] | a.w[3]) == 0;
            if (!zero) {
                ref_inv(&want, &a, &REF_P);
                bv_fe_inv(&fr, &fa);
                fe_to_ref(&got, &fr);
                CHECK(ref_cmp(&want, &got) == 0, "fe_inv it=%d", it);
            }
            /* sqrt: of a square must succeed with root^2 == value; a non-square must fail */
            ref_t sq;
            ref_mul(&sq, &a, &a, &REF_P);
            bv_fe fsq, root;
            bv_fe_from_words(&fsq, sq.w);
            CHECK(bv_fe_sqrt(&root, &fsq), "sqrt of square failed it=%d", it);
            ref_t rr;
            fe_to_ref(&rr, &root);
            ref_mul(&rr, &rr, &rr, &REF_P);
            CHECK(ref_cmp(&rr, &sq) == 0, "sqrt wrong it=%d", it);
            if (!zero) {
                /* -1 is a non-residue mod p (p = 3 mod 4), so -a^2 has no root */
                ref_t nsq;
                ref_sub(&nsq, &(ref_t){{0, 0, 0, 0}}, &sq, &REF_P);
                bv_fe_from_words(&fsq, nsq.w);
                CHECK(!bv_fe_sqrt(&root, &fsq), "sqrt of non-square succeeded it=%d", it);
            }
        }
    }
    /* bv_fe_set_b32 limit */
    uint8_t b[32];
    bv_fe f;
    bv_store_words(b, REF_P.w);
    CHECK(!bv_fe_set_b32(&f, b), "p accepted as field element");
    b[31]--;
    CHECK(bv_fe_set_b32(&f, b), "p-1 rejected");
}

static void test_scalar(int rounds) {
    for (int it = 0; it < rounds; it++) {
        ref_t a, b, want;
        rnd_ref(&a, &REF_N);
        rnd_ref(&b, &REF_N);
        bv_sc sa, sb, sr;
        memcpy(sa.d, a.w, 32);
        memcpy(sb.d, b.w, 32);
        ref_mul(&want, &a, &b, &REF_N);
        bv_sc_mul(&sr, &sa, &sb);
        CHECK(memcmp(sr.d, want.w, 32) == 0, "sc_mul it=%d", it);
        ref_add(&want, &a, &b, &REF_N);
        bv_sc_add(&sr, &sa, &sb);
        CHECK(memcmp(sr.d, want.w, 32) == 0, "sc_add it=%d", it);
        ref_sub(&want, &(ref_t){{0, 0, 0, 0}}, &a, &REF_N);
        bv_sc_negate(&sr, &sa);
        CHECK(memcmp(sr.d, want.w, 32) == 0, "sc_negate it=%d", it);
        if (it % 16 == 0 && (a.w[0] | a.w[1] | a.w[2] | a.w[3])) {
            ref_inv(&want, &a, &REF_N);
            bv_sc_inv(&sr, &sa);
            CHECK(memcmp(sr.d, want.w, 32) == 0, "sc_inv it=%d", it);
        }
        /* set_b32 reduces values >= n */
        uint8_t raw[32];
        rnd_bytes(raw, 32);
        if (it % 4 == 0) { bv_store_words(raw, REF_N.w); raw[31] += (uint8_t)(rnd64() % 4); }
        ref_t v;
        bv_load_words(v.w, raw);
        int over = ref_cmp(&v, &REF_N) >= 0;
        ref_reduce(&v, &REF_N);
        CHECK(bv_sc_set_b32(&sr, raw) == over, "sc_set_b32 overflow flag it=%d", it);
        CHECK(memcmp(sr.d, v.w, 32) == 0, "sc_set_b32 it=%d", it);
    }
}

/* ------------------------------------------------------------ reference points (affine) */
typedef struct { ref_t x, y; int inf; } rpt_t;

static void rpt_add(rpt_t *r, const rpt_t *a, const rpt_t *b) {
    if (a->inf) { *r = *b; return; }
    if (b->inf) { *r = *a; return; }
    ref_t l, t, u;
    if (ref_cmp(&a->x, &b->x) == 0) {
        ref_t sum;
        ref_add(&sum, &a->y, &b->y, &REF_P);
        if ((sum.w[0] | sum.w[1] | sum.w[2] | sum.w[3]) == 0) { r->inf = 1; return; }
        ref_t three = {{3, 0, 0, 0}};
        ref_mul(&t, &a->x, &a->x, &REF_P);
        ref_mul(&t, &t, &three, &REF_P);
        ref_add(&u, &a->y, &a->y, &REF_P);
    } else {
        ref_sub(&t, &b->y, &a->y, &REF_P);
        ref_sub(&u, &b->x, &a->x, &REF_P);
    }
    ref_inv(&u, &u, &REF_P);
    ref_mul(&l, &t, &u, &REF_P);
    rpt_t o;
    ref_mul(&o.x, &l, &l, &REF_P);
    ref_sub(&o.x, &o.x, &a->x, &REF_P);
    ref_sub(&o.x, &o.x, &b->x, &REF_P);
    ref_sub(&t, &a->x, &o.x, &REF_P);
    ref_mul(&o.y, &l, &t, &REF_P);
    ref_sub(&o.y, &o.y, &a->y, &REF_P);
    o.inf = 0;
    *r = o;
}

static void rpt_mul(rpt_t *r, const rpt_t *p, const ref_t *k) {
    rpt_t acc = {.inf = 1};
    for (int i = 255; i >= 0; i--) {
        rpt_add(&acc, &acc, &acc);
        if ((k->w[i >> 6] >> (i & 63)) & 1) rpt_add(&acc, &acc, p);
    }
    *r = acc;
}

static void test_points(int rounds) {
    /* wNAF identity of halves, the GLV split, and the sparse weights */
    bv_fe beta;
    bv_fe_from_words(&beta, BV_BETA);
    {
        /* beta and lambda: lambda G = (beta Gx, Gy), both cube roots of unity */
        rpt_t G0 = {.inf = 0}, LG;
        memcpy(G0.x.w, G_X, 32);
        memcpy(G0.y.w, G_Y, 32);
        ref_t lam;
        memcpy(lam.w, BV_LAMBDA.d, 32);
        rpt_mul(&LG, &G0, &lam);
        ref_t bx, b3, one = {{1, 0, 0, 0}};
        memcpy(bx.w, BV_BETA, 32);
        ref_mul(&bx, &bx, &G0.x, &REF_P);
        CHECK(ref_cmp(&LG.x, &bx) == 0 && ref_cmp(&LG.y, &G0.y) == 0, "lambda G = (beta x, y)");
        memcpy(b3.w, BV_BETA, 32);
        ref_t b2;
        ref_mul(&b2, &b3, &b3, &REF_P);
        ref_mul(&b3, &b2, &b3, &REF_P);
        CHECK(ref_cmp(&b3, &one) == 0, "beta^3 = 1");
    }
    for (int it = 0; it < rounds * 4; it++) {
        int8_t naf[2][BV_HLEN];
        int used[2];
        bv_sc a;
        int mode = it % 3;
        if (mode == 0) { /* sparse weight */
            uint8_t rb[PM_BV_WEIGHT_LEN];
            rnd_bytes(rb, sizeof rb);
            if (it % 7 == 1) memset(rb, 0xFF, sizeof rb);
            if (it % 7 == 3) memset(rb, 0, sizeof rb);
            expand_weight(naf[0], naf[1], used, &a, rb);
        } else { /* GLV split of a random / edge scalar */
            uint8_t kb[32];
            rnd_bytes(kb, 32);
            if (it % 5 == 1) memset(kb, 0xFF, 32);
            if (it % 5 == 2) memset(kb, 0, 32);
            if (it % 5 == 3) { memset(kb, 0, 32); kb[31] = 1; }
            bv_sc_set_b32(&a, kb);
            bv_sc k1, k2;
            glv_split(&a, &k1, &k2);
            used[0] = wnaf_signed(naf[0], &k1);
            used[1] = wnaf_signed(naf[1], &k2);
            if (mode == 2) { /* plain 128-bit halves, as for the G coefficient */
                uint64_t lo[3] = {a.d[0], a.d[1], 0}, hi[3] = {a.d[2], a.d[3], 0};
                used[0] = wnaf_half(naf[0], lo, 0);
                used[1] = wnaf_half(naf[1], hi, 0);
            }
        }
        /* recompute sum naf0[i] 2^i + M (sum naf1[i] 2^i) mod n, M = lambda or 2^128 */
        bv_sc sum[2];
        int nonzero = 0;
        for (int h = 0; h < 2; h++) {
            bv_sc acc = {{0, 0, 0, 0}};
            int last = -100;
            for (int i = BV_HLEN - 1; i >= 0; i--) {
                bv_sc_add(&acc, &acc, &acc);
                int d = naf[h][i];
                CHECK(d == 0 || ((d & 1) && d < (1 << (BV_W - 1)) && d > -(1 << (BV_W - 1))),
                      "wnaf digit %d", d);
                CHECK(i < used[h] || d == 0, "wnaf digit beyond used");
                CHECK(used[h] <= 130, "wnaf length %d", used[h]);
                if (d == 0) continue;
                nonzero++;
                CHECK(last < 0 || last - i >= BV_W, "wnaf spacing %d %d", last, i);
                if (mode == 0) CHECK(i < BV_HPOS, "weight digit position %d", i);
                last = i;
                bv_sc dd = {{(uint64_t)(d < 0 ? -d : d), 0, 0, 0}};
                if (d < 0) bv_sc_negate(&dd, &dd);
                bv_sc_add(&acc, &acc, &dd);
            }
            sum[h] = acc;
        }
        bv_sc mult = BV_LAMBDA, total;
        if (mode == 2) { bv_sc t128 = {{0, 0, 1, 0}}; mult = t128; }
        bv_sc_mul(&total, &sum[1], &mult);
        bv_sc_add(&total, &total, &sum[0]);
        CHECK(memcmp(total.d, a.d, 32) == 0, "half sum mode=%d it=%d", mode, it);
        if (mode == 0) CHECK(nonzero == BV_K || (nonzero == 1 && a.d[0] == 1), "weight digits %d", nonzero);
    }
    rpt_t G = {.inf = 0};
    memcpy(G.x.w, G_X, 32);
    memcpy(G.y.w, G_Y, 32);
    {
        ref_t two128 = {{0, 0, 1, 0}};
        rpt_t H;
        rpt_mul(&H, &G, &two128);
        CHECK(memcmp(H.x.w, H_X, 32) == 0 && memcmp(H.y.w, H_Y, 32) == 0, "H = 2^128 G");
    }
    /* decompression and a*G + b*P through the MSM against the naive reference */
    int found = 0;
    for (int it = 0; it < rounds / 4 + 4; it++) {
        ref_t x;
        rnd_ref(&x, &REF_P);
        bv_fe fx;
        bv_fe_from_words(&fx, x.w);
        bv_ge p;
        int odd = (int)(rnd64() & 1);
        /* reference: x^3 + 7 a square iff (x^3+7)^((p-1)/2) != p-1 */
        ref_t c, e = REF_P, one = {{1, 0, 0, 0}}, leg;
        ref_mul(&c, &x, &x, &REF_P);
        ref_mul(&c, &c, &x, &REF_P);
        ref_add(&c, &c, &(ref_t){{7, 0, 0, 0}}, &REF_P);
        ref_sub_raw(&e, &e, &one);
        for (int i = 0; i < 4; i++) e.w[i] = (e.w[i] >> 1) | (i < 3 ? e.w[i + 1] << 63 : 0);
        ref_pow(&leg, &c, &e, &REF_P);
        int square = ref_cmp(&leg, &one) == 0 || (c.w[0] | c.w[1] | c.w[2] | c.w[3]) == 0;
        int ok = bv_ge_set_xo(&p, &fx, odd);
        CHECK(ok == square, "decompress existence it=%d", it);
        if (!ok) continue;
        found++;
        CHECK(bv_ge_on_curve(&p), "decompressed point off curve");
        ref_t py;
        fe_to_ref(&py, &p.y);
        CHECK((int)(py.w[0] & 1) == odd, "decompress parity");
        /* a*G + b*P */
        uint8_t a32[32], b32[32], p64[64], out[64];
        rnd_bytes(a32, 32);
        rnd_bytes(b32, 32);
        if (it % 3 == 0) memset(a32, 0, 16);
        if (it % 4 == 0) memset(b32, 0xFF, 32);
        bv_fe_get_b32(p64, &p.x);
        bv_fe_get_b32(p64 + 32, &p.y);
        int rc = pm_bv_selftest(9, a32, b32, p64, out);
        ref_t ka, kb;
        bv_load_words(ka.w, a32);
        bv_load_words(kb.w, b32);
        ref_reduce(&ka, &REF_N);
        ref_reduce(&kb, &REF_N);
        rpt_t P = {.inf = 0}, A, B, S;
        P.x = x;
        P.y = py;
        rpt_mul(&A, &G, &ka);
        rpt_mul(&B, &P, &kb);
        rpt_add(&S, &A, &B);
        if (S.inf) {
            CHECK(rc == PM_ERR_SIG_RECOVER, "msm: expected infinity");
        } else {
            ref_t ox, oy;
            bv_load_words(ox.w, out);
            bv_load_words(oy.w, out + 32);
            CHECK(rc == PM_OK && ref_cmp(&ox, &S.x) == 0 && ref_cmp(&oy, &S.y) == 0,
                  "msm a*G + b*P it=%d rc=%d", it, rc);
        }
        /* exceptional case: k*P + (-k)*P... via a*G + b*G where b = -a gives infinity */
        if (it % 5 == 0) {
            uint8_t g64[64], nb[32];
            bv_store_words(g64, G_X);
            bv_store_words(g64 + 32, G_Y);
            bv_sc sa, sn;
            bv_sc_set_b32(&sa, a32);
            bv_sc_negate(&sn, &sa);
            bv_sc_get_b32(nb, &sn);
            rc = pm_bv_selftest(9, a32, nb, g64, out);
            CHECK(rc == PM_ERR_SIG_RECOVER, "a*G + (-a)*G must be infinity, rc=%d", rc);
            /* a*G + a*G = 2a*G (doubling inside additions) */
            rc = pm_bv_selftest(9, a32, a32, g64, out);
            bv_sc s2;
            bv_sc_add(&s2, &sa, &sa);
            ref_t k2;
            memcpy(k2.w, s2.d, 32);
            rpt_t D;
            rpt_mul(&D, &G, &k2);
            ref_t ox;
            bv_load_words(ox.w, out);
            CHECK(D.inf ? rc == PM_ERR_SIG_RECOVER : (rc == PM_OK && ref_cmp(&ox, &D.x) == 0),
                  "a*G + a*G it=%d", it);
        }
    }
    CHECK(found > 0, "no decompressible x found");
}

/* ------------------------------------------------------------ part 2: against libsecp256k1 */

typedef void *(*ctx_create_fn)(unsigned int flags);

static int install_secp(const char *path) {
    void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return 0;
    }
    ctx_create_fn create = (ctx_create_fn)dlsym(h, "secp256k1_context_create");
    pm_secp_api api;
    memset(&api, 0, sizeof api);
    if (create == NULL) return 0;
    api.ctx = create(1 /* SECP256K1_CONTEXT_NONE */);
#define SYM(field, name) *(void **)(&api.field) = dlsym(h, name)
    SYM(ecdsa_sign_recoverable, "secp256k1_ecdsa_sign_recoverable");
    SYM(recoverable_signature_serialize_compact, "secp256k1_ecdsa_recoverable_signature_serialize_compact");
    SYM(recoverable_signature_parse_compact, "secp256k1_ecdsa_recoverable_signature_parse_compact");
    SYM(ecdsa_recover, "secp256k1_ecdsa_recover");
    SYM(ec_pubkey_serialize, "secp256k1_ec_pubkey_serialize");
    SYM(ec_pubkey_create, "secp256k1_ec_pubkey_create");
    SYM(ec_seckey_verify, "secp256k1_ec_seckey_verify");
#undef SYM
    api.uncompressed_flag = 2; /* SECP256K1_EC_UNCOMPRESSED */
    return pm_secp_install(&api) == PM_OK;
}

/* Replaces r by an x with no curve point (x^3 + 7 a non-square), keeping r < n. */
static void r_without_point(uint8_t sig[65]) {
    for (;;) {
        rnd_bytes(sig, 32);
        sig[0] &= 0x7F;
        bv_fe x;
        bv_ge p;
        bv_fe_set_b32(&x, sig);
        if (!bv_ge_set_xo(&p, &x, 0)) return;
    }
}

static void mutate(uint8_t sig[65], uint32_t *nonce, const uint8_t *other_sig, int kind) {
    switch (kind) {
    case 0: sig[rnd64() % 32] ^= (uint8_t)(1u << (rnd64() % 8)); break;          /* r */
    case 1: sig[32 + rnd64() % 32] ^= (uint8_t)(1u << (rnd64() % 8)); break;     /* s */
    case 2: sig[64] = sig[64] == 27 ? 28 : 27; break;                             /* parity */
    case 3: sig[64] = (uint8_t)(rnd64() % 256); break;                            /* v */
    case 4: *nonce ^= 1u << (rnd64() % 32); break;                                /* digest */
    case 5: memcpy(sig, other_sig, 65); break;                                    /* wrong signer */
    case 6: { /* high s: n - s */
        bv_sc s;
        bv_sc_set_b32(&s, sig + 32);
        bv_sc_negate(&s, &s);
        bv_sc_get_b32(sig + 32, &s);
        break;
    }
    case 7: { /* r >= n */
        uint8_t nb[32];
        bv_store_words(nb, BV_N);
        memcpy(sig, nb, 32);
        sig[31] += (uint8_t)(rnd64() % 3);
        if (rnd64() & 1) memset(sig, 0xFF, 32);
        break;
    }
    case 8: r_without_point(sig); break;
    case 9: memset(sig + 32, 0, 32); break;                                       /* s = 0 */
    case 10: memset(sig, 0, 32); break;                                           /* r = 0 */
    case 11: memset(sig + 32, 0, 31); sig[63] = 1; break;                         /* s = 1 */
    default: { /* s = floor(n/2) exactly (accepted bound) */
        bv_store_words(sig + 32, BV_HALF_N);
        break;
    }
    }
}

static void test_batches(int rounds) {
    uint8_t key[32], key2[32], sender[20], other[20];
    do rnd_bytes(key, 32); while (pm_seckey_address(key, sender) != PM_OK);
    do rnd_bytes(key2, 32); while (pm_seckey_address(key2, other) != PM_OK);
    /* public keys (x || y) by our own arithmetic: key * G + 0 * G */
    uint8_t pub[64], opub[64], g64[64], zero[32] = {0}, junk[64];
    bv_store_words(g64, G_X);
    bv_store_words(g64 + 32, G_Y);
    CHECK(pm_bv_selftest(9, key, zero, g64, pub) == PM_OK, "pubkey");
    CHECK(pm_bv_selftest(9, key2, zero, g64, opub) == PM_OK, "pubkey2");
    {
        uint8_t h[32];
        CHECK(pm_keccak256(pub, 64, h) == PM_OK && memcmp(h + 12, sender, 20) == 0,
              "address of our public key");
    }
    memcpy(junk, pub, 64);
    junk[63] ^= 1; /* off the curve */
    const uint8_t *keys[4] = {NULL, pub, opub, junk};
    static uint8_t flat[PM_FLAT_WITH_AUX];
    static uint8_t sigs[1100 * 65], osigs[1100 * 65], st1[1100], won1[1100], st2[1100], won2[1100];
    static uint8_t weights[1100 * PM_BV_WEIGHT_LEN];
    static uint32_t nonces[1100];
    size_t scratch_len = pm_bv_scratch_size(1100);
    void *scratch = malloc(scratch_len);
    long checked = 0;
    for (int it = 0; it < rounds; it++) {
        size_t flatlen = (rnd64() & 1) ? PM_FLAT_WITH_AUX : PM_FLAT_NO_AUX;
        rnd_bytes(flat, sizeof flat);
        memcpy(flat + 20, sender, 20);
        memset(flat + 72, 0, 32);
        flat[72] = (uint8_t)(rnd64() % 256); /* winProb: some tickets win */
        size_t n = (size_t[]){1, 2, 3, 5, 16, 17, 64, 100, 49, 300}[rnd64() % 10];
        if (it % 50 == 0) n = 1024;
        for (size_t i = 0; i < n; i++) nonces[i] = (uint32_t)(i + 1 + rnd64() % 3 * 1000);
        CHECK(pm_create_tickets(key, flat, flatlen, nonces, n, NULL, sigs) == PM_OK, "create");
        CHECK(pm_create_tickets(key2, flat, flatlen, nonces, n, NULL, osigs) == PM_OK, "create2");
        int nbad = (int)(rnd64() % 4);
        if (it % 3 == 0) nbad = 0;
        if (it % 17 == 0) nbad = (int)n;
        for (int b = 0; b < nbad; b++) {
            size_t i = rnd64() % n;
            if (rnd64() % 4 == 0) i = 0; /* hit the anchor too */
            mutate(sigs + 65 * i, &nonces[i], osigs + 65 * i, (int)(rnd64() % 13));
        }
        rnd_bytes(weights, PM_BV_WEIGHT_LEN * n);
        if (it % 5 == 2 && n >= 2) {
            /* Exceptional sums: equal weights everywhere, duplicated tickets (same R twice in
             * one bucket: a doubling) and parity flips of duplicates (R and -R: cancel). */
            for (size_t i = 1; i < n; i++) memcpy(weights + PM_BV_WEIGHT_LEN * i, weights, PM_BV_WEIGHT_LEN);
            for (size_t i = 0; i + 1 < n; i += 2) {
                if (rnd64() % 3 == 0) continue;
                memcpy(sigs + 65 * (i + 1), sigs + 65 * i, 65);
                nonces[i + 1] = nonces[i];
                if (rnd64() % 4 == 0) sigs[65 * (i + 1) + 64] ^= 27 ^ 28;
            }
        }
        uint8_t rand32[32];
        rnd_bytes(rand32, 32);
        const uint8_t *rp = (it % 4 == 0) ? NULL : rand32;
        memset(st2, 0xEE, n);
        memset(won2, 0xEE, n);
        int rc1 = pm_validate_tickets(flat, flatlen, nonces, sigs, n, sender, rp, st1, won1);
        /* no key (anchor), the right key, another sender's key, a point off the curve */
        const uint8_t *kp = keys[it % 4 == 0 ? 0 : (it % 4 == 1 ? 1 : (it % 8 < 4 ? 2 : 3))];
        if (it % 3 == 0) kp = pub;
        int rc2 = pm_bv_validate_tickets_key(flat, flatlen, nonces, sigs, n, sender, kp, rp,
                                             weights, scratch, scratch_len, st2, won2);
        CHECK(rc1 == PM_OK && rc2 == PM_OK, "rc %d %d", rc1, rc2);
        for (size_t i = 0; i < n; i++) {
            CHECK(st1[i] == st2[i] && won1[i] == won2[i],
                  "it=%d n=%zu i=%zu status %d/%d won %d/%d", it, n, i, st1[i], st2[i], won1[i],
                  won2[i]);
        }
        for (size_t i = 0; i < n && i < 3; i++) { /* the per-ticket key against libsecp256k1 */
            uint8_t kout[64];
            int krc = pm_bv_ticket_key(flat, flatlen, nonces[i], sigs + 65 * i, kout);
            if (st1[i] == PM_OK) CHECK(krc == PM_OK && memcmp(kout, pub, 64) == 0, "ticket key");
            else if (st1[i] == PM_ERR_WRONG_SIGNER) CHECK(krc == PM_OK && memcmp(kout, pub, 64), "key");
            else CHECK(krc == st1[i], "ticket key status %d vs %d", krc, st1[i]);
        }
        checked += (long)n;
    }
    /* argument checks */
    uint8_t s1[1], w1[1];
    CHECK(pm_bv_validate_tickets(flat, 100, nonces, sigs, 1, sender, NULL, weights, scratch,
                                 scratch_len, s1, w1) == PM_ERR_ARG, "flatlen");
    CHECK(pm_bv_validate_tickets(flat, PM_FLAT_NO_AUX, nonces, sigs, 2, sender, NULL, weights,
                                 scratch, pm_bv_scratch_size(2) - 1, st2, won2) == PM_ERR_ARG,
          "short scratch");
    CHECK(pm_bv_scratch_size(BV_MAX_N + 1) == 0, "huge n");
    free(scratch);
    printf("batches: %ld tickets compared\n", checked);
}

int main(int argc, char **argv) {
    int rounds = argc > 2 ? atoi(argv[2]) : 200;
    if (argc > 3) rng_state ^= (uint64_t)strtoull(argv[3], NULL, 0);
    int arith = rounds < 200 ? rounds : 200; /* the naive reference is slow; batches scale */
    test_field(arith * 10);
    test_scalar(arith * 10);
    test_points(arith);
    if (argc > 1 && argv[1][0]) {
        if (!install_secp(argv[1])) {
            fprintf(stderr, "could not install libsecp256k1 from %s\n", argv[1]);
            return 2;
        }
        test_batches(rounds);
    } else {
        printf("no libsecp256k1 provider given: skipping the batch differential part\n");
    }
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("test_bv: all passed\n");
    return 0;
}
