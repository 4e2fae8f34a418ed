"""Minter catalogue (spec/protocol-economics.md §3, §6.3; test/unit/Minter.js): PERC_DIVISOR 1e9,
access checks and their revert strings, the inflation step, custody of LPT and ETH."""

from __future__ import annotations

import pytest

from pm.evm import Revert
from pm.protocol import MINTER_ROLE, LivepeerToken, Minter
from pm.protocol.mocks import OWNER, label

BM = label("bm")
RM = label("rounds")
JOBS = label("broker")


class Bonded:
    address = BM

    def __init__(self, bonded: int) -> None:
        self.bonded = bonded

    def get_total_bonded(self) -> int:
        return self.bonded


def make(
    *,
    supply: int = 1000,
    bonded: int = 0,
    inflation: int = 260_000_000,
    change: int = 200_000,
    l1: int = 0,
) -> tuple[Minter, LivepeerToken, Bonded]:
    token = LivepeerToken(admin=OWNER)
    b = Bonded(bonded)
    m = Minter(
        token=token,
        owner=OWNER,
        inflation=inflation,
        inflation_change=change,
        target_bonding_rate=500_000_000,
        bonding_manager=b,
        rounds_manager=RM,
        jobs_manager=JOBS,
        l1_circulating_supply=l1,
    )
    token.grant_role(OWNER, MINTER_ROLE, m.address)
    token.grant_role(OWNER, MINTER_ROLE, OWNER)
    if supply:
        token.mint(OWNER, label("holder"), supply)
    return m, token, b


def reason(fn: object) -> str:
    with pytest.raises(Revert) as e:
        fn()  # type: ignore[operator]
    return e.value.reason


def test_constructor_checks_in_order() -> None:
    token = LivepeerToken(admin=OWNER)
    kw = {"token": token, "owner": OWNER}
    assert (
        reason(
            lambda: Minter(
                **kw, inflation=10**9 + 1, inflation_change=10**9 + 1, target_bonding_rate=10**9 + 1
            )
        )
        == "_inflation is invalid percentage"
    )
    assert (
        reason(
            lambda: Minter(
                **kw, inflation=1, inflation_change=10**9 + 1, target_bonding_rate=10**9 + 1
            )
        )
        == "_inflationChange is invalid percentage"
    )
    assert (
        reason(lambda: Minter(**kw, inflation=1, inflation_change=1, target_bonding_rate=10**9 + 1))
        == "_targetBondingRate is invalid percentage"
    )
    m = Minter(**kw, inflation=10**9, inflation_change=3, target_bonding_rate=7)
    assert (m.inflation, m.inflation_change, m.target_bonding_rate) == (10**9, 3, 7)


def test_setters() -> None:
    m, _, _ = make()
    assert reason(lambda: m.set_target_bonding_rate(BM, 1)) == "caller must be Controller owner"
    assert reason(lambda: m.set_inflation_change(BM, 1)) == "caller must be Controller owner"
    assert (
        reason(lambda: m.set_target_bonding_rate(OWNER, 10**9 + 1))
        == "_targetBondingRate is invalid percentage"
    )
    assert (
        reason(lambda: m.set_inflation_change(OWNER, 10**9 + 1))
        == "_inflationChange is invalid percentage"
    )
    m.set_target_bonding_rate(OWNER, 10)
    m.set_inflation_change(OWNER, 20)
    assert (m.target_bonding_rate, m.inflation_change) == (10, 20)
    assert [e.args["param"] for e in m.events] == ["targetBondingRate", "inflationChange"]


@pytest.mark.parametrize(
    ("supply", "bonded", "l1", "inflation", "change", "expected"),
    [
        (0, 0, 0, 260_000_000, 200_000, 260_200_000),  # supply 0: bonding rate 0 -> +change
        (1000, 400, 0, 260_000_000, 200_000, 260_200_000),  # 40 % < 50 %
        (1000, 600, 300, 260_000_000, 200_000, 260_200_000),  # 600 / 1300 < 50 % (global supply)
        (1000, 600, 0, 260_000_000, 200_000, 259_800_000),  # 60 % > 50 %
        (1000, 600, 0, 100_000, 200_000, 0),  # change > inflation: floored at 0
        (1000, 500, 0, 260_000_000, 200_000, 260_000_000),  # equal: unchanged
    ],
)
def test_inflation_step(
    supply: int, bonded: int, l1: int, inflation: int, change: int, expected: int
) -> None:
    m, _, _ = make(supply=supply, bonded=bonded, l1=l1, inflation=inflation, change=change)
    assert reason(lambda: m.set_current_reward_tokens(BM)) == "msg.sender not RoundsManager"
    m.set_current_reward_tokens(RM)
    assert m.inflation == expected
    assert m.current_mintable_tokens() == (supply + l1) * expected // 10**9
    assert m.events[-1].args == {
        "currentMintableTokens": m.current_mintable_tokens(),
        "currentInflation": expected,
    }


def test_mintable_uses_global_supply_and_resets_minted() -> None:
    m, _, _ = make(supply=1000, bonded=500, l1=200)
    m.set_current_reward_tokens(RM)
    assert m.get_global_total_supply() == 1200
    assert m.current_mintable_tokens() == 1200 * 260_000_000 // 10**9
    m.create_reward(BM, 1, 2)
    assert m.current_minted_tokens() > 0
    m.set_current_reward_tokens(RM)
    assert m.current_minted_tokens() == 0
    m.paused = True
    assert reason(lambda: m.set_current_reward_tokens(RM)) == "system is paused"


def test_create_reward_rules() -> None:
    m, token, _ = make()
    m.set_current_reward_tokens(RM)
    assert reason(lambda: m.create_reward(RM, 1, 2)) == "msg.sender not BondingManager"
    # huge fractions: (num * 1e9 / den) first, no overflow
    assert m.create_reward(BM, 10**46, 10**46) == m.current_mintable_tokens()
    assert (
        reason(lambda: m.create_reward(BM, 1, 100)) == "minted tokens cannot exceed mintable tokens"
    )
    assert token.balance_of(m.address) == m.current_mintable_tokens()
    m.paused = True
    assert reason(lambda: m.create_reward(BM, 1, 100)) == "system is paused"


def test_token_and_eth_movements() -> None:
    m, token, _ = make()
    m.set_current_reward_tokens(RM)
    m.create_reward(BM, 1, 1)
    held = token.balance_of(m.address)
    assert reason(lambda: m.trusted_transfer_tokens(RM, RM, 1)) == "msg.sender not BondingManager"
    m.trusted_transfer_tokens(BM, label("d"), 10)
    assert token.balance_of(label("d")) == 10 and token.balance_of(m.address) == held - 10
    assert reason(lambda: m.trusted_burn_tokens(RM, 1)) == "msg.sender not BondingManager"
    assert reason(lambda: m.deposit_eth(label("x"), 5)) == "msg.sender not Minter or JobsManager"
    m.deposit_eth(JOBS, 100)
    m.paused = True
    m.deposit_eth(JOBS, 1)  # depositETH works while paused (LIP-40)
    assert reason(lambda: m.trusted_transfer_tokens(BM, label("d"), 1)) == "system is paused"
    assert reason(lambda: m.trusted_withdraw_eth(BM, label("d"), 1)) == "system is paused"
    m.paused = False
    assert reason(lambda: m.trusted_withdraw_eth(RM, label("d"), 1)) == (
        "msg.sender not BondingManager or JobsManager"
    )
    assert reason(lambda: m.trusted_withdraw_eth(BM, label("d"), 102)) == ""  # insufficient ETH
    m.trusted_withdraw_eth(BM, label("d"), 50)
    m.trusted_withdraw_eth(JOBS, label("e"), 51)
    assert m.eth_balance == 0 and m.eth_paid == {label("d"): 50, label("e"): 51}


def test_migrate_to_new_minter() -> None:
    m, token, b = make()
    m.set_current_reward_tokens(RM)
    m.create_reward(BM, 1, 1)
    m.deposit_eth(JOBS, 7)
    new = Minter(
        token=token,
        owner=OWNER,
        inflation=1,
        inflation_change=1,
        target_bonding_rate=1,
        bonding_manager=b,
        rounds_manager=RM,
        address=label("new minter"),
    )
    assert reason(lambda: m.migrate_to_new_minter(BM, new)) == "caller must be Controller owner"
    assert (
        reason(lambda: m.migrate_to_new_minter(OWNER, m)) == "new Minter cannot be current Minter"
    )
    other = Minter(
        token=token,
        owner=label("other"),
        inflation=1,
        inflation_change=1,
        target_bonding_rate=1,
        address=label("o"),
    )
    assert reason(lambda: m.migrate_to_new_minter(OWNER, other)) == (
        "new Minter Controller must be current Controller"
    )
    held = token.balance_of(m.address)
    m.migrate_to_new_minter(OWNER, new)
    assert token.balance_of(new.address) == held and token.balance_of(m.address) == 0
    assert new.eth_balance == 7 and m.eth_balance == 0
    # LIP-40: the new Minter mints nothing until the next initializeRound
    assert new.current_mintable_tokens() == 0


def test_migrate_rejects_null_and_unregistered_minters() -> None:
    m, token, _ = make()
    null = Minter(
        token=token,
        owner=OWNER,
        inflation=1,
        inflation_change=1,
        target_bonding_rate=1,
        address=bytes(20),
    )
    assert (
        reason(lambda: m.migrate_to_new_minter(OWNER, null)) == "new Minter cannot be null address"
    )
    unregistered = Minter(
        token=token,
        owner=OWNER,
        inflation=1,
        inflation_change=1,
        target_bonding_rate=1,
        address=label("u"),
    )
    # the contract checks that THIS Minter is still the Controller's "Minter"
    m.registered_minter = False
    assert (
        reason(lambda: m.migrate_to_new_minter(OWNER, unregistered))
        == "new Minter must be registered"
    )


# Catalogue lines without a test, and why:
# - setController / getController: no Controller in the models; ``get_controller()`` returns the
#   Controller owner the Minter was built with, which is what the migration check compares.
# - "migrateToNewMinter to a target without getController() reverts": the model takes a Minter
#   object, so a target without the method cannot be passed (a TypeError, not a contract revert).
