/*
 * bv_point.h: secp256k1 points (y^2 = x^3 + 7) for batch verification (issue 10).
 *
 * VARIABLE TIME, public inputs only (see bv_field.h). Affine points (bv_ge) and Jacobian points
 * (bv_gej: x = X/Z^2, y = Y/Z^3) with an explicit infinity flag. Every function accepts field
 * elements of magnitude <= 1 in its inputs and returns magnitude-1 coordinates, so callers never
 * have to track magnitudes across point operations.
 *
 * The addition formulas are the textbook Jacobian ones for a = 0 ("dbl-2009-l"-style doubling
 * with M = 3X^2, mixed J+A and general J+J addition); the exceptional cases (an operand at
 * infinity, P + P, P + (-P)) are detected and handled, so adversarial inputs cannot make them
 * return a wrong point.
 */
#ifndef BV_POINT_H
#define BV_POINT_H

#include "bv_field.h"

typedef struct { bv_fe x, y; } bv_ge;
typedef struct { bv_fe x, y, z; int inf; } bv_gej;

static inline void bv_gej_set_ge(bv_gej *r, const bv_ge *a) {
    r->x = a->x; r->y = a->y; bv_fe_set_int(&r->z, 1); r->inf = 0;
}

/* Decompresses the point with x-coordinate x (magnitude <= 1) and y of the given parity.
 * Returns 0 when x^3 + 7 is not a square (no such point). */
static inline int bv_ge_set_xo(bv_ge *r, const bv_fe *x, int odd) {
    bv_fe x2, c, y;
    bv_fe_sqr(&x2, x);
    bv_fe_mul(&c, &x2, x);
    c.n[0] += 7;
    if (!bv_fe_sqrt(&y, &c)) return 0;
    bv_fe_normalize(&y);
    if ((int)(y.n[0] & 1) != (odd != 0)) {
        bv_fe_negate(&y, &y, 1);
        bv_fe_normalize(&y);
    }
    r->x = *x;
    bv_fe_normalize_weak(&r->x);
    r->y = y;
    return 1;
}

/* Two decompressions at once (bv_fe_sqrt2); ok[i] as bv_ge_set_xo's result. */
static inline void bv_ge_set_xo2(bv_ge r[2], int ok[2], const bv_fe x[2], const int odd[2]) {
    bv_fe c[2], y[2];
    for (int i = 0; i < 2; i++) {
        bv_fe x2;
        bv_fe_sqr(&x2, &x[i]);
        bv_fe_mul(&c[i], &x2, &x[i]);
        c[i].n[0] += 7;
    }
    bv_fe_sqrt2(y, ok, c);
    for (int i = 0; i < 2; i++) {
        if (!ok[i]) continue;
        bv_fe_normalize(&y[i]);
        if ((int)(y[i].n[0] & 1) != (odd[i] != 0)) {
            bv_fe_negate(&y[i], &y[i], 1);
            bv_fe_normalize(&y[i]);
        }
        r[i].x = x[i];
        bv_fe_normalize_weak(&r[i].x);
        r[i].y = y[i];
    }
}

/* 1 if the affine point satisfies the curve equation. */
static inline int bv_ge_on_curve(const bv_ge *a) {
    bv_fe x2, x3, y2;
    bv_fe_sqr(&x2, &a->x);
    bv_fe_mul(&x3, &x2, &a->x);
    x3.n[0] += 7;
    bv_fe_sqr(&y2, &a->y);
    return bv_fe_equal(&x3, &y2);
}

static inline void bv_gej_double(bv_gej *r, const bv_gej *a) {
    if (a->inf) { r->inf = 1; return; }
    /* y = 0 is impossible on secp256k1 (odd prime order, no 2-torsion). */
    bv_fe X = a->x, Y = a->y, Z = a->z, S, M, T, S2, t;
    bv_fe_sqr(&S, &Y);                    /* S = Y^2 */
    bv_fe_sqr(&M, &X); bv_fe_mul_int(&M, 3); /* M = 3X^2 (m3) */
    bv_fe_mul(&T, &X, &S);                /* T = X Y^2 */
    bv_fe_sqr(&S2, &S);                   /* Y^4 */
    bv_fe_mul(&r->z, &Y, &Z); bv_fe_mul_int(&r->z, 2); bv_fe_normalize_weak(&r->z);
    bv_fe_sqr(&r->x, &M);                 /* X3 = M^2 - 8 T */
    bv_fe_negate(&t, &T, 1); bv_fe_mul_int(&t, 8); bv_fe_add(&r->x, &t);
    bv_fe_normalize_weak(&r->x);
    bv_fe_negate(&t, &r->x, 1);           /* Y3 = M (4T - X3) - 8 Y^4 */
    bv_fe_mul_int(&T, 4); bv_fe_add(&T, &t);
    bv_fe_mul(&r->y, &T, &M);
    bv_fe_negate(&t, &S2, 1); bv_fe_mul_int(&t, 8); bv_fe_add(&r->y, &t);
    bv_fe_normalize_weak(&r->y);
    r->inf = 0;
}

/* Shared tail of both additions: given H = U2 - U1, R = S2 - S1 (magnitudes <= 4),
 * U1, S1 and Z3 / H (zh), writes X3, Y3, Z3 = zh * H. */
static inline void bv_gej_add_tail(bv_gej *r, const bv_fe *H, const bv_fe *R, const bv_fe *U1,
                                   const bv_fe *S1, const bv_fe *zh) {
    bv_fe HH, HHH, V, t, X3, Y3;
    bv_fe_sqr(&HH, H);
    bv_fe_mul(&HHH, H, &HH);
    bv_fe_mul(&V, U1, &HH);
    bv_fe_sqr(&X3, R);                    /* X3 = R^2 - H^3 - 2V */
    bv_fe_negate(&t, &HHH, 1); bv_fe_add(&X3, &t);
    bv_fe_negate(&t, &V, 1); bv_fe_mul_int(&t, 2); bv_fe_add(&X3, &t);
    bv_fe_normalize_weak(&X3);
    bv_fe_negate(&t, &X3, 1); bv_fe_add(&t, &V); /* Y3 = R (V - X3) - S1 H^3 */
    bv_fe_mul(&Y3, &t, R);
    bv_fe_mul(&t, S1, &HHH);
    bv_fe_negate(&t, &t, 1); bv_fe_add(&Y3, &t);
    bv_fe_normalize_weak(&Y3);
    bv_fe_mul(&r->z, zh, H);
    r->x = X3; r->y = Y3; r->inf = 0;
}

/* r = a + b (neg = 0) or r = a - b (neg = 1) with b affine (mixed addition). r may alias a. */
static inline void bv_gej_add_ge_sign(bv_gej *r, const bv_gej *a, const bv_ge *b, int neg) {
    if (a->inf) {
        bv_gej_set_ge(r, b);
        if (neg) { bv_fe_negate(&r->y, &r->y, 1); bv_fe_normalize_weak(&r->y); }
        return;
    }
    bv_fe Z1Z1, U2, S2, H, R;
    bv_fe_sqr(&Z1Z1, &a->z);
    bv_fe_mul(&U2, &b->x, &Z1Z1);
    bv_fe_mul(&S2, &b->y, &a->z); bv_fe_mul(&S2, &S2, &Z1Z1);
    if (neg) bv_fe_negate(&S2, &S2, 1);   /* m2 */
    bv_fe_negate(&H, &a->x, 1); bv_fe_add(&H, &U2);
    bv_fe_negate(&R, &a->y, 1); bv_fe_add(&R, &S2); /* m <= 4 */
    if (bv_fe_is_zero(&H)) {
        if (bv_fe_is_zero(&R)) bv_gej_double(r, a);
        else r->inf = 1;
        return;
    }
    bv_fe U1 = a->x, S1 = a->y, Z1 = a->z;
    bv_gej_add_tail(r, &H, &R, &U1, &S1, &Z1);
}

/* r = a + b with b affine (mixed addition). r may alias a. */
static inline void bv_gej_add_ge(bv_gej *r, const bv_gej *a, const bv_ge *b) {
    bv_gej_add_ge_sign(r, a, b, 0);
}

/* r = a + b, both Jacobian. r may alias a or b. */
static inline void bv_gej_add(bv_gej *r, const bv_gej *a, const bv_gej *b) {
    if (a->inf) { *r = *b; return; }
    if (b->inf) { *r = *a; return; }
    bv_fe Z1Z1, Z2Z2, U1, U2, S1, S2, H, R, zz;
    bv_fe_sqr(&Z1Z1, &a->z);
    bv_fe_sqr(&Z2Z2, &b->z);
    bv_fe_mul(&U1, &a->x, &Z2Z2);
    bv_fe_mul(&U2, &b->x, &Z1Z1);
    bv_fe_mul(&S1, &a->y, &b->z); bv_fe_mul(&S1, &S1, &Z2Z2);
    bv_fe_mul(&S2, &b->y, &a->z); bv_fe_mul(&S2, &S2, &Z1Z1);
    bv_fe_negate(&H, &U1, 1); bv_fe_add(&H, &U2);
    bv_fe_negate(&R, &S1, 1); bv_fe_add(&R, &S2);
    if (bv_fe_is_zero(&H)) {
        if (bv_fe_is_zero(&R)) bv_gej_double(r, a);
        else r->inf = 1;
        return;
    }
    bv_fe_mul(&zz, &a->z, &b->z);
    bv_gej_add_tail(r, &H, &R, &U1, &S1, &zz);
}

/* r = -a (affine). */
static inline void bv_ge_neg(bv_ge *r, const bv_ge *a) {
    r->x = a->x;
    bv_fe_negate(&r->y, &a->y, 1);
    bv_fe_normalize_weak(&r->y);
}

/*
 * Converts cnt non-infinite Jacobian points to affine with ONE field inversion (Montgomery's
 * trick): prefix products of the Z's, one inverse, then walk back. pre must hold cnt elements.
 * Returns 0 if some input is at infinity (nothing is then trustworthy), else 1.
 */
static inline int bv_gej_batch_to_ge(bv_ge *out, const bv_gej *in, size_t cnt, bv_fe *pre) {
    if (cnt == 0) return 1;
    for (size_t i = 0; i < cnt; i++) {
        if (in[i].inf) return 0;
        if (i == 0) pre[0] = in[0].z;
        else bv_fe_mul(&pre[i], &pre[i - 1], &in[i].z);
    }
    bv_fe inv, zi, zi2, zi3;
    bv_fe_inv(&inv, &pre[cnt - 1]);
    for (size_t i = cnt; i-- > 0;) {
        if (i > 0) {
            bv_fe_mul(&zi, &inv, &pre[i - 1]);
            bv_fe_mul(&inv, &inv, &in[i].z);
        } else {
            zi = inv;
        }
        bv_fe_sqr(&zi2, &zi);
        bv_fe_mul(&zi3, &zi2, &zi);
        bv_fe_mul(&out[i].x, &in[i].x, &zi2);
        bv_fe_mul(&out[i].y, &in[i].y, &zi3);
    }
    return 1;
}

#endif /* BV_POINT_H */
