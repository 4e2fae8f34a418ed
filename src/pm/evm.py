"""EVM-flavoured value helpers shared by every layer: range checks, integer encodings,
reverts and event records.

Integers on the wire and on chain are unsigned 256-bit words; Go silently takes absolute
values or writes misaligned bytes for values outside that range (spec/protocol.md §12 item 9),
so pm rejects them before encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput, InvalidType, PMError

UINT256_MAX = 2**256 - 1
UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1
ZERO_ADDRESS = bytes(20)
ZERO_HASH = bytes(32)


class Revert(PMError):
    """A contract call reverted. ``reason`` is the exact revert string, ``"Panic(0x11)"``-style
    for a Solidity panic, or ``""`` for a revert without a reason. A reverted call changes no
    state and logs no event."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason if reason else "execution reverted")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Event:
    """A contract event: ``name`` as in Solidity, ``args`` keyed by the Solidity parameter
    names (addresses as 20-byte ``bytes``, numbers as ``int``)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


def check_uint(name: str, value: object, bits: int = 256) -> int:
    """Return ``value`` if it is an ``int`` in ``[0, 2**bits)``; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(
            f"{name} must be an int, not {type(value).__name__}", name=name, value=value
        )
    if value < 0 or value >> bits:
        raise InvalidInput(f"{name} must be in [0, 2**{bits}), got {value}", name=name, value=value)
    return value


def check_int(name: str, value: object, bits: int = 64) -> int:
    """Return ``value`` if it is a signed ``int`` that fits ``bits`` bits (Go int64 by default)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(
            f"{name} must be an int, not {type(value).__name__}", name=name, value=value
        )
    if not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        raise InvalidInput(f"{name} must fit in int{bits}, got {value}", name=name, value=value)
    return value


def check_bytes(name: str, value: object, length: int | None = None) -> bytes:
    """Return ``value`` as ``bytes`` (bytes-like accepted) with an optional exact length."""
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if not isinstance(value, bytes):
        raise InvalidType(
            f"{name} must be bytes, not {type(value).__name__}", name=name, value=value
        )
    if length is not None and len(value) != length:
        raise InvalidInput(
            f"{name} must be {length} bytes, got {len(value)}", name=name, value=len(value)
        )
    return value


def check_address(name: str, value: object) -> bytes:
    """A 20-byte address."""
    return check_bytes(name, value, 20)


def check_bytes32(name: str, value: object) -> bytes:
    """A 32-byte hash or word."""
    return check_bytes(name, value, 32)


def u256(value: int) -> bytes:
    """``value`` as a 32-byte big-endian word (spec/protocol.md §0 ``u256``)."""
    return check_uint("value", value).to_bytes(32, "big")


def minbe(value: int) -> bytes:
    """Minimal big-endian bytes of a non-negative int; zero is ``b""`` (Go ``big.Int.Bytes``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(
            f"value must be an int, not {type(value).__name__}", name="value", value=value
        )
    if value < 0:
        raise InvalidInput(f"value must be non-negative, got {value}", name="value", value=value)
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
