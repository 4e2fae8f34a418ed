"""Credit accounting (spec/protocol.md §8): StageUpdate vectors of §10.1.8, balance completion,
idle expiry of balances, and the fee estimates of §8.2."""

from __future__ import annotations

import threading
from fractions import Fraction
from typing import Any

import pytest
from conftest import load_vectors
from hypothesis import given, settings
from hypothesis import strategies as st

from pm.accounting import (
    LV2V_PIXELS_PER_SECOND,
    PIXEL_ESTIMATE_MULTIPLIER,
    Balance,
    Balances,
    BalanceUpdate,
    BalanceUpdateStatus,
    VideoProfile,
    ai_fee_estimate,
    complete_balance_update,
    fee_for_units,
    live_fee,
    min_credit,
    stage_tickets,
    transcode_fee_estimate,
)
from pm.errors import InvalidInput, InvalidType, PMError

VEC = load_vectors("roles_accounting.json")
ADDR = b"\x11" * 20


def rat(v: Any) -> Fraction | None:
    return None if v is None else Fraction(v[0], v[1])


@pytest.mark.parametrize("case", VEC["stage_update"])
def test_stage_update_vectors(case: dict[str, Any]) -> None:
    balances = Balances()
    bal = balances.for_key(ADDR, "mid")
    bal.credit(rat(case["existing"]))  # type: ignore[arg-type]
    staged = bal.stage_update(rat(case["min_credit"]), rat(case["ev"]))  # type: ignore[arg-type]
    assert staged.num_tickets == case["tickets"]
    assert staged.new_credit == rat(case["new_credit"])
    assert staged.existing_credit == rat(case["existing_credit"])
    assert bal.balance() == 0  # Reserve zeroes the balance


@settings(max_examples=150, deadline=None)
@given(
    existing=st.fractions(min_value=-(10**6), max_value=10**6),
    minimum=st.fractions(min_value=0, max_value=10**7),
    ev=st.fractions(min_value=Fraction(1, 10**9), max_value=10**5),
)
def test_stage_update_covers_the_gap_with_the_fewest_tickets(
    existing: Fraction, minimum: Fraction, ev: Fraction
) -> None:
    s = stage_tickets(existing, minimum, ev)
    if existing >= minimum:
        assert s.num_tickets == 0
    else:
        assert existing + s.new_credit >= minimum
        assert existing + (s.num_tickets - 1) * ev < minimum
        assert s.new_credit == s.num_tickets * ev


def test_stage_tickets_rejects_bad_input() -> None:
    assert stage_tickets(0, 5, 0).num_tickets == 0
    with pytest.raises(InvalidInput):
        stage_tickets(0, 5, -1)
    with pytest.raises(InvalidType):
        stage_tickets(0, 5.0, 1)  # type: ignore[arg-type]


def test_complete_balance_update() -> None:
    balances = Balances()
    bal = Balance(balances, ADDR, "m")
    bal.credit(3)
    upd = BalanceUpdate.from_staged(bal.stage_update(10, 2))
    assert (upd.num_tickets, upd.new_credit, upd.existing_credit) == (4, 8, 3)
    complete_balance_update(bal, upd)  # never sent: credit goes back
    assert bal.balance() == 3
    upd = BalanceUpdate.from_staged(bal.stage_update(10, 2))
    upd.status = BalanceUpdateStatus.CREDIT_SPENT
    complete_balance_update(bal, upd)  # sent, no answer: gone
    assert bal.balance() == 0
    bal.credit(3)
    upd = BalanceUpdate.from_staged(bal.stage_update(10, 2))
    upd.status = BalanceUpdateStatus.RECEIVED_CHANGE
    upd.debit = Fraction(25, 2)
    complete_balance_update(bal, upd)  # 3 + 8 − 12.5
    assert bal.balance() == Fraction(-3, 2)


def test_min_credit() -> None:
    assert min_credit(Fraction(1, 2), 3) == 3
    assert min_credit(7, 3) == 7


def test_balances_expire_after_idle_ttl() -> None:
    now = [0]
    b = Balances(ttl_ns=600, clock=lambda: now[0])
    b.credit(ADDR, "a", 5)
    b.debit(ADDR, "b", 2)
    assert b.balance(ADDR, "b") == -2
    now[0] = 300
    b.credit(ADDR, "a", 1)  # refreshes a
    now[0] = 601
    assert b.cleanup() == 1  # b idle for 601 > 600
    assert b.balance(ADDR, "b") is None and b.balance(ADDR, "a") == 6
    now[0] = 900
    assert b.cleanup() == 0  # a idle for exactly 600: kept
    now[0] = 901
    assert b.cleanup() == 1 and len(b) == 0
    # mutations sweep by themselves once per TTL period
    b.credit(ADDR, "x", 1)
    now[0] = 901 + 1200
    b.credit(ADDR, "y", 1)
    assert b.keys() == [(ADDR, "y")]


def test_reserve_does_not_refresh_ttl() -> None:
    now = [0]
    b = Balances(ttl_ns=10, clock=lambda: now[0])
    b.credit(ADDR, "m", 4)
    now[0] = 8
    assert b.reserve(ADDR, "m") == 4
    now[0] = 11
    assert b.cleanup() == 1


def test_balances_are_thread_safe() -> None:
    b = Balances()

    def work() -> None:
        for _ in range(2000):
            b.credit(ADDR, "m", Fraction(1, 3))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.balance(ADDR, "m") == Fraction(8000, 3)


def test_balances_reject_floats() -> None:
    b = Balances()
    with pytest.raises(InvalidType):
        b.credit(ADDR, "m", 0.5)  # type: ignore[arg-type]


# -- fee estimates (§8.2) ---------------------------------------------------------------------


def test_pixel_estimate_multiplier_is_gos_float64() -> None:
    assert rat(VEC["transcode_fee"]["multiplier"]) == PIXEL_ESTIMATE_MULTIPLIER
    assert PIXEL_ESTIMATE_MULTIPLIER.denominator == 2**51
    assert abs(PIXEL_ESTIMATE_MULTIPLIER - Fraction(102, 100)) < Fraction(1, 10**15)


@pytest.mark.parametrize("case", VEC["transcode_fee"]["cases"])
def test_transcode_fee_vectors(case: dict[str, Any]) -> None:
    profiles = [VideoProfile(*p) for p in case["profiles"]]
    price = rat(case["price"])
    assert price is not None
    fee = transcode_fee_estimate(profiles, rat(case["duration"]), price)  # type: ignore[arg-type]
    assert fee == case["pixels"] * PIXEL_ESTIMATE_MULTIPLIER * price


def test_transcode_fee_defaults_and_rounding() -> None:
    # unset frame rate → 60 fps; 30000/1001 fps → ceil = 30
    assert transcode_fee_estimate([VideoProfile(10, 10)], 1, 1) == 6000 * PIXEL_ESTIMATE_MULTIPLIER
    ntsc = VideoProfile(10, 10, 30000, 1001)
    assert transcode_fee_estimate([ntsc], Fraction(1, 2), 1) == 3000 * PIXEL_ESTIMATE_MULTIPLIER
    with pytest.raises(PMError):
        transcode_fee_estimate([VideoProfile(10, 10)], -1, 1)
    with pytest.raises(PMError):
        VideoProfile(-1, 10)


def test_ai_live_and_debit_fees() -> None:
    assert ai_fee_estimate(1000, Fraction(3, 2)) == 1500
    assert live_fee(10, 7) == 70
    assert LV2V_PIXELS_PER_SECOND == 27_648_000
    assert live_fee(2 * LV2V_PIXELS_PER_SECOND, Fraction(1, 1000)) == Fraction(55_296, 1)
    assert fee_for_units(3, 4, 100) == 75
    with pytest.raises(InvalidInput):
        fee_for_units(3, 0, 100)
    with pytest.raises(InvalidInput):
        live_fee(-1, 1)
