/*
 * Sanitizer harness for pm's C core (issue 9).
 *
 * Built by csrc/tests/run.sh with -fsanitize=address,undefined -fno-sanitize-recover=all
 * together with the core's C files, so every out-of-bounds read or write, use of
 * uninitialised stack, signed overflow or misaligned access aborts the run.
 *
 * libsecp256k1 is reached exactly as in production: the _libsecp256k1 extension of the
 * installed coincurve is dlopen()ed, each secp256k1_* entry point is dlsym()ed into a
 * pm_secp_api table, a context comes from secp256k1_context_create, and pm_secp_install
 * receives the table (src/pm/_bindings.py does the same through cffi).
 *
 * Every input buffer handed to the core is a heap block of exactly the advertised length
 * (see exact()), so a read one byte past the end is an ASan report, not silent garbage.
 *
 * Known answers: keccak("") (spec/protocol.md §0), Ticket.Hash (§10.1.1), the validator
 * fixture (§10.1.4), the addresses of private keys 1 and 2, keccak of patterned inputs at the
 * edge lengths (pycryptodome's Keccak-256) and two EIP-191 signatures (eth-account 0.14
 * Account.sign_message(encode_defunct(primitive=hash))) as differential references.
 *
 * Usage: test_core PATH_TO_libsecp256k1_extension [seed]
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pm.h"
#include "pm_internal.h"

/* cffi extension modules reference this data symbol of libpython; dlopen(RTLD_LAZY) binds
 * functions on first call (none of the Python entry points is ever called here) but data
 * symbols at load time, so the harness provides a stand-in (exported with -rdynamic). */
__attribute__((visibility("default"))) unsigned char _Py_NoneStruct[64];

/* ---------------------------------------------------------------- tiny test framework */

static unsigned long n_checks = 0, n_failures = 0;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        n_checks++;                                                                         \
        if (!(cond)) {                                                                      \
            if (n_failures++ < 50)                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                                   \
    } while (0)

#define CHECK_RC(expr, want)                                                                \
    do {                                                                                    \
        int rc_ = (expr);                                                                   \
        n_checks++;                                                                         \
        if (rc_ != (want)) {                                                                \
            if (n_failures++ < 50)                                                          \
            fprintf(stderr, "%s:%d: %s returned %d, want %d\n", __FILE__, __LINE__, #expr,  \
                    rc_, (int)(want));                                                      \
        }                                                                                   \
    } while (0)

/* splitmix64: reproducible inputs; the seed is printed and can be passed back in. */
static uint64_t rng_state;

static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_fill(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rng_next();
}

/* A heap copy of exactly n bytes (ASan flags any access outside it). n == 0 gives a zero-sized
 * block (glibc and ASan return a unique pointer): any dereference is a report. */
static uint8_t *exact(const uint8_t *src, size_t n) {
    uint8_t *p = malloc(n);
    if (p == NULL && n != 0) abort();
    if (n) memcpy(p, src, n);
    return p;
}

static uint8_t *xmalloc(size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL) abort();
    return p;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    abort();
}

static void unhex(const char *hex, uint8_t *out, size_t n) {
    if (hex[0] == '0' && hex[1] == 'x') hex += 2;
    if (strlen(hex) != 2 * n) abort();
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
}

static int eq_hex(const uint8_t *got, const char *hex, size_t n) {
    uint8_t want[256];
    unhex(hex, want, n);
    return memcmp(got, want, n) == 0;
}

/* ---------------------------------------------------------------- the libsecp256k1 bridge */

typedef void *(*secp_context_create_fn)(unsigned int flags);
typedef void (*secp_context_destroy_fn)(void *ctx);

#define SECP256K1_CONTEXT_NONE 1u
#define SECP256K1_EC_UNCOMPRESSED 2u /* SECP256K1_FLAGS_TYPE_COMPRESSION, no compression bit */

static void *secp_handle;
static void *secp_ctx;
static secp_context_destroy_fn secp_context_destroy;
static pm_secp_api api;

static void *must_sym(const char *name) {
    void *p = dlsym(secp_handle, name);
    if (p == NULL) {
        fprintf(stderr, "dlsym(%s) failed: %s\n", name, dlerror());
        exit(2);
    }
    return p;
}

/* dlsym returns an object pointer; POSIX guarantees it converts to the function pointer. Going
 * through a variable of the table's declared type makes the compiler check each field's type. */
#define LOAD(field, type, name)                                                             \
    do {                                                                                    \
        void *sym_ = must_sym(name);                                                        \
        type fn_;                                                                           \
        memcpy(&fn_, &sym_, sizeof fn_);                                                    \
        api.field = fn_;                                                                    \
    } while (0)

static void load_secp(const char *path) {
    secp_handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    if (secp_handle == NULL) {
        fprintf(stderr, "dlopen(%s) failed: %s\n", path, dlerror());
        exit(2);
    }
    secp_context_create_fn create;
    void *sym = must_sym("secp256k1_context_create");
    memcpy(&create, &sym, sizeof sym);
    sym = must_sym("secp256k1_context_destroy");
    memcpy(&secp_context_destroy, &sym, sizeof sym);
    secp_ctx = create(SECP256K1_CONTEXT_NONE);
    if (secp_ctx == NULL) {
        fprintf(stderr, "secp256k1_context_create failed\n");
        exit(2);
    }
    LOAD(ecdsa_sign_recoverable, pm_secp_sign_recoverable_fn, "secp256k1_ecdsa_sign_recoverable");
    LOAD(recoverable_signature_serialize_compact, pm_secp_recsig_serialize_fn,
         "secp256k1_ecdsa_recoverable_signature_serialize_compact");
    LOAD(recoverable_signature_parse_compact, pm_secp_recsig_parse_fn,
         "secp256k1_ecdsa_recoverable_signature_parse_compact");
    LOAD(ecdsa_recover, pm_secp_recover_fn, "secp256k1_ecdsa_recover");
    LOAD(ec_pubkey_serialize, pm_secp_pubkey_serialize_fn, "secp256k1_ec_pubkey_serialize");
    LOAD(ec_pubkey_create, pm_secp_pubkey_create_fn, "secp256k1_ec_pubkey_create");
    LOAD(ec_seckey_verify, pm_secp_seckey_verify_fn, "secp256k1_ec_seckey_verify");
    api.ctx = secp_ctx;
    api.uncompressed_flag = SECP256K1_EC_UNCOMPRESSED;
}

/* ---------------------------------------------------------------- constants and helpers */

static const size_t EDGE_LENGTHS[] = {0, 1, 135, 136, 137, 167, 168, 231, 232, 4096};
#define N_EDGE (sizeof EDGE_LENGTHS / sizeof EDGE_LENGTHS[0])
static const size_t BATCH_SIZES[] = {0, 1, 1000};
#define N_BATCH (sizeof BATCH_SIZES / sizeof BATCH_SIZES[0])

static const char *const HALF_ORDER_HEX =
    "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
static const char *const ORDER_HEX =
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

/* keccak(data) by a route independent of the function under test where that matters:
 * hashing a concatenation copied into one exact buffer. */
static void ref_keccak_concat(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                              uint8_t out[32]) {
    uint8_t *buf = xmalloc(alen + blen);
    if (alen) memcpy(buf, a, alen);
    if (blen) memcpy(buf + alen, b, blen);
    CHECK_RC(pm_keccak256(buf, alen + blen, out), PM_OK);
    free(buf);
}

/* u256(v) for a small v. */
static void put_u64_word(uint8_t word[32], uint64_t v) {
    memset(word, 0, 32);
    for (int i = 0; i < 8; i++) word[31 - i] = (uint8_t)(v >> (8 * i));
}

/* A flat ticket (spec/protocol.md §1.3); aux (64 bytes) may be NULL. Returns its length. */
static size_t make_flat(uint8_t flat[PM_FLAT_WITH_AUX], const uint8_t *recipient,
                        const uint8_t *sender, uint64_t face_value, const uint8_t *winprob32,
                        uint32_t nonce, const uint8_t *rrh, const uint8_t *aux64) {
    memset(flat, 0, PM_FLAT_WITH_AUX);
    if (recipient) memcpy(flat, recipient, 20);
    if (sender) memcpy(flat + 20, sender, 20);
    put_u64_word(flat + 40, face_value);
    if (winprob32) memcpy(flat + 72, winprob32, 32);
    put_u64_word(flat + 104, nonce);
    if (rrh) memcpy(flat + 136, rrh, 32);
    if (aux64 == NULL) return PM_FLAT_NO_AUX;
    memcpy(flat + 168, aux64, 64);
    return PM_FLAT_WITH_AUX;
}

/* A random valid private key (rejection-sampled through libsecp256k1's own check). */
static void random_seckey(uint8_t key[32]) {
    do rng_fill(key, 32);
    while (!api.ec_seckey_verify(secp_ctx, key));
}

static int is_low_s(const uint8_t sig[65]) {
    uint8_t half[32];
    unhex(HALF_ORDER_HEX, half, 32);
    return memcmp(sig + 32, half, 32) <= 0;
}

/* ---------------------------------------------------------------- before pm_secp_install */

static void test_not_installed(void) {
    uint8_t key[32] = {0}, msg[32] = {0}, sig[65] = {0}, addr[20], flat[PM_FLAT_WITH_AUX] = {0};
    uint8_t st[1], won[1];
    uint32_t nonce = 0;
    key[31] = 1;
    CHECK_RC(pm_seckey_address(key, addr), PM_ERR_NO_SECP);
    CHECK_RC(pm_sign_digest(key, msg, sig), PM_ERR_NO_SECP);
    CHECK_RC(pm_sign_msg32_batch(key, msg, 1, sig), PM_ERR_NO_SECP);
    CHECK_RC(pm_sign_msg32_batch(key, msg, 0, sig), PM_ERR_NO_SECP);
    CHECK_RC(pm_recover_msg32(msg, sig, 65, addr), PM_ERR_NO_SECP);
    CHECK_RC(pm_create_tickets(key, flat, PM_FLAT_NO_AUX, &nonce, 1, NULL, sig), PM_ERR_NO_SECP);
    CHECK_RC(pm_validate_tickets(flat, PM_FLAT_NO_AUX, &nonce, sig, 1, addr, NULL, st, won),
             PM_ERR_NO_SECP);
    CHECK_RC(pm_bench_sign_loop(key, msg, 1, sig), PM_ERR_NO_SECP);
    CHECK_RC(pm_bench_recover_loop(msg, sig, 1, flat), PM_ERR_NO_SECP);
    /* Hashing needs no libsecp256k1. */
    uint8_t h[32];
    CHECK_RC(pm_keccak256(msg, 32, h), PM_OK);
    CHECK_RC(pm_ticket_hash(flat, PM_FLAT_NO_AUX, h), PM_OK);

    /* A table with any NULL entry is refused and leaves the core uninstalled. */
    CHECK_RC(pm_secp_install(NULL), PM_ERR_ARG);
    const size_t n_fields = 8;
    for (size_t f = 0; f < n_fields; f++) {
        pm_secp_api broken = api;
        switch (f) {
        case 0: broken.ctx = NULL; break;
        case 1: broken.ecdsa_sign_recoverable = NULL; break;
        case 2: broken.recoverable_signature_serialize_compact = NULL; break;
        case 3: broken.recoverable_signature_parse_compact = NULL; break;
        case 4: broken.ecdsa_recover = NULL; break;
        case 5: broken.ec_pubkey_serialize = NULL; break;
        case 6: broken.ec_pubkey_create = NULL; break;
        default: broken.ec_seckey_verify = NULL; break;
        }
        CHECK_RC(pm_secp_install(&broken), PM_ERR_ARG);
        CHECK_RC(pm_seckey_address(key, addr), PM_ERR_NO_SECP);
    }
}

/* ---------------------------------------------------------------- Keccak */

/* keccak of bytes (i*7+3) mod 256 for each edge length; pycryptodome Keccak-256. */
static const char *const KECCAK_PATTERN[N_EDGE] = {
    "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    "69c322e3248a5dfc29d73c5b0553b0185a35cd5bb6386747517ef7e53b15e287",
    "00ef96af9cf4b24c7f269d922294444a197d0a33638c2e56634c57e892103a8f",
    "742061bcad767ed4c4f5883b1dcb1aad11afdcc140dc469d953759b127b9f9ed",
    "e3371f61e770abf254c34239c3b0099ad90594507415bc81dd0a10b9692bbf2a",
    "31d8826f1e758fdcf29ac73014a86283e3b09a9348dff400a3f47a3fc093eebf",
    "bc49e42fd4c74f8ec2d4c874f622b87749076c5c0d5528e5354c695344cc4ccc",
    "67ff82efa4e958ea856c1f3490284389c3980453d00c87bbaeaf8c38818f70d7",
    "b28c7c1db8a32d574019d50d4a95162fb03adcaac0a21f5874c200876eb915a7",
    "76295a231bfe3ebd9c161d54151579ec47d822a168c11d53ed0471b01ce83520",
};

static void test_keccak(void) {
    uint8_t out[32];
    /* spec/protocol.md §0 */
    const char *empty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";
    CHECK_RC(pm_keccak256(NULL, 0, out), PM_OK);
    CHECK(eq_hex(out, empty, 32));
    uint8_t *zero = exact(NULL, 0);
    CHECK_RC(pm_keccak256(zero, 0, out), PM_OK);
    CHECK(eq_hex(out, empty, 32));
    free(zero);
    CHECK_RC(pm_keccak256(NULL, 1, out), PM_ERR_ARG);
    CHECK_RC(pm_keccak256(out, 32, NULL), PM_ERR_ARG);

    uint8_t pattern[4096];
    for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (uint8_t)((i * 7 + 3) % 256);
    for (size_t e = 0; e < N_EDGE; e++) {
        size_t len = EDGE_LENGTHS[e];
        uint8_t *in = exact(pattern, len);
        CHECK_RC(pm_keccak256(in, len, out), PM_OK);
        if (!eq_hex(out, KECCAK_PATTERN[e], 32))
            fprintf(stderr, "keccak pattern mismatch at length %zu\n", len);
        CHECK(eq_hex(out, KECCAK_PATTERN[e], 32));
        free(in);
    }

    /* Random inputs at the edge lengths: the two-part absorber (used for the EIP-191 prefix and
     * the win check) must agree with the one-part hash at every interesting split. */
    uint8_t buf[4096];
    for (int round = 0; round < 4; round++) {
        for (size_t e = 0; e < N_EDGE; e++) {
            size_t len = EDGE_LENGTHS[e];
            rng_fill(buf, len);
            uint8_t *in = exact(buf, len);
            uint8_t whole[32];
            CHECK_RC(pm_keccak256(in, len, whole), PM_OK);
            const size_t splits[] = {0, 1, 7, 8, 135, 136, 137, len / 2, len - (len > 0), len};
            for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
                size_t k = splits[s];
                if (k > len) continue;
                uint8_t *a = exact(buf, k), *b = exact(buf + k, len - k);
                uint8_t part[32];
                pm_keccak256_2(a, k, b, len - k, part);
                CHECK(memcmp(part, whole, 32) == 0);
                free(a);
                free(b);
            }
            /* Changing any one byte changes the hash (no ignored input). */
            if (len) {
                size_t pos = (size_t)(rng_next() % len);
                in[pos] ^= 0x01;
                CHECK_RC(pm_keccak256(in, len, out), PM_OK);
                CHECK(memcmp(out, whole, 32) != 0);
            }
            free(in);
        }
    }
}

static void test_personal_digest(void) {
    uint8_t msg[32], out[32], ref[32];
    static const char prefix[] = "\x19" "Ethereum Signed Message:\n32";
    for (int i = 0; i < 16; i++) {
        rng_fill(msg, 32);
        uint8_t *m = exact(msg, 32);
        CHECK_RC(pm_personal_digest(m, out), PM_OK);
        ref_keccak_concat((const uint8_t *)prefix, 28, msg, 32, ref);
        CHECK(memcmp(out, ref, 32) == 0);
        free(m);
    }
    CHECK_RC(pm_personal_digest(NULL, out), PM_ERR_ARG);
    CHECK_RC(pm_personal_digest(msg, NULL), PM_ERR_ARG);
}

/* ---------------------------------------------------------------- ticket hash: §10.1.1 */

static const char *const RRH_HEX = "41b1a0649752af1b28b3dc29a1556eee781e4a4c3a1f7f53f90fa834de098c4d";
static const char *const RECIPIENT_HEX = "73AEd7b5dEb30222fa896f399d46cC99c7BEe57F";
static const char *const SENDER_HEX = "A69cdA26600c155cF2c150964Bdb5371ac3f606F";

static void check_ticket_hash(const uint8_t *flat, size_t len, const char *want) {
    uint8_t *f = exact(flat, len), out[32];
    CHECK_RC(pm_ticket_hash(f, len, out), PM_OK);
    CHECK(eq_hex(out, want, 32));
    free(f);
}

static void test_ticket_hash(void) {
    uint8_t flat[PM_FLAT_WITH_AUX], wp[32], rrh[32], recipient[20], aux[64];
    size_t len;

    memset(wp, 0, 32);
    len = make_flat(flat, NULL, NULL, 0, wp, 4294967295u, NULL, NULL);
    check_ticket_hash(flat, len, "e1393fc7f6de093780674022f96cb8e3872235167d037c04d554e58c0e63d280");
    len = make_flat(flat, NULL, NULL, 0, wp, 1, NULL, NULL);
    check_ticket_hash(flat, len, "ce0918ba94518293e9712effbe5fca4f1f431089833a5b8c257cb1e024595f68");
    put_u64_word(wp, 500);
    len = make_flat(flat, NULL, NULL, 1, wp, 0, NULL, NULL);
    check_ticket_hash(flat, len, "87ef13f2d37e4d5352a01d3c77b8179d80e0887f1953bfabfd0bfd7b0f689ddd");
    put_u64_word(wp, 1);
    len = make_flat(flat, NULL, NULL, 500, wp, 0, NULL, NULL);
    check_ticket_hash(flat, len, "aa4b35071043587992ac8b9dd1b2cf1d8311130e6458cf0b2342484e21af5f5b");
    unhex(RECIPIENT_HEX, recipient, 20);
    len = make_flat(flat, recipient, NULL, 0, NULL, 0, NULL, NULL);
    check_ticket_hash(flat, len, "81e353ae39046e2b77b9f996abbaeed527fda559b61ef90f299c4499dd508ccc");
    unhex(RRH_HEX, rrh, 32);
    len = make_flat(flat, NULL, NULL, 0, NULL, 0, rrh, NULL);
    check_ticket_hash(flat, len, "be5eaf9a49a39540b9bb02f1a21904f61324a29819e2c032824bfaa10c100b17");
    put_u64_word(aux, 10); /* AuxData = u256(CreationRound) || CreationRoundBlockHash (§1.2) */
    memcpy(aux + 32, rrh, 32);
    len = make_flat(flat, NULL, NULL, 0, NULL, 0, NULL, aux);
    CHECK(len == 232);
    check_ticket_hash(flat, len, "e502907c16036ab3d11b78c5a2e93c20f3d6415c67f91de4ed01348182b3b2e2");

    /* Only 168 and 232 are ticket lengths; every other edge length is an argument error and the
     * output is left alone. pm_ticket_hash must equal pm_keccak256 where it accepts. */
    uint8_t buf[4096];
    for (size_t e = 0; e < N_EDGE; e++) {
        size_t n = EDGE_LENGTHS[e];
        rng_fill(buf, n);
        uint8_t *in = exact(buf, n), out[32], ref[32];
        memset(out, 0xAA, 32);
        int want = (n == 168 || n == 232) ? PM_OK : PM_ERR_ARG;
        CHECK_RC(pm_ticket_hash(in, n, out), want);
        if (want == PM_OK) {
            CHECK_RC(pm_keccak256(in, n, ref), PM_OK);
            CHECK(memcmp(out, ref, 32) == 0);
        } else {
            for (int i = 0; i < 32; i++) CHECK(out[i] == 0xAA);
        }
        free(in);
    }
    uint8_t out[32];
    CHECK_RC(pm_ticket_hash(NULL, 168, out), PM_ERR_ARG);
    CHECK_RC(pm_ticket_hash(flat, 168, NULL), PM_ERR_ARG);
    CHECK_RC(pm_ticket_hash(flat, 0, out), PM_ERR_ARG);
}

/* ---------------------------------------------------------------- win check: §3, §10.1.4 */

static void test_win_check(void) {
    uint8_t rand32[32], wp[32], h[32], won = 0xEE;
    const uint8_t foo[3] = {'f', 'o', 'o'};
    put_u64_word(rand32, 10);
    /* recipientRandHash = keccak(u256(10)) */
    CHECK_RC(pm_keccak256(rand32, 32, h), PM_OK);
    CHECK(eq_hex(h, "c65a7bb8d6351c1cf70c95a316cc6a92839c986682d98bc35f958f4883f9d2a8", 32));
    ref_keccak_concat(foo, 3, rand32, 32, h);
    CHECK(eq_hex(h, "212117bf5ec66d480ab4d362ce2f1ae19d6b5df92c5f8633bcecf62bfaea6810", 32));
    uint8_t *sig = exact(foo, 3), *r = exact(rand32, 32);
    memset(wp, 0, 32); /* WinProb 0 never wins */
    uint8_t *w = exact(wp, 32);
    CHECK_RC(pm_win_check(sig, 3, r, w, &won), PM_OK);
    CHECK(won == 0);
    free(w);
    memset(wp, 0xff, 32); /* WinProb M wins */
    w = exact(wp, 32);
    CHECK_RC(pm_win_check(sig, 3, r, w, &won), PM_OK);
    CHECK(won == 1);
    free(w);
    /* Strict comparison: WinProb == hash loses, hash + 1 wins. */
    w = exact(h, 32);
    CHECK_RC(pm_win_check(sig, 3, r, w, &won), PM_OK);
    CHECK(won == 0);
    w[31]++; /* 0x10 -> 0x11, no carry */
    CHECK_RC(pm_win_check(sig, 3, r, w, &won), PM_OK);
    CHECK(won == 1);
    free(w);
    free(sig);
    free(r);

    /* Any signature length is hashed as given (abi.encodePacked), including 0 and 4096. */
    uint8_t buf[4096];
    for (size_t e = 0; e < N_EDGE; e++) {
        size_t n = EDGE_LENGTHS[e];
        for (int t = 0; t < 3; t++) {
            rng_fill(buf, n);
            rng_fill(rand32, 32);
            uint8_t ref[32];
            ref_keccak_concat(buf, n, rand32, 32, ref);
            uint8_t *s = exact(buf, n), *rr = exact(rand32, 32);
            /* Threshold = ref gives a loss, ref with a higher byte a win, random either way. */
            uint8_t *thr = exact(ref, 32);
            CHECK_RC(pm_win_check(s, n, rr, thr, &won), PM_OK);
            CHECK(won == 0);
            free(thr);
            rng_fill(wp, 32);
            thr = exact(wp, 32);
            CHECK_RC(pm_win_check(s, n, rr, thr, &won), PM_OK);
            CHECK(won == (memcmp(ref, wp, 32) < 0));
            free(thr);
            free(s);
            free(rr);
        }
    }
    CHECK_RC(pm_win_check(NULL, 0, rand32, wp, &won), PM_OK);
    CHECK_RC(pm_win_check(NULL, 65, rand32, wp, &won), PM_ERR_ARG);
    CHECK_RC(pm_win_check(foo, 3, NULL, wp, &won), PM_ERR_ARG);
    CHECK_RC(pm_win_check(foo, 3, rand32, NULL, &won), PM_ERR_ARG);
    CHECK_RC(pm_win_check(foo, 3, rand32, wp, NULL), PM_ERR_ARG);
}

/* ---------------------------------------------------------------- keys, signing, recovery */

static void test_keys(void) {
    uint8_t key[32], addr[20];
    memset(key, 0, 32);
    key[31] = 1;
    uint8_t *k = exact(key, 32);
    CHECK_RC(pm_seckey_address(k, addr), PM_OK);
    CHECK(eq_hex(addr, "7E5F4552091A69125d5DfCb7b8C2659029395Bdf", 20));
    k[31] = 2;
    CHECK_RC(pm_seckey_address(k, addr), PM_OK);
    CHECK(eq_hex(addr, "2B5AD5c4795c026514f8317c7a215E218DcCD6cF", 20));
    memset(k, 0, 32); /* zero, N and anything above are not keys */
    CHECK_RC(pm_seckey_address(k, addr), PM_ERR_SECKEY);
    unhex(ORDER_HEX, k, 32);
    CHECK_RC(pm_seckey_address(k, addr), PM_ERR_SECKEY);
    uint8_t sig[65], digest[32] = {0};
    CHECK_RC(pm_sign_digest(k, digest, sig), PM_ERR_SECKEY);
    CHECK_RC(pm_sign_msg32_batch(k, digest, 1, sig), PM_ERR_SECKEY);
    memset(k, 0xff, 32);
    CHECK_RC(pm_seckey_address(k, addr), PM_ERR_SECKEY);
    unhex(ORDER_HEX, k, 32);
    k[31]--; /* N - 1 is the largest key */
    CHECK_RC(pm_seckey_address(k, addr), PM_OK);
    free(k);
    CHECK_RC(pm_seckey_address(NULL, addr), PM_ERR_ARG);
    CHECK_RC(pm_seckey_address(key, NULL), PM_ERR_ARG);
}

/* EIP-191 signatures by keys 1 and 2 of the §10.1.1 nonce-max ticket hash (eth-account). */
static const char *const KAT_MSG = "e1393fc7f6de093780674022f96cb8e3872235167d037c04d554e58c0e63d280";
static const char *const KAT_SIG[2] = {
    "07b7b7a9fd660c03039cf9873462edf5a4d4072d037dc61fc7d4a17ab028d6551a26c3a41750aca2d08a1a81f7b4dc"
    "4dc1678d03d69e7aa399f0e66cceaf8d351b",
    "3e5a61f23dd1cca68169e4e4959a919b4196809bd2038bc563385015c5a3ec8a6328f1c5142e0318d9d9f0a2f5a445"
    "8f9793fa4b969e8f0a17322192ce8399f21c",
};

/* The status a single recovery gives, mapped like pm_validate_tickets does. */
static int one_by_one_status(const uint8_t msg32[32], const uint8_t *sig, size_t siglen,
                             const uint8_t sender[20]) {
    uint8_t addr[20];
    int st = pm_recover_msg32(msg32, sig, siglen, addr);
    if (st == PM_OK && memcmp(addr, sender, 20) != 0) st = PM_ERR_WRONG_SIGNER;
    return st;
}

static void test_sign_recover(void) {
    uint8_t key[32], msg[32], sig[65], addr[20], digest[32];
    unhex(KAT_MSG, msg, 32);
    for (int i = 0; i < 2; i++) {
        memset(key, 0, 32);
        key[31] = (uint8_t)(i + 1);
        uint8_t *k = exact(key, 32), *m = exact(msg, 32), *s = xmalloc(65);
        CHECK_RC(pm_sign_msg32_batch(k, m, 1, s), PM_OK);
        CHECK(eq_hex(s, KAT_SIG[i], 65));
        CHECK_RC(pm_personal_digest(m, digest), PM_OK);
        uint8_t *d = exact(digest, 32);
        CHECK_RC(pm_sign_digest(k, d, sig), PM_OK);
        CHECK(memcmp(sig, s, 65) == 0);
        CHECK_RC(pm_recover_msg32(m, s, 65, addr), PM_OK);
        CHECK(eq_hex(addr, i == 0 ? "7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
                                  : "2B5AD5c4795c026514f8317c7a215E218DcCD6cF",
                     20));
        free(k);
        free(m);
        free(s);
        free(d);
    }

    /* sign -> recover -> compare for random keys and messages; low s, v in {27, 28}. */
    for (int t = 0; t < 64; t++) {
        uint8_t want[20];
        random_seckey(key);
        rng_fill(msg, 32);
        uint8_t *k = exact(key, 32), *m = exact(msg, 32), *s = xmalloc(65);
        CHECK_RC(pm_seckey_address(k, want), PM_OK);
        CHECK_RC(pm_sign_msg32_batch(k, m, 1, s), PM_OK);
        CHECK(s[64] == 27 || s[64] == 28);
        CHECK(is_low_s(s));
        CHECK_RC(pm_recover_msg32(m, s, 65, addr), PM_OK);
        CHECK(memcmp(addr, want, 20) == 0);
        /* A different message recovers someone else (or nothing). */
        m[t % 32] ^= 0x80;
        int st = pm_recover_msg32(m, s, 65, addr);
        CHECK(st == PM_ERR_SIG_RECOVER || (st == PM_OK && memcmp(addr, want, 20) != 0));
        free(k);
        free(m);
        free(s);
    }

    /* go-livepeer's check order (spec/protocol.md §2.3): length, high s, v, recovery. */
    random_seckey(key);
    rng_fill(msg, 32);
    CHECK_RC(pm_sign_msg32_batch(key, msg, 1, sig), PM_OK);
    uint8_t buf[4096];
    for (size_t e = 0; e < N_EDGE; e++) {
        size_t n = EDGE_LENGTHS[e];
        memset(buf, 0, n);
        if (n >= 65) memcpy(buf, sig, 65); /* a good signature with trailing bytes: still bad */
        uint8_t *s = exact(buf, n);
        CHECK_RC(pm_recover_msg32(msg, s, n, addr), PM_ERR_SIG_LENGTH);
        free(s);
    }
    const size_t near[] = {64, 66};
    for (size_t i = 0; i < 2; i++) {
        uint8_t *s = exact(sig, 65);
        CHECK_RC(pm_recover_msg32(msg, s, near[i], addr), PM_ERR_SIG_LENGTH);
        free(s);
    }
    uint8_t bad[65];
    memcpy(bad, sig, 65);
    memset(bad + 32, 0xff, 32); /* high s beats a bad v */
    bad[64] = 0;
    uint8_t *s = exact(bad, 65);
    CHECK_RC(pm_recover_msg32(msg, s, 65, addr), PM_ERR_SIG_HIGH_S);
    free(s);
    memcpy(bad, sig, 65);
    unhex(HALF_ORDER_HEX, bad + 32, 32); /* s == floor(N/2) passes the s check */
    s = exact(bad, 65);
    int st = pm_recover_msg32(msg, s, 65, addr);
    CHECK(st == PM_OK || st == PM_ERR_SIG_RECOVER);
    s[63]++; /* floor(N/2) + 1 is too high */
    CHECK_RC(pm_recover_msg32(msg, s, 65, addr), PM_ERR_SIG_HIGH_S);
    free(s);
    const uint8_t bad_v[] = {0, 1, 26, 29, 255};
    for (size_t i = 0; i < sizeof bad_v; i++) {
        memcpy(bad, sig, 65);
        bad[64] = bad_v[i];
        s = exact(bad, 65);
        CHECK_RC(pm_recover_msg32(msg, s, 65, addr), PM_ERR_SIG_V);
        free(s);
    }
    memcpy(bad, sig, 65);
    memset(bad, 0, 32); /* r = 0 */
    s = exact(bad, 65);
    CHECK_RC(pm_recover_msg32(msg, s, 65, addr), PM_ERR_SIG_RECOVER);
    memset(s, 0xff, 32); /* r >= N */
    CHECK_RC(pm_recover_msg32(msg, s, 65, addr), PM_ERR_SIG_RECOVER);
    memcpy(s, sig, 32);
    memset(s + 32, 0, 32); /* s = 0 */
    CHECK_RC(pm_recover_msg32(msg, s, 65, addr), PM_ERR_SIG_RECOVER);
    free(s);
    /* Random 65-byte garbage never crashes and gives one of the statuses. */
    for (int t = 0; t < 256; t++) {
        rng_fill(bad, 65);
        if (t & 1) bad[64] = (uint8_t)(27 + (t & 2) / 2);
        s = exact(bad, 65);
        st = pm_recover_msg32(msg, s, 65, addr);
        CHECK(st == PM_OK || st == PM_ERR_SIG_HIGH_S || st == PM_ERR_SIG_V ||
              st == PM_ERR_SIG_RECOVER);
        free(s);
    }

    CHECK_RC(pm_recover_msg32(msg, NULL, 0, addr), PM_ERR_SIG_LENGTH);
    CHECK_RC(pm_recover_msg32(msg, NULL, 65, addr), PM_ERR_ARG);
    CHECK_RC(pm_recover_msg32(NULL, sig, 65, addr), PM_ERR_ARG);
    CHECK_RC(pm_recover_msg32(msg, sig, 65, NULL), PM_ERR_ARG);
    CHECK_RC(pm_sign_digest(NULL, msg, sig), PM_ERR_ARG);
    CHECK_RC(pm_sign_digest(key, NULL, sig), PM_ERR_ARG);
    CHECK_RC(pm_sign_digest(key, msg, NULL), PM_ERR_ARG);
    CHECK_RC(pm_sign_msg32_batch(NULL, msg, 1, sig), PM_ERR_ARG);
    CHECK_RC(pm_sign_msg32_batch(key, NULL, 1, sig), PM_ERR_ARG);
    CHECK_RC(pm_sign_msg32_batch(key, msg, 1, NULL), PM_ERR_ARG);
    CHECK_RC(pm_sign_msg32_batch(NULL, NULL, 0, NULL), PM_OK);
}

/* ---------------------------------------------------------------- batches */

static void test_sign_batch(void) {
    uint8_t key[32];
    random_seckey(key);
    for (size_t b = 0; b < N_BATCH; b++) {
        size_t n = BATCH_SIZES[b];
        uint8_t *msgs = xmalloc(32 * n);
        rng_fill(msgs, 32 * n);
        uint8_t *m = exact(msgs, 32 * n), *sigs = xmalloc(65 * n);
        CHECK_RC(pm_sign_msg32_batch(key, m, n, sigs), PM_OK);
        for (size_t i = 0; i < n; i++) { /* batch == one by one */
            uint8_t one[65];
            CHECK_RC(pm_sign_msg32_batch(key, m + 32 * i, 1, one), PM_OK);
            CHECK(memcmp(one, sigs + 65 * i, 65) == 0);
        }
        /* bench floors: sign raw digests == pm_sign_digest; recover gives the signer. */
        uint8_t *bsig = xmalloc(65 * n), *pubs = xmalloc(64 * n), want[20];
        CHECK_RC(pm_bench_sign_loop(key, m, n, bsig), PM_OK);
        CHECK_RC(pm_seckey_address(key, want), PM_OK);
        for (size_t i = 0; i < n; i++) {
            uint8_t one[65];
            CHECK_RC(pm_sign_digest(key, m + 32 * i, one), PM_OK);
            CHECK(memcmp(one, bsig + 65 * i, 65) == 0);
        }
        CHECK_RC(pm_bench_recover_loop(m, bsig, n, pubs), PM_OK);
        for (size_t i = 0; i < n; i++) {
            uint8_t ser[65], h[32];
            size_t len = sizeof ser;
            CHECK(api.ec_pubkey_serialize(secp_ctx, ser, &len, pubs + 64 * i,
                                          SECP256K1_EC_UNCOMPRESSED) == 1);
            CHECK(len == 65);
            CHECK_RC(pm_keccak256(ser + 1, 64, h), PM_OK);
            CHECK(memcmp(h + 12, want, 20) == 0);
        }
        free(msgs);
        free(m);
        free(sigs);
        free(bsig);
        free(pubs);
    }
    uint8_t d[32] = {0}, s[65] = {0}, p[64];
    CHECK_RC(pm_bench_sign_loop(NULL, d, 1, s), PM_ERR_ARG);
    CHECK_RC(pm_bench_sign_loop(key, NULL, 1, s), PM_ERR_ARG);
    CHECK_RC(pm_bench_sign_loop(key, d, 1, NULL), PM_ERR_ARG);
    CHECK_RC(pm_bench_recover_loop(NULL, s, 1, p), PM_ERR_ARG);
    CHECK_RC(pm_bench_recover_loop(d, NULL, 1, p), PM_ERR_ARG);
    CHECK_RC(pm_bench_recover_loop(d, s, 1, NULL), PM_ERR_ARG);
    CHECK_RC(pm_bench_recover_loop(d, s, 1, p), PM_ERR_SIG_V); /* v = 0 */
}

/* Corrupts signature i in one of several ways; the batch must agree with one-by-one checks. */
static void corrupt(uint8_t sig[65], size_t i, const uint8_t other_key[32], const uint8_t h[32]) {
    switch (i % 8) {
    case 1: sig[64] = (uint8_t)(29 + i % 3); break;                      /* bad v */
    case 2: memset(sig + 32, 0xff, 32); break;                            /* high s */
    case 3: memset(sig, 0, 32); break;                                    /* r = 0 */
    case 4: CHECK_RC(pm_sign_msg32_batch(other_key, h, 1, sig), PM_OK); break; /* wrong signer */
    case 5: sig[i % 32] ^= 0x04; break;                                   /* tampered r */
    case 6: sig[64] = sig[64] == 27 ? 28 : 27; break;                     /* other recovery id */
    default: break;                                                       /* untouched */
    }
}

static void test_tickets(void) {
    uint8_t key[32], other[32], sender[20], recipient[20], wp[32], rrh[32], aux[64], rand32[32];
    random_seckey(key);
    random_seckey(other);
    CHECK_RC(pm_seckey_address(key, sender), PM_OK);
    unhex(RECIPIENT_HEX, recipient, 20);
    memset(wp, 0, 32);
    wp[0] = 0x80; /* about half the good tickets win */
    rng_fill(rrh, 32);
    rng_fill(aux, 64);
    rng_fill(rand32, 32);

    for (int with_aux = 0; with_aux < 2; with_aux++) {
        uint8_t tpl[PM_FLAT_WITH_AUX];
        size_t flen = make_flat(tpl, recipient, sender, 123456789, wp, 0xdeadbeef, rrh,
                                with_aux ? aux : NULL);
        uint8_t *flat = exact(tpl, flen);
        for (size_t b = 0; b < N_BATCH; b++) {
            size_t n = BATCH_SIZES[b];
            uint32_t *nonces = (uint32_t *)(void *)xmalloc(4 * n);
            for (size_t i = 0; i < n; i++)
                nonces[i] = i == 0 ? 0xffffffffu : (uint32_t)(rng_next() % 3 == 0 ? i : rng_next());
            uint8_t *hashes = xmalloc(32 * n), *sigs = xmalloc(65 * n), *sigs2 = xmalloc(65 * n);
            CHECK_RC(pm_create_tickets(key, flat, flen, nonces, n, hashes, sigs), PM_OK);
            CHECK_RC(pm_create_tickets(key, flat, flen, nonces, n, NULL, sigs2), PM_OK);
            CHECK(n == 0 || memcmp(sigs, sigs2, 65 * n) == 0);
            /* The template is not modified (the core copies it before writing nonces). */
            CHECK(memcmp(flat, tpl, flen) == 0);
            size_t n_won = 0;
            for (size_t i = 0; i < n; i++) {
                uint8_t one[PM_FLAT_WITH_AUX], h[32], s[65];
                make_flat(one, recipient, sender, 123456789, wp, nonces[i], rrh,
                          with_aux ? aux : NULL);
                CHECK_RC(pm_ticket_hash(one, flen, h), PM_OK);
                CHECK(memcmp(h, hashes + 32 * i, 32) == 0);
                CHECK_RC(pm_sign_msg32_batch(key, h, 1, s), PM_OK);
                CHECK(memcmp(s, sigs + 65 * i, 65) == 0);
            }

            /* All good: every status OK; won agrees with pm_win_check; NULL rand wins nothing. */
            uint8_t *st = xmalloc(n), *won = xmalloc(n);
            CHECK_RC(pm_validate_tickets(flat, flen, nonces, sigs, n, sender, rand32, st, won),
                     PM_OK);
            for (size_t i = 0; i < n; i++) {
                uint8_t w;
                CHECK(st[i] == PM_OK);
                CHECK_RC(pm_win_check(sigs + 65 * i, 65, rand32, wp, &w), PM_OK);
                CHECK(won[i] == w);
                n_won += w;
            }
            if (n == 1000) CHECK(n_won > 350 && n_won < 650); /* P(outside) < 1e-20 */
            CHECK_RC(pm_validate_tickets(flat, flen, nonces, sigs, n, sender, NULL, st, won),
                     PM_OK);
            for (size_t i = 0; i < n; i++) CHECK(st[i] == PM_OK && won[i] == 0);

            /* Corrupted signatures: batch statuses == one-by-one recovery + comparison. */
            for (size_t i = 0; i < n; i++) corrupt(sigs + 65 * i, i, other, hashes + 32 * i);
            uint8_t *csig = exact(sigs, 65 * n);
            CHECK_RC(pm_validate_tickets(flat, flen, nonces, csig, n, sender, rand32, st, won),
                     PM_OK);
            for (size_t i = 0; i < n; i++) {
                int want = one_by_one_status(hashes + 32 * i, csig + 65 * i, 65, sender);
                CHECK(st[i] == want);
                uint8_t w = 0;
                if (want == PM_OK) CHECK_RC(pm_win_check(csig + 65 * i, 65, rand32, wp, &w), PM_OK);
                CHECK(won[i] == w);
                if (n == 1000) {
                    switch (i % 8) {
                    case 1: CHECK(st[i] == PM_ERR_SIG_V); break;
                    case 2: CHECK(st[i] == PM_ERR_SIG_HIGH_S); break;
                    case 3: CHECK(st[i] == PM_ERR_SIG_RECOVER); break;
                    case 4: CHECK(st[i] == PM_ERR_WRONG_SIGNER); break;
                    case 5: case 6: CHECK(st[i] == PM_ERR_WRONG_SIGNER || st[i] == PM_ERR_SIG_RECOVER); break;
                    default: CHECK(st[i] == PM_OK); break;
                    }
                }
            }
            free(csig);
            free(nonces);
            free(hashes);
            free(sigs);
            free(sigs2);
            free(st);
            free(won);
        }
        free(flat);
    }

    /* §10.1.1 nonce-max ticket signed by key 1 through the batch path gives the KAT signature. */
    uint8_t tpl[PM_FLAT_WITH_AUX], zero_wp[32] = {0}, sig[65], h[32];
    size_t flen = make_flat(tpl, NULL, NULL, 0, zero_wp, 0, NULL, NULL);
    uint8_t k1[32] = {0};
    k1[31] = 1;
    uint32_t nonce_max = 0xffffffffu;
    CHECK_RC(pm_create_tickets(k1, tpl, flen, &nonce_max, 1, h, sig), PM_OK);
    CHECK(eq_hex(h, KAT_MSG, 32));
    CHECK(eq_hex(sig, KAT_SIG[0], 65));
    uint8_t fixture_sender[20], kst[1], kwon[1];
    unhex(SENDER_HEX, fixture_sender, 20); /* §10.1.4's sender did not sign it */
    CHECK_RC(pm_validate_tickets(tpl, flen, &nonce_max, sig, 1, fixture_sender, NULL, kst, kwon),
             PM_OK);
    CHECK(kst[0] == PM_ERR_WRONG_SIGNER && kwon[0] == 0);
    CHECK_RC(pm_seckey_address(k1, fixture_sender), PM_OK);
    CHECK_RC(pm_validate_tickets(tpl, flen, &nonce_max, sig, 1, fixture_sender, NULL, kst, kwon),
             PM_OK);
    CHECK(kst[0] == PM_OK && kwon[0] == 0);

    /* Lengths and NULLs. */
    uint8_t buf[4096] = {0}, st[1], won[1];
    uint32_t nonce = 1;
    for (size_t e = 0; e < N_EDGE; e++) {
        size_t n = EDGE_LENGTHS[e];
        if (n == 168 || n == 232) continue;
        uint8_t *f = exact(buf, n);
        CHECK_RC(pm_create_tickets(key, f, n, &nonce, 1, NULL, sig), PM_ERR_ARG);
        CHECK_RC(pm_create_tickets(key, f, n, &nonce, 0, NULL, sig), PM_ERR_ARG);
        CHECK_RC(pm_validate_tickets(f, n, &nonce, sig, 1, sender, NULL, st, won), PM_ERR_ARG);
        CHECK_RC(pm_validate_tickets(f, n, &nonce, sig, 0, sender, NULL, st, won), PM_ERR_ARG);
        free(f);
    }
    CHECK_RC(pm_create_tickets(key, NULL, 168, &nonce, 1, NULL, sig), PM_ERR_ARG);
    CHECK_RC(pm_create_tickets(NULL, tpl, 168, &nonce, 1, NULL, sig), PM_ERR_ARG);
    CHECK_RC(pm_create_tickets(key, tpl, 168, NULL, 1, NULL, sig), PM_ERR_ARG);
    CHECK_RC(pm_create_tickets(key, tpl, 168, &nonce, 1, NULL, NULL), PM_ERR_ARG);
    CHECK_RC(pm_create_tickets(NULL, tpl, 168, NULL, 0, NULL, NULL), PM_OK);
    uint8_t zero_key[32] = {0};
    CHECK_RC(pm_create_tickets(zero_key, tpl, 168, &nonce, 1, NULL, sig), PM_ERR_SECKEY);
    CHECK_RC(pm_validate_tickets(NULL, 168, &nonce, sig, 1, sender, NULL, st, won), PM_ERR_ARG);
    CHECK_RC(pm_validate_tickets(tpl, 168, NULL, sig, 1, sender, NULL, st, won), PM_ERR_ARG);
    CHECK_RC(pm_validate_tickets(tpl, 168, &nonce, NULL, 1, sender, NULL, st, won), PM_ERR_ARG);
    CHECK_RC(pm_validate_tickets(tpl, 168, &nonce, sig, 1, NULL, NULL, st, won), PM_ERR_ARG);
    CHECK_RC(pm_validate_tickets(tpl, 168, &nonce, sig, 1, sender, NULL, NULL, won), PM_ERR_ARG);
    CHECK_RC(pm_validate_tickets(tpl, 168, &nonce, sig, 1, sender, NULL, st, NULL), PM_ERR_ARG);
    CHECK_RC(pm_validate_tickets(tpl, 168, NULL, NULL, 0, sender, NULL, NULL, NULL), PM_OK);
}

/* ---------------------------------------------------------------- batch verification (issue 10) */

#ifdef PM_TEST_HAVE_BV
/* pm_bv_validate_tickets must give exactly pm_validate_tickets' statuses and win flags, read
 * only its exact-size inputs and stay inside the scratch it was given (even misaligned). */
static void bv_compare(const uint8_t *flat, size_t flen, const uint32_t *nonces, const uint8_t *sigs,
                       size_t n, const uint8_t sender[20], const uint8_t *rand32) {
    uint8_t *st1 = xmalloc(n), *won1 = xmalloc(n), *st2 = xmalloc(n), *won2 = xmalloc(n);
    uint8_t *wbuf = xmalloc((size_t)PM_BV_WEIGHT_LEN * n);
    rng_fill(wbuf, (size_t)PM_BV_WEIGHT_LEN * n);
    uint8_t *weights = exact(wbuf, (size_t)PM_BV_WEIGHT_LEN * n);
    CHECK_RC(pm_validate_tickets(flat, flen, nonces, sigs, n, sender, rand32, st1, won1), PM_OK);
    size_t need = pm_bv_scratch_size(n);
    CHECK(need > 0);
    for (int misalign = 0; misalign < 2; misalign++) {
        uint8_t *block = xmalloc(need + (size_t)misalign);
        memset(st2, 0xEE, n ? n : 1);
        memset(won2, 0xEE, n ? n : 1);
        CHECK_RC(pm_bv_validate_tickets(flat, flen, nonces, sigs, n, sender, rand32, weights,
                                        block + misalign, need, st2, won2),
                 PM_OK);
        CHECK(n == 0 || memcmp(st1, st2, n) == 0);
        CHECK(n == 0 || memcmp(won1, won2, n) == 0);
        if (n)
            CHECK_RC(pm_bv_validate_tickets(flat, flen, nonces, sigs, n, sender, rand32, weights,
                                            block + misalign, need - 1, st2, won2),
                     PM_ERR_ARG);
        free(block);
    }
    free(st1);
    free(won1);
    free(st2);
    free(won2);
    free(wbuf);
    free(weights);
}

static void test_bv(void) {
    uint8_t key[32], other[32], sender[20], recipient[20], wp[32], rrh[32], aux[64], rand32[32];
    random_seckey(key);
    random_seckey(other);
    CHECK_RC(pm_seckey_address(key, sender), PM_OK);
    unhex(RECIPIENT_HEX, recipient, 20);
    memset(wp, 0, 32);
    wp[0] = 0x80;
    rng_fill(rrh, 32);
    rng_fill(aux, 64);
    rng_fill(rand32, 32);
    CHECK(pm_bv_scratch_size((size_t)1 << 40) == 0);
    CHECK(pm_bv_scratch_size(SIZE_MAX) == 0);

    for (int with_aux = 0; with_aux < 2; with_aux++) {
        uint8_t tpl[PM_FLAT_WITH_AUX];
        size_t flen = make_flat(tpl, recipient, sender, 987654321, wp, 0, rrh, with_aux ? aux : NULL);
        uint8_t *flat = exact(tpl, flen);
        for (size_t b = 0; b < N_BATCH; b++) {
            size_t n = BATCH_SIZES[b];
            uint32_t *nonces = (uint32_t *)(void *)xmalloc(4 * n);
            for (size_t i = 0; i < n; i++) nonces[i] = (uint32_t)rng_next();
            uint8_t *hashes = xmalloc(32 * n), *sigs = xmalloc(65 * n);
            CHECK_RC(pm_create_tickets(key, flat, flen, nonces, n, hashes, sigs), PM_OK);
            uint8_t *good = exact(sigs, 65 * n);
            bv_compare(flat, flen, nonces, good, n, sender, rand32); /* all valid */
            bv_compare(flat, flen, nonces, good, n, sender, NULL);
            for (size_t i = 0; i < n; i++) corrupt(sigs + 65 * i, i, other, hashes + 32 * i);
            uint8_t *bad = exact(sigs, 65 * n);
            bv_compare(flat, flen, nonces, bad, n, sender, rand32); /* 5 bad kinds of 8 */
            if (n == 1000) { /* one bad ticket hidden among good ones, at each end and inside */
                const size_t where[] = {0, 499, 999};
                for (size_t w = 0; w < 3; w++) {
                    memcpy(sigs, good, 65 * n);
                    sigs[65 * where[w] + 64] = sigs[65 * where[w] + 64] == 27 ? 28 : 27;
                    uint8_t *one = exact(sigs, 65 * n);
                    bv_compare(flat, flen, nonces, one, n, sender, rand32);
                    free(one);
                }
            }
            free(nonces);
            free(hashes);
            free(sigs);
            free(good);
            free(bad);
        }
        free(flat);
    }

    /* Lengths and NULLs. */
    uint8_t tpl[PM_FLAT_WITH_AUX] = {0}, sig[65] = {0}, st[1], won[1], weights[PM_BV_WEIGHT_LEN] = {0};
    uint32_t nonce = 1;
    size_t need = pm_bv_scratch_size(1);
    uint8_t *scratch = xmalloc(need);
    for (size_t e = 0; e < N_EDGE; e++) {
        size_t n = EDGE_LENGTHS[e];
        if (n == 168 || n == 232) continue;
        CHECK_RC(pm_bv_validate_tickets(tpl, n, &nonce, sig, 1, sender, NULL, weights, scratch,
                                        need, st, won),
                 PM_ERR_ARG);
    }
    CHECK_RC(pm_bv_validate_tickets(NULL, 168, &nonce, sig, 1, sender, NULL, weights, scratch, need, st, won), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, NULL, sig, 1, sender, NULL, weights, scratch, need, st, won), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, &nonce, NULL, 1, sender, NULL, weights, scratch, need, st, won), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, &nonce, sig, 1, NULL, NULL, weights, scratch, need, st, won), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, &nonce, sig, 1, sender, NULL, NULL, scratch, need, st, won), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, &nonce, sig, 1, sender, NULL, weights, NULL, need, st, won), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, &nonce, sig, 1, sender, NULL, weights, scratch, 0, st, won), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, &nonce, sig, 1, sender, NULL, weights, scratch, need, NULL, won), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, &nonce, sig, 1, sender, NULL, weights, scratch, need, st, NULL), PM_ERR_ARG);
    CHECK_RC(pm_bv_validate_tickets(tpl, 168, NULL, NULL, 0, sender, NULL, NULL, NULL, 0, NULL, NULL), PM_OK);
    free(scratch);

    /* The arithmetic shim: argument errors, algebraic identities, and the MSM and point
     * decompression against libsecp256k1's own public keys. */
    uint8_t a[32], b[32], r1[64], r2[64], one[32] = {0};
    one[31] = 1;
    CHECK_RC(pm_bv_selftest(1, NULL, b, NULL, r1), PM_ERR_ARG);
    CHECK_RC(pm_bv_selftest(1, a, NULL, NULL, r1), PM_ERR_ARG);
    CHECK_RC(pm_bv_selftest(1, a, b, NULL, NULL), PM_ERR_ARG);
    CHECK_RC(pm_bv_selftest(0, a, b, NULL, r1), PM_ERR_ARG);
    CHECK_RC(pm_bv_selftest(10, a, b, NULL, r1), PM_ERR_ARG);
    CHECK_RC(pm_bv_selftest(9, one, one, NULL, r1), PM_ERR_ARG);
    for (int t = 0; t < 64; t++) {
        rng_fill(a, 32);
        rng_fill(b, 32);
        if (t == 0) memset(a, 0xff, 32); /* >= p and >= n: reduced on load */
        CHECK_RC(pm_bv_selftest(2, a, b, NULL, r1), PM_OK);       /* a^2 */
        CHECK_RC(pm_bv_selftest(1, a, a, NULL, r2), PM_OK);       /* a*a */
        CHECK(memcmp(r1, r2, 32) == 0);
        CHECK_RC(pm_bv_selftest(3, a, b, NULL, r2), PM_OK);       /* a^-1 mod p */
        CHECK_RC(pm_bv_selftest(1, a, r2, NULL, r2 + 32), PM_OK); /* a * a^-1 */
        CHECK(memcmp(r2 + 32, one, 32) == 0);
        uint8_t sq[32];
        memcpy(sq, r1, 32);
        CHECK_RC(pm_bv_selftest(4, sq, b, NULL, r2), PM_OK);      /* sqrt(a^2) */
        CHECK_RC(pm_bv_selftest(2, r2, b, NULL, r2 + 32), PM_OK);
        CHECK(memcmp(r2 + 32, sq, 32) == 0);
        CHECK_RC(pm_bv_selftest(6, a, b, NULL, r2), PM_OK);       /* a^-1 mod n */
        CHECK_RC(pm_bv_selftest(5, a, r2, NULL, r2 + 32), PM_OK);
        CHECK(memcmp(r2 + 32, one, 32) == 0);

        /* a*G + b*P with P = k*G equals pubkey(a + b*k mod n) from libsecp256k1. */
        uint8_t k[32], ser[65], bk[32], sum[32];
        size_t len = sizeof ser;
        unsigned char pk[64];
        random_seckey(k);
        random_seckey(a);
        random_seckey(b);
        CHECK(api.ec_pubkey_create(secp_ctx, pk, k) == 1);
        CHECK(api.ec_pubkey_serialize(secp_ctx, ser, &len, pk, SECP256K1_EC_UNCOMPRESSED) == 1);
        uint8_t *P = exact(ser + 1, 64);
        CHECK_RC(pm_bv_selftest(9, a, b, P, r1), PM_OK);
        CHECK_RC(pm_bv_selftest(5, b, k, NULL, bk), PM_OK);
        CHECK_RC(pm_bv_selftest(7, a, bk, NULL, sum), PM_OK);
        if (api.ec_seckey_verify(secp_ctx, sum)) {
            len = sizeof ser;
            CHECK(api.ec_pubkey_create(secp_ctx, pk, sum) == 1);
            CHECK(api.ec_pubkey_serialize(secp_ctx, ser, &len, pk, SECP256K1_EC_UNCOMPRESSED) == 1);
            CHECK(memcmp(r1, ser + 1, 64) == 0);
        }
        /* Decompressing P's x with P's y parity gives P back. */
        uint8_t parity[32] = {0};
        parity[31] = P[63] & 1;
        CHECK_RC(pm_bv_selftest(8, P, parity, NULL, r2), PM_OK);
        CHECK(memcmp(r2, P, 64) == 0);
        free(P);
    }
}
#endif

/* ---------------------------------------------------------------- threads */

/* 8 threads share one template, one sender and the installed libsecp256k1 table, and each
 * creates and validates its own batch (and runs the batch verifier); results must equal the
 * single-threaded ones. Under -fsanitize=thread (run.sh's second build) any data race in the
 * core is a report. */
#define N_THREADS 8
#define PER_THREAD 64

typedef struct {
    const uint8_t *key, *flat, *sender, *rand32;
    size_t flen;
    uint32_t nonces[PER_THREAD];
    uint8_t sigs[65 * PER_THREAD], hashes[32 * PER_THREAD], status[PER_THREAD], won[PER_THREAD];
    int rc_create, rc_validate, rc_bv;
    uint8_t bv_status[PER_THREAD], bv_won[PER_THREAD];
} thread_job;

static void *thread_main(void *arg) {
    thread_job *j = arg;
    j->rc_create = pm_create_tickets(j->key, j->flat, j->flen, j->nonces, PER_THREAD, j->hashes,
                                     j->sigs);
    j->rc_validate = pm_validate_tickets(j->flat, j->flen, j->nonces, j->sigs, PER_THREAD,
                                         j->sender, j->rand32, j->status, j->won);
    j->rc_bv = PM_OK;
#ifdef PM_TEST_HAVE_BV
    size_t need = pm_bv_scratch_size(PER_THREAD);
    uint8_t *scratch = malloc(need), weights[PM_BV_WEIGHT_LEN * PER_THREAD];
    for (size_t i = 0; i < sizeof weights; i++) weights[i] = (uint8_t)(i * 31 + j->nonces[0]);
    j->rc_bv = scratch == NULL ? PM_ERR_ARG
                               : pm_bv_validate_tickets(j->flat, j->flen, j->nonces, j->sigs,
                                                        PER_THREAD, j->sender, j->rand32, weights,
                                                        scratch, need, j->bv_status, j->bv_won);
    free(scratch);
#endif
    return NULL;
}

static void test_threads(void) {
    uint8_t key[32], sender[20], recipient[20], wp[32], rrh[32], rand32[32], tpl[PM_FLAT_WITH_AUX];
    random_seckey(key);
    CHECK_RC(pm_seckey_address(key, sender), PM_OK);
    unhex(RECIPIENT_HEX, recipient, 20);
    memset(wp, 0, 32);
    wp[0] = 0x80;
    rng_fill(rrh, 32);
    rng_fill(rand32, 32);
    size_t flen = make_flat(tpl, recipient, sender, 5, wp, 0, rrh, NULL);
    static thread_job jobs[N_THREADS];
    pthread_t tids[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        thread_job *j = &jobs[t];
        memset(j, 0, sizeof *j);
        j->key = key;
        j->flat = tpl;
        j->flen = flen;
        j->sender = sender;
        j->rand32 = rand32;
        for (int i = 0; i < PER_THREAD; i++) j->nonces[i] = (uint32_t)(t * PER_THREAD + i);
    }
    for (int t = 0; t < N_THREADS; t++)
        CHECK(pthread_create(&tids[t], NULL, thread_main, &jobs[t]) == 0);
    for (int t = 0; t < N_THREADS; t++) CHECK(pthread_join(tids[t], NULL) == 0);
    for (int t = 0; t < N_THREADS; t++) {
        thread_job *j = &jobs[t];
        uint8_t sigs[65 * PER_THREAD], st[PER_THREAD], won[PER_THREAD];
        CHECK(j->rc_create == PM_OK && j->rc_validate == PM_OK && j->rc_bv == PM_OK);
        CHECK_RC(pm_create_tickets(key, tpl, flen, j->nonces, PER_THREAD, NULL, sigs), PM_OK);
        CHECK(memcmp(sigs, j->sigs, sizeof sigs) == 0);
        CHECK_RC(pm_validate_tickets(tpl, flen, j->nonces, sigs, PER_THREAD, sender, rand32, st,
                                     won),
                 PM_OK);
        CHECK(memcmp(st, j->status, PER_THREAD) == 0 && memcmp(won, j->won, PER_THREAD) == 0);
        for (int i = 0; i < PER_THREAD; i++) CHECK(j->status[i] == PM_OK);
#ifdef PM_TEST_HAVE_BV
        CHECK(memcmp(st, j->bv_status, PER_THREAD) == 0);
        CHECK(memcmp(won, j->bv_won, PER_THREAD) == 0);
#endif
    }
}

/* ---------------------------------------------------------------- main */

/* Runs one group and prints how many checks (and failures) it made, so CI logs show what ran. */
#define RUN(fn)                                                                             \
    do {                                                                                    \
        unsigned long c0_ = n_checks, f0_ = n_failures;                                     \
        fn();                                                                               \
        printf("csrc/tests: %-20s %6lu checks, %lu failures\n", #fn + 5, n_checks - c0_,    \
               n_failures - f0_);                                                           \
    } while (0)

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH_TO_coincurve_libsecp256k1.so [seed]\n", argv[0]);
        return 2;
    }
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x706d2d6861726e65ULL;
    rng_state = seed;
    printf("csrc/tests: libsecp256k1 from %s, seed 0x%016" PRIx64 "\n", argv[1], seed);
    load_secp(argv[1]);

    RUN(test_not_installed);
    CHECK_RC(pm_secp_install(&api), PM_OK);
    RUN(test_keccak);
    RUN(test_personal_digest);
    RUN(test_ticket_hash);
    RUN(test_win_check);
    RUN(test_keys);
    RUN(test_sign_recover);
    RUN(test_sign_batch);
    RUN(test_tickets);
#ifdef PM_TEST_HAVE_BV
    RUN(test_bv);
#else
    printf("csrc/tests: batch verification not built (no compiling csrc/bv_*.c)\n");
#endif
    RUN(test_threads);

    secp_context_destroy(secp_ctx);
    printf("csrc/tests: %lu checks, %lu failures\n", n_checks, n_failures);
    return n_failures == 0 ? 0 : 1;
}
