"""Governance: BondingVotes (§4.3, §6.4, vector BV1), GovernorCountingOverridable (§4.4, §6.5,
vectors G1, G2) and a LivepeerGovernor proposal executed by the Treasury on the whole model."""

from __future__ import annotations

import itertools

import pytest

from pm.evm import Revert
from pm.protocol import (
    UNIT_TEST,
    BondingVotes,
    Call,
    ContractError,
    EarningsPool,
    LivepeerGovernor,
    ProposalState,
    Protocol,
)
from pm.protocol.mocks import MockRounds, label

E18 = 10**18
P27 = 10**27
T, D, X = label("T"), label("D"), label("X")


class FakeBM:
    """Pools by (transcoder, round) and nextRoundTotalActiveStake, as BondingVotes reads them."""

    address = label("bm")

    def __init__(self) -> None:
        self.pools: dict[tuple[bytes, int], int] = {}
        self.next_round_total_active_stake = 777

    def get_transcoder_earnings_pool_for_round(self, addr: bytes, round: int) -> EarningsPool:
        return EarningsPool(0, 0, 0, self.pools.get((addr, round), 0), 0)


def votes_at(round: int = 10) -> tuple[BondingVotes, FakeBM, MockRounds]:
    rounds = MockRounds(round=round)
    bm = FakeBM()
    return BondingVotes(rounds=rounds, bonding_manager=bm), bm, rounds


def cp(
    bv: BondingVotes, acct: bytes, bonded: int, delegate: bytes, delegated: int, lcr: int, lrr: int
) -> None:
    bv.checkpoint_bonding_state(
        FakeBM.address, acct, bv.clock() + 1, bonded, delegate, delegated, lcr, lrr
    )


def err(fn: object) -> ContractError:
    with pytest.raises(ContractError) as e:
        fn()  # type: ignore[operator]
    return e.value


# -- BondingVotes --------------------------------------------------------------------------


def test_bv1_delegator_votes_follow_the_reward_factor() -> None:
    bv, bm, _rounds = votes_at(10)
    cp(bv, T, 5000, T, 9000, 9, 8)
    cp(bv, D, 1000, T, 0, 5, 0)
    bm.pools[(T, 5)] = 2 * P27
    bm.pools[(T, 8)] = 6 * P27
    assert bv.get_votes_and_delegate_at_round_start(D, 11) == (3000, T)
    del bm.pools[(T, 5)]  # no pool at lastClaimRound: start factor 1e27
    bm.pools[(T, 8)] = 5 * P27
    assert bv.get_votes_and_delegate_at_round_start(D, 11)[0] == 5000
    assert bv.get_votes_and_delegate_at_round_start(T, 11) == (
        9000,
        T,
    )  # transcoder: delegated stake


def test_bv_delegator_votes_special_cases() -> None:
    bv, bm, _rounds = votes_at(10)
    cp(bv, T, 5000, T, 9000, 9, 4)
    cp(bv, D, 1000, T, 0, 6, 0)
    bm.pools[(T, 4)] = 3 * P27
    # the delegate's lastRewardRound (4) < lastClaimRound (6): the bonded amount as is
    assert bv.get_votes_and_delegate_at_round_start(D, 11)[0] == 1000
    cp(bv, T, 5000, T, 9000, 9, 8)
    e = err(lambda: bv.get_votes_and_delegate_at_round_start(D, 11))
    assert e.error == "MissingEarningsPool" and e.params == (T, 8)
    bm.pools[(T, 8)] = 2 * P27
    cp(bv, T, 0, bytes(20), 9000, 9, 8)  # the transcoder unbonded: its delegators have no votes
    assert bv.get_votes_and_delegate_at_round_start(D, 11)[0] == 0
    cp(bv, X, 10, D, 0, 9, 0)  # delegator of a delegator
    assert bv.get_votes_and_delegate_at_round_start(X, 11)[0] == 0
    assert bv.get_votes_and_delegate_at_round_start(label("nobody"), 11) == (0, bytes(20))


def test_bv_checkpoint_hooks_and_errors() -> None:
    bv, _bm, rounds = votes_at(10)
    e = err(lambda: bv.checkpoint_bonding_state(T, T, 11, 1, T, 1, 0, 0))
    assert e.error == "InvalidCaller" and e.params == (T, FakeBM.address)
    assert (
        err(lambda: bv.checkpoint_bonding_state(FakeBM.address, T, 10, 1, T, 1, 0, 0)).error
        == "InvalidStartRound"
    )
    assert (
        err(lambda: bv.checkpoint_bonding_state(FakeBM.address, T, 12, 1, T, 1, 0, 0)).error
        == "InvalidStartRound"
    )
    assert err(
        lambda: bv.checkpoint_bonding_state(FakeBM.address, T, 11, 1, T, 1, 11, 0)
    ).error == ("FutureLastClaimRound")
    assert not bv.has_checkpoint(T)
    cp(bv, T, 100, T, 100, 10, 0)
    cp(bv, T, 150, T, 150, 10, 0)  # same round: overwrites
    assert bv.has_checkpoint(T) and bv.get_bonding_state_at(T, 11).bonded_amount == 150
    names = [ev.name for ev in bv.events]
    assert names == [
        "DelegateChanged",
        "DelegateVotesChanged",
        "DelegatorBondedAmountChanged",
        "DelegateVotesChanged",
        "DelegatorBondedAmountChanged",
    ]
    n = len(bv.events)
    cp(bv, T, 150, T, 150, 9, 0)  # only lastClaimRound changes: bonded-amount event only
    assert [ev.name for ev in bv.events[n:]] == ["DelegatorBondedAmountChanged"]
    n = len(bv.events)
    cp(bv, D, 0, D, 0, 9, 0)  # zero-amount self-delegator: no DelegateVotesChanged
    assert "DelegateVotesChanged" not in [ev.name for ev in bv.events[n:]]
    # lookups
    assert err(lambda: bv.get_votes_and_delegate_at_round_start(T, 12)).error == "FutureLookup"
    assert bv.get_votes_and_delegate_at_round_start(T, 10)[0] == 0  # before the first checkpoint
    rounds.round = 20
    assert bv.get_past_votes(T, 15) == 150 and bv.get_votes(T) == 150
    assert err(lambda: bv.get_past_votes(T, 20)).params == (20, 19)
    assert bv.delegates(T) == T and bv.delegated_at(T, 15) == T


def test_bv_total_active_stake_history() -> None:
    bv, _bm, rounds = votes_at(10)
    assert bv.get_total_active_stake_at(5) == 0  # no checkpoints
    assert err(lambda: bv.checkpoint_total_active_stake(T, 5, 10)).error == "InvalidCaller"
    e = err(lambda: bv.checkpoint_total_active_stake(FakeBM.address, 5, 9))
    assert e.error == "InvalidTotalStakeCheckpointRound" and e.params == (9, 10)
    bv.checkpoint_total_active_stake(FakeBM.address, 100, 10)
    rounds.round = 13
    bv.checkpoint_total_active_stake(FakeBM.address, 130, 13)
    assert bv.get_total_active_stake_at(9) == 0  # before the first
    assert bv.get_total_active_stake_at(10) == 100
    assert bv.get_total_active_stake_at(11) == 130  # intermediate: the next checkpoint's value
    assert bv.get_total_active_stake_at(13) == 130
    assert bv.get_total_active_stake_at(14) == 777  # after the last: nextRoundTotalActiveStake
    assert err(lambda: bv.get_total_active_stake_at(15)).error == "FutureLookup"
    assert bv.total_supply() == 777 and bv.get_past_total_supply(9) == 100


def test_bv_metadata_and_delegate() -> None:
    bv, _, _rounds = votes_at(42)
    assert (bv.name, bv.symbol, bv.decimals, bv.CLOCK_MODE) == (
        "Livepeer Voting Power",
        "vLPT",
        18,
        "mode=livepeer_round",
    )
    assert bv.clock() == 42
    assert err(lambda: bv.delegate(T, D)).reason == "MustCallBondingManager(bond)"
    assert err(lambda: bv.delegate_by_sig(T)).reason == "MustCallBondingManager(bondFor)"


# -- counting -------------------------------------------------------------------------------


class VotesMock:
    """ERC20Votes-like source with a block clock (the harness of GovernorCountingOverridable.js)."""

    def __init__(self, power: dict[bytes, int], delegate: dict[bytes, bytes] | None = None) -> None:
        self.now = 100
        self.power = power
        self.delegate = delegate or {}

    def clock(self) -> int:
        return self.now

    def get_past_votes(self, account: bytes, round: int) -> int:
        return self.power.get(account, 0)

    def get_past_total_supply(self, round: int) -> int:
        return sum(self.power.values())

    def delegated_at(self, account: bytes, round: int) -> bytes:
        return self.delegate.get(account, account)


VOTERS = [label(f"v{i}") for i in range(1, 11)]
PROPOSER = label("proposer")


def g1() -> tuple[LivepeerGovernor, VotesMock, int]:
    power = {v: (i + 1) * E18 for i, v in enumerate(VOTERS)}
    power[PROPOSER] = E18
    src = VotesMock(power)
    gov = LivepeerGovernor(
        votes=src,
        treasury=None,
        voting_delay=1,
        voting_period=10,
        proposal_threshold=0,
        quorum_numerator=370_000,
        quota=420_000,
    )
    pid = gov.propose(PROPOSER, [Call(gov, "set_voting_period", (5,))], "G1")
    src.now += 2
    assert gov.state(pid) == ProposalState.ACTIVE
    return gov, src, pid


def test_g1_counting_modes_and_results() -> None:
    gov, src, pid = g1()
    assert gov.COUNTING_MODE == "support=bravo&quorum=for,abstain,against"
    for i in (10, 9, 6):
        gov.cast_vote(VOTERS[i - 1], pid, 0)
    for i in (8, 7, 5, 4):
        gov.cast_vote(VOTERS[i - 1], pid, 1)
    for i in (3, 2, 1):
        gov.cast_vote(VOTERS[i - 1], pid, 2)
    assert gov.proposal_votes(pid) == (25 * E18, 24 * E18, 6 * E18)
    assert gov.has_voted(pid, VOTERS[0]) and not gov.has_voted(pid, PROPOSER)
    src.now += 10
    assert gov.state(pid) == ProposalState.SUCCEEDED  # 24 >= 0.42 * 49


@pytest.mark.parametrize(
    ("for_voters", "expected"),
    [([1, 2, 3, 4, 5, 8], ProposalState.DEFEATED), ([1, 2, 3, 4, 5, 9], ProposalState.SUCCEEDED)],
)
def test_g1_quota(for_voters: list[int], expected: ProposalState) -> None:
    gov, src, pid = g1()
    for i in range(1, 11):
        gov.cast_vote(VOTERS[i - 1], pid, 1 if i in for_voters else 0)
    src.now += 10
    assert gov.state(pid) == expected


@pytest.mark.parametrize(
    ("voters", "reached"), [([1, 2, 3, 4, 10], False), ([1, 2, 3, 4, 5, 6], True)]
)
def test_g1_quorum(voters: list[int], reached: bool) -> None:
    gov, _src, pid = g1()
    for i in voters:
        gov.cast_vote(VOTERS[i - 1], pid, 2)
    assert gov.quorum_reached(pid) is reached


def test_vote_succeeded_ignores_abstain() -> None:
    gov, _src, pid = g1()
    assert gov.vote_succeeded(pid)  # 0 / 0 passes
    for i, s in [(1, 1), (2, 1), (3, 1), (4, 0), (5, 0)]:
        gov.cast_vote(VOTERS[i - 1], pid, s)
    assert not gov.vote_succeeded(pid)  # 6 vs 9
    gov.cast_vote(VOTERS[5], pid, 2)
    assert not gov.vote_succeeded(pid)
    gov.cast_vote(VOTERS[6], pid, 1)  # 13 vs 9
    assert gov.vote_succeeded(pid)
    for i in (8, 9, 10):
        gov.cast_vote(VOTERS[i - 1], pid, 2)
    assert gov.vote_succeeded(pid)


def test_count_vote_errors() -> None:
    gov, _src, pid = g1()
    e = err(lambda: gov.cast_vote(VOTERS[0], pid, 7))
    assert e.reason == "InvalidVoteType(7)"
    gov.cast_vote(VOTERS[0], pid, 1)
    assert err(lambda: gov.cast_vote(VOTERS[0], pid, 1)).reason == "VoteAlreadyCast()"
    assert gov.proposal_votes(pid) == (0, E18, 0)


def g2() -> tuple[LivepeerGovernor, VotesMock, int, list[bytes], list[bytes]]:
    ts = [label(f"t{i}") for i in range(1, 4)]
    ds = [label(f"d{i}") for i in range(1, 4)]
    power: dict[bytes, int] = {}
    delegate: dict[bytes, bytes] = {}
    for i, (t, d) in enumerate(zip(ts, ds, strict=True), start=1):
        power[t] = 2 * i
        power[d] = i
        delegate[d] = t
    src = VotesMock(power, delegate)
    gov = LivepeerGovernor(votes=src, treasury=None, proposal_threshold=0)
    pid = gov.propose(ts[0], [Call(gov, "set_voting_period", (5,))], "G2")
    src.now += 2
    return gov, src, pid, ts, ds


@pytest.mark.parametrize(
    ("t_support", "d_support", "t_first"),
    list(itertools.product(range(3), range(3), [True, False])),
)
def test_g2_override_matrix(t_support: int, d_support: int, t_first: bool) -> None:
    gov, _, pid, ts, ds = g2()
    if t_first:
        gov.cast_vote(ts[0], pid, t_support)
        mid = [0, 0, 0]
        mid[t_support] += 2
        assert list(gov.proposal_votes(pid)) == mid
        gov.cast_vote(ds[0], pid, d_support)
    else:
        gov.cast_vote(ds[0], pid, d_support)
        gov.cast_vote(ts[0], pid, t_support)
    want = [0, 0, 0]
    want[t_support] += 1  # the transcoder keeps only its own part
    want[d_support] += 1  # the delegator's stake follows its own choice
    assert list(gov.proposal_votes(pid)) == want


def test_g2_non_self_delegated_delegate_is_never_overridden() -> None:
    gov, src, pid, ts, ds = g2()
    # d2 delegates to d3, which is itself a delegator (delegated to t3): no override logic
    src.delegate[ds[1]] = ds[2]
    gov.cast_vote(ds[2], pid, 0)  # d3 (3) overrides t3 ... t3 has not voted
    gov.cast_vote(ds[1], pid, 1)  # d2 (2): counted fully, no deduction on d3
    gov.cast_vote(ts[0], pid, 0)  # t1 (2), no delegator of t1 voted
    assert list(gov.proposal_votes(pid)) == [5, 2, 0]


# -- the whole model ------------------------------------------------------------------------


def test_proposal_on_the_protocol_model() -> None:
    p = Protocol(UNIT_TEST)
    bm, gov = p.bonding_manager, p.governor
    t1, t2, d1 = label("orch1"), label("orch2"), label("del1")
    p.register_transcoder(t1, 1000 * E18, 100_000, 500_000)
    p.register_transcoder(t2, 800 * E18, 100_000, 500_000)
    p.faucet(d1, 300 * E18)
    p.bond(d1, 300 * E18, t1)
    p.faucet(p.treasury.address, 50 * E18)
    p.advance_rounds(2)
    bm.reward(t1)
    bm.reward(t2)
    p.advance_rounds(1)
    r = p.current_round
    grantee = label("grantee")
    calls = [Call(p.token, "transfer", (grantee, 40 * E18)), Call(gov, "set_voting_period", (12,))]
    with pytest.raises(Revert) as e:
        gov.propose(grantee, calls, "no stake")
    assert e.value.reason == "Governor: proposer votes below proposal threshold"
    pid = gov.propose(t2, calls, "LIP-x: grant and longer votes")
    assert (gov.proposal_snapshot(pid), gov.proposal_deadline(pid)) == (r + 1, r + 11)
    assert gov.state(pid) == ProposalState.PENDING
    p.advance_rounds(2)
    assert gov.state(pid) == ProposalState.ACTIVE
    w_t1 = gov.cast_vote(t1, pid, 0)  # against with its whole delegated stake
    w_d1 = gov.cast_vote(d1, pid, 1)  # its delegator overrides its own part
    w_t2 = gov.cast_vote(t2, pid, 1)
    assert w_d1 == bm.pending_stake(d1, 0)  # votes = pending stake at the snapshot round start
    assert gov.proposal_votes(pid) == (w_t1 - w_d1, w_d1 + w_t2, 0)
    with pytest.raises(Revert):
        gov.execute(t2, pid)
    p.advance_rounds(10)
    assert gov.state(pid) == ProposalState.SUCCEEDED
    gov.queue(t2, pid)
    assert gov.state(pid) == ProposalState.QUEUED
    gov.execute(label("anyone"), pid)
    assert gov.state(pid) == ProposalState.EXECUTED
    assert p.token.balance_of(grantee) == 40 * E18
    assert gov.voting_period() == 12
    with pytest.raises(Revert) as e:
        gov.set_voting_period(t1, 3)
    assert e.value.reason == "Governor: onlyGovernance"


def test_quorum_uses_total_active_stake_at_snapshot() -> None:
    p = Protocol(UNIT_TEST)
    t1 = label("orch1")
    p.register_transcoder(t1, 1000 * E18, 0, 0)
    p.advance_rounds(2)
    pid = p.governor.propose(t1, [Call(p.governor, "set_voting_delay", (2,))], "q")
    snap = p.governor.proposal_snapshot(pid)
    p.advance_rounds(2)
    assert (
        p.governor.quorum(snap)
        == p.bonding_votes.get_total_active_stake_at(snap + 1) * 333_300 // 10**6
    )
    assert p.governor.quorum(snap) == 1000 * E18 * 333_300 // 10**6


def test_votes_track_pending_stake_every_round() -> None:
    """Integration BondingVotes.js: a delegator's votes equal its pending stake, a transcoder's
    its delegated stake; gaps without reward calls and rounds without initialization included."""
    p = Protocol(UNIT_TEST)
    bm, bv = p.bonding_manager, p.bonding_votes
    t1, t2 = label("orch1"), label("orch2")
    d1, d2 = label("del1"), label("del2")
    p.register_transcoder(t1, 1000 * E18, 250_000, 0)
    p.register_transcoder(t2, 700 * E18, 500_000, 0)
    p.faucet(d1, 400 * E18)
    p.bond(d1, 400 * E18, t1)
    p.faucet(d2, 300 * E18)
    p.bond(d2, 300 * E18, t2)
    for step in range(9):
        p.advance_rounds(1, initialize=step != 4)
        if step == 4:
            p.advance_rounds(1)
        if step % 3 != 2:
            bm.reward(t1)
        if step % 2 == 0:
            bm.reward(t2)
        if step == 5:
            bm.bond(d1, 0, t2)  # delegate change
        if step == 6:
            bm.claim_earnings(d2, 0)
        for d in (d1, d2):
            assert bv.get_votes(d) == bm.pending_stake(d, 0)
            assert bv.delegates(d) == bm.get_delegator(d).delegate_address
        for t in (t1, t2):
            assert bv.get_votes(t) == bm.transcoder_total_stake(t)
        assert bv.total_supply() == bm.next_round_total_active_stake
        r = p.current_round
        assert bv.get_past_total_supply(r - 1) == bm.current_round_total_active_stake


def test_treasury_min_delay_in_blocks() -> None:
    from dataclasses import replace

    p = Protocol(replace(UNIT_TEST, treasury_min_delay=30))
    gov = p.governor
    t1 = label("orch1")
    p.register_transcoder(t1, 1000 * E18, 0, 0)
    p.advance_rounds(2)
    pid = gov.propose(t1, [Call(gov, "set_proposal_threshold", (5 * E18,))], "threshold")
    p.advance_rounds(2)
    gov.cast_vote(t1, pid, 1)
    p.advance_rounds(10)
    gov.queue(t1, pid)
    with pytest.raises(Revert) as e:
        gov.execute(t1, pid)
    assert e.value.reason == "TimelockController: operation is not ready"
    assert gov.state(pid) == ProposalState.QUEUED  # the failed execute changed nothing
    p.advance_blocks(30)
    gov.execute(t1, pid)
    assert gov.proposal_threshold() == 5 * E18 and gov.state(pid) == ProposalState.EXECUTED
