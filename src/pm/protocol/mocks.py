"""Minimal stand-ins for a BondingManager's peers, like the contracts' ``GenericMock`` fixture.

spec/protocol-economics.md §6.0: the BondingManager unit tests run the real BondingManager with
everything else mocked: ``currentRound()`` / ``currentRoundInitialized()`` /
``currentRoundLocked()`` are set by the test, the Minter's ``createReward`` returns a fixed amount
(1000) whatever the stake, and token movements are only recorded. These classes reproduce that
fixture so the contract's own vectors can be replayed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

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
    transfers: list[tuple[bytes, bytes, bytes, int]] = field(default_factory=list)

    def transfer_from(self, spender: bytes, owner: bytes, to: bytes, amount: int) -> bool:
        self.transfers.append((spender, owner, to, amount))
        return True

    def balance_of(self, addr: bytes) -> int:
        return self.balances.get(addr, 0)


@dataclass
class MockBondingVotes:
    """Records the BondingManager's vote checkpoints."""

    bonding: list[dict[str, Any]] = field(default_factory=list)
    totals: list[tuple[int, int]] = field(default_factory=list)

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
