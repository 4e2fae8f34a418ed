/*
 * The libsecp256k1 bridge and everything that signs or recovers.
 *
 * pm does not link against libsecp256k1: Python installs a table of function pointers taken
 * from the coincurve wheel (pm_secp_install), so the core needs only a C compiler to build.
 */
#include <string.h>

#include "pm.h"
#include "pm_internal.h"

/* Opaque libsecp256k1 structs, sized as in secp256k1.h / secp256k1_recovery.h. */
typedef struct { unsigned char data[65]; } recsig_t;
typedef struct { unsigned char data[64]; } pubkey_t;

static pm_secp_api secp;
static int secp_ready = 0;

/* floor(N/2) for secp256k1, big-endian (spec/protocol.md §2.3). */
static const uint8_t half_order[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
};

static const char personal_prefix[] = "\x19" "Ethereum Signed Message:\n32";
#define PERSONAL_PREFIX_LEN 28

int pm_secp_install(const pm_secp_api *api) {
    if (api == NULL || api->ctx == NULL || api->ecdsa_sign_recoverable == NULL ||
        api->recoverable_signature_serialize_compact == NULL ||
        api->recoverable_signature_parse_compact == NULL || api->ecdsa_recover == NULL ||
        api->ec_pubkey_serialize == NULL || api->ec_pubkey_create == NULL ||
        api->ec_seckey_verify == NULL)
        return PM_ERR_ARG;
    secp = *api;
    secp_ready = 1;
    return PM_OK;
}

static void personal_digest(const uint8_t msg32[32], uint8_t out[32]) {
    pm_keccak256_2((const uint8_t *)personal_prefix, PERSONAL_PREFIX_LEN, msg32, 32, out);
}

int pm_personal_digest(const uint8_t *msg32, uint8_t *out32) {
    if (msg32 == NULL || out32 == NULL) return PM_ERR_ARG;
    personal_digest(msg32, out32);
    return PM_OK;
}

static int pubkey_address(const pubkey_t *pk, uint8_t addr20[20]) {
    uint8_t ser[65];
    size_t len = sizeof ser;
    if (!secp.ec_pubkey_serialize(secp.ctx, ser, &len, pk, secp.uncompressed_flag) || len != 65)
        return PM_ERR_SIG_RECOVER;
    uint8_t h[32];
    pm_keccak256_raw(ser + 1, 64, h);
    memcpy(addr20, h + 12, 20);
    return PM_OK;
}

int pm_seckey_address(const uint8_t *seckey32, uint8_t *addr20) {
    if (!secp_ready) return PM_ERR_NO_SECP;
    if (seckey32 == NULL || addr20 == NULL) return PM_ERR_ARG;
    if (!secp.ec_seckey_verify(secp.ctx, seckey32)) return PM_ERR_SECKEY;
    pubkey_t pk;
    if (!secp.ec_pubkey_create(secp.ctx, &pk, seckey32)) return PM_ERR_SECKEY;
    return pubkey_address(&pk, addr20);
}

/* Signs a digest; the caller has checked secp_ready and the pointers. */
static int sign_digest(const uint8_t seckey[32], const uint8_t digest[32], uint8_t sig65[65]) {
    recsig_t rs;
    int recid = 0;
    if (!secp.ecdsa_sign_recoverable(secp.ctx, &rs, digest, seckey, NULL, NULL)) return PM_ERR_SIGN;
    secp.recoverable_signature_serialize_compact(secp.ctx, sig65, &recid, &rs);
    sig65[64] = (uint8_t)(27 + recid);
    return PM_OK;
}

static int check_signing_args(const uint8_t *seckey32, const void *a, const void *b) {
    if (!secp_ready) return PM_ERR_NO_SECP;
    if (seckey32 == NULL || a == NULL || b == NULL) return PM_ERR_ARG;
    if (!secp.ec_seckey_verify(secp.ctx, seckey32)) return PM_ERR_SECKEY;
    return PM_OK;
}

int pm_sign_digest(const uint8_t *seckey32, const uint8_t *digest32, uint8_t *sig65) {
    int rc = check_signing_args(seckey32, digest32, sig65);
    return rc != PM_OK ? rc : sign_digest(seckey32, digest32, sig65);
}

int pm_sign_msg32_batch(const uint8_t *seckey32, const uint8_t *msgs, size_t n, uint8_t *sigs) {
    if (n == 0) return secp_ready ? PM_OK : PM_ERR_NO_SECP;
    int rc = check_signing_args(seckey32, msgs, sigs);
    if (rc != PM_OK) return rc;
    for (size_t i = 0; i < n; i++) {
        uint8_t digest[32];
        personal_digest(msgs + 32 * i, digest);
        rc = sign_digest(seckey32, digest, sigs + PM_SIG_LEN * i);
        if (rc != PM_OK) return rc;
    }
    return PM_OK;
}

/* go-livepeer's signature checks (after the length) and recovery, handing back the signer's
 * 64-byte X||Y public key instead of its address. */
static int recover_xy(const uint8_t digest[32], const uint8_t sig[65], uint8_t xy64[64]) {
    if (memcmp(sig + 32, half_order, 32) > 0) return PM_ERR_SIG_HIGH_S;
    if (sig[64] != 27 && sig[64] != 28) return PM_ERR_SIG_V;
    recsig_t rs;
    if (!secp.recoverable_signature_parse_compact(secp.ctx, &rs, sig, sig[64] - 27))
        return PM_ERR_SIG_RECOVER;
    pubkey_t pk;
    if (!secp.ecdsa_recover(secp.ctx, &pk, &rs, digest)) return PM_ERR_SIG_RECOVER;
    uint8_t ser[65];
    size_t len = sizeof ser;
    if (!secp.ec_pubkey_serialize(secp.ctx, ser, &len, &pk, secp.uncompressed_flag) || len != 65)
        return PM_ERR_SIG_RECOVER;
    memcpy(xy64, ser + 1, 64);
    return PM_OK;
}

/* go-livepeer's signature checks in order, then recovery over a prepared digest. */
static int recover_digest(const uint8_t digest[32], const uint8_t *sig, size_t siglen,
                          uint8_t addr20[20]) {
    if (siglen != PM_SIG_LEN) return PM_ERR_SIG_LENGTH;
    uint8_t xy[64], h[32];
    int st = recover_xy(digest, sig, xy);
    if (st != PM_OK) return st;
    pm_keccak256_raw(xy, 64, h);
    memcpy(addr20, h + 12, 20);
    return PM_OK;
}

int pm_recover_msg32(const uint8_t *msg32, const uint8_t *sig, size_t siglen, uint8_t *addr20) {
    if (!secp_ready) return PM_ERR_NO_SECP;
    if (msg32 == NULL || (sig == NULL && siglen != 0) || addr20 == NULL) return PM_ERR_ARG;
    uint8_t digest[32];
    personal_digest(msg32, digest);
    return recover_digest(digest, sig, siglen, addr20);
}

static int valid_flatlen(size_t flatlen) {
    return flatlen == PM_FLAT_NO_AUX || flatlen == PM_FLAT_WITH_AUX;
}

static uint8_t win_check(const uint8_t sig65[65], const uint8_t rand32[32],
                         const uint8_t winprob32[32]) {
    uint8_t h[32];
    pm_keccak256_2(sig65, PM_SIG_LEN, rand32, 32, h);
    return memcmp(h, winprob32, 32) < 0;
}

int pm_create_tickets(const uint8_t *seckey32, const uint8_t *flat_template, size_t flatlen,
                      const uint32_t *nonces, size_t n, uint8_t *hashes, uint8_t *sigs) {
    if (!valid_flatlen(flatlen) || flat_template == NULL) return PM_ERR_ARG;
    if (n == 0) return secp_ready ? PM_OK : PM_ERR_NO_SECP;
    int rc = check_signing_args(seckey32, nonces, sigs);
    if (rc != PM_OK) return rc;
    uint8_t flat[PM_FLAT_WITH_AUX];
    memcpy(flat, flat_template, flatlen);
    for (size_t i = 0; i < n; i++) {
        uint8_t h[32], digest[32];
        pm_put_nonce(flat, nonces[i]);
        pm_keccak256_raw(flat, flatlen, h);
        if (hashes != NULL) memcpy(hashes + 32 * i, h, 32);
        personal_digest(h, digest);
        rc = sign_digest(seckey32, digest, sigs + PM_SIG_LEN * i);
        if (rc != PM_OK) return rc;
    }
    return PM_OK;
}

int pm_validate_tickets(const uint8_t *flat_template, size_t flatlen, const uint32_t *nonces,
                        const uint8_t *sigs, size_t n, const uint8_t *expected_sender20,
                        const uint8_t *rand32, uint8_t *status, uint8_t *won) {
    if (!secp_ready) return PM_ERR_NO_SECP;
    if (!valid_flatlen(flatlen) || flat_template == NULL || expected_sender20 == NULL) return PM_ERR_ARG;
    if (n == 0) return PM_OK;
    if (nonces == NULL || sigs == NULL || status == NULL || won == NULL) return PM_ERR_ARG;
    uint8_t flat[PM_FLAT_WITH_AUX];
    memcpy(flat, flat_template, flatlen);
    const uint8_t *winprob = flat_template + 72; /* spec/protocol.md §1.3 */
    /* The public key already proven to hash to expected_sender20: a ticket recovering to the
     * same key has the right signer without hashing the key again (one Keccak-f saved). */
    uint8_t sender_xy[64];
    int have_sender_xy = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t h[32], digest[32], xy[64];
        const uint8_t *sig = sigs + PM_SIG_LEN * i;
        pm_put_nonce(flat, nonces[i]);
        pm_keccak256_raw(flat, flatlen, h);
        personal_digest(h, digest);
        int st = recover_xy(digest, sig, xy);
        if (st == PM_OK && !(have_sender_xy && memcmp(xy, sender_xy, 64) == 0)) {
            uint8_t addr_hash[32];
            pm_keccak256_raw(xy, 64, addr_hash);
            if (memcmp(addr_hash + 12, expected_sender20, 20) != 0) {
                st = PM_ERR_WRONG_SIGNER;
            } else {
                memcpy(sender_xy, xy, 64);
                have_sender_xy = 1;
            }
        }
        status[i] = (uint8_t)st;
        won[i] = (st == PM_OK && rand32 != NULL) ? win_check(sig, rand32, winprob) : 0;
    }
    return PM_OK;
}

int pm_win_check(const uint8_t *sig, size_t siglen, const uint8_t *rand32,
                 const uint8_t *winprob32, uint8_t *won) {
    if ((sig == NULL && siglen != 0) || rand32 == NULL || winprob32 == NULL || won == NULL)
        return PM_ERR_ARG;
    /* The contract hashes whatever signature bytes it was given (abi.encodePacked). */
    uint8_t h[32];
    pm_keccak256_2(sig, siglen, rand32, 32, h);
    *won = memcmp(h, winprob32, 32) < 0;
    return PM_OK;
}

int pm_ticket_hash(const uint8_t *flat, size_t flatlen, uint8_t *out32) {
    if (flat == NULL || out32 == NULL || !valid_flatlen(flatlen)) return PM_ERR_ARG;
    pm_keccak256_raw(flat, flatlen, out32);
    return PM_OK;
}

int pm_bench_sign_loop(const uint8_t *seckey32, const uint8_t *digests, size_t n, uint8_t *sigs) {
    if (n == 0) return secp_ready ? PM_OK : PM_ERR_NO_SECP;
    int rc = check_signing_args(seckey32, digests, sigs);
    for (size_t i = 0; rc == PM_OK && i < n; i++)
        rc = sign_digest(seckey32, digests + 32 * i, sigs + PM_SIG_LEN * i);
    return rc;
}

int pm_bench_recover_loop(const uint8_t *digests, const uint8_t *sigs, size_t n,
                          uint8_t *pubkeys64) {
    if (!secp_ready) return PM_ERR_NO_SECP;
    if (n == 0) return PM_OK;
    if (digests == NULL || sigs == NULL || pubkeys64 == NULL) return PM_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *sig = sigs + PM_SIG_LEN * i;
        recsig_t rs;
        if (sig[64] < 27 || sig[64] > 28) return PM_ERR_SIG_V;
        if (!secp.recoverable_signature_parse_compact(secp.ctx, &rs, sig, sig[64] - 27) ||
            !secp.ecdsa_recover(secp.ctx, (pubkey_t *)(void *)(pubkeys64 + 64 * i), &rs,
                                digests + 32 * i))
            return PM_ERR_SIG_RECOVER;
    }
    return PM_OK;
}
