"""Batch verification (issue 10): pm's own field/scalar/point arithmetic against Python ints
and coincurve, and pm.batchverify.validate_batch_same_sender against the one-by-one path
pm.ticket.validate_batch (which recovers every signature with libsecp256k1).

Every per-ticket status and win flag must be identical. The long differential run (>= 1,000,000
signatures) is the C harness: ``sh csrc/tests/test_bv.sh 12000`` (see csrc/tests/test_bv.c);
``PM_BV_LONG=1`` makes the randomized test below run 200 batches of up to 1024 tickets.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import coincurve
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pm import _bindings, batchverify
from pm.batchverify import MIN_BATCH, WEIGHT_BYTES, validate_batch_same_sender
from pm.crypto import PrivateKeySigner, keccak256
from pm.errors import InvalidInput, InvalidType, NativeError
from pm.ticket import BatchCheck, SigStatus, Ticket, validate_batch

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = N // 2
GX, GY = coincurve.PrivateKey.from_int(1).public_key.point()


def b32(x: int) -> bytes:
    return x.to_bytes(32, "big")


def op(code: int, a: int, b: int = 0, c: bytes | None = None) -> bytes | None:
    return _bindings.bv_selftest(code, b32(a), b32(b), c)


def val(code: int, a: int, b: int = 0) -> int:
    out = op(code, a, b)
    assert out is not None
    return int.from_bytes(out[:32], "big")


# Field elements biased to the edges of the 52-bit limbs and of p.
edge_fe = st.one_of(
    st.integers(0, P - 1),
    st.sampled_from([0, 1, 2, P - 1, P - 2, 2**52 - 1, 2**52, 2**255, 2**256 - 2**32 - 978]),
    st.integers(0, 255).map(lambda k: (2**k - 1) % P),
)
edge_sc = st.one_of(
    st.integers(0, N - 1),
    st.sampled_from([0, 1, N - 1, HALF_N, HALF_N + 1, 2**128 - 1, 2**128]),
)


@settings(max_examples=200, deadline=None)
@given(edge_fe, edge_fe)
def test_field_mul_sqr_match_python(a: int, b: int) -> None:
    assert val(1, a, b) == a * b % P
    assert val(2, a) == a * a % P


@settings(max_examples=100, deadline=None)
@given(edge_fe)
def test_field_inv_and_sqrt_match_python(a: int) -> None:
    if a:
        assert val(3, a) * a % P == 1
    root = op(4, a)
    is_square = a == 0 or pow(a, (P - 1) // 2, P) == 1
    assert (root is not None) == is_square
    if root is not None:
        r = int.from_bytes(root[:32], "big")
        assert r * r % P == a


@settings(max_examples=200, deadline=None)
@given(edge_sc, edge_sc)
def test_scalar_ops_match_python(a: int, b: int) -> None:
    assert val(5, a, b) == a * b % N
    assert val(7, a, b) == (a + b) % N
    if a:
        assert val(6, a) * a % N == 1


def test_scalar_input_reduced_mod_n() -> None:
    # digests are scalars mod n exactly as libsecp256k1 reads them
    for x in (N, N + 1, 2**256 - 1):
        assert val(7, x, 0) == x % N


@settings(max_examples=100, deadline=None)
@given(st.integers(1, N - 1), st.booleans())
def test_decompression_matches_coincurve(k: int, odd: bool) -> None:
    pub = coincurve.PrivateKey.from_int(k).public_key
    x, y = pub.point()
    out = op(8, x, int(odd))
    assert out is not None
    ox, oy = int.from_bytes(out[:32], "big"), int.from_bytes(out[32:], "big")
    assert ox == x
    assert oy == (y if (y & 1) == odd else P - y)


def test_decompression_rejects_non_points_and_x_at_least_p() -> None:
    rng = random.Random(7)
    misses = 0
    for _ in range(64):
        x = rng.randrange(P)
        square = pow((x**3 + 7) % P, (P - 1) // 2, P) == 1
        assert (op(8, x, 0) is not None) == square
        misses += not square
    assert misses > 0
    assert op(8, P, 0) is None
    assert op(8, 2**256 - 1, 1) is None


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**256 - 1), st.integers(0, 2**256 - 1), st.integers(1, N - 1))
def test_msm_matches_coincurve(a: int, b: int, k: int) -> None:
    """a*G + b*P through the batch MSM (G, 2^128 G, P, 2^128 P with 128-bit wNAF digits)."""
    pt = coincurve.PrivateKey.from_int(k).public_key
    x, y = pt.point()
    out = op(9, a, b, b32(x) + b32(y))
    total = (a + b * k) % N
    if total == 0:
        assert out is None
    else:
        want = coincurve.PrivateKey.from_int(total).public_key.point()
        assert out is not None
        assert (int.from_bytes(out[:32], "big"), int.from_bytes(out[32:], "big")) == want


def test_msm_exceptional_sums() -> None:
    g = b32(GX) + b32(GY)
    assert op(9, 5, N - 5, g) is None  # 5G - 5G = O
    doubled = op(9, 5, 5, g)  # 5G + 5G: a doubling inside an addition
    assert doubled is not None
    assert doubled == b"".join(b32(c) for c in coincurve.PrivateKey.from_int(10).public_key.point())


def test_selftest_rejects_bad_arguments() -> None:
    with pytest.raises(NativeError):
        _bindings.bv_selftest(99, b32(1), b32(1))
    with pytest.raises(InvalidInput):
        _bindings.bv_selftest(1, b"\x00", b32(1))


# ---------------------------------------------------------------- batches vs one-by-one


def _template(rng: random.Random, sender: bytes, win_prob: int, aux: bool) -> Ticket:
    return Ticket(
        recipient=rng.randbytes(20),
        sender=sender,
        face_value=rng.randrange(2**256),
        win_prob=win_prob,
        sender_nonce=0,
        recipient_rand_hash=rng.randbytes(32),
        creation_round=rng.randrange(1, 2**40) if aux else 0,
        creation_round_block_hash=rng.randbytes(32) if aux else bytes(32),
    )


def _no_point_r(rng: random.Random) -> bytes:
    while True:
        x = rng.randrange(2**255)
        if pow((x**3 + 7) % P, (P - 1) // 2, P) != 1:
            return b32(x)


MUTATIONS: dict[str, Callable[[random.Random, bytearray, bytes], None]] = {
    "r": lambda rng, s, o: s.__setitem__(rng.randrange(32), s[rng.randrange(32)] ^ 0x40),
    "s": lambda rng, s, o: s.__setitem__(32 + rng.randrange(32), s[32 + rng.randrange(32)] ^ 1),
    "parity": lambda rng, s, o: s.__setitem__(64, 55 - s[64]),
    "v": lambda rng, s, o: s.__setitem__(64, rng.choice([0, 1, 26, 29, 255])),
    "wrong_signer": lambda rng, s, o: s.__setitem__(slice(0, 65), o),
    "high_s": lambda rng, s, o: s.__setitem__(
        slice(32, 64), b32(N - int.from_bytes(s[32:64], "big"))
    ),
    "r_ge_n": lambda rng, s, o: s.__setitem__(
        slice(0, 32), b32(rng.choice([N, N + 1, P, 2**256 - 1]))
    ),
    "r_no_point": lambda rng, s, o: s.__setitem__(slice(0, 32), _no_point_r(rng)),
    "s_zero": lambda rng, s, o: s.__setitem__(slice(32, 64), bytes(32)),
    "r_zero": lambda rng, s, o: s.__setitem__(slice(0, 32), bytes(32)),
    "s_half": lambda rng, s, o: s.__setitem__(slice(32, 64), b32(HALF_N)),
    "s_one": lambda rng, s, o: s.__setitem__(slice(32, 64), b32(1)),
}


def _batch(
    rng: random.Random, n: int, bad: list[tuple[int, str]], aux: bool = True
) -> tuple[Ticket, list[int], bytes, list[int]]:
    key, other = PrivateKeySigner.generate(), PrivateKeySigner.generate()
    template = _template(rng, key.address, rng.randrange(2**256), aux)
    nonces = [rng.randrange(2**32) for _ in range(n)]
    sigs = bytearray(key.sign_tickets(template, nonces))
    osigs = other.sign_tickets(template, nonces)
    digest_mutated = []
    for i, kind in bad:
        if kind == "digest":
            nonces[i] ^= 1 << rng.randrange(32)
            digest_mutated.append(i)
            continue
        sig = bytearray(sigs[65 * i : 65 * i + 65])
        MUTATIONS[kind](rng, sig, osigs[65 * i : 65 * i + 65])
        sigs[65 * i : 65 * i + 65] = sig
    return template, nonces, bytes(sigs), digest_mutated


def _same(
    template: Ticket, nonces: list[int], sigs: bytes, rand: int | None, seed: int
) -> BatchCheck:
    want = validate_batch(template, nonces, sigs, rand)
    rng = random.Random(seed)
    batchverify.forget_sender_keys()
    got = validate_batch_same_sender(
        template, nonces, sigs, rand, min_batch=1, randbytes=rng.randbytes
    )
    assert got.status_codes == want.status_codes
    assert got.won_flags == want.won_flags
    # again, now with the sender's key from the cache (if a ticket was accepted)
    again = validate_batch_same_sender(
        template, nonces, sigs, rand, min_batch=1, randbytes=rng.randbytes
    )
    assert again == got
    return got


KINDS = [*MUTATIONS, "digest"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_single_bad_ticket_kind(kind: str, where: str) -> None:
    rng = random.Random(f"{kind}-{where}")
    n = 24
    i = {"first": 0, "middle": n // 2, "last": n - 1}[where]
    template, nonces, sigs, _ = _batch(rng, n, [(i, kind)])
    got = _same(template, nonces, sigs, rng.randrange(2**256), rng.randrange(2**32))
    assert got.status(i) != SigStatus.OK  # every mutation breaks the signature
    assert sum(c != SigStatus.OK for c in got.status_codes) == 1


def test_valid_batches_all_ok_and_win_flags() -> None:
    rng = random.Random(1)
    for n in (1, 2, 3, 16, 64, 200):
        template, nonces, sigs, _ = _batch(rng, n, [])
        rand = rng.randrange(2**256)
        got = validate_batch_same_sender(template, nonces, sigs, rand, min_batch=1)
        assert got.all_valid
        assert got.won_flags == validate_batch(template, nonces, sigs, rand).won_flags
        assert (
            validate_batch_same_sender(template, nonces, sigs, None, min_batch=1).won == [False] * n
        )


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 80),
    st.lists(st.tuples(st.integers(0, 79), st.sampled_from(KINDS)), max_size=6),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_random_batches_match_one_by_one(
    n: int, bad: list[tuple[int, str]], aux: bool, with_rand: bool, seed: int
) -> None:
    rng = random.Random(seed)
    template, nonces, sigs, _ = _batch(rng, n, [(i % n, k) for i, k in bad], aux)
    _same(template, nonces, sigs, rng.randrange(2**256) if with_rand else None, seed)


def test_many_bad_and_all_bad() -> None:
    rng = random.Random(3)
    n = 64
    bad = [(i, rng.choice(KINDS)) for i in range(0, n, 3)]
    template, nonces, sigs, _ = _batch(rng, n, bad)
    _same(template, nonces, sigs, rng.randrange(2**256), 1)
    allbad = [(i, rng.choice(["wrong_signer", "r", "s", "high_s"])) for i in range(n)]
    template, nonces, sigs, _ = _batch(rng, n, allbad)
    _same(template, nonces, sigs, rng.randrange(2**256), 2)


def test_another_senders_whole_batch_is_wrong_signer() -> None:
    rng = random.Random(4)
    template, nonces, sigs, _ = _batch(rng, 32, [(i, "wrong_signer") for i in range(32)])
    got = validate_batch_same_sender(template, nonces, sigs, None, min_batch=1)
    assert got.statuses == [SigStatus.WRONG_SIGNER] * 32


def test_irregular_lengths_and_small_batches() -> None:
    rng = random.Random(5)
    template, nonces, sigs, _ = _batch(rng, 20, [])
    seq = [sigs[65 * i : 65 * i + 65] for i in range(20)]
    seq[3] = seq[3][:64]
    seq[11] = seq[11] + b"\x00"
    rand = rng.randrange(2**256)
    want = validate_batch(template, nonces, seq, rand)
    got = validate_batch_same_sender(template, nonces, seq, rand, min_batch=1)
    assert got.statuses == want.statuses
    assert got.statuses[3] == got.statuses[11] == SigStatus.BAD_LENGTH
    small = validate_batch_same_sender(template, nonces[:3], seq[:3], rand)  # < MIN_BATCH
    assert small.statuses == validate_batch(template, nonces[:3], seq[:3], rand).statuses
    assert MIN_BATCH > 3
    empty = validate_batch_same_sender(template, [], b"", rand, min_batch=0)
    assert len(empty) == 0


def test_bad_arguments() -> None:
    rng = random.Random(6)
    template, nonces, sigs, _ = _batch(rng, 10, [])
    with pytest.raises(InvalidType):
        validate_batch_same_sender("not a ticket", nonces, sigs, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        validate_batch_same_sender(template, nonces, sigs[:-1], None)
    with pytest.raises(InvalidInput):
        validate_batch_same_sender(template, nonces, sigs, None, randbytes=lambda k: b"\x00")
    with pytest.raises(InvalidInput):
        validate_batch_same_sender(template, nonces, sigs, -1)
    with pytest.raises(InvalidType):
        validate_batch_same_sender(template, nonces, sigs, None, min_batch=True)


def test_zero_weights_still_sound() -> None:
    """A CSPRNG never yields all-zero weights, but a zero weight must not let a bad ticket
    through (the C core replaces it by 1)."""
    rng = random.Random(8)
    template, nonces, sigs, _ = _batch(rng, 16, [(5, "r"), (9, "wrong_signer")])
    got = validate_batch_same_sender(
        template, nonces, sigs, None, min_batch=1, randbytes=lambda k: bytes(k)
    )
    assert got.status_codes == validate_batch(template, nonces, sigs, None).status_codes


def test_duplicates_and_opposites_with_equal_weights() -> None:
    """Equal weights for every ticket put equal points (a repeated ticket) and opposite points
    (its parity flip) into the same buckets: the doubling and cancellation cases of the bucket
    sums, which must not change any verdict."""
    rng = random.Random(9)
    for n in (64, 130):
        template, nonces, sigs, _ = _batch(rng, n, [(3, "r"), (n - 1, "wrong_signer")])
        flat = bytearray(sigs)
        for i in range(0, n - 1, 2):
            flat[65 * (i + 1) : 65 * (i + 2)] = flat[65 * i : 65 * (i + 1)]
            nonces[i + 1] = nonces[i]
            if i % 8 == 4:
                flat[65 * (i + 1) + 64] ^= 27 ^ 28
        one = rng.randbytes(WEIGHT_BYTES)
        got = validate_batch_same_sender(
            template,
            nonces,
            bytes(flat),
            5,
            min_batch=1,
            randbytes=lambda k, w=one: w * (k // WEIGHT_BYTES),
        )
        want = validate_batch(template, nonces, bytes(flat), 5)
        assert got == want
        assert got.status_codes.count(SigStatus.OK) > n // 2


def test_threads_share_nothing() -> None:
    """The C core has no global state and the bindings pool their scratch buffers: batches
    validated on several threads at once (the GIL is released) get their own results."""
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(10)
    jobs = []
    for k in range(8):
        bad = [(rng.randrange(40), rng.choice(KINDS))] if k % 2 else []
        jobs.append(_batch(rng, 40, bad)[:3])
    want = [validate_batch(t, nn, ss, 7) for t, nn, ss in jobs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(
                pool.map(
                    lambda j: validate_batch_same_sender(j[0], j[1], j[2], 7, min_batch=1), jobs
                )
            )
            assert got == want


def _pub(signer: PrivateKeySigner) -> bytes:
    return coincurve.PrivateKey(signer.export_private_key()).public_key.format(False)[1:]


def test_ticket_key_matches_coincurve() -> None:
    rng = random.Random(11)
    template, nonces, sigs, _ = _batch(rng, 4, [(2, "high_s"), (3, "r_no_point")])
    signer_pub = None
    for i in range(4):
        key = _bindings.bv_ticket_key(template.flat(), nonces[i], sigs[65 * i : 65 * i + 65])
        if i < 2:
            assert key is not None
            signer_pub = signer_pub or key
            assert key == signer_pub
            assert keccak256(key)[12:] == template.sender
        else:
            assert key is None


def test_sender_key_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first batch of a sender fills the cache with the sender's key, later batches pass it
    to C; a wrong or corrupt cached key costs time but never changes a result."""
    rng = random.Random(12)
    key = PrivateKeySigner.generate()
    template = _template(rng, key.address, rng.randrange(2**256), True)
    nonces = list(range(1, 41))
    sigs = bytearray(key.sign_tickets(template, nonces))
    sigs[65 * 7] ^= 1  # one bad ticket
    want = validate_batch(template, nonces, bytes(sigs), 3)
    seen: list[bytes | None] = []
    real = _bindings.bv_validate_tickets

    def spy(*args: object) -> tuple[bytes, bytes]:
        seen.append(args[6])  # type: ignore[arg-type]
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_bindings, "bv_validate_tickets", spy)
    batchverify.forget_sender_keys()
    first = validate_batch_same_sender(template, nonces, bytes(sigs), 3, min_batch=1)
    assert batchverify._keys[key.address] == _pub(key)
    second = validate_batch_same_sender(template, nonces, bytes(sigs), 3, min_batch=1)
    assert seen == [None, _pub(key)]
    assert first == second == want
    other = PrivateKeySigner.generate()
    for poison in (_pub(other), bytes(64), _pub(key)[:63] + b"\x00"):
        batchverify._keys[key.address] = poison
        assert validate_batch_same_sender(template, nonces, bytes(sigs), 3, min_batch=1) == want
    seen.clear()
    validate_batch_same_sender(template, nonces, bytes(sigs), 3, min_batch=1, cache_key=False)
    assert seen == [None]


@pytest.mark.skipif(not os.environ.get("PM_BV_LONG"), reason="long run: set PM_BV_LONG=1")
def test_long_differential_run() -> None:
    rng = random.Random(int(os.environ.get("PM_BV_SEED", "0")))
    for it in range(200):
        n = rng.choice([16, 64, 256, 1024])
        bad = [(rng.randrange(n), rng.choice(KINDS)) for _ in range(rng.choice([0, 0, 1, 3]))]
        template, nonces, sigs, _ = _batch(rng, n, bad, aux=bool(it & 1))
        _same(template, nonces, sigs, rng.randrange(2**256), it)
