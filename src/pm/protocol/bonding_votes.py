"""BondingVotes: stake checkpoints per round, the vote source of the LivepeerGovernor.

spec/protocol-economics.md §4.3 (contracts/bonding/BondingVotes.sol, an ERC-5805-like ``IVotes``
whose clock is the round number). The BondingManager checkpoints an account's bonding state with
``start_round = current round + 1`` after every bonding action, and the total active stake at
every ``initializeRound``. Voting power at a round is the delegated stake for a registered
transcoder and the pending stake (bond × end CRF / start CRF) for a delegator. Custom errors are
raised as :class:`ContractError` (a :class:`pm.evm.Revert` whose reason is ``Name(args)``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Protocol

from pm.evm import ZERO_ADDRESS, Event, Revert

from ._journal import JDict, JList, Journaled, external
from ._math import PRECISE_PERC_DIVISOR, perc_of3

__all__ = ["BondingCheckpoint", "BondingVotes", "ContractError"]


class ContractError(Revert):
    """A Solidity custom error: ``error`` is its name, ``params`` its arguments."""

    def __init__(self, error: str, *params: object) -> None:
        shown = ", ".join("0x" + p.hex() if isinstance(p, bytes) else str(p) for p in params)
        super().__init__(f"{error}({shown})")
        self.error = error
        self.params = params


@dataclass(frozen=True, slots=True)
class BondingCheckpoint:
    """An account's bonding state as of the start of ``start_round``."""

    bonded_amount: int = 0
    delegate_address: bytes = ZERO_ADDRESS
    delegated_amount: int = 0
    last_claim_round: int = 0
    last_reward_round: int = 0


_ZERO = BondingCheckpoint()


class _Rounds(Protocol):
    def current_round(self) -> int: ...


class _Pool(Protocol):
    @property
    def cumulative_reward_factor(self) -> int: ...


class _BM(Protocol):
    address: bytes

    @property
    def next_round_total_active_stake(self) -> int: ...

    def get_transcoder_earnings_pool_for_round(self, addr: bytes, round: int) -> _Pool: ...


class _Account(Journaled):
    __slots__ = ("data", "start_rounds")

    def __init__(self) -> None:
        self.start_rounds: JList[int] = JList()
        self.data: JDict[int, BondingCheckpoint] = JDict()


class BondingVotes(Journaled):
    """Reference model of BondingVotes (clock = RoundsManager round)."""

    __slots__ = (
        "_accounts",
        "_total_rounds",
        "_totals",
        "address",
        "bonding_manager",
        "events",
        "rounds",
    )

    name = "Livepeer Voting Power"
    symbol = "vLPT"
    decimals = 18
    CLOCK_MODE = "mode=livepeer_round"

    def __init__(
        self,
        *,
        rounds: _Rounds,
        bonding_manager: _BM | None = None,
        address: bytes = bytes.fromhex("0b9c254837e72ebe9fe04960c43b69782e68169a"),
    ) -> None:
        self.address = address
        self.rounds = rounds
        self.bonding_manager = bonding_manager
        self._accounts: JDict[bytes, _Account] = JDict()
        self._total_rounds: JList[int] = JList()
        self._totals: JDict[int, int] = JDict()
        self.events: JList[Event] = JList()

    def clock(self) -> int:
        return self.rounds.current_round()

    def _bm(self) -> _BM:
        if self.bonding_manager is None:
            raise Revert("")
        return self.bonding_manager

    def _only_bm(self, sender: bytes) -> None:
        required = self._bm().address
        if sender != required:
            raise ContractError("InvalidCaller", sender, required)

    # ------------------------------------------------------------------ hooks
    @external
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
        self._only_bm(sender)
        if start_round != self.clock() + 1:
            raise ContractError("InvalidStartRound", start_round, self.clock() + 1)
        if last_claim_round >= start_round:
            raise ContractError("FutureLastClaimRound", last_claim_round, start_round - 1)
        previous = (
            self.get_bonding_state_at(account, start_round)
            if self.has_checkpoint(account)
            else _ZERO
        )
        current = BondingCheckpoint(
            bonded_amount, delegate_address, delegated_amount, last_claim_round, last_reward_round
        )
        acct = self._accounts.get(account)
        if acct is None:
            acct = _Account()
            self._accounts[account] = acct
        acct.data[start_round] = current
        if not acct.start_rounds or acct.start_rounds[-1] < start_round:
            acct.start_rounds.append(start_round)
        elif acct.start_rounds[-1] > start_round:
            raise ContractError("DecreasingValues", start_round, acct.start_rounds[-1])
        self._on_changed(account, previous, current)

    def _on_changed(self, account: bytes, prev: BondingCheckpoint, cur: BondingCheckpoint) -> None:
        if prev.delegate_address != cur.delegate_address:
            self.events.append(
                Event(
                    "DelegateChanged",
                    {
                        "delegator": account,
                        "fromDelegate": prev.delegate_address,
                        "toDelegate": cur.delegate_address,
                    },
                )
            )
        prev_votes = _transcoder_votes(account, prev)
        cur_votes = _transcoder_votes(account, cur)
        if prev_votes != cur_votes:
            self.events.append(
                Event(
                    "DelegateVotesChanged",
                    {"delegate": account, "previousBalance": prev_votes, "newBalance": cur_votes},
                )
            )
        if (prev.bonded_amount, prev.last_claim_round) != (cur.bonded_amount, cur.last_claim_round):
            self.events.append(
                Event(
                    "DelegatorBondedAmountChanged",
                    {
                        "delegate": account,
                        "previousBondedAmount": prev.bonded_amount,
                        "previousLastClaimRound": prev.last_claim_round,
                        "newBondedAmount": cur.bonded_amount,
                        "newLastClaimRound": cur.last_claim_round,
                    },
                )
            )

    @external
    def checkpoint_total_active_stake(self, sender: bytes, total_stake: int, round: int) -> None:
        self._only_bm(sender)
        if round != self.clock():
            raise ContractError("InvalidTotalStakeCheckpointRound", round, self.clock())
        self._totals[round] = total_stake
        if not self._total_rounds or self._total_rounds[-1] < round:
            self._total_rounds.append(round)

    # ------------------------------------------------------------------ lookups
    def has_checkpoint(self, account: bytes) -> bool:
        acct = self._accounts.get(account)
        return acct is not None and len(acct.start_rounds) > 0

    def get_bonding_state_at(self, account: bytes, round: int) -> BondingCheckpoint:
        """The latest checkpoint with ``start_round <= round`` (zeros if none)."""
        acct = self._accounts.get(account)
        if acct is None:
            return _ZERO
        i = bisect.bisect_right(acct.start_rounds, round)
        return acct.data[acct.start_rounds[i - 1]] if i else _ZERO

    def _check_lookup(self, round: int) -> None:
        limit = self.clock() + 1
        if round > limit:
            raise ContractError("FutureLookup", round, limit)

    def get_votes_and_delegate_at_round_start(
        self, account: bytes, round: int
    ) -> tuple[int, bytes]:
        """Voting power (LPT wei) and delegate at the start of ``round``."""
        self._check_lookup(round)
        bond = self.get_bonding_state_at(account, round)
        if bond.bonded_amount == 0:
            return 0, bond.delegate_address
        if bond.delegate_address == account:
            return bond.delegated_amount, account
        return self._delegator_cumulative_stake_at(bond, round), bond.delegate_address

    def _delegator_cumulative_stake_at(self, bond: BondingCheckpoint, round: int) -> int:
        bm = self._bm()
        delegate = bond.delegate_address
        start_pool = bm.get_transcoder_earnings_pool_for_round(delegate, bond.last_claim_round)
        delegate_bond = self.get_bonding_state_at(delegate, round)
        reward_round = delegate_bond.last_reward_round
        end_pool = bm.get_transcoder_earnings_pool_for_round(delegate, reward_round)
        if reward_round > 0 and end_pool.cumulative_reward_factor == 0:
            raise ContractError("MissingEarningsPool", delegate, reward_round)
        if not (delegate_bond.delegate_address == delegate and delegate_bond.bonded_amount > 0):
            return 0
        if reward_round < bond.last_claim_round:
            return bond.bonded_amount
        s = start_pool.cumulative_reward_factor or PRECISE_PERC_DIVISOR
        e = end_pool.cumulative_reward_factor or PRECISE_PERC_DIVISOR
        return perc_of3(bond.bonded_amount, e, s, PRECISE_PERC_DIVISOR)

    def get_total_active_stake_at(self, round: int) -> int:
        self._check_lookup(round)
        exact = self._totals.get(round, 0)
        if exact:
            return exact
        rounds = self._total_rounds
        if not rounds or round < rounds[0]:
            return 0
        i = bisect.bisect_left(rounds, round)
        if i == len(rounds):
            return self._bm().next_round_total_active_stake
        return self._totals[rounds[i]]

    # ------------------------------------------------------------------ IVotes
    def get_votes(self, account: bytes) -> int:
        return self.get_votes_and_delegate_at_round_start(account, self.clock() + 1)[0]

    def get_past_votes(self, account: bytes, round: int) -> int:
        if not round < self.clock():
            raise ContractError("FutureLookup", round, self.clock() - 1)
        return self.get_votes_and_delegate_at_round_start(account, round + 1)[0]

    def delegates(self, account: bytes) -> bytes:
        return self.get_votes_and_delegate_at_round_start(account, self.clock() + 1)[1]

    def delegated_at(self, account: bytes, round: int) -> bytes:
        if not round < self.clock():
            raise ContractError("FutureLookup", round, self.clock() - 1)
        return self.get_votes_and_delegate_at_round_start(account, round + 1)[1]

    def total_supply(self) -> int:
        return self.get_total_active_stake_at(self.clock() + 1)

    def get_past_total_supply(self, round: int) -> int:
        if not round < self.clock():
            raise ContractError("FutureLookup", round, self.clock() - 1)
        return self.get_total_active_stake_at(round + 1)

    def delegate(self, sender: bytes, delegatee: bytes) -> None:
        raise ContractError("MustCallBondingManager", "bond")

    def delegate_by_sig(self, sender: bytes, *args: object) -> None:
        raise ContractError("MustCallBondingManager", "bondFor")


def _transcoder_votes(account: bytes, bond: BondingCheckpoint) -> int:
    registered = bond.delegate_address == account and bond.bonded_amount > 0
    return bond.delegated_amount if registered else 0
