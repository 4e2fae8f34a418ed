"""A pure-Python reference path: pycryptodome's Keccak and coincurve, no pm C code.

It computes the same results as the native core by independent means. Tests run every native
function against it (Hypothesis) and benchmarks use it as the "hand-assembled" baseline.
Inputs are assumed valid (the public API checks them first).
"""

from __future__ import annotations

from collections.abc import Sequence

import coincurve
from Crypto.Hash import keccak as _keccak

# floor(N/2) for secp256k1, spec/protocol.md §2.3
HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
PERSONAL_PREFIX_32 = b"\x19Ethereum Signed Message:\n32"

STATUS_OK, STATUS_LENGTH, STATUS_HIGH_S, STATUS_V, STATUS_RECOVER, STATUS_WRONG_SIGNER = range(6)


def keccak256(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


def personal_digest(msg32: bytes) -> bytes:
    return keccak256(PERSONAL_PREFIX_32 + msg32)


def ticket_flat(
    recipient: bytes,
    sender: bytes,
    face_value: int,
    win_prob: int,
    nonce: int,
    recipient_rand_hash: bytes,
    creation_round: int,
    creation_round_block_hash: bytes,
) -> bytes:
    """spec/protocol.md §1.3, built field by field."""
    aux = b""
    if creation_round != 0 or creation_round_block_hash != bytes(32):
        aux = creation_round.to_bytes(32, "big") + creation_round_block_hash
    return (
        recipient
        + sender
        + face_value.to_bytes(32, "big")
        + win_prob.to_bytes(32, "big")
        + nonce.to_bytes(32, "big")
        + recipient_rand_hash
        + aux
    )


def address_of(private_key: bytes) -> bytes:
    pub = coincurve.PrivateKey(private_key).public_key.format(compressed=False)
    return keccak256(pub[1:])[12:]


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    sig = coincurve.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return sig[:64] + bytes([sig[64] + 27])


def sign_msg32(private_key: bytes, msg32: bytes) -> bytes:
    return sign_digest(private_key, personal_digest(msg32))


def recover_msg32(msg32: bytes, sig: bytes) -> tuple[int, bytes]:
    """(status, address) with go-livepeer's check order (spec/protocol.md §2.3)."""
    if len(sig) != 65:
        return STATUS_LENGTH, b""
    if int.from_bytes(sig[32:64], "big") > HALF_ORDER:
        return STATUS_HIGH_S, b""
    if sig[64] not in (27, 28):
        return STATUS_V, b""
    try:
        pub = coincurve.PublicKey.from_signature_and_message(
            sig[:64] + bytes([sig[64] - 27]), personal_digest(msg32), hasher=None
        )
    except Exception:  # coincurve raises bare Exception / ValueError on failure
        return STATUS_RECOVER, b""
    return STATUS_OK, keccak256(pub.format(compressed=False)[1:])[12:]


def is_winning(sig: bytes, recipient_rand: int, win_prob: int) -> bool:
    return int.from_bytes(keccak256(sig + recipient_rand.to_bytes(32, "big")), "big") < win_prob


def create_tickets(private_key: bytes, flat_template: bytes, nonces: Sequence[int]) -> list[bytes]:
    out = []
    for nonce in nonces:
        flat = flat_template[:104] + nonce.to_bytes(32, "big") + flat_template[136:]
        out.append(sign_msg32(private_key, keccak256(flat)))
    return out


def validate_tickets(
    flat_template: bytes,
    nonces: Sequence[int],
    sigs: Sequence[bytes],
    expected_sender: bytes,
    recipient_rand: int | None,
) -> list[tuple[int, bool]]:
    win_prob = int.from_bytes(flat_template[72:104], "big")
    results = []
    for nonce, sig in zip(nonces, sigs, strict=True):
        flat = flat_template[:104] + nonce.to_bytes(32, "big") + flat_template[136:]
        status, addr = recover_msg32(keccak256(flat), sig)
        if status == STATUS_OK and addr != expected_sender:
            status = STATUS_WRONG_SIGNER
        won = (
            status == STATUS_OK
            and recipient_rand is not None
            and is_winning(sig, recipient_rand, win_prob)
        )
        results.append((status, won))
    return results
