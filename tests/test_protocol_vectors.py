"""spec/protocol-economics.md §6.0: the contracts' own unit-test vectors, replayed exactly.

The BondingManager vectors run the real model with the unit-test fixture of the contracts
(mocked rounds, a Minter whose createReward returns 1000, recorded token movements), from
tests/data/economics_vectors.json: a list of steps and the values the contract tests expect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pm.protocol import MINTER_ROLE, BondingManager, LivepeerToken, Minter
from pm.protocol.mocks import MockBondingVotes, MockMinter, MockRounds, MockToken

DATA = json.loads((Path(__file__).parent / "data" / "economics_vectors.json").read_text())
OWNER = b"owner".ljust(20, b"\0")
BROKER = b"broker".ljust(20, b"\0")


def addr(name: str) -> bytes:
    return name.encode().ljust(20, b"\0")


def conv(value: Any) -> Any:
    """Names in expectations become addresses (any string naming an account)."""
    if isinstance(value, str) and value not in (
        "nextRoundTreasuryRewardCutRate",
        "treasuryRewardCutRate",
    ):
        return addr(value)
    if isinstance(value, list):
        return tuple(conv(v) for v in value)
    if isinstance(value, dict):
        return {k: (v if k == "param" else conv(v)) for k, v in value.items()}
    return value


class Fixture:
    def __init__(self) -> None:
        self.rounds = MockRounds()
        self.minter = MockMinter()
        self.token = MockToken()
        self.votes = MockBondingVotes()
        self.bm = BondingManager(
            rounds=self.rounds,
            minter=self.minter,
            token=self.token,
            owner=OWNER,
            ticket_broker=BROKER,
            treasury=addr("treasury"),
            num_active_transcoders=2,
            unbonding_period=2,
            bonding_votes=self.votes,
        )

    def step(self, op: str, *a: Any) -> None:
        bm = self.bm
        if op == "round":
            self.rounds.round = a[0]
        elif op == "init":
            bm.set_current_round_total_active_stake(self.rounds.address)
        elif op == "bond":
            bm.bond(addr(a[0]), a[1], addr(a[2]))
        elif op == "transcoder":
            bm.transcoder(addr(a[0]), a[1], a[2])
        elif op == "reward":
            bm.reward(addr(a[0]))
        elif op == "fees":
            bm.update_transcoder_with_fees(BROKER, addr(a[0]), a[1], a[2])
        elif op == "claim":
            bm.claim_earnings(addr(a[0]), 0)
        elif op == "set_treasury_rate":
            bm.set_treasury_reward_cut_rate(OWNER, a[0])
        elif op == "set_ceiling":
            bm.set_treasury_balance_ceiling(OWNER, a[0])
        elif op == "treasury_balance":
            self.token.balances[addr("treasury")] = a[0]
        elif op == "mintable":
            self.minter.mintable = a[0]
        elif op == "clear_minter_calls":
            self.minter.calls.clear()
        elif op == "expect_now":
            self.check(a[0])
        else:  # pragma: no cover - a typo in the data file
            raise AssertionError(f"unknown step {op}")

    def check(self, exp: list[Any]) -> None:
        bm = self.bm
        op, *a = exp
        if op == "pool":
            pool = bm.get_transcoder_earnings_pool_for_round(addr(a[0]), a[1])
            assert getattr(pool, a[2]) == a[3], exp
        elif op == "transcoder":
            assert getattr(bm.get_transcoder(addr(a[0])), a[1]) == a[2], exp
        elif op == "delegator":
            assert getattr(bm.get_delegator(addr(a[0])), a[1]) == a[2], exp
        elif op == "pending_stake":
            assert bm.pending_stake(addr(a[0]), 0) == a[1], exp
        elif op == "pending_stake_end":
            assert bm.pending_stake(addr(a[0]), a[1]) == a[2], exp
        elif op == "pending_fees":
            assert bm.pending_fees(addr(a[0]), 0) == a[1], exp
        elif op == "next_total":
            assert bm.next_round_total_active_stake == a[0]
        elif op == "treasury_rate":
            assert bm.treasury_reward_cut_rate == a[0]
        elif op == "next_treasury_rate":
            assert bm.next_round_treasury_reward_cut_rate == a[0]
        elif op == "event":
            want = conv(a[1])
            assert any(e.name == a[0] and e.args == want for e in bm.events), (exp, bm.events)
        elif op == "event_count":
            want = conv(a[1])
            assert sum(1 for e in bm.events if e.name == a[0] and e.args == want) == a[2], (
                exp,
                bm.events,
            )
        elif op == "minter_call":
            assert conv(a[1]) in self.minter.calls_named(a[0]), (exp, self.minter.calls)
        elif op == "minter_call_count":
            assert len(self.minter.calls_named(a[0])) == a[1]
        elif op == "checkpoint":
            cp = self.votes.last_for(addr(a[0]))
            assert cp is not None
            for k, v in a[1].items():
                assert cp[k] == v, (k, cp)
        else:  # pragma: no cover
            raise AssertionError(f"unknown expectation {op}")


@pytest.mark.parametrize("vec", DATA["bonding"], ids=[v["id"] for v in DATA["bonding"]])
def test_bonding_manager_vector(vec: dict[str, Any]) -> None:
    fx = Fixture()
    for step in vec["steps"]:
        fx.step(*step)
    for exp in vec["expect"]:
        fx.check(exp)


class _BM:
    """Total bonded for the Minter's bonding rate."""

    address = addr("bm")

    def __init__(self, bonded: int) -> None:
        self.bonded = bonded

    def get_total_bonded(self) -> int:
        return self.bonded


def _minter(vec: dict[str, Any]) -> tuple[Minter, LivepeerToken]:
    token = LivepeerToken(admin=OWNER)
    supply = vec["supply"]
    bonded = vec.get("bonded", supply * vec.get("bonded_percent", 0) // 100)
    m = Minter(
        token=token,
        owner=OWNER,
        inflation=vec["inflation"],
        inflation_change=vec["inflation_change"],
        target_bonding_rate=vec["target_bonding_rate"],
        bonding_manager=_BM(bonded),
        rounds_manager=addr("rounds"),
    )
    token.grant_role(OWNER, MINTER_ROLE, m.address)
    token.grant_role(OWNER, MINTER_ROLE, OWNER)
    token.mint(OWNER, addr("holder"), supply)
    return m, token


@pytest.mark.parametrize("vec", DATA["minter"], ids=[v["id"] for v in DATA["minter"]])
def test_minter_vector(vec: dict[str, Any]) -> None:
    m, token = _minter(vec)
    m.set_current_reward_tokens(addr("rounds"))
    assert m.inflation == vec["expect_inflation"]
    assert m.current_mintable_tokens() == vec["expect_mintable"]
    assert m.current_minted_tokens() == 0
    for (num, den), want in vec.get("create_reward", []):
        m2, _ = _minter(vec)
        m2.set_current_reward_tokens(addr("rounds"))
        assert m2.create_reward(num, den) == want
    if "create_reward_seq" in vec:
        total = 0
        for (num, den), want in vec["create_reward_seq"]:
            assert m.create_reward(addr("bm"), num, den) == want
            total += want
        assert m.current_minted_tokens() == total
        assert token.balance_of(m.address) == total
