/*
 * pm.h: the C API of pm's native core, and the single source of truth for it.
 *
 * The cffi build module (csrc/build_native.py) feeds the text between the CDEF markers to
 * ffi.cdef(), and every C file of the core includes this header, so Python and C cannot disagree.
 *
 * Rules (DESIGN.md "C core"): no allocation, caller-owned buffers, integer return codes,
 * every length checked. Elliptic-curve work goes through libsecp256k1, reached through the
 * function-pointer table below that Python fills from the coincurve wheel at import time.
 */
#ifndef PM_H
#define PM_H

#include <stddef.h>
#include <stdint.h>

/* CDEF-BEGIN */

/* Return and per-ticket status codes. PM_OK is 0; the signature statuses follow the order of
 * go-livepeer's checks (spec/protocol.md §2.3). */
enum pm_status {
    PM_OK = 0,
    PM_ERR_SIG_LENGTH = 1,     /* signature is not exactly 65 bytes */
    PM_ERR_SIG_HIGH_S = 2,     /* s > floor(N/2) */
    PM_ERR_SIG_V = 3,          /* v is not 27 or 28 */
    PM_ERR_SIG_RECOVER = 4,    /* libsecp256k1 could not recover a public key */
    PM_ERR_WRONG_SIGNER = 5,   /* recovered address differs from the expected sender */
    PM_ERR_ARG = 16,           /* a NULL pointer or a length the function does not accept */
    PM_ERR_SECKEY = 17,        /* private key is zero or >= N */
    PM_ERR_SIGN = 18,          /* libsecp256k1 refused to sign */
    PM_ERR_NO_SECP = 19        /* the libsecp256k1 table was not installed */
};

/* Sizes of the flat ticket layout (spec/protocol.md §1.3). */
enum pm_sizes {
    PM_FLAT_NO_AUX = 168,
    PM_FLAT_WITH_AUX = 232,
    PM_NONCE_OFFSET = 104,
    PM_SIG_LEN = 65
};

/* libsecp256k1 entry points, typed with opaque pointers. Python casts the addresses of the
 * functions inside coincurve's _libsecp256k1 extension to these types. The opaque structs are
 * secp256k1_ecdsa_recoverable_signature (65 bytes) and secp256k1_pubkey (64 bytes). */
typedef int (*pm_secp_sign_recoverable_fn)(const void *ctx, void *sig, const unsigned char *msg32,
                                           const unsigned char *seckey, const void *noncefp,
                                           const void *ndata);
typedef int (*pm_secp_recsig_serialize_fn)(const void *ctx, unsigned char *out64, int *recid,
                                           const void *sig);
typedef int (*pm_secp_recsig_parse_fn)(const void *ctx, void *sig, const unsigned char *in64,
                                       int recid);
typedef int (*pm_secp_recover_fn)(const void *ctx, void *pubkey, const void *sig,
                                  const unsigned char *msg32);
typedef int (*pm_secp_pubkey_serialize_fn)(const void *ctx, unsigned char *out, size_t *outlen,
                                           const void *pubkey, unsigned int flags);
typedef int (*pm_secp_pubkey_create_fn)(const void *ctx, void *pubkey, const unsigned char *seckey);
typedef int (*pm_secp_seckey_verify_fn)(const void *ctx, const unsigned char *seckey);

typedef struct pm_secp_api {
    const void *ctx; /* coincurve's randomised global context; read-only use is thread-safe */
    pm_secp_sign_recoverable_fn ecdsa_sign_recoverable;
    pm_secp_recsig_serialize_fn recoverable_signature_serialize_compact;
    pm_secp_recsig_parse_fn recoverable_signature_parse_compact;
    pm_secp_recover_fn ecdsa_recover;
    pm_secp_pubkey_serialize_fn ec_pubkey_serialize;
    pm_secp_pubkey_create_fn ec_pubkey_create;
    pm_secp_seckey_verify_fn ec_seckey_verify;
    unsigned int uncompressed_flag; /* SECP256K1_EC_UNCOMPRESSED */
} pm_secp_api;

/* Installs the table (copied). Returns PM_ERR_ARG if any entry is NULL. Call once at import. */
int pm_secp_install(const pm_secp_api *api);

/* Keccak-256 (Ethereum: padding byte 0x01, not SHA3's 0x06). */
int pm_keccak256(const uint8_t *in, size_t inlen, uint8_t *out32);

/* keccak("\x19Ethereum Signed Message:\n32" || msg32), spec/protocol.md §2.1. */
int pm_personal_digest(const uint8_t *msg32, uint8_t *out32);

/* keccak of a 168- or 232-byte flat ticket, spec/protocol.md §1.3. */
int pm_ticket_hash(const uint8_t *flat, size_t flatlen, uint8_t *out32);

/* Address (last 20 bytes of keccak(X||Y)) of a private key. */
int pm_seckey_address(const uint8_t *seckey32, uint8_t *addr20);

/* Signs a prepared 32-byte digest: r||s||v with v = 27 + recid (RFC 6979 nonce, low s). */
int pm_sign_digest(const uint8_t *seckey32, const uint8_t *digest32, uint8_t *sig65);

/* Signs personal_digest(msg32) for each of n messages (msgs: n*32 bytes, sigs: n*65 bytes). */
int pm_sign_msg32_batch(const uint8_t *seckey32, const uint8_t *msgs, size_t n, uint8_t *sigs);

/* Recovers the signer address of sig over personal_digest(msg32) with go-livepeer's checks in
 * order (length, high s, v, recover). Returns a pm_status. */
int pm_recover_msg32(const uint8_t *msg32, const uint8_t *sig, size_t siglen, uint8_t *addr20);

/* Win check (spec/protocol.md §3): *won = keccak(sig || rand32) < winprob32 (big-endian). */
int pm_win_check(const uint8_t *sig, size_t siglen, const uint8_t *rand32,
                 const uint8_t *winprob32, uint8_t *won);

/* Creates n tickets from one flat template that differ only in the nonce: for each i, writes
 * the nonce into the template, hashes it, signs personal_digest(hash). hashes may be NULL;
 * otherwise it receives n*32 bytes. sigs receives n*65 bytes. */
int pm_create_tickets(const uint8_t *seckey32, const uint8_t *flat_template, size_t flatlen,
                      const uint32_t *nonces, size_t n, uint8_t *hashes, uint8_t *sigs);

/* Validates n tickets sharing one flat template (nonces differ) and signed by expected_sender20:
 * hash, recover, compare, and, where rand32 is not NULL and the signature is good, the win check
 * against the template's winProb. status[i] gets a pm_status, won[i] 0 or 1. */
int pm_validate_tickets(const uint8_t *flat_template, size_t flatlen, const uint32_t *nonces,
                        const uint8_t *sigs, size_t n, const uint8_t *expected_sender20,
                        const uint8_t *rand32, uint8_t *status, uint8_t *won);

/* Floors for benchmarks: the raw libsecp256k1 loops, no hashing, no Python in the loop. */
int pm_bench_sign_loop(const uint8_t *seckey32, const uint8_t *digests, size_t n, uint8_t *sigs);
int pm_bench_recover_loop(const uint8_t *digests, const uint8_t *sigs, size_t n,
                          uint8_t *pubkeys64);

/* CDEF-END */

/* ---- issue 10: batch verification of same-sender tickets (csrc/bv_*.c, own variable-time EC
 * arithmetic on public data; see csrc/bv_batch.c). ---- */
/* CDEF-BEGIN */

/* Random bytes per ticket that pm_bv_validate_tickets expands into one weight. */
enum pm_bv_sizes { PM_BV_WEIGHT_LEN = 48 };

/* Bytes of scratch pm_bv_validate_tickets needs for n tickets; 0 if n is too large. */
size_t pm_bv_scratch_size(size_t n);

/* Same inputs and outputs as pm_validate_tickets (statuses and win flags identical to it), plus
 * weights (n*PM_BV_WEIGHT_LEN bytes from a CSPRNG) and caller-owned scratch of
 * at least pm_bv_scratch_size(n) bytes. Checks every same-sender ticket with one multi-scalar
 * multiplication; bad tickets are located by bisection and judged by the one-by-one path. */
int pm_bv_validate_tickets(const uint8_t *flat_template, size_t flatlen, const uint32_t *nonces,
                           const uint8_t *sigs, size_t n, const uint8_t *expected_sender20,
                           const uint8_t *rand32, const uint8_t *weights, void *scratch,
                           size_t scratch_len, uint8_t *status, uint8_t *won);

/* As pm_bv_validate_tickets, with the sender's public key (x || y, 64 bytes big-endian, e.g.
 * cached from an earlier batch) so no ticket has to stand in for it. The key is used only if
 * it is on the curve and its address is expected_sender20; otherwise (or when NULL) this is
 * exactly pm_bv_validate_tickets. */
int pm_bv_validate_tickets_key(const uint8_t *flat_template, size_t flatlen,
                               const uint32_t *nonces, const uint8_t *sigs, size_t n,
                               const uint8_t *expected_sender20, const uint8_t *sender_pub64,
                               const uint8_t *rand32, const uint8_t *weights, void *scratch,
                               size_t scratch_len, uint8_t *status, uint8_t *won);

/* The public key x || y (64 bytes) that signed one ticket (the template with this nonce), by
 * the batch verifier's own arithmetic; for caching a sender's key. Returns a pm_status. */
int pm_bv_ticket_key(const uint8_t *flat_template, size_t flatlen, uint32_t nonce,
                     const uint8_t *sig65, uint8_t *pub64);

/* Test shim over the batch verifier's arithmetic (ops listed in csrc/bv_batch.c). */
int pm_bv_selftest(int op, const uint8_t *a, const uint8_t *b, const uint8_t *c, uint8_t *out);

/* CDEF-END */

#endif /* PM_H */
