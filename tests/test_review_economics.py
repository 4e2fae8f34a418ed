"""Adversarial review of the protocol economics models against spec/protocol-economics.md.

Each test pins one divergence found in review (revert strings, check semantics, formulas) and
names the spec section it follows. They failed before the matching fix in ``src/pm/protocol``.
"""

from __future__ import annotations

import pytest

from pm.crypto import keccak256
from pm.evm import Revert
from pm.protocol import MINTER_ROLE, Call, LivepeerGovernor, LivepeerToken, Minter, ProposalState
from pm.protocol.mocks import OWNER, TICKET_BROKER, TREASURY, BondingFixture, label
from pm.protocol.treasury import Treasury

E18 = 10**18


def reason(fn: object) -> str:
    with pytest.raises(Revert) as e:
        fn()  # type: ignore[operator]
    return e.value.reason


# -- Treasury (OZ TimelockController 4.9): AccessControl revert strings ----------------------


@pytest.mark.parametrize(
    ("role", "call"),
    [
        ("PROPOSER_ROLE", lambda t, who: t.schedule(who, b"\x01" * 32, 0)),
        ("EXECUTOR_ROLE", lambda t, who: t.execute(who, b"\x01" * 32, ())),
        ("CANCELLER_ROLE", lambda t, who: t.cancel(who, b"\x01" * 32)),
    ],
)
def test_treasury_role_revert_is_openzeppelins_hex_string(role: str, call: object) -> None:
    """OZ AccessControl._checkRole: "AccessControl: account 0x<addr> is missing role 0x<role
    id>", the role id being keccak256 of its name (toHexString(uint256(role), 32))."""
    t = Treasury()
    t.grant_governor(label("gov"))
    who = label("stranger")
    role_id = keccak256(role.encode()).hex()
    want = f"AccessControl: account 0x{who.hex()} is missing role 0x{role_id}"
    assert reason(lambda: call(t, who)) == want  # type: ignore[operator]


# -- LivepeerGovernor: quorum(t) uses quorumNumerator(t) (spec §4.2 step 4) ------------------


class _Votes:
    """Votes source: fixed powers, settable clock (rounds)."""

    def __init__(self, power: dict[bytes, int]) -> None:
        self.now = 100
        self.power = power

    def clock(self) -> int:
        return self.now

    def get_past_votes(self, account: bytes, round: int) -> int:
        return self.power.get(account, 0)

    def get_past_total_supply(self, round: int) -> int:
        return sum(self.power.values())

    def delegated_at(self, account: bytes, round: int) -> bytes:
        return account


def test_quorum_numerator_change_does_not_touch_earlier_snapshots() -> None:
    """GovernorVotesQuorumFraction checkpoints the numerator by clock(): a change in round u
    applies to snapshots >= u; a proposal whose snapshot is earlier keeps the old quorum."""
    voters = [label(f"v{i}") for i in range(10)]
    src = _Votes({v: 10 * E18 for v in voters})  # 100 LPT of total stake
    gov = LivepeerGovernor(
        votes=src, treasury=None, proposal_threshold=0, quorum_numerator=333_300, quota=500_000
    )
    pid = gov.propose(voters[0], [Call(gov, "set_voting_delay", (1,))], "p")  # snapshot 101
    src.now = 103
    for v in voters[:4]:  # 40 LPT For: 40 % >= 33.33 %
        gov.cast_vote(v, pid, 1)
    gov.update_quorum_numerator(gov.address, 500_000)  # executor is the governor itself here
    assert gov.quorum_numerator() == 500_000
    assert gov.quorum_numerator(101) == 333_300
    assert gov.quorum(101) == 100 * E18 * 333_300 // 10**6
    assert gov.quorum(103) == 100 * E18 * 500_000 // 10**6
    src.now = 112
    assert gov.state(pid) == ProposalState.SUCCEEDED


def test_quorum_numerator_same_round_update_overwrites() -> None:
    """Checkpoints.push with the latest key overwrites the value (two updates in one round)."""
    src = _Votes({label("a"): 10 * E18})
    gov = LivepeerGovernor(votes=src, treasury=None, quorum_numerator=100_000)
    src.now = 105
    gov.update_quorum_numerator(gov.address, 200_000)
    gov.update_quorum_numerator(gov.address, 300_000)
    assert [e.args for e in gov.events if e.name == "QuorumNumeratorUpdated"][-1] == {
        "oldQuorumNumerator": 200_000,
        "newQuorumNumerator": 300_000,
    }
    assert gov.quorum_numerator(104) == 100_000
    assert gov.quorum_numerator(105) == 300_000
    assert gov.quorum_numerator(10**6) == 300_000


# -- Minter.migrateToNewMinter: the CURRENT Minter must be the registered one (spec §3) ------


def _minter(token: LivepeerToken, name: str) -> Minter:
    m = Minter(
        token=token,
        owner=OWNER,
        inflation=1,
        inflation_change=1,
        target_bonding_rate=1,
        address=label(name),
    )
    token.grant_role(OWNER, MINTER_ROLE, m.address)
    return m


def test_migrate_checks_that_this_minter_is_still_registered() -> None:
    """``require(newMinterController.getContract(keccak256("Minter")) == address(this),
    "new Minter must be registered")``: after A migrated to B (and B was registered), A can no
    longer migrate anywhere, while B can migrate to a freshly deployed (unregistered) Minter."""
    token = LivepeerToken(admin=OWNER)
    a, b, c = (_minter(token, n) for n in ("A", "B", "C"))
    token.grant_role(OWNER, MINTER_ROLE, OWNER)
    token.mint(OWNER, a.address, 50)
    a.migrate_to_new_minter(OWNER, b)
    assert token.balance_of(b.address) == 50
    assert reason(lambda: a.migrate_to_new_minter(OWNER, c)) == "new Minter must be registered"
    c.registered_minter = False  # deployed but not (yet) registered in the Controller
    b.migrate_to_new_minter(OWNER, c)
    assert token.balance_of(c.address) == 50 and token.balance_of(b.address) == 0


# -- LivepeerGovernor.queue: ProposalQueued(proposalId, eta) (OZ 4.9 GovernorTimelockControl) -


def test_proposal_queued_event_carries_eta() -> None:
    """``emit ProposalQueued(proposalId, block.timestamp + delay)``; the model's Treasury clock
    (blocks here) plus its minimum delay."""
    voter = label("v")
    src = _Votes({voter: 10 * E18})
    now = [500]
    treasury = Treasury(min_delay=7, clock=lambda: now[0])
    gov = LivepeerGovernor(votes=src, treasury=treasury, proposal_threshold=0)
    treasury.grant_governor(gov.address)
    pid = gov.propose(voter, [Call(gov, "set_voting_delay", (2,))], "eta")
    src.now = 102
    gov.cast_vote(voter, pid, 1)
    src.now = 112
    gov.queue(voter, pid)
    assert [e.args for e in gov.events if e.name == "ProposalQueued"] == [
        {"proposalId": pid, "eta": 507}
    ]
    now[0] = 507
    gov.execute(voter, pid)
    assert gov.voting_delay() == 2


# -- catalogue lines whose model tests asserted less than the contract's tests (§6.1) ---------

T0, D0, D2 = label("T0"), label("D0"), label("D2")
VERIFIER, FINDER = label("verifier"), label("finder")
NULL = bytes(20)


def _names(fx: BondingFixture, name: str) -> list[dict[str, object]]:
    return [e.args for e in fx.bm.events if e.name == name]


def test_slash_transcoder_penalty_finder_fee_burn_and_resign() -> None:
    """§2.11 / §6.1 slashTranscoder: penalty = bonded × slash / 1e6; the finder gets
    penalty × fee / 1e6, the rest is burned; a pool member is resigned; a Bonded transcoder's
    delegated stake drops by the penalty; no bond -> TranscoderSlashed with zeros."""
    fx = BondingFixture()
    fx.at(100)
    bm = fx.bm
    bm.verifier = VERIFIER
    bm.bond(T0, 1000, T0)
    bm.bond(D0, 500, T0)
    fx.at(101)
    bm.paused = True
    with pytest.raises(Revert) as e:
        bm.slash_transcoder(VERIFIER, T0, FINDER, 500_000, 100_000)
    assert e.value.reason == "system is paused"
    bm.paused = False
    assert reason(lambda: bm.slash_transcoder(OWNER, T0, FINDER, 1, 1)) == "caller must be Verifier"
    bm.slash_transcoder(VERIFIER, T0, FINDER, 500_000, 100_000)
    assert bm.get_delegator(T0).bonded_amount == 500
    assert bm.transcoder_total_stake(T0) == 1000
    assert bm.get_transcoder_pool_size() == 0 and bm.next_round_total_active_stake == 0
    assert bm.get_transcoder(T0).deactivation_round == 102
    assert _names(fx, "TranscoderDeactivated")[-1] == {"transcoder": T0, "deactivationRound": 102}
    assert fx.minter.calls_named("trusted_transfer_tokens")[-1] == (FINDER, 50)
    assert fx.minter.calls_named("trusted_burn_tokens")[-1] == (450,)
    assert _names(fx, "TranscoderSlashed")[-1] == {
        "transcoder": T0,
        "finder": FINDER,
        "penalty": 500,
        "finderReward": 50,
    }
    bm.slash_transcoder(VERIFIER, T0, NULL, 100_000, 100_000)  # no finder: all of it burned
    assert fx.minter.calls_named("trusted_burn_tokens")[-1] == (50,)
    assert len(fx.minter.calls_named("trusted_transfer_tokens")) == 1
    assert _names(fx, "TranscoderSlashed")[-1] == {
        "transcoder": T0,
        "finder": NULL,
        "penalty": 50,
        "finderReward": 0,
    }
    assert bm.get_delegator(T0).bonded_amount == 450 and bm.transcoder_total_stake(T0) == 950
    n = len(fx.minter.calls)
    bm.slash_transcoder(VERIFIER, D2, FINDER, 500_000, 100_000)
    assert _names(fx, "TranscoderSlashed")[-1] == {
        "transcoder": D2,
        "finder": FINDER,
        "penalty": 0,
        "finderReward": 0,
    }
    assert len(fx.minter.calls) == n


def test_withdraw_fees_checkpoints_the_claimed_state_last() -> None:
    """§2.5 withdrawFees has autoCheckpoint(msg.sender) (audit fix #623): the caller's checkpoint
    is written after the claim, with lastClaimRound = current round."""
    fx = BondingFixture()
    fx.at(100)
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    fx.at(101)
    bm.update_transcoder_with_fees(TICKET_BROKER, T0, 1000, 101)
    n = len(fx.votes.bonding)
    bm.withdraw_fees(T0, D2, 500)
    assert len(fx.votes.bonding) == n + 1
    assert fx.votes.bonding[-1] == {
        "account": T0,
        "start_round": 102,
        "bonded_amount": 1000,
        "delegate_address": T0,
        "delegated_amount": 1000,
        "last_claim_round": 101,
        "last_reward_round": 0,
    }


def test_treasury_ceiling_emits_its_own_parameter_update() -> None:
    """V3: the ceiling check emits a SECOND ParameterUpdate("nextRoundTreasuryRewardCutRate")
    (the first came from the setter) and still pays this round's 63 to the treasury."""
    fx = BondingFixture()
    fx.at(100)
    bm = fx.bm
    bm.bond(T0, 1000, T0)
    bm.transcoder(T0, 500_000, 10)
    bm.set_treasury_reward_cut_rate(OWNER, 631 * 10**27 // 10_000)
    bm.set_treasury_balance_ceiling(OWNER, 1000)
    fx.token.balances[TREASURY] = 1000
    fx.at(101)
    before = _names(fx, "ParameterUpdate").count({"param": "nextRoundTreasuryRewardCutRate"})
    bm.reward(T0)
    after = _names(fx, "ParameterUpdate").count({"param": "nextRoundTreasuryRewardCutRate"})
    assert (before, after) == (1, 2)
    assert fx.minter.calls_named("trusted_transfer_tokens") == [(TREASURY, 63)]
    assert bm.next_round_treasury_reward_cut_rate == 0


def test_migrate_with_no_lpt_still_calls_transfer() -> None:
    """``livepeerToken().transfer(newMinter, balanceOf(this))`` runs even for a zero balance,
    so the token logs Transfer(old, new, 0) (OZ ERC20 emits it for zero amounts)."""
    token = LivepeerToken(admin=OWNER)
    a, b = _minter(token, "A"), _minter(token, "B")
    a.migrate_to_new_minter(OWNER, b)
    transfers = [e.args for e in token.events if e.name == "Transfer"]
    assert transfers == [{"from": a.address, "to": b.address, "value": 0}]


# -- Treasury (OZ 4.9 TimelockController._execute): a failing call does not bubble its reason -


def test_failing_proposal_call_reverts_with_timelocks_own_string() -> None:
    """OZ 4.x ``_execute``: ``(bool success, ) = target.call{value}(data); require(success,
    "TimelockController: underlying transaction reverted")`` — the inner reason is dropped; the
    whole execute reverts and nothing changes (the proposal stays Queued)."""
    voter = label("v")
    src = _Votes({voter: 10 * E18})
    treasury = Treasury()
    gov = LivepeerGovernor(votes=src, treasury=treasury, proposal_threshold=0)
    treasury.grant_governor(gov.address)
    token = LivepeerToken(admin=OWNER)
    calls = [
        Call(gov, "set_voting_delay", (3,)),
        Call(token, "transfer", (label("grantee"), 1)),  # the Treasury holds no LPT
    ]
    pid = gov.propose(voter, calls, "grant")
    src.now = 102
    gov.cast_vote(voter, pid, 1)
    src.now = 112
    gov.queue(voter, pid)
    n = len(gov.events)
    assert reason(lambda: gov.execute(voter, pid)) == (
        "TimelockController: underlying transaction reverted"
    )
    assert gov.state(pid) == ProposalState.QUEUED
    assert gov.voting_delay() == 1 and len(gov.events) == n


# -- GovernorCountingOverridable._countVote through the model's public count_vote ------------


class _PickyVotes(_Votes):
    """A vote source whose delegatedAt lookup reverts (e.g. BondingVotes' FutureLookup)."""

    fail = True

    def delegated_at(self, account: bytes, round: int) -> bytes:
        if self.fail:
            raise Revert("FutureLookup(101, 100)")
        return account


def test_count_vote_that_reverts_leaves_no_trace() -> None:
    """Like the contract harness' _countVote transaction: a revert inside (here the delegatedAt
    lookup, after hasVoted was set) must not leave the voter marked as having voted."""
    voter = label("v")
    src = _PickyVotes({voter: 10 * E18})
    gov = LivepeerGovernor(votes=src, treasury=None, proposal_threshold=0)
    pid = gov.propose(voter, [Call(gov, "set_voting_delay", (2,))], "x")
    assert reason(lambda: gov.count_vote(pid, voter, 1, 5)) == "FutureLookup(101, 100)"
    assert not gov.has_voted(pid, voter)
    src.fail = False
    gov.count_vote(pid, voter, 1, 5)
    assert gov.proposal_votes(pid) == (0, 5, 0)
