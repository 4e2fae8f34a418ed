"""BondingManager: delegated proof-of-stake, the transcoder pool, rewards and fee sharing.

Reference model of contracts/bonding/BondingManager.sol (livepeer/protocol ``delta`` @ f225b10,
BondingManagerTarget v9 on Arbitrum One), spec/protocol-economics.md §2. Every external function of
the contract is a method named in snake_case taking the transaction sender first and then the
Solidity arguments in order; views take no sender. Checks run in the contract's order with its
revert strings; a revert raises :class:`pm.evm.Revert` and changes nothing (also in the Minter,
token and BondingVotes it called). Amounts are LPT wei (stake) and ETH wei (fees); rounds are
RoundsManager rounds; ``reward_cut`` / ``fee_share`` are MathUtils fractions (1e6 = 100 %),
``treasury_reward_cut_rate`` and the cumulative factors are PreciseMathUtils fractions (1e27).

Quirks copied on purpose (spec §2.9, §8): a claim in round N before the transcoder's reward() or
fees of round N forfeits that round's share; the retroactive-CRF branch of the fee path estimates
the round's reward from ``currentMintableTokens + currentMintedTokens``; ``pending_stake`` and
``pending_fees`` ignore their ``end_round`` argument; stake may be delegated to any address.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple, Protocol, overload

from pm.evm import ZERO_ADDRESS, Event, Revert, check_address, check_uint

from ._journal import JDict, JList, Journaled, external
from ._math import (
    MATH_PERC_DIVISOR,
    PRECISE_PERC_DIVISOR,
    UINT256_MAX,
    add,
    perc_of,
    perc_of3,
    sub,
)
from .sorted_list import SortedDoublyLL

__all__ = [
    "MAX_FUTURE_ROUND",
    "BondingManager",
    "BondingVotesLike",
    "Delegator",
    "DelegatorStatus",
    "EarningsPool",
    "MinterLike",
    "RoundsLike",
    "TokenLike",
    "Transcoder",
    "TranscoderStatus",
    "UnbondingLock",
]

MAX_FUTURE_ROUND = UINT256_MAX
_NULL = ZERO_ADDRESS
_ONE = PRECISE_PERC_DIVISOR  # PreciseMathUtils.percPoints(1, 1): the default cumulative factor


# --------------------------------------------------------------------------------------------
# What the BondingManager reads from its peers (issue 12 "small protocols")
# --------------------------------------------------------------------------------------------
class RoundsLike(Protocol):
    address: bytes

    def current_round(self) -> int: ...
    def current_round_initialized(self) -> bool: ...
    def current_round_locked(self) -> bool: ...


class MinterLike(Protocol):
    address: bytes

    def create_reward(self, frac_num: int, frac_denom: int, /) -> int: ...
    def current_mintable_tokens(self) -> int: ...
    def current_minted_tokens(self) -> int: ...
    def trusted_transfer_tokens(self, to: bytes, amount: int, /) -> None: ...
    def trusted_burn_tokens(self, amount: int, /) -> None: ...
    def trusted_withdraw_eth(self, to: bytes, amount: int, /) -> None: ...
    def deposit_eth(self, value: int, /) -> Any: ...


class TokenLike(Protocol):
    def transfer_from(self, spender: bytes, owner: bytes, to: bytes, amount: int) -> Any: ...
    def balance_of(self, addr: bytes) -> int: ...


class BondingVotesLike(Protocol):
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
    ) -> None: ...

    def checkpoint_total_active_stake(
        self, sender: bytes, total_stake: int, round: int
    ) -> None: ...


# --------------------------------------------------------------------------------------------
# Views (frozen) and state records (journaled)
# --------------------------------------------------------------------------------------------
class DelegatorStatus(IntEnum):
    PENDING = 0
    BONDED = 1
    UNBONDED = 2


class TranscoderStatus(IntEnum):
    NOT_REGISTERED = 0
    REGISTERED = 1


class Transcoder(NamedTuple):
    """``getTranscoder(t)``: the 10 scalar Transcoder fields in declaration order."""

    last_reward_round: int
    reward_cut: int
    fee_share: int
    last_active_stake_update_round: int
    activation_round: int
    deactivation_round: int
    active_cumulative_rewards: int
    cumulative_rewards: int
    cumulative_fees: int
    last_fee_round: int


class Delegator(NamedTuple):
    """``getDelegator(d)``: the 7 scalar Delegator fields (LPT wei, ETH wei, rounds)."""

    bonded_amount: int
    fees: int
    delegate_address: bytes
    delegated_amount: int
    start_round: int
    last_claim_round: int
    next_unbonding_lock_id: int


class UnbondingLock(NamedTuple):
    """``getDelegatorUnbondingLock(d, id)``: LPT wei and the first round it can be withdrawn."""

    amount: int
    withdraw_round: int


class EarningsPool(NamedTuple):
    """``getTranscoderEarningsPoolForRound(t, round)`` (factors at 1e27, cut/share at 1e6)."""

    total_stake: int
    transcoder_reward_cut: int
    transcoder_fee_share: int
    cumulative_reward_factor: int
    cumulative_fee_factor: int


class _Pool(Journaled):
    __slots__ = (
        "cumulative_fee_factor",
        "cumulative_reward_factor",
        "total_stake",
        "transcoder_fee_share",
        "transcoder_reward_cut",
    )

    def __init__(self) -> None:
        self.total_stake = 0
        self.transcoder_reward_cut = 0
        self.transcoder_fee_share = 0
        self.cumulative_reward_factor = 0
        self.cumulative_fee_factor = 0


_EMPTY_POOL = _Pool()


class _Transcoder(Journaled):
    __slots__ = (
        "activation_round",
        "active_cumulative_rewards",
        "cumulative_fees",
        "cumulative_rewards",
        "deactivation_round",
        "earnings_pool_per_round",
        "fee_share",
        "last_active_stake_update_round",
        "last_fee_round",
        "last_reward_round",
        "reward_cut",
    )

    def __init__(self) -> None:
        self.last_reward_round = 0
        self.reward_cut = 0
        self.fee_share = 0
        self.earnings_pool_per_round: JDict[int, _Pool] = JDict()
        self.last_active_stake_update_round = 0
        self.activation_round = 0
        self.deactivation_round = 0
        self.active_cumulative_rewards = 0
        self.cumulative_rewards = 0
        self.cumulative_fees = 0
        self.last_fee_round = 0

    def pool(self, round: int) -> _Pool:
        """Read a round's pool (zeros if never written)."""
        return self.earnings_pool_per_round.get(round, _EMPTY_POOL)

    def wpool(self, round: int) -> _Pool:
        """The round's pool for writing (created on first write, like a storage slot)."""
        p = self.earnings_pool_per_round.get(round)
        if p is None:
            p = _Pool()
            self.earnings_pool_per_round[round] = p
        return p


class _Delegator(Journaled):
    __slots__ = (
        "bonded_amount",
        "delegate_address",
        "delegated_amount",
        "fees",
        "last_claim_round",
        "next_unbonding_lock_id",
        "start_round",
        "unbonding_locks",
    )

    def __init__(self) -> None:
        self.bonded_amount = 0
        self.fees = 0
        self.delegate_address = _NULL
        self.delegated_amount = 0
        self.start_round = 0
        self.last_claim_round = 0
        self.next_unbonding_lock_id = 0
        self.unbonding_locks: JDict[int, UnbondingLock] = JDict()


_EMPTY_TRANSCODER = _Transcoder()
_EMPTY_DELEGATOR = _Delegator()


class _Factors:
    """An in-memory EarningsPool copy (``latestCumulativeFactorsPool`` returns a memory struct)."""

    __slots__ = ("cumulative_fee_factor", "cumulative_reward_factor")

    def __init__(self, crf: int, cff: int) -> None:
        self.cumulative_reward_factor = crf
        self.cumulative_fee_factor = cff


# --------------------------------------------------------------------------------------------
class BondingManager(Journaled):
    """Reference model of the Livepeer BondingManager (spec/protocol-economics.md §2).

    ``rounds``, ``minter`` and ``token`` are read through :class:`RoundsLike`,
    :class:`MinterLike` and :class:`TokenLike`; ``owner`` is the Controller owner (parameter
    setters), ``ticket_broker`` the only caller of :meth:`update_transcoder_with_fees`,
    ``l2_migrator`` the privileged ``bond_for_with_hint`` caller and ``treasury`` the receiver of
    the treasury reward cut. ``bonding_votes`` (optional) receives vote checkpoints, ``verifier``
    (None = the null Verifier of Arbitrum One) is the only caller of :meth:`slash_transcoder`,
    and ``paused`` is the Controller's pause flag.
    """

    __slots__ = (
        "address",
        "bonding_votes",
        "current_round_total_active_stake_",
        "delegators",
        "events",
        "l2_migrator",
        "minter",
        "next_round_total_active_stake_",
        "next_round_treasury_reward_cut_rate_",
        "owner",
        "paused",
        "rounds",
        "ticket_broker",
        "token",
        "transcoder_pool",
        "transcoders",
        "treasury",
        "treasury_balance_ceiling_",
        "treasury_reward_cut_rate_",
        "unbonding_period_",
        "verifier",
    )

    def __init__(
        self,
        *,
        rounds: RoundsLike,
        minter: MinterLike,
        token: TokenLike,
        owner: bytes,
        ticket_broker: bytes,
        l2_migrator: bytes = _NULL,
        treasury: bytes = _NULL,
        num_active_transcoders: int,
        unbonding_period: int,
        bonding_votes: BondingVotesLike | None = None,
        verifier: bytes | None = None,
        address: bytes = bytes.fromhex("b0" * 20),
    ) -> None:
        self.address = check_address("address", address)
        self.rounds = rounds
        self.minter = minter
        self.token = token
        self.owner = check_address("owner", owner)
        self.ticket_broker = check_address("ticket_broker", ticket_broker)
        self.l2_migrator = check_address("l2_migrator", l2_migrator)
        self.treasury = check_address("treasury", treasury)
        self.bonding_votes = bonding_votes
        self.verifier = None if verifier is None else check_address("verifier", verifier)
        self.paused = False
        self.unbonding_period_ = check_uint("unbonding_period", unbonding_period, 64)
        self.delegators: JDict[bytes, _Delegator] = JDict()
        self.transcoders: JDict[bytes, _Transcoder] = JDict()
        self.current_round_total_active_stake_ = 0
        self.next_round_total_active_stake_ = 0
        self.transcoder_pool = SortedDoublyLL()
        self.transcoder_pool.set_max_size(
            check_uint("num_active_transcoders", num_active_transcoders)
        )
        self.treasury_reward_cut_rate_ = 0
        self.next_round_treasury_reward_cut_rate_ = 0
        self.treasury_balance_ceiling_ = 0
        self.events: JList[Event] = JList()

    # ------------------------------------------------------------------ storage helpers
    def _del(self, addr: bytes) -> _Delegator:
        return self.delegators.get(addr, _EMPTY_DELEGATOR)

    def _wdel(self, addr: bytes) -> _Delegator:
        d = self.delegators.get(addr)
        if d is None:
            d = _Delegator()
            self.delegators[addr] = d
        return d

    def _tr(self, addr: bytes) -> _Transcoder:
        return self.transcoders.get(addr, _EMPTY_TRANSCODER)

    def _wtr(self, addr: bytes) -> _Transcoder:
        t = self.transcoders.get(addr)
        if t is None:
            t = _Transcoder()
            self.transcoders[addr] = t
        return t

    def _emit(self, name: str, **args: object) -> None:
        self.events.append(Event(name, dict(args)))

    # ------------------------------------------------------------------ modifiers
    def _when_not_paused(self) -> None:
        if self.paused:
            raise Revert("system is paused")

    def _round_initialized(self) -> None:
        if not self.rounds.current_round_initialized():
            raise Revert("current round is not initialized")

    def _only_owner(self, sender: bytes) -> None:
        if sender != self.owner:
            raise Revert("caller must be Controller owner")

    def _checkpoint(self, account: bytes) -> None:
        """``_checkpointBondingState``: push the account's state to BondingVotes (if wired)."""
        bv = self.bonding_votes
        if bv is None:
            return
        d = self._del(account)
        bv.checkpoint_bonding_state(
            self.address,
            account,
            self.rounds.current_round() + 1,
            d.bonded_amount,
            d.delegate_address,
            d.delegated_amount,
            d.last_claim_round,
            self._tr(account).last_reward_round,
        )

    # ------------------------------------------------------------------ parameters
    @property
    def unbonding_period(self) -> int:
        """Rounds between ``unbond`` and ``withdraw_stake``."""
        return self.unbonding_period_

    @property
    def current_round_total_active_stake(self) -> int:
        return self.current_round_total_active_stake_

    @property
    def next_round_total_active_stake(self) -> int:
        return self.next_round_total_active_stake_

    @property
    def treasury_reward_cut_rate(self) -> int:
        return self.treasury_reward_cut_rate_

    @property
    def next_round_treasury_reward_cut_rate(self) -> int:
        return self.next_round_treasury_reward_cut_rate_

    @property
    def treasury_balance_ceiling(self) -> int:
        return self.treasury_balance_ceiling_

    @external
    def set_unbonding_period(self, sender: bytes, unbonding_period: int) -> None:
        self._only_owner(sender)
        self.unbonding_period_ = check_uint("unbonding_period", unbonding_period, 64)
        self._emit("ParameterUpdate", param="unbondingPeriod")

    @external
    def set_num_active_transcoders(self, sender: bytes, num_active_transcoders: int) -> None:
        self._only_owner(sender)
        self.transcoder_pool.set_max_size(
            check_uint("num_active_transcoders", num_active_transcoders)
        )
        self._emit("ParameterUpdate", param="numActiveTranscoders")

    @external
    def set_treasury_reward_cut_rate(self, sender: bytes, cut_rate: int) -> None:
        """Set NEXT round's treasury cut (1e27 precision), applied at the next initializeRound."""
        self._only_owner(sender)
        check_uint("cut_rate", cut_rate)
        self._set_treasury_reward_cut_rate(cut_rate)

    def _set_treasury_reward_cut_rate(self, cut_rate: int) -> None:
        if not cut_rate <= PRECISE_PERC_DIVISOR:
            raise Revert("_cutRate is invalid precise percentage")
        self.next_round_treasury_reward_cut_rate_ = cut_rate
        self._emit("ParameterUpdate", param="nextRoundTreasuryRewardCutRate")

    @external
    def set_treasury_balance_ceiling(self, sender: bytes, ceiling: int) -> None:
        """Treasury LPT balance (wei) at which contributions stop; 0 disables the check."""
        self._only_owner(sender)
        self.treasury_balance_ceiling_ = check_uint("ceiling", ceiling)
        self._emit("ParameterUpdate", param="treasuryBalanceCeiling")

    # ------------------------------------------------------------------ views
    def get_delegator(self, addr: bytes) -> Delegator:
        d = self._del(addr)
        return Delegator(
            d.bonded_amount,
            d.fees,
            d.delegate_address,
            d.delegated_amount,
            d.start_round,
            d.last_claim_round,
            d.next_unbonding_lock_id,
        )

    def get_delegator_unbonding_lock(self, addr: bytes, unbonding_lock_id: int) -> UnbondingLock:
        return self._del(addr).unbonding_locks.get(unbonding_lock_id, UnbondingLock(0, 0))

    def get_transcoder(self, addr: bytes) -> Transcoder:
        t = self._tr(addr)
        return Transcoder(
            t.last_reward_round,
            t.reward_cut,
            t.fee_share,
            t.last_active_stake_update_round,
            t.activation_round,
            t.deactivation_round,
            t.active_cumulative_rewards,
            t.cumulative_rewards,
            t.cumulative_fees,
            t.last_fee_round,
        )

    def get_transcoder_earnings_pool_for_round(self, addr: bytes, round: int) -> EarningsPool:
        p = self._tr(addr).pool(round)
        return EarningsPool(
            p.total_stake,
            p.transcoder_reward_cut,
            p.transcoder_fee_share,
            p.cumulative_reward_factor,
            p.cumulative_fee_factor,
        )

    def get_transcoder_pool_max_size(self) -> int:
        return self.transcoder_pool.max_size

    def get_transcoder_pool_size(self) -> int:
        """Pool size = NEXT round's active set (the TicketBroker's reserve divisor)."""
        return self.transcoder_pool.size

    def transcoder_pool_size(self) -> int:
        """``getTranscoderPoolSize()`` under the name the TicketBroker's ``BondingView`` uses."""
        return self.transcoder_pool.size

    def get_first_transcoder_in_pool(self) -> bytes:
        return self.transcoder_pool.get_first()

    def get_next_transcoder_in_pool(self, transcoder: bytes) -> bytes:
        return self.transcoder_pool.get_next(transcoder)

    def transcoder_pool_members(self) -> list[tuple[bytes, int]]:
        """Convenience view: ``(address, stake)`` from the largest stake down."""
        return self.transcoder_pool.items()

    def get_total_bonded(self) -> int:
        """``currentRoundTotalActiveStake``: only the active set's stake (the Minter's "bonded")."""
        return self.current_round_total_active_stake_

    def transcoder_total_stake(self, transcoder: bytes) -> int:
        return self._del(transcoder).delegated_amount

    def is_registered_transcoder(self, transcoder: bytes) -> bool:
        d = self._del(transcoder)
        return d.delegate_address == transcoder and d.bonded_amount > 0

    def transcoder_status(self, transcoder: bytes) -> TranscoderStatus:
        if self.is_registered_transcoder(transcoder):
            return TranscoderStatus.REGISTERED
        return TranscoderStatus.NOT_REGISTERED

    def is_active_transcoder(self, transcoder: bytes) -> bool:
        """Active in the CURRENT round: ``activationRound <= round < deactivationRound``."""
        t = self._tr(transcoder)
        r = self.rounds.current_round()
        return t.activation_round <= r < t.deactivation_round

    def is_valid_unbonding_lock(self, delegator: bytes, unbonding_lock_id: int) -> bool:
        lock = self._del(delegator).unbonding_locks.get(unbonding_lock_id)
        return lock is not None and lock.withdraw_round > 0

    def delegator_status(self, delegator: bytes) -> DelegatorStatus:
        d = self._del(delegator)
        if d.bonded_amount == 0:
            return DelegatorStatus.UNBONDED
        if d.start_round > self.rounds.current_round():
            return DelegatorStatus.PENDING
        return DelegatorStatus.BONDED

    def pending_stake(self, delegator: bytes, end_round: int = 0) -> int:
        """Bonded LPT wei after claiming through the current round (``end_round`` is ignored)."""
        return self._pending_stake_and_fees(delegator, self.rounds.current_round())[0]

    def pending_fees(self, delegator: bytes, end_round: int = 0) -> int:
        """Withdrawable ETH wei after claiming through the current round (``end_round`` ignored)."""
        return self._pending_stake_and_fees(delegator, self.rounds.current_round())[1]

    # ------------------------------------------------------------------ LIP-36 factors (§2.8)
    def _latest_cumulative_factors_pool(self, t: _Transcoder, round: int) -> _Factors:
        p = t.pool(round)
        crf = p.cumulative_reward_factor
        if crf == 0 and t.last_reward_round < round:
            crf = t.pool(t.last_reward_round).cumulative_reward_factor
        cff = p.cumulative_fee_factor
        if cff == 0 and t.last_fee_round < round:
            cff = t.pool(t.last_fee_round).cumulative_fee_factor
        return _Factors(crf, cff)

    def _ensure_initialized_cumulative_factors_pool(self, transcoder: bytes, round: int) -> None:
        t = self._tr(transcoder)
        p = t.pool(round)
        if p.cumulative_reward_factor == 0 and t.last_reward_round < round:
            crf = t.pool(t.last_reward_round).cumulative_reward_factor
            if crf != p.cumulative_reward_factor:
                self._wtr(transcoder).wpool(round).cumulative_reward_factor = crf
        p = t.pool(round)
        if p.cumulative_fee_factor == 0 and t.last_fee_round < round:
            cff = t.pool(t.last_fee_round).cumulative_fee_factor
            if cff != p.cumulative_fee_factor:
                self._wtr(transcoder).wpool(round).cumulative_fee_factor = cff

    def _pending_stake_and_fees(self, delegator: bytes, end_round: int) -> tuple[int, int]:
        d = self._del(delegator)
        t = self._tr(d.delegate_address)
        stake = d.bonded_amount
        fees = d.fees
        if d.last_claim_round + 1 <= end_round:
            start = t.pool(d.last_claim_round)
            end = self._latest_cumulative_factors_pool(t, end_round)
            s_crf = start.cumulative_reward_factor or _ONE
            e_crf = end.cumulative_reward_factor or _ONE
            new_stake = perc_of3(stake, e_crf, s_crf, PRECISE_PERC_DIVISOR)
            fees = add(
                fees,
                perc_of3(
                    stake,
                    sub(end.cumulative_fee_factor, start.cumulative_fee_factor),
                    s_crf,
                    PRECISE_PERC_DIVISOR,
                ),
            )
            stake = new_stake
        if delegator == d.delegate_address:
            stake = add(stake, t.cumulative_rewards)
            fees = add(fees, t.cumulative_fees)
        return stake, fees

    def _auto_claim_earnings(self, delegator: bytes) -> None:
        cur = self.rounds.current_round()
        last = self._del(delegator).last_claim_round
        if last < cur:
            self._update_delegator_with_earnings(delegator, cur, last)

    def _update_delegator_with_earnings(
        self, delegator: bytes, end_round: int, last_claim_round: int
    ) -> None:
        d = self._wdel(delegator)
        start_bonded = d.bonded_amount
        start_fees = d.fees
        if d.delegate_address != _NULL:
            bonded, fees = self._pending_stake_and_fees(delegator, end_round)
            self._ensure_initialized_cumulative_factors_pool(d.delegate_address, end_round)
            if d.delegate_address == delegator:
                t = self._wtr(delegator)
                t.cumulative_fees = 0
                t.cumulative_rewards = 0
            d.bonded_amount = bonded
            d.fees = fees
        self._emit(
            "EarningsClaimed",
            delegate=d.delegate_address,
            delegator=delegator,
            rewards=d.bonded_amount - start_bonded,
            fees=d.fees - start_fees,
            startRound=last_claim_round + 1,
            endRound=end_round,
        )
        d.last_claim_round = end_round

    def _authorize_claim_earnings(self, sender: bytes, owner: bytes) -> None:
        """March-2024 griefing fix: a third party may not trigger ``owner``'s claim too early."""
        if sender == owner or sender == self.l2_migrator:
            return
        d = self._del(owner)
        if self.delegator_status(owner) == DelegatorStatus.UNBONDED:
            return
        if not self.is_active_transcoder(d.delegate_address):
            return
        cur = self.rounds.current_round()
        if not (self._tr(d.delegate_address).last_reward_round == cur or d.last_claim_round == cur):
            raise Revert("ILLEGAL_CLAIM_EARNINGS")

    # ------------------------------------------------------------------ pool maintenance (§2.4)
    def _increase_total_stake(self, delegate: bytes, amount: int, prev: bytes, nxt: bytes) -> None:
        if self.is_registered_transcoder(delegate):
            curr_stake = self.transcoder_total_stake(delegate)
            new_stake = add(curr_stake, amount)
            cur = self.rounds.current_round()
            nxt_round = cur + 1
            if self.transcoder_pool.contains(delegate):
                self.transcoder_pool.update_key(delegate, new_stake, prev, nxt)
                self.next_round_total_active_stake_ = add(
                    self.next_round_total_active_stake_, amount
                )
                t = self._wtr(delegate)
                if t.last_active_stake_update_round < cur:
                    t.wpool(cur).total_stake = curr_stake
                t.wpool(nxt_round).total_stake = new_stake
                t.last_active_stake_update_round = nxt_round
            else:
                self._try_to_join_active_set(delegate, new_stake, nxt_round, prev, nxt)
        d = self._wdel(delegate)
        d.delegated_amount = add(d.delegated_amount, amount)

    def _decrease_total_stake(self, delegate: bytes, amount: int, prev: bytes, nxt: bytes) -> None:
        if self.transcoder_pool.contains(delegate):
            curr_stake = self.transcoder_total_stake(delegate)
            new_stake = sub(curr_stake, amount)
            cur = self.rounds.current_round()
            self.transcoder_pool.update_key(delegate, new_stake, prev, nxt)
            self.next_round_total_active_stake_ = sub(self.next_round_total_active_stake_, amount)
            t = self._wtr(delegate)
            if t.last_active_stake_update_round < cur:
                t.wpool(cur).total_stake = curr_stake
            t.wpool(cur + 1).total_stake = new_stake
            t.last_active_stake_update_round = cur + 1
        d = self._wdel(delegate)
        d.delegated_amount = sub(d.delegated_amount, amount)

    def _try_to_join_active_set(
        self, transcoder: bytes, total_stake: int, activation_round: int, prev: bytes, nxt: bytes
    ) -> None:
        pending = self.next_round_total_active_stake_
        pool = self.transcoder_pool
        if pool.is_full():
            last = pool.get_last()
            last_stake = self.transcoder_total_stake(last)
            if total_stake <= last_stake:
                return  # ties are not admitted
            pool.remove(last)
            self._wtr(last).deactivation_round = activation_round
            pending = sub(pending, last_stake)
            self._emit("TranscoderDeactivated", transcoder=last, deactivationRound=activation_round)
        pool.insert(transcoder, total_stake, prev, nxt)
        pending = add(pending, total_stake)
        t = self._wtr(transcoder)
        t.last_active_stake_update_round = activation_round
        t.activation_round = activation_round
        t.deactivation_round = MAX_FUTURE_ROUND
        t.wpool(activation_round).total_stake = total_stake
        self.next_round_total_active_stake_ = pending
        self._emit("TranscoderActivated", transcoder=transcoder, activationRound=activation_round)

    def _resign_transcoder(self, transcoder: bytes) -> None:
        self.transcoder_pool.remove(transcoder)
        self.next_round_total_active_stake_ = sub(
            self.next_round_total_active_stake_, self.transcoder_total_stake(transcoder)
        )
        nxt_round = self.rounds.current_round() + 1
        self._wtr(transcoder).deactivation_round = nxt_round
        self._emit("TranscoderDeactivated", transcoder=transcoder, deactivationRound=nxt_round)

    # ------------------------------------------------------------------ transcoder()
    def transcoder(self, sender: bytes, reward_cut: int, fee_share: int) -> None:
        """Set commission rates (1e6 precision) and join the pool if not in it."""
        self.transcoder_with_hint(sender, reward_cut, fee_share, _NULL, _NULL)

    @external
    def transcoder_with_hint(
        self,
        sender: bytes,
        reward_cut: int,
        fee_share: int,
        new_pos_prev: bytes,
        new_pos_next: bytes,
    ) -> None:
        check_uint("reward_cut", reward_cut)
        check_uint("fee_share", fee_share)
        self._when_not_paused()
        self._round_initialized()
        if self.rounds.current_round_locked():
            raise Revert("can't update transcoder params, current round is locked")
        if not reward_cut <= MATH_PERC_DIVISOR:
            raise Revert("invalid rewardCut percentage")
        if not fee_share <= MATH_PERC_DIVISOR:
            raise Revert("invalid feeShare percentage")
        if not self.is_registered_transcoder(sender):
            raise Revert("transcoder must be registered")
        cur = self.rounds.current_round()
        if self.is_active_transcoder(sender) and self._tr(sender).last_reward_round != cur:
            raise Revert(
                "caller can't be active or must have already called reward for the current round"
            )
        t = self._wtr(sender)
        t.reward_cut = reward_cut
        t.fee_share = fee_share
        if not self.transcoder_pool.contains(sender):
            self._try_to_join_active_set(
                sender, self.transcoder_total_stake(sender), cur + 1, new_pos_prev, new_pos_next
            )
        self._emit("TranscoderUpdate", transcoder=sender, rewardCut=reward_cut, feeShare=fee_share)

    # ------------------------------------------------------------------ bonding
    def bond(self, sender: bytes, amount: int, to: bytes) -> None:
        """Bond ``amount`` LPT wei of the sender (paid by the sender) to ``to``."""
        self.bond_for_with_hint(sender, amount, sender, to, _NULL, _NULL, _NULL, _NULL)

    def bond_with_hint(
        self,
        sender: bytes,
        amount: int,
        to: bytes,
        old_delegate_new_pos_prev: bytes,
        old_delegate_new_pos_next: bytes,
        curr_delegate_new_pos_prev: bytes,
        curr_delegate_new_pos_next: bytes,
    ) -> None:
        self.bond_for_with_hint(
            sender,
            amount,
            sender,
            to,
            old_delegate_new_pos_prev,
            old_delegate_new_pos_next,
            curr_delegate_new_pos_prev,
            curr_delegate_new_pos_next,
        )

    @external
    def bond_for_with_hint(
        self,
        sender: bytes,
        amount: int,
        owner: bytes,
        to: bytes,
        old_delegate_new_pos_prev: bytes,
        old_delegate_new_pos_next: bytes,
        curr_delegate_new_pos_prev: bytes,
        curr_delegate_new_pos_next: bytes,
    ) -> None:
        """Bond for ``owner`` (spec §2.5); the LPT is paid by ``sender``, held by the Minter."""
        check_uint("amount", amount)
        check_address("owner", owner)
        check_address("to", to)
        self._when_not_paused()
        self._round_initialized()
        self._authorize_claim_earnings(sender, owner)
        self._auto_claim_earnings(owner)
        cur = self.rounds.current_round()
        d = self._wdel(owner)
        current_delegate = d.delegate_address
        status = self.delegator_status(owner)
        if sender != owner and sender != self.l2_migrator:
            if owner == _NULL:
                raise Revert("INVALID_DELEGATOR")
            if status == DelegatorStatus.UNBONDED:
                if to == owner:
                    raise Revert("INVALID_DELEGATE")
            elif current_delegate != to:
                raise Revert("INVALID_DELEGATE_CHANGE")
        start_round = d.start_round
        delegation_amount = amount
        if status == DelegatorStatus.UNBONDED:
            start_round = cur + 1
        elif d.bonded_amount > 0 and current_delegate != to:
            if self.is_registered_transcoder(owner):
                raise Revert("registered transcoders can't delegate towards other addresses")
            start_round = cur + 1
            delegation_amount = add(delegation_amount, d.bonded_amount)
            self._decrease_total_stake(
                current_delegate,
                d.bonded_amount,
                old_delegate_new_pos_prev,
                old_delegate_new_pos_next,
            )
            self._checkpoint(current_delegate)
        self._ensure_initialized_cumulative_factors_pool(to, cur)
        if delegation_amount == 0:
            raise Revert("delegation amount must be greater than 0")
        d.delegate_address = to
        d.bonded_amount = add(d.bonded_amount, amount)
        d.start_round = start_round
        self._increase_total_stake(
            to, delegation_amount, curr_delegate_new_pos_prev, curr_delegate_new_pos_next
        )
        if to != owner:
            self._checkpoint(to)
        if amount > 0:
            self.token.transfer_from(self.address, sender, self.minter.address, amount)
        self._emit(
            "Bond",
            newDelegate=to,
            oldDelegate=current_delegate,
            delegator=owner,
            additionalAmount=amount,
            bondedAmount=d.bonded_amount,
        )
        self._checkpoint(owner)

    def unbond(self, sender: bytes, amount: int) -> None:
        self.unbond_with_hint(sender, amount, _NULL, _NULL)

    @external
    def unbond_with_hint(
        self, sender: bytes, amount: int, new_pos_prev: bytes, new_pos_next: bytes
    ) -> None:
        """Move ``amount`` LPT wei into a new unbonding lock (withdrawable after the period)."""
        check_uint("amount", amount)
        self._when_not_paused()
        self._round_initialized()
        self._auto_claim_earnings(sender)
        if self.delegator_status(sender) != DelegatorStatus.BONDED:
            raise Revert("caller must be bonded")
        d = self._wdel(sender)
        if amount == 0:
            raise Revert("unbond amount must be greater than 0")
        if amount > d.bonded_amount:
            raise Revert("amount is greater than bonded amount")
        current_delegate = d.delegate_address
        withdraw_round = add(self.rounds.current_round(), self.unbonding_period_)
        lock_id = d.next_unbonding_lock_id
        d.unbonding_locks[lock_id] = UnbondingLock(amount, withdraw_round)
        d.next_unbonding_lock_id = lock_id + 1
        d.bonded_amount = d.bonded_amount - amount
        if d.bonded_amount == 0:
            d.delegate_address = _NULL
            d.start_round = 0
            if self.transcoder_pool.contains(sender):
                self._resign_transcoder(sender)
        self._decrease_total_stake(current_delegate, amount, new_pos_prev, new_pos_next)
        if current_delegate != sender:
            self._checkpoint(current_delegate)
        self._emit(
            "Unbond",
            delegate=current_delegate,
            delegator=sender,
            unbondingLockId=lock_id,
            amount=amount,
            withdrawRound=withdraw_round,
        )
        self._checkpoint(sender)

    def rebond(self, sender: bytes, unbonding_lock_id: int) -> None:
        self.rebond_with_hint(sender, unbonding_lock_id, _NULL, _NULL)

    @external
    def rebond_with_hint(
        self, sender: bytes, unbonding_lock_id: int, new_pos_prev: bytes, new_pos_next: bytes
    ) -> None:
        """Put an unbonding lock back to the sender's current delegate (startRound unchanged)."""
        check_uint("unbonding_lock_id", unbonding_lock_id)
        self._when_not_paused()
        self._round_initialized()
        self._auto_claim_earnings(sender)
        if self.delegator_status(sender) == DelegatorStatus.UNBONDED:
            raise Revert("caller must be bonded")
        self._process_rebond(sender, unbonding_lock_id, new_pos_prev, new_pos_next)

    def rebond_from_unbonded(self, sender: bytes, to: bytes, unbonding_lock_id: int) -> None:
        self.rebond_from_unbonded_with_hint(sender, to, unbonding_lock_id, _NULL, _NULL)

    @external
    def rebond_from_unbonded_with_hint(
        self,
        sender: bytes,
        to: bytes,
        unbonding_lock_id: int,
        new_pos_prev: bytes,
        new_pos_next: bytes,
    ) -> None:
        """An Unbonded sender bonds an unbonding lock to ``to`` (earning from next round)."""
        check_address("to", to)
        check_uint("unbonding_lock_id", unbonding_lock_id)
        self._when_not_paused()
        self._round_initialized()
        self._auto_claim_earnings(sender)
        if self.delegator_status(sender) != DelegatorStatus.UNBONDED:
            raise Revert("caller must be unbonded")
        cur = self.rounds.current_round()
        self._ensure_initialized_cumulative_factors_pool(to, cur)
        d = self._wdel(sender)
        d.start_round = cur + 1
        d.delegate_address = to
        self._process_rebond(sender, unbonding_lock_id, new_pos_prev, new_pos_next)

    def _process_rebond(self, delegator: bytes, lock_id: int, prev: bytes, nxt: bytes) -> None:
        if not self.is_valid_unbonding_lock(delegator, lock_id):
            raise Revert("invalid unbonding lock ID")
        d = self._wdel(delegator)
        amount = d.unbonding_locks[lock_id].amount
        d.bonded_amount = add(d.bonded_amount, amount)
        del d.unbonding_locks[lock_id]
        delegate = d.delegate_address
        self._increase_total_stake(delegate, amount, prev, nxt)
        if delegate != delegator:
            self._checkpoint(delegate)
        self._emit(
            "Rebond", delegate=delegate, delegator=delegator, unbondingLockId=lock_id, amount=amount
        )
        self._checkpoint(delegator)

    @external
    def transfer_bond(
        self,
        sender: bytes,
        delegator: bytes,
        amount: int,
        old_delegate_new_pos_prev: bytes = _NULL,
        old_delegate_new_pos_next: bytes = _NULL,
        new_delegate_new_pos_prev: bytes = _NULL,
        new_delegate_new_pos_next: bytes = _NULL,
    ) -> None:
        """Move ``amount`` of the sender's bond to ``delegator`` (spec §2.5 transferBond)."""
        check_address("delegator", delegator)
        check_uint("amount", amount)
        self._when_not_paused()
        self._round_initialized()
        self._authorize_claim_earnings(sender, delegator)
        self._auto_claim_earnings(sender)
        old_del_delegate = self._del(sender).delegate_address
        self.unbond_with_hint(sender, amount, old_delegate_new_pos_prev, old_delegate_new_pos_next)
        old_del = self._wdel(sender)
        old_lock_id = old_del.next_unbonding_lock_id - 1
        withdraw_round = old_del.unbonding_locks[old_lock_id].withdraw_round
        del old_del.unbonding_locks[old_lock_id]
        new_del = self._wdel(delegator)
        new_lock_id = new_del.next_unbonding_lock_id
        new_del.next_unbonding_lock_id = new_lock_id + 1
        new_del.unbonding_locks[new_lock_id] = UnbondingLock(amount, withdraw_round)
        self._emit(
            "TransferBond",
            oldDelegator=sender,
            newDelegator=delegator,
            oldUnbondingLockId=old_lock_id,
            newUnbondingLockId=new_lock_id,
            amount=amount,
        )
        cur = self.rounds.current_round()
        if new_del.last_claim_round < cur:
            self._auto_claim_earnings(delegator)
        if new_del.delegate_address == _NULL and new_del.bonded_amount == 0:
            if old_del_delegate == delegator:
                raise Revert("INVALID_DELEGATOR")
            if delegator == _NULL:
                raise Revert("INVALID_DELEGATOR")
            new_del.delegate_address = old_del_delegate
        if self.delegator_status(delegator) == DelegatorStatus.UNBONDED:
            new_del.start_round = cur + 1
        self._process_rebond(
            delegator, new_lock_id, new_delegate_new_pos_prev, new_delegate_new_pos_next
        )

    @external
    def withdraw_stake(self, sender: bytes, unbonding_lock_id: int) -> None:
        """Pay out an unbonding lock whose withdraw round has come (LPT from the Minter)."""
        check_uint("unbonding_lock_id", unbonding_lock_id)
        self._when_not_paused()
        self._round_initialized()
        if not self.is_valid_unbonding_lock(sender, unbonding_lock_id):
            raise Revert("invalid unbonding lock ID")
        d = self._wdel(sender)
        lock = d.unbonding_locks[unbonding_lock_id]
        if not lock.withdraw_round <= self.rounds.current_round():
            raise Revert("withdraw round must be before or equal to the current round")
        del d.unbonding_locks[unbonding_lock_id]
        self.minter.trusted_transfer_tokens(sender, lock.amount)
        self._emit(
            "WithdrawStake",
            delegator=sender,
            unbondingLockId=unbonding_lock_id,
            amount=lock.amount,
            withdrawRound=lock.withdraw_round,
        )

    @external
    def withdraw_fees(self, sender: bytes, recipient: bytes, amount: int) -> None:
        """Send ``amount`` ETH wei of the sender's claimed fees to ``recipient``."""
        check_address("recipient", recipient)
        check_uint("amount", amount)
        self._when_not_paused()
        self._round_initialized()
        self._auto_claim_earnings(sender)
        if recipient == _NULL:
            raise Revert("invalid recipient")
        d = self._wdel(sender)
        if not d.fees >= amount:
            raise Revert("insufficient fees to withdraw")
        d.fees = d.fees - amount
        self.minter.trusted_withdraw_eth(recipient, amount)
        self._emit("WithdrawFees", delegator=sender, recipient=recipient, amount=amount)
        self._checkpoint(sender)

    @external
    def claim_earnings(self, sender: bytes, end_round: int = 0) -> None:
        """Claim rewards and fees through the current round (``end_round`` is ignored)."""
        self._when_not_paused()
        self._round_initialized()
        self._auto_claim_earnings(sender)
        self._checkpoint(sender)

    @external
    def checkpoint_bonding_state(self, sender: bytes, account: bytes) -> None:
        """Public re-sync of ``account``'s vote checkpoint (reverts without BondingVotes)."""
        check_address("account", account)
        if self.bonding_votes is None:
            raise Revert("")
        self._checkpoint(account)

    # ------------------------------------------------------------------ rewards (§2.5, §2.6)
    def reward(self, sender: bytes) -> None:
        self.reward_with_hint(sender, _NULL, _NULL)

    @external
    def reward_with_hint(self, sender: bytes, new_pos_prev: bytes, new_pos_next: bytes) -> None:
        """Mint this round's share for an active transcoder and split it (treasury, cut, factor)."""
        self._when_not_paused()
        self._round_initialized()
        cur = self.rounds.current_round()
        if not self.is_active_transcoder(sender):
            raise Revert("caller must be an active transcoder")
        t = self._wtr(sender)
        if t.last_reward_round == cur:
            raise Revert("caller has already called reward for the current round")
        pool = t.wpool(cur)
        pool.transcoder_reward_cut = t.reward_cut
        pool.transcoder_fee_share = t.fee_share
        last_update = t.last_active_stake_update_round
        if last_update < cur:
            pool.total_stake = t.pool(last_update).total_stake
        if (
            self.treasury_balance_ceiling_ > 0
            and self.next_round_treasury_reward_cut_rate_ > 0
            and self.token.balance_of(self.treasury) >= self.treasury_balance_ceiling_
        ):
            self._set_treasury_reward_cut_rate(0)
        reward_tokens = self.minter.create_reward(
            pool.total_stake, self.current_round_total_active_stake_
        )
        treasury_rewards = perc_of(
            reward_tokens, self.treasury_reward_cut_rate_, PRECISE_PERC_DIVISOR
        )
        if treasury_rewards > 0:
            self.minter.trusted_transfer_tokens(self.treasury, treasury_rewards)
            self._emit(
                "TreasuryReward", transcoder=sender, treasury=self.treasury, amount=treasury_rewards
            )
        transcoder_rewards = sub(reward_tokens, treasury_rewards)
        self._update_transcoder_with_rewards(
            sender, transcoder_rewards, cur, new_pos_prev, new_pos_next
        )
        t.last_reward_round = cur
        self._emit("Reward", transcoder=sender, amount=transcoder_rewards)
        self._checkpoint(sender)

    def _update_transcoder_with_rewards(
        self, transcoder: bytes, rewards: int, round: int, prev: bytes, nxt: bytes
    ) -> None:
        t = self._wtr(transcoder)
        pool = t.wpool(round)
        prev_crf = t.pool(t.last_reward_round).cumulative_reward_factor
        t.active_cumulative_rewards = t.cumulative_rewards
        commission = perc_of(rewards, pool.transcoder_reward_cut, MATH_PERC_DIVISOR)
        delegators_rewards = sub(rewards, commission)
        reward_on_rewards = perc_of3(
            delegators_rewards, t.active_cumulative_rewards, pool.total_stake, PRECISE_PERC_DIVISOR
        )
        t.cumulative_rewards = add(add(t.cumulative_rewards, reward_on_rewards), commission)
        base = prev_crf if prev_crf != 0 else _ONE
        pool.cumulative_reward_factor = add(
            base, perc_of3(base, delegators_rewards, pool.total_stake, PRECISE_PERC_DIVISOR)
        )
        self._increase_total_stake(transcoder, rewards, prev, nxt)

    # ------------------------------------------------------------------ fees (§2.7)
    @overload
    def update_transcoder_with_fees(self, transcoder: bytes, fees: int, round: int, /) -> None: ...
    @overload
    def update_transcoder_with_fees(
        self, sender: bytes, transcoder: bytes, fees: int, round: int, /
    ) -> None: ...
    def update_transcoder_with_fees(self, *args: Any) -> None:
        """Credit ``fees`` ETH wei of winning tickets to the CURRENT round (``round`` ignored).

        Called with the sender first like every external method, or — as the TicketBroker's
        ``BondingView`` does — as ``(transcoder, fees, round)``, meaning "sent by the registered
        TicketBroker"."""
        if len(args) == 3:
            self._update_transcoder_with_fees(self.ticket_broker, *args)
        elif len(args) == 4:
            self._update_transcoder_with_fees(*args)
        else:
            raise TypeError(f"expected 3 or 4 arguments, got {len(args)}")

    @external
    def _update_transcoder_with_fees(
        self, sender: bytes, transcoder: bytes, fees: int, round: int
    ) -> None:
        check_address("sender", sender)
        check_address("transcoder", transcoder)
        check_uint("fees", fees)
        self._when_not_paused()
        if sender != self.ticket_broker:
            raise Revert("caller must be TicketBroker")
        if not self.is_registered_transcoder(transcoder):
            raise Revert("transcoder must be registered")
        cur = self.rounds.current_round()
        t = self._wtr(transcoder)
        last_reward_round = t.last_reward_round
        acr = t.active_cumulative_rewards
        pool = t.wpool(cur)
        prev = self._latest_cumulative_factors_pool(t, sub(cur, 1))
        if cur > last_reward_round:
            pool.transcoder_reward_cut = t.reward_cut
            pool.transcoder_fee_share = t.fee_share
            last_update = t.last_active_stake_update_round
            if last_update < cur:
                pool.total_stake = t.pool(last_update).total_stake
            acr = t.cumulative_rewards
        total_stake = pool.total_stake
        if prev.cumulative_reward_factor == 0 and last_reward_round == cur:
            rewards = perc_of3(
                add(self.minter.current_mintable_tokens(), self.minter.current_minted_tokens()),
                total_stake,
                self.current_round_total_active_stake_,
                PRECISE_PERC_DIVISOR,
            )
            rewards = sub(
                rewards, perc_of(rewards, self.treasury_reward_cut_rate_, PRECISE_PERC_DIVISOR)
            )
            delegators_rewards = sub(
                rewards, perc_of(rewards, pool.transcoder_reward_cut, MATH_PERC_DIVISOR)
            )
            prev.cumulative_reward_factor = perc_of3(
                pool.cumulative_reward_factor,
                total_stake,
                add(delegators_rewards, total_stake),
                PRECISE_PERC_DIVISOR,
            )
        delegators_fees = perc_of(fees, pool.transcoder_fee_share, MATH_PERC_DIVISOR)
        commission_fees = sub(fees, delegators_fees)
        fees_on_rewards = perc_of3(delegators_fees, acr, total_stake, PRECISE_PERC_DIVISOR)
        t.cumulative_fees = add(add(t.cumulative_fees, fees_on_rewards), commission_fees)
        prev_crf = prev.cumulative_reward_factor if prev.cumulative_reward_factor != 0 else _ONE
        increment = perc_of3(prev_crf, delegators_fees, total_stake, PRECISE_PERC_DIVISOR)
        if pool.cumulative_fee_factor == 0:
            pool.cumulative_fee_factor = add(prev.cumulative_fee_factor, increment)
        else:
            pool.cumulative_fee_factor = add(pool.cumulative_fee_factor, increment)
        t.last_fee_round = cur

    # ------------------------------------------------------------------ round hook (§2.12)
    @external
    def set_current_round_total_active_stake(self, sender: bytes) -> None:
        """RoundsManager hook at initializeRound: snapshot stake, apply the treasury rate."""
        if sender != self.rounds.address:
            raise Revert("caller must be RoundsManager")
        self.current_round_total_active_stake_ = self.next_round_total_active_stake_
        if self.next_round_treasury_reward_cut_rate_ != self.treasury_reward_cut_rate_:
            self.treasury_reward_cut_rate_ = self.next_round_treasury_reward_cut_rate_
            self._emit("ParameterUpdate", param="treasuryRewardCutRate")
        if self.bonding_votes is not None:
            self.bonding_votes.checkpoint_total_active_stake(
                self.address, self.current_round_total_active_stake_, self.rounds.current_round()
            )

    # ------------------------------------------------------------------ slashing (§2.11, off)
    @external
    def slash_transcoder(
        self, sender: bytes, transcoder: bytes, finder: bytes, slash_amount: int, finder_fee: int
    ) -> None:
        """Modelled but inoperative on Arbitrum One: the Verifier is the null address."""
        check_address("transcoder", transcoder)
        check_address("finder", finder)
        check_uint("slash_amount", slash_amount)
        check_uint("finder_fee", finder_fee)
        self._when_not_paused()
        if self.verifier is None or sender != self.verifier:
            raise Revert("caller must be Verifier")
        self._auto_claim_earnings(transcoder)
        d = self._wdel(transcoder)
        if d.bonded_amount > 0:
            penalty = perc_of(d.bonded_amount, slash_amount, MATH_PERC_DIVISOR)
            if self.transcoder_pool.contains(transcoder):
                self._resign_transcoder(transcoder)
            d.bonded_amount = sub(d.bonded_amount, penalty)
            if self.delegator_status(transcoder) == DelegatorStatus.BONDED:
                dd = self._wdel(d.delegate_address)
                dd.delegated_amount = sub(dd.delegated_amount, penalty)
            finder_amount = 0
            if finder != _NULL:
                finder_amount = perc_of(penalty, finder_fee, MATH_PERC_DIVISOR)
                self.minter.trusted_transfer_tokens(finder, finder_amount)
            self.minter.trusted_burn_tokens(sub(penalty, finder_amount))
            self._emit(
                "TranscoderSlashed",
                transcoder=transcoder,
                finder=finder,
                penalty=penalty,
                finderReward=finder_amount,
            )
        else:
            self._emit(
                "TranscoderSlashed", transcoder=transcoder, finder=finder, penalty=0, finderReward=0
            )
        self._checkpoint(transcoder)

    # ------------------------------------------------------------------ TicketBroker view
    def broker_view(self) -> BrokerBondingView:
        """The ``BondingView`` that :class:`pm.broker.TicketBroker` reads."""
        return BrokerBondingView(self)


class BrokerBondingView:
    """Adapter: the TicketBroker's ``BondingView`` on top of this BondingManager.

    The broker calls ``update_transcoder_with_fees(transcoder, fees, round)``; the adapter makes
    the call as the registered TicketBroker address.
    """

    __slots__ = ("_bm",)

    def __init__(self, bm: BondingManager) -> None:
        self._bm = bm

    def is_active_transcoder(self, addr: bytes) -> bool:
        return self._bm.is_active_transcoder(addr)

    def transcoder_pool_size(self) -> int:
        return self._bm.get_transcoder_pool_size()

    def get_transcoder_pool_size(self) -> int:
        return self._bm.get_transcoder_pool_size()

    def update_transcoder_with_fees(self, transcoder: bytes, fees: int, round: int) -> None:
        self._bm.update_transcoder_with_fees(self._bm.ticket_broker, transcoder, fees, round)
