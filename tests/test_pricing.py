"""pm.pricing: EV, winProb (with go-livepeer's low-64-bit quirk) and Go's FloatString."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pm.errors import InvalidInput, InvalidType, PMError
from pm.pricing import MAX_WIN_PROB, expected_value, format_rat, win_prob_for, win_prob_rat

M = MAX_WIN_PROB


@given(
    st.integers(min_value=1, max_value=2**256 - 1),
    st.integers(min_value=0, max_value=2**200) | st.integers(min_value=0, max_value=2**256 - 1),
)
def test_win_prob_for_never_undershoots_ev(face_value: int, ev: int) -> None:
    if face_value < ev:
        with pytest.raises(InvalidInput):
            win_prob_for(face_value, ev)
        return
    q, r = divmod(M, face_value)
    go_result = M if face_value == ev else ev * (q + 1) if r % 2**64 else ev * q
    if go_result > M:
        with pytest.raises(InvalidInput):
            win_prob_for(face_value, ev)
        return
    win_prob = win_prob_for(face_value, ev)
    assert win_prob == go_result
    if face_value != ev and (r == 0 or r % 2**64):
        assert expected_value(face_value, win_prob) >= ev


def test_win_prob_for_reproduces_gos_low_64_bit_test() -> None:
    # M = 19 * fv + 2 * 2**64: the remainder is non-zero but its low 64 bits are zero, so Go's
    # r.Int64() != 0 is false and the result is ev * q, not ev * (q + 1).
    face_value = (M - 2 * 2**64) // 19
    q, r = divmod(M, face_value)
    assert (q, r) == (19, 2 * 2**64)
    assert win_prob_for(face_value, 3) == 3 * 19
    assert expected_value(face_value, win_prob_for(face_value, 3)) < 3  # the quirk's effect


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (Fraction(101), 5, "101.00000"),
        (Fraction(202, 2), 5, "101.00000"),
        (Fraction(1, 3), 5, "0.33333"),
        (Fraction(2, 3), 5, "0.66667"),
        (Fraction(1, 200000), 5, "0.00001"),  # half rounds away from zero
        (Fraction(-1, 200000), 5, "-0.00001"),
        (Fraction(-1, 300000), 5, "-0.00000"),  # Go keeps the sign
        (Fraction(5, 2), 0, "3"),
        (Fraction(0), 2, "0.00"),
        (7, 1, "7.0"),
    ],
)
def test_format_rat_like_go(value: Fraction, decimals: int, text: str) -> None:
    assert format_rat(value, decimals) == text


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda: expected_value(-1, 0), InvalidInput),
        (lambda: expected_value(2**256, 0), InvalidInput),
        (lambda: expected_value(1, 2**256), InvalidInput),
        (lambda: expected_value(1.0, 1), InvalidType),
        (lambda: win_prob_for(-5, 1), InvalidInput),
        (lambda: win_prob_for(5, -1), InvalidInput),
        (lambda: win_prob_for(2**256, 1), InvalidInput),
        (lambda: win_prob_for(5, "1"), InvalidType),
        (lambda: win_prob_rat(-1), InvalidInput),
        (lambda: format_rat(0.5), InvalidType),
    ],
)
def test_bad_input(call: object, exc: type[Exception]) -> None:
    with pytest.raises(exc) as info:
        call()  # type: ignore[operator]
    assert isinstance(info.value, PMError)


def test_win_prob_above_m_is_rejected_not_truncated() -> None:
    with pytest.raises(InvalidInput):
        win_prob_for(M - 1, M - 2)  # q = 1, r = 1: Go would give 2M - 4


def test_ev_is_exact() -> None:
    assert expected_value(1000, M // 2) == Fraction(1000 * (M // 2), M)
    assert expected_value(1000, M) == 1000
    assert win_prob_rat(M) == 1
