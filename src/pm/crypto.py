"""Keccak-256, EIP-191 digests, signing, recovery and addresses (spec/protocol.md §0, §2).

Everything here runs in the C core through :mod:`pm._bindings`; arguments are checked first,
so bad input raises a :class:`pm.errors.PMError` before any C call.
"""

from __future__ import annotations

import hmac
import os
from array import array
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

import coincurve

from . import _bindings
from .errors import (
    InvalidInput,
    InvalidSignature,
    InvalidSignatureLength,
    InvalidSignatureV,
    InvalidType,
    SignatureSTooHigh,
    UnrecoverableSignature,
)
from .evm import check_address, check_bytes, check_bytes32

_PERSONAL_PREFIX = b"\x19Ethereum Signed Message:\n"


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not NIST SHA3-256) of ``data``: 32 bytes."""
    return _bindings.keccak256(data)  # checks the type itself


def personal_digest(msg32: bytes) -> bytes:
    """``keccak("\\x19Ethereum Signed Message:\\n32" || msg32)``: what a ticket signature signs
    (spec/protocol.md §2.1)."""
    return _bindings.personal_digest(msg32)  # checks type and length itself


def personal_digest_any(msg: bytes) -> bytes:
    """EIP-191 digest of a message of any length (the prefix carries its decimal length), as
    used for the remote signer's state (spec/protocol.md §2.4)."""
    msg = check_bytes("msg", msg)
    return _bindings.keccak256(_PERSONAL_PREFIX + str(len(msg)).encode() + msg)


@runtime_checkable
class Signer(Protocol):
    """Anything that signs 32-byte messages with the EIP-191 prefix for an Ethereum address.

    :class:`PrivateKeySigner` is the local implementation; a remote signer, an HSM or a KMS
    can be plugged in by implementing ``address`` and ``sign``.
    """

    @property
    def address(self) -> bytes:
        """The 20-byte address whose key signs."""
        ...

    def sign(self, msg32: bytes) -> bytes:
        """65 bytes ``r || s || v`` (v 27/28, low s) over ``personal_digest(msg32)``."""
        ...


class _Flat(Protocol):
    def flat(self) -> bytes: ...


class PrivateKeySigner:
    """A :class:`Signer` holding a secp256k1 private key in memory.

    Signatures are RFC 6979 deterministic and low-s (libsecp256k1), so they are byte-identical
    to go-ethereum's and eth-account's. The key never appears in ``repr``, ``str``, pickles or
    exceptions.
    """

    __slots__ = ("__key", "_address")

    def __init__(self, private_key: bytes) -> None:
        if not isinstance(private_key, bytes | bytearray | memoryview):
            # Not check_bytes: its error keeps the value, which here would be the key (hex str
            # or int) in the exception's attributes and pickles.
            raise InvalidType(
                f"private_key must be bytes, not {type(private_key).__name__}", name="private_key"
            )
        key = check_bytes("private_key", private_key, 32)
        self._address = _bindings.seckey_address(key)  # also rejects 0 and >= N
        self.__key = key

    @classmethod
    def generate(cls) -> PrivateKeySigner:
        """A signer with a fresh key from the operating system's CSPRNG."""
        while True:
            key = os.urandom(32)
            if 0 < int.from_bytes(key, "big") < coincurve.utils.GROUP_ORDER_INT:
                return cls(key)

    @property
    def address(self) -> bytes:
        return self._address

    @property
    def checksum_address(self) -> str:
        return to_checksum_address(self._address)

    def export_private_key(self) -> bytes:
        """The raw 32-byte key. Handle with care: this is the only way to read it back."""
        return self.__key

    def sign(self, msg32: bytes) -> bytes:
        return _bindings.sign_msg32_batch(self.__key, check_bytes32("msg32", msg32))

    def sign_digest(self, digest32: bytes) -> bytes:
        """Sign a prepared 32-byte digest as is (coincurve's ``hasher=None``)."""
        return _bindings.sign_digest(self.__key, check_bytes32("digest", digest32))

    def sign_message(self, msg: bytes) -> bytes:
        """``personal_sign`` of a message of any length."""
        return _bindings.sign_digest(self.__key, personal_digest_any(msg))

    def sign_batch(self, msgs32: Sequence[bytes]) -> list[bytes]:
        """Sign many 32-byte messages in one native call."""
        if not isinstance(msgs32, Iterable):
            raise InvalidType(
                f"msgs32 must be a sequence of 32-byte messages, not {type(msgs32).__name__}",
                name="msgs32",
                value=msgs32,
            )
        flat = b"".join(check_bytes32("msg32", m) for m in msgs32)
        sigs = _bindings.sign_msg32_batch(self.__key, flat)
        return [sigs[i : i + 65] for i in range(0, len(sigs), 65)]

    def sign_tickets(self, template: _Flat, nonces: Sequence[int] | array[int]) -> bytes:
        """Hash and sign tickets that differ from ``template`` only in the sender nonce, all in
        one native call with the GIL released. Returns the n*65 signatures, flat."""
        if not callable(getattr(template, "flat", None)):
            raise InvalidType(
                f"template must be a pm.Ticket, not {type(template).__name__}",
                name="template",
                value=template,
            )
        return _bindings.create_tickets(self.__key, template.flat(), _bindings.nonce_array(nonces))[
            1
        ]

    def __repr__(self) -> str:
        return f"PrivateKeySigner(address={to_checksum_address(self._address)})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise InvalidType("PrivateKeySigner cannot be pickled: it holds a private key")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrivateKeySigner):
            return NotImplemented
        return hmac.compare_digest(self.__key, other.__key)

    def __hash__(self) -> int:
        return hash(self._address)


_SIG_ERRORS: dict[int, Callable[[bytes], InvalidSignature]] = {
    _bindings.ERR_SIG_LENGTH: lambda sig: InvalidSignatureLength(len(sig)),
    _bindings.ERR_SIG_HIGH_S: lambda sig: SignatureSTooHigh(int.from_bytes(sig[32:64], "big")),
    _bindings.ERR_SIG_V: lambda sig: InvalidSignatureV(sig[64]),
    _bindings.ERR_SIG_RECOVER: lambda sig: UnrecoverableSignature(),
}


def recover_address(msg32: bytes, sig: bytes) -> bytes:
    """The 20-byte address that signed ``personal_digest(msg32)``.

    Applies go-livepeer's checks in order (spec/protocol.md §2.3) and raises the matching
    :class:`pm.errors.InvalidSignature` subclass: length, high s, v, unrecoverable.
    """
    sig = check_bytes("sig", sig)
    status, address = _bindings.recover_msg32(check_bytes32("msg32", msg32), sig)
    if status != _bindings.OK:
        raise _SIG_ERRORS[status](sig)
    return address


def recover_message_address(msg: bytes, sig: bytes) -> bytes:
    """The address that ``personal_sign``-ed a message of any length (same checks)."""
    sig = check_bytes("sig", sig)
    if len(sig) != 65:
        raise InvalidSignatureLength(len(sig))
    s = int.from_bytes(sig[32:64], "big")
    if s > _HALF_ORDER:
        raise SignatureSTooHigh(s)
    if sig[64] not in (27, 28):
        raise InvalidSignatureV(sig[64])
    try:
        pub = coincurve.PublicKey.from_signature_and_message(
            sig[:64] + bytes([sig[64] - 27]), personal_digest_any(msg), hasher=None
        )
    except Exception as exc:  # coincurve raises plain Exception on failure
        raise UnrecoverableSignature() from exc
    return _bindings.keccak256(pub.format(compressed=False)[1:])[12:]


_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def to_checksum_address(addr: bytes) -> str:
    """EIP-55 mixed-case hex of a 20-byte address, with ``0x``."""
    hex_addr = check_address("address", addr).hex()
    digest = _bindings.keccak256(hex_addr.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(hex_addr, digest[:40], strict=True)
    )


def bytes_from_hex(value: str, length: int | None = None, *, name: str = "value") -> bytes:
    """Decode ``0x``-prefixed (or bare) hex, optionally of an exact byte length."""
    if not isinstance(value, str):
        raise InvalidType(
            f"{name} must be a hex string, not {type(value).__name__}", name=name, value=value
        )
    body = value[2:] if value[:2] in ("0x", "0X") else value
    try:
        data = bytes.fromhex(body)
    except ValueError as exc:
        raise InvalidInput(f"{name} is not valid hex: {value!r}", name=name, value=value) from exc
    if len(body) != 2 * len(data):  # fromhex skips whitespace; hex must be dense
        raise InvalidInput(f"{name} is not valid hex: {value!r}", name=name, value=value)
    if length is not None and len(data) != length:
        raise InvalidInput(
            f"{name} must be {length} bytes, got {len(data)}", name=name, value=value
        )
    return data


def address_from_hex(value: str, *, name: str = "address") -> bytes:
    """Decode a 20-byte address. Mixed-case input must carry a valid EIP-55 checksum."""
    data = bytes_from_hex(value, 20, name=name)
    body = value[2:] if value[:2] in ("0x", "0X") else value
    if body != body.lower() and body != body.upper() and to_checksum_address(data)[2:] != body:
        raise InvalidInput(
            f"{name} has an invalid EIP-55 checksum: {value}", name=name, value=value
        )
    return data
