"""Checked uint256 arithmetic and the three fixed-point libraries of the protocol contracts.

spec/protocol-economics.md §0: Solidity 0.8 checked arithmetic (overflow/underflow -> Panic(0x11),
division by zero -> Panic(0x12)); every division truncates. Three libraries share the same code
with different divisors, and ``perc_of3`` truncates twice (the fraction first, then the product),
which must not be simplified to ``a * num // den`` to match the contracts bit for bit.
"""

from __future__ import annotations

from pm.evm import Revert

__all__ = [
    "MATH_PERC_DIVISOR",
    "MINTER_PERC_DIVISOR",
    "PRECISE_PERC_DIVISOR",
    "UINT256_MAX",
    "add",
    "div",
    "mul",
    "perc_of",
    "perc_of3",
    "perc_points",
    "sub",
    "valid_perc",
]

UINT256_MAX = 2**256 - 1

#: MathUtils (contracts/libraries/MathUtils.sol): rewardCut, feeShare, roundLockAmount, quorum.
MATH_PERC_DIVISOR = 10**6
#: MathUtilsV2 (same library name!): the Minter's inflation, inflationChange, targetBondingRate.
MINTER_PERC_DIVISOR = 10**9
#: PreciseMathUtils: LIP-36 cumulative factors and treasuryRewardCutRate.
PRECISE_PERC_DIVISOR = 10**27


def panic_overflow() -> Revert:
    """The revert of a checked-arithmetic failure (Solidity 0.8 ``Panic(0x11)``)."""
    return Revert("Panic(0x11)")


def add(a: int, b: int) -> int:
    """Checked uint256 ``a + b``."""
    r = a + b
    if r > UINT256_MAX:
        raise panic_overflow()
    return r


def sub(a: int, b: int) -> int:
    """Checked uint256 ``a - b`` (underflow -> Panic(0x11))."""
    if b > a:
        raise panic_overflow()
    return a - b


def mul(a: int, b: int) -> int:
    """Checked uint256 ``a * b``."""
    r = a * b
    if r > UINT256_MAX:
        raise panic_overflow()
    return r


def div(a: int, b: int) -> int:
    """uint256 ``a / b`` truncating; division by zero -> Panic(0x12)."""
    if b == 0:
        raise Revert("Panic(0x12)")
    return a // b


def valid_perc(a: int, divisor: int) -> bool:
    """``validPerc``: ``a <= PERC_DIVISOR``."""
    return a <= divisor


def perc_points(num: int, den: int, divisor: int) -> int:
    """``percPoints(num, den) = num * D / den``."""
    return div(mul(num, divisor), den)


def perc_of(a: int, num: int, divisor: int) -> int:
    """Two-argument ``percOf(a, num) = a * num / D``."""
    return mul(a, num) // divisor


def perc_of3(a: int, num: int, den: int, divisor: int) -> int:
    """Three-argument ``percOf(a, num, den) = a * percPoints(num, den) / D`` (two truncations)."""
    return mul(a, perc_points(num, den, divisor)) // divisor
