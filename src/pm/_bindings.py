"""The only module that touches the C core's ``ffi`` and ``lib``.

Every binding has the same shape: check types and lengths (so C never reads or writes out of
bounds even if it did not check again), wrap inputs with ``ffi.from_buffer`` (no copy), allocate
outputs in Python, call, map the status code, return ``bytes``. cffi releases the GIL around
each C call, so the batch functions run in parallel on several threads.

At import, libsecp256k1's entry points are taken from the coincurve wheel and handed to the C
core as a function-pointer table together with coincurve's randomised global context.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

import coincurve._libsecp256k1 as _cc
from coincurve.context import GLOBAL_CONTEXT as _CC_CONTEXT

from ._native import ffi, lib
from .errors import InvalidInput, InvalidPrivateKey, InvalidType, NativeError

OK = lib.PM_OK
ERR_SIG_LENGTH = lib.PM_ERR_SIG_LENGTH
ERR_SIG_HIGH_S = lib.PM_ERR_SIG_HIGH_S
ERR_SIG_V = lib.PM_ERR_SIG_V
ERR_SIG_RECOVER = lib.PM_ERR_SIG_RECOVER
ERR_WRONG_SIGNER = lib.PM_ERR_WRONG_SIGNER
SIG_LEN = 65
FLAT_LENGTHS = (lib.PM_FLAT_NO_AUX, lib.PM_FLAT_WITH_AUX)

# pm_secp_api field -> libsecp256k1 symbol exported by coincurve's extension.
_SECP_SYMBOLS = {
    "ecdsa_sign_recoverable": "secp256k1_ecdsa_sign_recoverable",
    "recoverable_signature_serialize_compact": (
        "secp256k1_ecdsa_recoverable_signature_serialize_compact"
    ),
    "recoverable_signature_parse_compact": "secp256k1_ecdsa_recoverable_signature_parse_compact",
    "ecdsa_recover": "secp256k1_ecdsa_recover",
    "ec_pubkey_serialize": "secp256k1_ec_pubkey_serialize",
    "ec_pubkey_create": "secp256k1_ec_pubkey_create",
    "ec_seckey_verify": "secp256k1_ec_seckey_verify",
}


def _install_secp() -> None:
    api = ffi.new("pm_secp_api *")
    for field, symbol in _SECP_SYMBOLS.items():
        try:
            fn = _cc.ffi.addressof(_cc.lib, symbol)
        except (AttributeError, KeyError, TypeError) as exc:
            raise ImportError(
                f"coincurve's libsecp256k1 does not export {symbol}; pm needs a coincurve "
                "build with the recovery module"
            ) from exc
        address = int(_cc.ffi.cast("uintptr_t", fn))
        setattr(api, field, ffi.cast(ffi.typeof(getattr(api, field)), address))
    ctx = getattr(_CC_CONTEXT, "ctx", _CC_CONTEXT)  # coincurve < 20 wraps the pointer
    api.ctx = ffi.cast("void *", int(_cc.ffi.cast("uintptr_t", ctx)))
    api.uncompressed_flag = _cc.lib.SECP256K1_EC_UNCOMPRESSED
    rc = lib.pm_secp_install(api)
    if rc != OK:
        raise ImportError(f"pm_secp_install failed with status {rc}")


_install_secp()

if array("I").itemsize != 4:  # pragma: no cover - every supported platform has 32-bit unsigned int
    raise ImportError("pm needs array('I') to hold 32-bit unsigned integers")


def _buf(name: str, value: object, length: int | None = None) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidType(
            f"{name} must be bytes, not {type(value).__name__}", name=name, value=value
        )
    data = bytes(value) if not isinstance(value, bytes) else value
    if length is not None and len(data) != length:
        raise InvalidInput(
            f"{name} must be {length} bytes, got {len(data)}", name=name, value=len(data)
        )
    return data


def _check(function: str, rc: int) -> None:
    if rc == OK:
        return
    if rc == lib.PM_ERR_SECKEY:
        raise InvalidPrivateKey("must be in [1, N) where N is the secp256k1 order")
    raise NativeError(function, rc)


def nonce_array(nonces: Sequence[int] | array[int]) -> array[int]:
    """``nonces`` as an ``array('I')`` (uint32), rejecting anything out of range."""
    if isinstance(nonces, array) and nonces.typecode == "I":
        return nonces
    if isinstance(nonces, bytes | bytearray | memoryview):
        # array("I", b"...") would reinterpret the bytes as native uint32 words; a bytes object
        # passed as a Sequence[int] means one nonce per byte.
        nonces = list(nonces)
    elif not isinstance(nonces, Sequence):
        try:  # an iterator can be read once only: materialise it so errors can name the value
            nonces = list(nonces)
        except TypeError as exc:
            raise InvalidType(f"sender nonces must be ints: {exc}", name="sender_nonce") from exc
    if any(n is True or n is False for n in nonces):  # array("I") would take them as 1 and 0
        raise InvalidType("sender nonces must be ints, not bools", name="sender_nonce")
    try:
        return array("I", nonces)
    except OverflowError as exc:
        bad = next(n for n in nonces if not 0 <= n < 2**32)
        raise InvalidInput(
            f"sender nonce must be a uint32, got {bad}", name="sender_nonce", value=bad
        ) from exc
    except TypeError as exc:
        raise InvalidType(f"sender nonces must be ints: {exc}", name="sender_nonce") from exc


def keccak256(data: bytes) -> bytes:
    data = _buf("data", data)
    out = ffi.new("uint8_t[32]")
    _check("pm_keccak256", lib.pm_keccak256(ffi.from_buffer(data), len(data), out))
    return bytes(ffi.buffer(out))


def personal_digest(msg32: bytes) -> bytes:
    msg32 = _buf("msg32", msg32, 32)
    out = ffi.new("uint8_t[32]")
    _check("pm_personal_digest", lib.pm_personal_digest(ffi.from_buffer(msg32), out))
    return bytes(ffi.buffer(out))


def ticket_hash(flat: bytes) -> bytes:
    flat = _buf("flat", flat)
    if len(flat) not in FLAT_LENGTHS:
        raise InvalidInput(
            f"flat ticket must be 168 or 232 bytes, got {len(flat)}", name="flat", value=len(flat)
        )
    out = ffi.new("uint8_t[32]")
    _check("pm_ticket_hash", lib.pm_ticket_hash(ffi.from_buffer(flat), len(flat), out))
    return bytes(ffi.buffer(out))


def seckey_address(seckey: bytes) -> bytes:
    seckey = _buf("private_key", seckey, 32)
    out = ffi.new("uint8_t[20]")
    _check("pm_seckey_address", lib.pm_seckey_address(ffi.from_buffer(seckey), out))
    return bytes(ffi.buffer(out))


def sign_digest(seckey: bytes, digest: bytes) -> bytes:
    seckey = _buf("private_key", seckey, 32)
    digest = _buf("digest", digest, 32)
    out = ffi.new("uint8_t[65]")
    _check(
        "pm_sign_digest", lib.pm_sign_digest(ffi.from_buffer(seckey), ffi.from_buffer(digest), out)
    )
    return bytes(ffi.buffer(out))


def sign_msg32_batch(seckey: bytes, msgs: bytes) -> bytes:
    """Sign ``personal_digest`` of each 32-byte message in the flat ``msgs``; n*65 bytes out."""
    seckey = _buf("private_key", seckey, 32)
    msgs = _buf("msgs", msgs)
    if len(msgs) % 32:
        raise InvalidInput(
            f"msgs must be a multiple of 32 bytes, got {len(msgs)}", name="msgs", value=len(msgs)
        )
    n = len(msgs) // 32
    out = bytearray(SIG_LEN * n)
    if n:
        rc = lib.pm_sign_msg32_batch(
            ffi.from_buffer(seckey), ffi.from_buffer(msgs), n, ffi.from_buffer(out)
        )
        _check("pm_sign_msg32_batch", rc)
    return bytes(out)


def recover_msg32(msg32: bytes, sig: bytes) -> tuple[int, bytes]:
    """(status, address) of ``sig`` over ``personal_digest(msg32)``; address is empty on error."""
    msg32 = _buf("msg32", msg32, 32)
    sig = _buf("sig", sig)
    out = ffi.new("uint8_t[20]")
    rc = lib.pm_recover_msg32(ffi.from_buffer(msg32), ffi.from_buffer(sig), len(sig), out)
    if rc in (OK, ERR_SIG_LENGTH, ERR_SIG_HIGH_S, ERR_SIG_V, ERR_SIG_RECOVER):
        return rc, ffi.buffer(out)[:] if rc == OK else b""
    raise NativeError("pm_recover_msg32", rc)


def win_check(sig: bytes, rand32: bytes, winprob32: bytes) -> bool:
    sig = _buf("sig", sig)
    rand32 = _buf("recipient_rand", rand32, 32)
    winprob32 = _buf("win_prob", winprob32, 32)
    won = ffi.new("uint8_t *")
    rc = lib.pm_win_check(
        ffi.from_buffer(sig), len(sig), ffi.from_buffer(rand32), ffi.from_buffer(winprob32), won
    )
    _check("pm_win_check", rc)
    return bool(won[0])


def _template(flat: bytes) -> bytes:
    flat = _buf("flat_template", flat)
    if len(flat) not in FLAT_LENGTHS:
        raise InvalidInput(
            f"flat ticket must be 168 or 232 bytes, got {len(flat)}",
            name="flat_template",
            value=len(flat),
        )
    return flat


def create_tickets(
    seckey: bytes, flat_template: bytes, nonces: array[int], *, want_hashes: bool = False
) -> tuple[bytes, bytes]:
    """(hashes, sigs) of tickets that differ from the template only in the nonce.

    ``hashes`` is n*32 bytes (empty unless ``want_hashes``), ``sigs`` n*65 bytes.
    """
    seckey = _buf("private_key", seckey, 32)
    flat = _template(flat_template)
    n = len(nonces)
    sigs = bytearray(SIG_LEN * n)
    hashes = bytearray(32 * n if want_hashes else 0)
    if n:
        rc = lib.pm_create_tickets(
            ffi.from_buffer(seckey),
            ffi.from_buffer(flat),
            len(flat),
            ffi.from_buffer("uint32_t[]", nonces),
            n,
            ffi.from_buffer(hashes) if want_hashes else ffi.NULL,
            ffi.from_buffer(sigs),
        )
        _check("pm_create_tickets", rc)
    return bytes(hashes), bytes(sigs)


def validate_tickets(
    flat_template: bytes,
    nonces: array[int],
    sigs: bytes,
    expected_sender: bytes,
    rand32: bytes | None,
) -> tuple[bytes, bytes]:
    """(status, won): one byte per ticket each. ``sigs`` is n*65 bytes."""
    flat = _template(flat_template)
    sigs = _buf("sigs", sigs)
    expected_sender = _buf("expected_sender", expected_sender, 20)
    n = len(nonces)
    if len(sigs) != SIG_LEN * n:
        raise InvalidInput(
            f"sigs must be {SIG_LEN * n} bytes for {n} tickets, got {len(sigs)}",
            name="sigs",
            value=len(sigs),
        )
    if rand32 is not None:
        rand32 = _buf("recipient_rand", rand32, 32)
    status = bytearray(n)
    won = bytearray(n)
    if n:
        rc = lib.pm_validate_tickets(
            ffi.from_buffer(flat),
            len(flat),
            ffi.from_buffer("uint32_t[]", nonces),
            ffi.from_buffer(sigs),
            n,
            ffi.from_buffer(expected_sender),
            ffi.NULL if rand32 is None else ffi.from_buffer(rand32),
            ffi.from_buffer(status),
            ffi.from_buffer(won),
        )
        _check("pm_validate_tickets", rc)
    return bytes(status), bytes(won)


def bench_sign_loop(seckey: bytes, digests: bytes) -> bytes:
    """The raw ``ecdsa_sign_recoverable`` floor over prepared digests (benchmarks only)."""
    seckey = _buf("private_key", seckey, 32)
    digests = _buf("digests", digests)
    n = len(digests) // 32
    out = bytearray(SIG_LEN * n)
    if n:
        _check(
            "pm_bench_sign_loop",
            lib.pm_bench_sign_loop(
                ffi.from_buffer(seckey), ffi.from_buffer(digests), n, ffi.from_buffer(out)
            ),
        )
    return bytes(out)


def bench_recover_loop(digests: bytes, sigs: bytes) -> bytes:
    """The raw ``ecdsa_recover`` floor (benchmarks only); n*64 bytes of internal pubkeys."""
    digests = _buf("digests", digests)
    sigs = _buf("sigs", sigs)
    n = len(digests) // 32
    if len(sigs) != SIG_LEN * n:
        raise InvalidInput(
            "sigs must hold one 65-byte signature per digest", name="sigs", value=len(sigs)
        )
    out = bytearray(64 * n)
    if n:
        _check(
            "pm_bench_recover_loop",
            lib.pm_bench_recover_loop(
                ffi.from_buffer(digests), ffi.from_buffer(sigs), n, ffi.from_buffer(out)
            ),
        )
    return bytes(out)


# --- issue 7 (pm bench): the batch entry points called with prepared buffers --------------------
# ``pm bench`` subtracts the time of these calls from the public batch API's to measure what the
# Python layer costs per ticket. Everything is converted to cdata once, so a call is one C call.


def prepared_create_call(
    seckey: bytes, flat_template: bytes, nonces: array[int]
) -> Callable[[], int]:
    """A no-argument callable running ``pm_create_tickets`` on fixed buffers (benchmarks only)."""
    seckey = _buf("private_key", seckey, 32)
    flat = _template(flat_template)
    n = len(nonces)
    args = (
        ffi.from_buffer(seckey),
        ffi.from_buffer(flat),
        len(flat),
        ffi.from_buffer("uint32_t[]", nonces),
        n,
        ffi.NULL,
        ffi.new("uint8_t[]", max(1, SIG_LEN * n)),
    )
    call = lib.pm_create_tickets
    return lambda: int(call(*args))


def prepared_validate_call(
    flat_template: bytes,
    nonces: array[int],
    sigs: bytes,
    expected_sender: bytes,
    rand32: bytes | None,
) -> Callable[[], int]:
    """A no-argument callable running ``pm_validate_tickets`` on fixed buffers (benchmarks
    only)."""
    flat = _template(flat_template)
    sigs = _buf("sigs", sigs, SIG_LEN * len(nonces))
    expected_sender = _buf("expected_sender", expected_sender, 20)
    n = len(nonces)
    args = (
        ffi.from_buffer(flat),
        len(flat),
        ffi.from_buffer("uint32_t[]", nonces),
        ffi.from_buffer(sigs),
        n,
        ffi.from_buffer(expected_sender),
        ffi.NULL if rand32 is None else ffi.from_buffer(_buf("recipient_rand", rand32, 32)),
        ffi.new("uint8_t[]", max(1, n)),
        ffi.new("uint8_t[]", max(1, n)),
    )
    call = lib.pm_validate_tickets
    return lambda: int(call(*args))


# --- issue 10: batch verification of same-sender tickets (csrc/bv_batch.c) ----------------------
# One multi-scalar multiplication per batch instead of one libsecp256k1 recovery per ticket; the
# statuses and win flags are exactly pm_validate_tickets'. The C core allocates nothing, so the
# scratch buffer is made here; the weights' random bytes come from the caller's CSPRNG.

BV_WEIGHT_LEN = int(lib.PM_BV_WEIGHT_LEN)
# The C core writes every scratch byte before reading it, so skip cffi's zeroing (~1 µs per
# 100 KiB, i.e. per ~50 tickets).
_bv_scratch = ffi.new_allocator(should_clear_after_alloc=False)
# A few scratch buffers are kept for reuse (a fresh block of a few 100 KiB can be a new mmap
# whose pages fault in on every call). list.pop/append are atomic, so threads that validate at
# the same time each get their own buffer.
_bv_pool: list[object] = []
_BV_POOL_MAX = 4
_BV_POOL_BYTES = 64 << 20


def _bv_take(size: int) -> object:
    try:
        buf = _bv_pool.pop()
    except IndexError:
        buf = None
    if buf is None or ffi.sizeof(buf) < size:
        buf = _bv_scratch("uint8_t[]", size)
    return buf


def _bv_give(buf: object) -> None:
    if len(_bv_pool) < _BV_POOL_MAX and ffi.sizeof(buf) <= _BV_POOL_BYTES:
        _bv_pool.append(buf)


def bv_validate_tickets(
    flat_template: bytes,
    nonces: array[int],
    sigs: bytes,
    expected_sender: bytes,
    rand32: bytes | None,
    weights: bytes,
    sender_key: bytes | None = None,
) -> tuple[bytes, bytes]:
    """(status, won) like :func:`validate_tickets`, through ``pm_bv_validate_tickets_key``.
    ``weights`` is n*BV_WEIGHT_LEN random bytes (expanded into one weight per ticket);
    ``sender_key`` the sender's public key x||y (64 bytes), used only if its address is
    ``expected_sender``."""
    flat = _template(flat_template)
    n = len(nonces)
    sigs = _buf("sigs", sigs, SIG_LEN * n)
    expected_sender = _buf("expected_sender", expected_sender, 20)
    weights = _buf("weights", weights, BV_WEIGHT_LEN * n)
    if sender_key is not None:
        sender_key = _buf("sender_key", sender_key, 64)
    if rand32 is not None:
        rand32 = _buf("recipient_rand", rand32, 32)
    status = bytearray(n)
    won = bytearray(n)
    if n:
        size = int(lib.pm_bv_scratch_size(n))
        if size == 0:
            raise InvalidInput(f"batch of {n} tickets is too large", name="nonces", value=n)
        scratch = _bv_take(size)
        rc = lib.pm_bv_validate_tickets_key(
            ffi.from_buffer(flat),
            len(flat),
            ffi.from_buffer("uint32_t[]", nonces),
            ffi.from_buffer(sigs),
            n,
            ffi.from_buffer(expected_sender),
            ffi.NULL if sender_key is None else ffi.from_buffer(sender_key),
            ffi.NULL if rand32 is None else ffi.from_buffer(rand32),
            ffi.from_buffer(weights),
            scratch,
            size,
            ffi.from_buffer(status),
            ffi.from_buffer(won),
        )
        _bv_give(scratch)
        _check("pm_bv_validate_tickets_key", rc)
    return bytes(status), bytes(won)


def prepared_bv_validate_call(
    flat_template: bytes,
    nonces: array[int],
    sigs: bytes,
    expected_sender: bytes,
    rand32: bytes | None,
    weights: bytes,
) -> Callable[[], int]:
    """A no-argument callable running ``pm_bv_validate_tickets`` on fixed buffers (benchmarks
    only; the weights are reused, which is fine for timing and nothing else)."""
    flat = _template(flat_template)
    n = len(nonces)
    size = int(lib.pm_bv_scratch_size(n))
    args = (
        ffi.from_buffer(flat),
        len(flat),
        ffi.from_buffer("uint32_t[]", nonces),
        ffi.from_buffer(_buf("sigs", sigs, SIG_LEN * n)),
        n,
        ffi.from_buffer(_buf("expected_sender", expected_sender, 20)),
        ffi.NULL if rand32 is None else ffi.from_buffer(_buf("recipient_rand", rand32, 32)),
        ffi.from_buffer(_buf("weights", weights, BV_WEIGHT_LEN * n)),
        ffi.new("uint8_t[]", max(1, size)),
        size,
        ffi.new("uint8_t[]", max(1, n)),
        ffi.new("uint8_t[]", max(1, n)),
    )
    call = lib.pm_bv_validate_tickets
    return lambda: int(call(*args))


def bv_selftest(op: int, a: bytes, b: bytes, c: bytes | None = None) -> bytes | None:
    """The batch verifier's arithmetic shim (tests only): 64 output bytes, or None when the
    result does not exist (no square root, no point, infinity)."""
    a = _buf("a", a, 32)
    b = _buf("b", b, 32)
    out = bytearray(64)
    rc = lib.pm_bv_selftest(
        op,
        ffi.from_buffer(a),
        ffi.from_buffer(b),
        ffi.NULL if c is None else ffi.from_buffer(_buf("c", c, 64)),
        ffi.from_buffer(out),
    )
    if rc == ERR_SIG_RECOVER:
        return None
    _check("pm_bv_selftest", rc)
    return bytes(out)


def bv_ticket_key(flat_template: bytes, nonce: int, sig: bytes) -> bytes | None:
    """The public key x||y (64 bytes) that signed the template with this nonce, by the batch
    verifier's own arithmetic, or None if the signature fails the pre-checks or has no key."""
    flat = _template(flat_template)
    sig = _buf("sig", sig, SIG_LEN)
    out = bytearray(64)
    rc = lib.pm_bv_ticket_key(
        ffi.from_buffer(flat), len(flat), nonce, ffi.from_buffer(sig), ffi.from_buffer(out)
    )
    if rc in (ERR_SIG_HIGH_S, ERR_SIG_V, ERR_SIG_RECOVER):
        return None
    _check("pm_bv_ticket_key", rc)
    return bytes(out)
