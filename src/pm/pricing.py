"""Win probability and expected value arithmetic (spec/protocol.md §1.5, §5.2 step 5).

Money is ``int`` wei and probabilities are ``int`` numerators over :data:`MAX_WIN_PROB`;
derived quantities are exact :class:`fractions.Fraction`. Never ``float``.
"""

from __future__ import annotations

import sys
from fractions import Fraction

from .errors import InvalidInput, InvalidType
from .evm import check_uint

MAX_WIN_PROB = 2**256 - 1
"""M: a ticket with win_prob = M wins unless its win hash equals M (spec/protocol.md §0)."""

_LOW64 = (1 << 64) - 1


def expected_value(face_value: int, win_prob: int) -> Fraction:
    """EV in wei = face_value × win_prob / M, exact."""
    check_uint("face_value", face_value)
    check_uint("win_prob", win_prob)
    return Fraction(face_value * win_prob, MAX_WIN_PROB)


def win_prob_rat(win_prob: int) -> Fraction:
    """The win probability as an exact fraction in [0, 1]."""
    return Fraction(check_uint("win_prob", win_prob), MAX_WIN_PROB)


def win_prob_for(face_value: int, ev: int) -> int:
    """go-livepeer's winProb for a face value and a target EV, both in wei (§5.2 step 5).

    ``q, r = divmod(M, face_value)``; the result is ``ev × (q + 1)`` when r ≠ 0, else ``ev × q``,
    so the realised EV is never below ``ev``. Go tests r ≠ 0 with ``r.Int64() != 0``, i.e. on
    the low 64 bits of r; this reproduces that quirk, which differs from an exact test only when
    face_value > 2**64 and r is a non-zero multiple of 2**64.

    ``face_value == 0`` gives 0 and ``face_value == ev`` gives M. A face value below ``ev``
    cannot carry that EV and is rejected (go-livepeer errors out before reaching this step), and
    so is a result above M (Go would silently write a corrupt field).
    """
    check_uint("face_value", face_value)
    check_uint("ev", ev)
    if face_value == 0:
        return 0
    if face_value == ev:
        return MAX_WIN_PROB
    if face_value < ev:
        raise InvalidInput(
            f"face value {face_value} is below the target EV {ev}",
            name="face_value",
            value=face_value,
        )
    q, r = divmod(MAX_WIN_PROB, face_value)
    win_prob = ev * (q + 1) if r & _LOW64 else ev * q
    if win_prob > MAX_WIN_PROB:
        # Only for EVs within a factor ~2 of the face value; Go would emit a corrupt 33-byte field.
        raise InvalidInput(
            f"win probability for face value {face_value} and EV {ev} exceeds 2**256-1",
            name="ev",
            value=ev,
        )
    return win_prob


def format_rat(value: Fraction | int, decimals: int = 5) -> str:
    """Go's ``big.Rat.FloatString(decimals)``: exact, rounded half away from zero.

    Like Go it keeps the sign of a negative value that rounds to zero ("-0.00000"), and a
    precision ≤ 0 rounds to an integer without a decimal point.
    """
    if isinstance(value, bool) or not isinstance(value, Fraction | int):
        raise InvalidType(
            f"value must be a Fraction or int, not {type(value).__name__}",
            name="value",
            value=value,
        )
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise InvalidType(
            f"decimals must be an int, not {type(decimals).__name__}",
            name="decimals",
            value=decimals,
        )
    # CPython refuses int -> str beyond sys.get_int_max_str_digits() (4300) digits; refuse such
    # a precision up front instead of computing 10**decimals (which could take ~forever).
    limit = sys.get_int_max_str_digits()
    if limit and decimals > limit:
        raise InvalidInput(
            f"decimals must be at most {limit}, got {decimals}", name="decimals", value=decimals
        )
    value = Fraction(value)
    num, den = abs(value.numerator), value.denominator
    scale = 10 ** max(decimals, 0)  # Go: p = 1 unless prec > 0 (10**-1 would be a float)
    q, r = divmod(num * scale, den)
    if 2 * r >= den:
        q += 1
    whole, frac = divmod(q, scale)
    sign = "-" if value < 0 else ""
    try:
        if decimals <= 0:
            return f"{sign}{whole}"
        return f"{sign}{whole}.{frac:0{decimals}d}"
    except ValueError as exc:  # a value above 10**limit
        raise InvalidInput(
            f"value has too many digits to format: {exc}", name="value", value=None
        ) from exc
