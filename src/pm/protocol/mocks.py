"""Minimal stand-ins for a BondingManager's peers, like the contracts' ``GenericMock`` fixture.

spec/protocol-economics.md §6.0: the BondingManager unit tests run the real BondingManager with
everything else mocked: ``currentRound()`` / ``currentRoundInitialized()`` /
``currentRoundLocked()`` are set by the test, the Minter's ``createReward`` returns a fixed amount
(1000) whatever the stake, and token movements are only recorded. These classes reproduce that
fixture so the contract's own vectors can be replayed exactly. Their records are journaled, so
a reverted call leaves no record behind (as a reverted transaction leaves no mock call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._journal import JList

__all__ = ["MockBondingVotes", "MockMinter", "MockRounds", "MockToken"]


@dataclass
class MockRounds:
    """Rounds whose number, initialization and lock are set directly."""

    round: int = 0
    initialized: bool = True
    locked: bool = False
    address: bytes = bytes.fromhex("a0" * 20)

    def current_round(self) -> int:
        return self.round

    def current_round_initialized(self) -> bool:
        return self.initialized

    def current_round_locked(self) -> bool:
        return self.locked


@dataclass
class MockMinter:
    """``create_reward`` returns ``reward`` (LPT wei) whatever the fraction; calls are recorded."""

    reward: int = 1000
    mintable: int = 0
    minted: int = 0
    address: bytes = bytes.fromhex("c0" * 20)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=JList)

    def create_reward(self, frac_num: int, frac_denom: int, /) -> int:
        self.calls.append(("create_reward", (frac_num, frac_denom)))
        return self.reward

    def current_mintable_tokens(self) -> int:
        return self.mintable

    def current_minted_tokens(self) -> int:
        return self.minted

    def trusted_transfer_tokens(self, to: bytes, amount: int, /) -> None:
        self.calls.append(("trusted_transfer_tokens", (to, amount)))

    def trusted_burn_tokens(self, amount: int, /) -> None:
        self.calls.append(("trusted_burn_tokens", (amount,)))

    def trusted_withdraw_eth(self, to: bytes, amount: int, /) -> None:
        self.calls.append(("trusted_withdraw_eth", (to, amount)))

    def deposit_eth(self, value: int, /) -> bool:
        self.calls.append(("deposit_eth", (value,)))
        return True

    def calls_named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]


@dataclass
class MockToken:
    """Records ``transfer_from``; ``balances`` answers ``balance_of``."""

    balances: dict[bytes, int] = field(default_factory=dict)
    transfers: list[tuple[bytes, bytes, bytes, int]] = field(default_factory=JList)

    def transfer_from(self, spender: bytes, owner: bytes, to: bytes, amount: int) -> bool:
        self.transfers.append((spender, owner, to, amount))
        return True

    def balance_of(self, addr: bytes) -> int:
        return self.balances.get(addr, 0)


@dataclass
class MockBondingVotes:
    """Records the BondingManager's vote checkpoints."""

    bonding: list[dict[str, Any]] = field(default_factory=JList)
    totals: list[tuple[int, int]] = field(default_factory=JList)

    def checkpoint_bonding_state(
        self,
        sender: bytes,
        account: bytes,
        start_round: int,
        bonded_amount: int,
        delegate_address: bytes,
        delegated_amount: int,
        last_claim_round: int,
        last_reward_round: int,
    ) -> None:
        self.bonding.append(
            {
                "account": account,
                "start_round": start_round,
                "bonded_amount": bonded_amount,
                "delegate_address": delegate_address,
                "delegated_amount": delegated_amount,
                "last_claim_round": last_claim_round,
                "last_reward_round": last_reward_round,
            }
        )

    def checkpoint_total_active_stake(self, sender: bytes, total_stake: int, round: int) -> None:
        self.totals.append((total_stake, round))

    def last_for(self, account: bytes) -> dict[str, Any] | None:
        found: dict[str, Any] | None = None
        for cp in self.bonding:
            if cp["account"] == account:
                found = cp
        return found


def label(name: str) -> bytes:
    """A readable 20-byte test address: the name's bytes padded with zeros."""
    return name.encode().ljust(20, b"\0")


OWNER = label("owner")
TICKET_BROKER = label("broker")
TREASURY = label("treasury")
L2_MIGRATOR = label("migrator")


class BondingFixture:
    """The BondingManager unit-test fixture (spec §6.0): 2 active transcoders, unbonding period 2,
    mocked rounds/minter/token/BondingVotes, Controller owner :data:`OWNER`."""

    def __init__(self, *, num_active_transcoders: int = 2, unbonding_period: int = 2) -> None:
        from .bonding_manager import BondingManager

        self.rounds = MockRounds()
        self.minter = MockMinter()
        self.token = MockToken()
        self.votes = MockBondingVotes()
        self.bm = BondingManager(
            rounds=self.rounds,
            minter=self.minter,
            token=self.token,
            owner=OWNER,
            ticket_broker=TICKET_BROKER,
            l2_migrator=L2_MIGRATOR,
            treasury=TREASURY,
            num_active_transcoders=num_active_transcoders,
            unbonding_period=unbonding_period,
            bonding_votes=self.votes,
        )

    def at(self, round: int, *, init: bool = True) -> None:
        """Move to ``round`` and run the RoundsManager hook (setCurrentRoundTotalActiveStake)."""
        self.rounds.round = round
        if init:
            self.bm.set_current_round_total_active_stake(self.rounds.address)

    def fees(self, transcoder: bytes, amount: int) -> None:
        self.bm.update_transcoder_with_fees(TICKET_BROKER, transcoder, amount, self.rounds.round)
