"""BondingManager catalogue (spec/protocol-economics.md §6.1, test/unit/BondingManager.js).

Each test names the catalogue line it covers. The fixture is the contract tests' one
(:class:`pm.protocol.mocks.BondingFixture`): 2 active transcoders, unbonding period 2, mocked
rounds, a Minter whose createReward returns 1000, recorded token movements. Every revert is
checked for its exact string AND for changing nothing (state and events).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pm.evm import Revert
from pm.protocol import MAX_FUTURE_ROUND, DelegatorStatus, TranscoderStatus
from pm.protocol.mocks import (
    L2_MIGRATOR,
    OWNER,
    TICKET_BROKER,
    TREASURY,
    BondingFixture,
    label,
)

T0, T1, T2, T3 = (label(f"T{i}") for i in range(4))
D0, D1, D2 = (label(f"D{i}") for i in range(3))
NULL = bytes(20)
R = label("receiver")
ALL = [T0, T1, T2, T3, D0, D1, D2, NULL]
PRECISE = 10**27


def state(fx: BondingFixture) -> Any:
    bm = fx.bm
    return (
        [bm.get_delegator(x) for x in ALL],
        [bm.get_transcoder(x) for x in ALL],
        [bm.get_transcoder_earnings_pool_for_round(x, r) for x in ALL for r in range(98, 106)],
        [[bm.get_delegator_unbonding_lock(x, i) for i in range(3)] for x in ALL],
        bm.transcoder_pool_members(),
        bm.next_round_total_active_stake,
        bm.current_round_total_active_stake,
        bm.next_round_treasury_reward_cut_rate,
        len(bm.events),
        len(fx.votes.bonding),
        len(fx.minter.calls),
        len(fx.token.transfers),
    )


def reverts(fx: BondingFixture, fn: Callable[[], object], reason: str) -> None:
    before = state(fx)
    with pytest.raises(Revert) as e:
        fn()
    assert e.value.reason == reason
    assert state(fx) == before, "a reverted call changed state"


def events(fx: BondingFixture, name: str) -> list[dict[str, Any]]:
    return [e.args for e in fx.bm.events if e.name == name]


@pytest.fixture
def fx() -> BondingFixture:
    f = BondingFixture()
    f.at(100)
    return f


# -- parameters --------------------------------------------------------------------------


def test_setters_owner_only_and_stored(fx: BondingFixture) -> None:
    bm = fx.bm
    reverts(fx, lambda: bm.set_unbonding_period(T0, 5), "caller must be Controller owner")
    reverts(fx, lambda: bm.set_num_active_transcoders(T0, 5), "caller must be Controller owner")
    reverts(fx, lambda: bm.set_treasury_reward_cut_rate(T0, 5), "caller must be Controller owner")
    reverts(fx, lambda: bm.set_treasury_balance_ceiling(T0, 5), "caller must be Controller owner")
    bm.set_unbonding_period(OWNER, 5)
    assert bm.unbonding_period == 5
    bm.set_num_active_transcoders(OWNER, 7)
    assert bm.get_transcoder_pool_max_size() == 7
    reverts(
        fx,
        lambda: bm.set_num_active_transcoders(OWNER, 7),
        "new max size must be greater than old max size",
    )
    assert bm.treasury_balance_ceiling == 0
    bm.set_treasury_balance_ceiling(OWNER, 10)
    assert bm.treasury_balance_ceiling == 10
    assert [e["param"] for e in events(fx, "ParameterUpdate")] == [
        "unbondingPeriod",
        "numActiveTranscoders",
        "treasuryBalanceCeiling",
    ]


def test_treasury_cut_rate_applies_from_next_initialization(fx: BondingFixture) -> None:
    bm = fx.bm
    assert bm.treasury_reward_cut_rate == 0
    reverts(
        fx,
        lambda: bm.set_treasury_reward_cut_rate(OWNER, PRECISE + 1),
        "_cutRate is invalid precise percentage",
    )
    bm.set_treasury_reward_cut_rate(OWNER, PRECISE // 2)
    assert bm.treasury_reward_cut_rate == 0
    assert bm.next_round_treasury_reward_cut_rate == PRECISE // 2
    assert events(fx, "ParameterUpdate")[-1] == {"param": "nextRoundTreasuryRewardCutRate"}
    fx.at(101)
    assert bm.treasury_reward_cut_rate == PRECISE // 2
    assert events(fx, "ParameterUpdate")[-1] == {"param": "treasuryRewardCutRate"}
    n = len(bm.events)
    fx.at(102)  # unchanged rate: no event
    assert len(bm.events) == n


def test_set_current_round_total_active_stake_only_rounds_manager(fx: BondingFixture) -> None:
    bm = fx.bm
    reverts(fx, lambda: bm.set_current_round_total_active_stake(T0), "caller must be RoundsManager")
    bm.bond(T0, 1000, T0)
    assert bm.get_total_bonded() == 0  # stable within the round
    fx.at(101)
    assert bm.get_total_bonded() == 1000 == bm.current_round_total_active_stake
    assert fx.votes.totals[-1] == (1000, 101)


# -- transcoder() ----------------------------------------------------------------------------


def test_transcoder_reverts_in_order(fx: BondingFixture) -> None:
    bm = fx.bm
    fx.rounds.initialized = False
    reverts(fx, lambda: bm.transcoder(T0, 1, 1), "current round is not initialized")
    fx.rounds.initialized = True
    fx.rounds.locked = True
    reverts(
        fx,
        lambda: bm.transcoder(T0, 1, 1),
        "can't update transcoder params, current round is locked",
    )
    fx.rounds.locked = False
    reverts(fx, lambda: bm.transcoder(T0, 10**6 + 1, 1), "invalid rewardCut percentage")
    reverts(fx, lambda: bm.transcoder(T0, 1, 10**6 + 1), "invalid feeShare percentage")
    reverts(fx, lambda: bm.transcoder(T0, 1, 1), "transcoder must be registered")
    bm.paused = True
    reverts(fx, lambda: bm.transcoder(T0, 1, 1), "system is paused")


def test_transcoder_joins_and_activates_next_round(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)  # a self-bond already registers and joins with 0 / 0
    assert bm.transcoder_status(T0) == TranscoderStatus.REGISTERED
    assert events(fx, "TranscoderActivated") == [{"transcoder": T0, "activationRound": 101}]
    bm.transcoder(T0, 5, 10)
    t = bm.get_transcoder(T0)
    assert (t.reward_cut, t.fee_share, t.activation_round, t.deactivation_round) == (
        5,
        10,
        101,
        MAX_FUTURE_ROUND,
    )
    assert events(fx, "TranscoderUpdate") == [{"transcoder": T0, "rewardCut": 5, "feeShare": 10}]
    assert bm.get_transcoder_pool_size() == 1 and bm.get_first_transcoder_in_pool() == T0
    assert bm.next_round_total_active_stake == 1000
    assert not bm.is_active_transcoder(T0)
    fx.at(101)
    assert bm.is_active_transcoder(T0)
    # active and no reward yet this round: cannot change rates
    reverts(
        fx,
        lambda: bm.transcoder(T0, 1, 1),
        "caller can't be active or must have already called reward for the current round",
    )
    bm.reward(T0)
    bm.transcoder(T0, 1, 1)
    assert bm.get_transcoder(T0).reward_cut == 1


def test_pool_full_eviction_ties_and_timing(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(T1, 2000, T1)
    fx.at(101)
    # newcomer with less or EQUAL stake than the tail is not admitted
    bm.bond(T2, 600, T2)
    assert not fx.bm.transcoder_pool.contains(T2)
    bm.bond(T2, 400, T2)  # now 1000 == tail's 1000: ties lose
    assert not fx.bm.transcoder_pool.contains(T2)
    bm.bond(T3, 6000, T3)  # evicts the 1000 tail
    assert bm.transcoder_pool_members() == [(T3, 6000), (T1, 2000)]
    assert bm.next_round_total_active_stake == 3000 - 1000 + 6000
    assert {"transcoder": T0, "deactivationRound": 102} in events(fx, "TranscoderDeactivated")
    assert bm.get_transcoder(T0).deactivation_round == 102
    assert bm.is_active_transcoder(T0) and not bm.is_active_transcoder(T3)  # round 101 still T0's
    fx.at(102)
    assert not bm.is_active_transcoder(T0) and bm.is_active_transcoder(T3)
    # a decrease never promotes a non-member; only an increase above the tail does
    bm.bond(T2, 1001, T2)
    assert bm.transcoder_pool.contains(T2) is True
    assert not bm.transcoder_pool.contains(T1)


def test_transcoder_joins_via_transcoder_call_when_pool_had_no_room(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(T1, 2000, T1)
    bm.bond(T2, 500, T2)
    assert not bm.transcoder_pool.contains(T2)
    fx.at(101)
    bm.unbond(T0, 1000)  # T0 resigns: room for T2 through transcoder()
    assert {"transcoder": T0, "deactivationRound": 102} in events(fx, "TranscoderDeactivated")
    bm.transcoder(T2, 0, 0)
    assert bm.transcoder_pool.contains(T2) and bm.get_transcoder(T2).activation_round == 102


# -- bond ---------------------------------------------------------------------------------


def test_bond_reverts(fx: BondingFixture) -> None:
    bm = fx.bm
    fx.rounds.initialized = False
    reverts(fx, lambda: bm.bond(D0, 10, T0), "current round is not initialized")
    fx.rounds.initialized = True
    reverts(fx, lambda: bm.bond(D0, 0, T0), "delegation amount must be greater than 0")
    bm.bond(T0, 1000, T0)
    reverts(
        fx,
        lambda: bm.bond(T0, 10, T1),
        "registered transcoders can't delegate towards other addresses",
    )
    bm.paused = True
    reverts(fx, lambda: bm.bond(D0, 10, T0), "system is paused")


def test_bond_from_unbonded_sets_start_round_and_emits(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 500, T0)
    d = bm.get_delegator(D0)
    assert (d.bonded_amount, d.delegate_address, d.start_round, d.last_claim_round) == (
        500,
        T0,
        101,
        100,
    )
    assert bm.delegator_status(D0) == DelegatorStatus.PENDING
    assert events(fx, "Bond")[-1] == {
        "newDelegate": T0,
        "oldDelegate": NULL,
        "delegator": D0,
        "additionalAmount": 500,
        "bondedAmount": 500,
    }
    assert events(fx, "EarningsClaimed")[-1]["delegator"] == D0
    n = len(events(fx, "EarningsClaimed"))
    bm.bond(D0, 100, T0)  # no second claim in the same round; startRound unchanged while Pending
    assert len(events(fx, "EarningsClaimed")) == n
    assert bm.get_delegator(D0).start_round == 101
    assert bm.get_transcoder_earnings_pool_for_round(T0, 101).total_stake == 1600
    assert bm.transcoder_total_stake(T0) == 1600 == bm.next_round_total_active_stake
    # the caller pays: LPT moves from the sender to the Minter
    assert fx.token.transfers[-1] == (bm.address, D0, fx.minter.address, 100)
    fx.at(101)
    assert bm.delegator_status(D0) == DelegatorStatus.BONDED


def test_bond_to_null_or_non_transcoder_is_allowed(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(D0, 100, NULL)
    assert bm.get_delegator(D0).delegate_address == NULL
    assert bm.get_delegator(NULL).delegated_amount == 100
    bm.bond(D1, 100, D2)  # D2 is not registered: stake delegated, pool unaffected
    assert bm.transcoder_total_stake(D2) == 100 and bm.get_transcoder_pool_size() == 0
    assert bm.next_round_total_active_stake == 0
    fx.at(101)
    bm.bond(D0, 0, D2)  # moving from the null delegate also works (and moves the whole stake)
    assert bm.get_delegator(NULL).delegated_amount == 0
    assert bm.transcoder_total_stake(D2) == 200


def test_redelegation_moves_whole_stake_and_backfills_current_pool(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(T1, 1000, T1)
    bm.bond(D0, 500, T0)
    fx.at(101)
    fx.at(102)
    bm.bond(D0, 0, T1)
    d = bm.get_delegator(D0)
    assert (d.bonded_amount, d.delegate_address, d.start_round) == (500, T1, 103)
    assert bm.transcoder_total_stake(T0) == 1000 and bm.transcoder_total_stake(T1) == 1500
    # lastActiveStakeUpdateRound (101) < 102: round 102's stake is frozen before it changes
    assert bm.get_transcoder_earnings_pool_for_round(T0, 102).total_stake == 1500
    assert bm.get_transcoder_earnings_pool_for_round(T0, 103).total_stake == 1000
    assert bm.get_transcoder_earnings_pool_for_round(T1, 103).total_stake == 1500
    assert bm.get_transcoder(T0).last_active_stake_update_round == 103
    assert bm.next_round_total_active_stake == 2500  # both in the pool: total unchanged


def test_bond_initializes_factors_of_new_delegate(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    fx.at(101)
    bm.reward(T0)
    fx.fees(T0, 1000)
    crf = bm.get_transcoder_earnings_pool_for_round(T0, 101).cumulative_reward_factor
    cff = bm.get_transcoder_earnings_pool_for_round(T0, 101).cumulative_fee_factor
    fx.at(103)
    bm.bond(D0, 100, T0)
    p = bm.get_transcoder_earnings_pool_for_round(T0, 103)
    assert (p.cumulative_reward_factor, p.cumulative_fee_factor) == (crf, cff)
    assert bm.pending_stake(D0, 0) == 100  # no retroactive earnings for new stake


def test_checkpoints_for_delegator_and_transcoder(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    assert [c["account"] for c in fx.votes.bonding] == [T0]  # self-bond: checkpointed once
    bm.bond(D0, 10, T0)
    assert [c["account"] for c in fx.votes.bonding[1:]] == [T0, D0]
    cp = fx.votes.last_for(D0)
    assert cp is not None and cp["start_round"] == 101 and cp["delegate_address"] == T0


# -- bondForWithHint third parties -----------------------------------------------------------


def test_bond_for_third_party_rules(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(T1, 1000, T1)
    fx.at(101)
    z = NULL
    reverts(fx, lambda: bm.bond_for_with_hint(D1, 10, NULL, T0, z, z, z, z), "INVALID_DELEGATOR")
    reverts(fx, lambda: bm.bond_for_with_hint(D1, 10, D0, D0, z, z, z, z), "INVALID_DELEGATE")
    bm.bond_for_with_hint(D1, 10, D0, T0, z, z, z, z)  # Unbonded owner: allowed, caller pays
    assert bm.get_delegator(D0).bonded_amount == 10 and bm.get_delegator(D1).bonded_amount == 0
    assert fx.token.transfers[-1] == (bm.address, D1, fx.minter.address, 10)
    fx.at(102)
    reverts(fx, lambda: bm.bond_for_with_hint(D1, 10, D0, T1, z, z, z, z), "ILLEGAL_CLAIM_EARNINGS")
    # before T0's reward this round a third party may not trigger D0's claim ...
    reverts(fx, lambda: bm.bond_for_with_hint(D1, 10, D0, T0, z, z, z, z), "ILLEGAL_CLAIM_EARNINGS")
    bm.reward(T0)
    reverts(
        fx, lambda: bm.bond_for_with_hint(D1, 10, D0, T1, z, z, z, z), "INVALID_DELEGATE_CHANGE"
    )
    bm.bond_for_with_hint(D1, 10, D0, T0, z, z, z, z)  # ... after it, it may
    assert bm.get_delegator(D0).bonded_amount > 20
    # the L2Migrator may do anything, including changing the delegate
    bm.bond_for_with_hint(L2_MIGRATOR, 5, D0, T1, z, z, z, z)
    assert bm.get_delegator(D0).delegate_address == T1


def test_third_party_bond_allowed_after_owner_claimed_this_round(fx: BondingFixture) -> None:
    bm = fx.bm
    z = NULL
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 100, T0)
    fx.at(101)
    fx.at(102)
    bm.claim_earnings(D0, 0)  # the owner forfeits round 102's reward itself
    bm.bond_for_with_hint(D1, 10, D0, T0, z, z, z, z)
    assert bm.get_delegator(D0).bonded_amount == 110


# -- unbond / rebond / withdraw ------------------------------------------------------------


def test_unbond_reverts_and_lock(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 1000, T0)
    reverts(fx, lambda: bm.unbond(D0, 10), "caller must be bonded")  # Pending
    reverts(fx, lambda: bm.unbond(D1, 10), "caller must be bonded")  # Unbonded
    fx.at(101)
    reverts(fx, lambda: bm.unbond(D0, 0), "unbond amount must be greater than 0")
    reverts(fx, lambda: bm.unbond(D0, 1001), "amount is greater than bonded amount")
    fx.rounds.initialized = False
    reverts(fx, lambda: bm.unbond(D0, 1), "current round is not initialized")
    fx.rounds.initialized = True
    bm.unbond(D0, 500)
    assert bm.get_delegator_unbonding_lock(D0, 0) == (500, 103)
    assert bm.is_valid_unbonding_lock(D0, 0) and not bm.is_valid_unbonding_lock(D0, 1)
    assert events(fx, "Unbond")[-1] == {
        "delegate": T0,
        "delegator": D0,
        "unbondingLockId": 0,
        "amount": 500,
        "withdrawRound": 103,
    }
    assert bm.transcoder_total_stake(T0) == 1500 == bm.next_round_total_active_stake
    assert bm.get_transcoder(T0).last_active_stake_update_round == 102


def test_full_unbond_of_transcoder_resigns(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 300, T0)
    fx.at(101)
    bm.unbond(T0, 1000)
    assert bm.get_transcoder_pool_size() == 0 and bm.next_round_total_active_stake == 0
    assert bm.get_transcoder(T0).deactivation_round == 102
    assert events(fx, "TranscoderDeactivated")[-1] == {"transcoder": T0, "deactivationRound": 102}
    d = bm.get_delegator(T0)
    assert (d.delegate_address, d.start_round, d.bonded_amount) == (NULL, 0, 0)
    assert bm.get_delegator(D0).delegate_address == T0  # its delegators stay delegated
    assert bm.is_active_transcoder(T0)  # still active in round 101
    # a delegator unbonding from a non-pool delegate changes no pool bookkeeping
    bm.unbond(D0, 100)
    assert bm.next_round_total_active_stake == 0 and bm.transcoder_total_stake(T0) == 200


def test_rebond_and_rebond_from_unbonded(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 500, T0)
    fx.at(101)
    bm.unbond(D0, 200)
    reverts(fx, lambda: bm.rebond(D1, 0), "caller must be bonded")
    reverts(fx, lambda: bm.rebond(D0, 5), "invalid unbonding lock ID")
    reverts(fx, lambda: bm.rebond_from_unbonded(D0, T0, 0), "caller must be unbonded")
    bm.rebond(D0, 0)
    assert bm.get_delegator(D0).bonded_amount == 500 and not bm.is_valid_unbonding_lock(D0, 0)
    assert events(fx, "Rebond")[-1] == {
        "delegate": T0,
        "delegator": D0,
        "unbondingLockId": 0,
        "amount": 200,
    }
    assert bm.get_delegator(D0).start_round == 101  # unchanged
    bm.unbond(D0, 500)
    assert bm.delegator_status(D0) == DelegatorStatus.UNBONDED
    fx.at(102)
    bm.bond(T1, 100, T1)
    bm.rebond_from_unbonded(D0, T1, 1)
    d = bm.get_delegator(D0)
    assert (d.delegate_address, d.start_round, d.bonded_amount) == (T1, 103, 500)
    bm.paused = True
    reverts(fx, lambda: bm.rebond(D0, 0), "system is paused")


def test_rebond_pushes_non_member_above_tail_and_evicts(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(T1, 2000, T1)
    bm.bond(T2, 800, T2)
    fx.at(101)
    bm.unbond(T2, 300)
    bm.bond(T2, 400, T2)
    assert not bm.transcoder_pool.contains(T2)  # 900: not above the 1000 tail
    bm.rebond(T2, 0)  # 1200 > 1000: the rebond evicts the tail
    assert bm.transcoder_pool.contains(T2) and not bm.transcoder_pool.contains(T0)
    assert bm.get_transcoder(T0).deactivation_round == 102


def test_rebond_from_unbonded_initializes_factors(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 100, T0)
    fx.at(101)
    bm.reward(T0)
    bm.unbond(D0, bm.pending_stake(D0, 0))
    fx.at(103)
    bm.rebond_from_unbonded(D0, T0, 0)
    crf = bm.get_transcoder_earnings_pool_for_round(T0, 101).cumulative_reward_factor
    assert bm.get_transcoder_earnings_pool_for_round(T0, 103).cumulative_reward_factor == crf
    assert bm.pending_stake(D0, 0) == bm.get_delegator(D0).bonded_amount  # no inflated stake


def test_withdraw_stake(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    fx.at(101)
    bm.unbond(T0, 400)
    reverts(fx, lambda: bm.withdraw_stake(T0, 1), "invalid unbonding lock ID")
    reverts(
        fx,
        lambda: bm.withdraw_stake(T0, 0),
        "withdraw round must be before or equal to the current round",
    )
    fx.at(103)
    bm.paused = True
    reverts(fx, lambda: bm.withdraw_stake(T0, 0), "system is paused")
    bm.paused = False
    fx.rounds.initialized = False
    reverts(fx, lambda: bm.withdraw_stake(T0, 0), "current round is not initialized")
    fx.rounds.initialized = True
    bm.withdraw_stake(T0, 0)
    assert fx.minter.calls_named("trusted_transfer_tokens")[-1] == (T0, 400)
    assert events(fx, "WithdrawStake")[-1] == {
        "delegator": T0,
        "unbondingLockId": 0,
        "amount": 400,
        "withdrawRound": 103,
    }
    assert not bm.is_valid_unbonding_lock(T0, 0)


def test_withdraw_fees(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    fx.at(101)
    fx.fees(T0, 1000)
    reverts(fx, lambda: bm.withdraw_fees(T0, NULL, 1), "invalid recipient")
    reverts(fx, lambda: bm.withdraw_fees(T0, T0, 1001), "insufficient fees to withdraw")
    bm.withdraw_fees(T0, D2, 500)
    assert bm.get_delegator(T0).fees == 500 and bm.get_delegator(T0).last_claim_round == 101
    assert fx.minter.calls_named("trusted_withdraw_eth")[-1] == (D2, 500)
    assert events(fx, "WithdrawFees")[-1] == {"delegator": T0, "recipient": D2, "amount": 500}
    bm.withdraw_fees(T0, T0, 500)
    assert bm.get_delegator(T0).fees == 0
    fx.at(102)
    fx.fees(T0, 300)
    assert bm.pending_fees(T0, 0) == 300
    assert fx.votes.last_for(T0) is not None


# -- transferBond ---------------------------------------------------------------------------


def test_transfer_bond_to_unbonded_receiver_inherits_delegate(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 500, T0)
    fx.at(101)
    reverts(fx, lambda: bm.transfer_bond(D0, NULL, 100), "INVALID_DELEGATOR")
    bm.bond(D1, 100, D2)  # D2 itself is unbonded
    fx.at(102)
    reverts(fx, lambda: bm.transfer_bond(D1, D2, 10), "INVALID_DELEGATOR")  # sender delegated to it
    fx.at(101)
    bm.transfer_bond(D0, R, 200)
    assert [e.name for e in bm.events if e.name in ("Unbond", "TransferBond", "Rebond")][-3:] == [
        "Unbond",
        "TransferBond",
        "Rebond",
    ]
    d1 = bm.get_delegator(R)
    assert (d1.bonded_amount, d1.delegate_address, d1.start_round) == (200, T0, 102)
    assert bm.get_delegator(D0).bonded_amount == 300
    assert bm.transcoder_total_stake(T0) == 1500  # moved within T0
    assert not bm.is_valid_unbonding_lock(D0, 0)


def test_transfer_bond_to_bonded_receiver_goes_to_its_delegate(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(T1, 1000, T1)
    bm.bond(D0, 500, T0)
    bm.bond(D1, 500, T1)
    fx.at(101)
    bm.reward(T1)
    bm.transfer_bond(D0, D1, 200)
    assert bm.get_delegator(D1).delegate_address == T1
    assert bm.transcoder_total_stake(T1) == 1500 + 1000 + 200
    fx.at(102)
    # receiver's transcoder has not called reward in 102 yet: third party may not claim for it
    reverts(fx, lambda: bm.transfer_bond(D0, D1, 10), "ILLEGAL_CLAIM_EARNINGS")
    bm.claim_earnings(D1, 0)
    bm.transfer_bond(D0, D1, 10)  # after the receiver claimed itself this round


def test_transfer_bond_receiver_with_null_delegate_keeps_it(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 500, T0)
    bm.bond(D1, 50, NULL)
    fx.at(101)
    bm.transfer_bond(D0, D1, 100)
    assert bm.get_delegator(D1).delegate_address == NULL
    assert bm.get_delegator(D1).bonded_amount == 150


# -- reward ---------------------------------------------------------------------------------


def test_reward_reverts_and_skipped_rounds(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.transcoder(T0, 500_000, 10)
    reverts(fx, lambda: bm.reward(T0), "caller must be an active transcoder")
    fx.at(101)
    bm.reward(T0)
    reverts(fx, lambda: bm.reward(T0), "caller has already called reward for the current round")
    fx.at(105)  # rounds 102-104 skipped; lastActiveStakeUpdateRound (102) < 105
    bm.reward(T0)
    p = bm.get_transcoder_earnings_pool_for_round(T0, 105)
    assert p.total_stake == 2000
    assert (
        p.cumulative_reward_factor
        == PRECISE * 3 // 2 + (PRECISE * 3 // 2) * (500 * PRECISE // 2000) // PRECISE
    )
    fx.rounds.initialized = False
    reverts(fx, lambda: bm.reward(T0), "current round is not initialized")


def test_pending_stake_rises_after_reward_when_stake_changed_earlier(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 1000, T0)
    fx.at(101)
    fx.at(102)
    bm.bond(D1, 500, T0)  # stake change before the reward of round 102
    before = bm.pending_stake(D0, 0)
    bm.reward(T0)
    assert bm.pending_stake(D0, 0) > before
    assert bm.get_transcoder_earnings_pool_for_round(T0, 102).total_stake == 2000


def test_claim_before_reward_forfeits_the_round(fx: BondingFixture) -> None:
    """LIP-36: a claim in round N before reward() of round N loses that round's reward."""
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 1000, T0)
    bm.bond(D1, 1000, T0)
    fx.at(101)
    bm.claim_earnings(D0, 0)
    bm.reward(T0)
    assert bm.pending_stake(D0, 0) == 1000
    assert bm.pending_stake(D1, 0) == 1000 + 1000 * 1000 // 3000


# -- fees -----------------------------------------------------------------------------------


def test_update_transcoder_with_fees_reverts(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    reverts(
        fx, lambda: bm.update_transcoder_with_fees(D0, T0, 1, 100), "caller must be TicketBroker"
    )
    reverts(
        fx,
        lambda: bm.update_transcoder_with_fees(TICKET_BROKER, D0, 1, 100),
        "transcoder must be registered",
    )
    bm.paused = True
    reverts(
        fx, lambda: bm.update_transcoder_with_fees(TICKET_BROKER, T0, 1, 100), "system is paused"
    )
    bm.paused = False
    # registered but never in a pool round with stake: percPoints divides by zero
    bm.bond(T1, 1, T1)  # pool of 2: T0, T1
    bm.bond(T2, 5000, T2)  # evicts T1 (the tail)
    fx.at(101)
    fx.at(102)
    bm.bond(T3, 1, T3)  # never in the pool
    reverts(fx, lambda: fx.fees(T3, 10), "Panic(0x12)")
    fx.fees(T1, 10)  # evicted but with a past pool stake: fees still credited
    assert bm.get_transcoder(T1).last_fee_round == 102


# -- pending / status -----------------------------------------------------------------------


def test_pending_equals_bonded_after_claim_and_end_round_ignored(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 1000, T0)
    fx.at(101)
    bm.reward(T0)
    fx.fees(T0, 1000)
    vals = {bm.pending_stake(D0, r) for r in (100, 101, 102)}
    assert len(vals) == 1
    assert {bm.pending_fees(D0, r) for r in (100, 101, 102)} == {bm.pending_fees(D0, 0)}
    bm.claim_earnings(D0, 0)
    assert bm.pending_stake(D0, 0) == bm.get_delegator(D0).bonded_amount
    assert bm.pending_fees(D0, 0) == bm.get_delegator(D0).fees


def test_claim_does_not_overwrite_future_factors(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 1000, T0)
    fx.at(101)
    bm.reward(T0)
    fx.at(103)
    bm.claim_earnings(D0, 0)
    crf101 = bm.get_transcoder_earnings_pool_for_round(T0, 101).cumulative_reward_factor
    assert bm.get_transcoder_earnings_pool_for_round(T0, 103).cumulative_reward_factor == crf101
    assert bm.get_transcoder_earnings_pool_for_round(T0, 104).cumulative_reward_factor == 0


def test_statuses(fx: BondingFixture) -> None:
    bm = fx.bm
    assert bm.delegator_status(D0) == DelegatorStatus.UNBONDED
    assert bm.transcoder_status(T0) == TranscoderStatus.NOT_REGISTERED
    bm.bond(D0, 10, T0)
    assert bm.delegator_status(D0) == DelegatorStatus.PENDING
    assert not bm.is_registered_transcoder(T0)  # delegated-to is not registered
    fx.at(101)
    assert bm.delegator_status(D0) == DelegatorStatus.BONDED


def test_slashing_is_inoperative(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    reverts(fx, lambda: bm.slash_transcoder(OWNER, T0, D0, 500_000, 0), "caller must be Verifier")


def test_checkpoint_bonding_state_public(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.checkpoint_bonding_state(D2, D1)
    cp = fx.votes.last_for(D1)
    assert cp is not None and cp["bonded_amount"] == 0 and cp["delegate_address"] == NULL
    bm.bonding_votes = None
    reverts(fx, lambda: bm.checkpoint_bonding_state(D2, D1), "")


def test_treasury_address_receives_cut(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.set_treasury_reward_cut_rate(OWNER, PRECISE // 10)
    bm.bond(T0, 1000, T0)
    fx.at(101)
    bm.reward(T0)
    assert fx.minter.calls_named("trusted_transfer_tokens") == [(TREASURY, 100)]
    assert events(fx, "Reward")[-1] == {"transcoder": T0, "amount": 900}


def test_minter_revert_rolls_back_reward(fx: BondingFixture) -> None:
    """A revert deep in a peer (the Minter) undoes the BondingManager's earlier writes."""
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.transcoder(T0, 300_000, 0)
    fx.at(101)

    def boom(frac_num: int, frac_denom: int, /) -> int:
        raise Revert("minted tokens cannot exceed mintable tokens")

    fx.minter.create_reward = boom  # type: ignore[method-assign]
    reverts(fx, lambda: bm.reward(T0), "minted tokens cannot exceed mintable tokens")
    assert bm.get_transcoder_earnings_pool_for_round(T0, 101).transcoder_reward_cut == 0


# -- hints (SortedDoublyLL through the BondingManager) --------------------------------------


def test_valid_hints_decide_order_among_equal_stakes_and_eviction() -> None:
    def run(hinted: bool) -> BondingFixture:
        f = BondingFixture(num_active_transcoders=3)
        f.at(100)
        f.bm.bond(T0, 1000, T0)
        f.bm.bond(T1, 1000, T1)  # no hint: newest of equal keys ranks highest -> T1, T0
        if hinted:
            # (T0, NULL) is a valid tail position for 1000: T2 goes below T0
            f.bm.bond_with_hint(T2, 1000, T2, NULL, NULL, T0, NULL)
        else:
            f.bm.bond(T2, 1000, T2)
        f.bm.bond(T3, 1001, T3)  # pool full: evicts whoever sits at the tail
        return f

    plain, hinted = run(False), run(True)
    # no hint: T2 ranks highest among the 1000s (T2, T1, T0) and the oldest, T0, is evicted
    assert [t for t, _ in plain.bm.transcoder_pool_members()] == [T3, T2, T1]
    assert events(plain, "TranscoderDeactivated") == [{"transcoder": T0, "deactivationRound": 101}]
    # valid hint honoured: T1, T0, T2 -> T2 sits at the tail and is the one evicted
    assert [t for t, _ in hinted.bm.transcoder_pool_members()] == [T3, T1, T0]
    assert events(hinted, "TranscoderDeactivated") == [{"transcoder": T2, "deactivationRound": 101}]


def test_reward_and_unbond_with_hints_keep_pool_sorted(fx: BondingFixture) -> None:
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.bond(T1, 3000, T1)
    fx.at(101)
    bm.reward_with_hint(T0, NULL, T1)  # stale hint (T0 now 2000 < T1): the list searches instead
    assert bm.transcoder_pool_members() == [(T1, 3000), (T0, 2000)]
    bm.reward_with_hint(T1, NULL, T0)  # valid: before the head
    assert bm.transcoder_pool_members() == [(T1, 4000), (T0, 2000)]
    bm.unbond_with_hint(T1, 2500, T0, NULL)  # 1500 below T0: valid tail position
    assert bm.transcoder_pool_members() == [(T0, 2000), (T1, 1500)]


# -- catalogue lines without a test, and why --------------------------------------------------
# - setController (every contract): the models have no Controller; peers are given to the
#   constructor and the Controller owner / pause flag are plain attributes (`owner`, `paused`).
# - "checkpointBondingState reverts if BondingVotes is not registered": covered above with the
#   empty revert a call to a codeless address gives; the contract test only checks that it reverts.
# - slashTranscoder's penalty arithmetic: the Verifier is the null address on Arbitrum One, so the
#   function is modelled (penalty, finder fee, burn, resign) but only its access check is tested.


def test_checkpoints_reflect_reward_and_claim(fx: BondingFixture) -> None:
    """A transcoder's checkpointed bondedAmount changes only after its own claim; reward()
    checkpoints the new delegated stake and lastRewardRound."""
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.transcoder(T0, 500_000, 0)
    fx.at(101)
    bm.reward(T0)
    cp = fx.votes.last_for(T0)
    assert cp is not None
    assert (cp["bonded_amount"], cp["delegated_amount"], cp["last_reward_round"]) == (
        1000,
        2000,
        101,
    )
    fx.at(102)
    bm.claim_earnings(T0, 0)
    cp = fx.votes.last_for(T0)
    assert cp is not None and cp["bonded_amount"] == 2000 and cp["last_claim_round"] == 102
    assert cp["start_round"] == 103
