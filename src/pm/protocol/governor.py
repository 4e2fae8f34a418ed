"""LivepeerGovernor: on-chain stake voting (OpenZeppelin 4.9 Governor) with delegator override.

spec/protocol-economics.md §4.2 and §4.4 (contracts/treasury/LivepeerGovernor.sol,
GovernorCountingOverridable.sol). The clock is the round number of the vote source
(:class:`~pm.protocol.bonding_votes.BondingVotes`); a proposal made in round R has snapshot R+1 and
deadline R+1+votingPeriod; votes weigh the voter's stake at the start of round R+2. Counting:
a transcoder's ballot counts its delegated stake minus the stake of its delegators that voted
themselves; quorum is ``for + against + abstain >= total active stake × quorum / 1e6``; a
proposal passes if ``for >= (for + against) × quota / 1e6``. Passed proposals are queued in and
executed by the :class:`~pm.protocol.treasury.Treasury`.

The proposal id is ``keccak256`` of the description hash and a text rendering of the calls (the
model's calls are Python objects, not ABI calldata), so it is stable but not OpenZeppelin's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import NamedTuple, Protocol

from pm.crypto import keccak256
from pm.evm import Event, Revert

from ._journal import JDict, JList, Journaled, external
from ._math import MATH_PERC_DIVISOR
from .bonding_votes import ContractError
from .treasury import Call, Treasury

__all__ = ["LivepeerGovernor", "ProposalState", "ProposalVote", "VoteType", "VotesSource"]


class VotesSource(Protocol):
    def clock(self) -> int: ...
    def get_past_votes(self, account: bytes, round: int) -> int: ...
    def get_past_total_supply(self, round: int) -> int: ...
    def delegated_at(self, account: bytes, round: int) -> bytes: ...


class VoteType(IntEnum):
    AGAINST = 0
    FOR = 1
    ABSTAIN = 2


class ProposalState(IntEnum):
    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7


class ProposalVote(NamedTuple):
    """``proposalVotes(id)``: LPT wei for each choice."""

    against_votes: int
    for_votes: int
    abstain_votes: int


class _Voter(Journaled):
    __slots__ = ("deductions", "has_voted", "support")

    def __init__(self) -> None:
        self.has_voted = False
        self.support = 0
        self.deductions = 0


class _Proposal(Journaled):
    __slots__ = (
        "calls",
        "canceled",
        "deadline",
        "description",
        "executed",
        "proposer",
        "queued",
        "snapshot",
        "tally",
        "voters",
    )

    def __init__(
        self,
        proposer: bytes,
        snapshot: int,
        deadline: int,
        calls: tuple[Call, ...],
        description: str,
    ) -> None:
        self.proposer = proposer
        self.snapshot = snapshot
        self.deadline = deadline
        self.calls = calls
        self.description = description
        self.canceled = False
        self.executed = False
        self.queued = False
        self.tally = [0, 0, 0]  # replaced (never mutated in place) so reverts restore it
        self.voters: JDict[bytes, _Voter] = JDict()


class LivepeerGovernor(Journaled):
    """Governor with round clock, BondingVotes weights, override counting and a timelock."""

    __slots__ = (
        "_proposals",
        "address",
        "events",
        "proposal_threshold_",
        "quorum_numerator_",
        "quorum_numerator_history",
        "quota",
        "treasury",
        "votes",
        "voting_delay_",
        "voting_period_",
    )

    name = "LivepeerGovernor"
    COUNTING_MODE = "support=bravo&quorum=for,abstain,against"

    def __init__(
        self,
        *,
        votes: VotesSource,
        treasury: Treasury | None,
        voting_delay: int = 1,
        voting_period: int = 10,
        proposal_threshold: int = 100 * 10**18,
        quorum_numerator: int = 333_300,
        quota: int = 500_000,
        address: bytes = bytes.fromhex("cfe4e2879b786c3aa075813f0e364bb5accb6aa0"),
    ) -> None:
        self.address = address
        self.votes = votes
        self.treasury = treasury
        self.voting_delay_ = voting_delay
        self.voting_period_ = voting_period
        self.proposal_threshold_ = proposal_threshold
        self.quorum_numerator_ = quorum_numerator
        #: GovernorVotesQuorumFraction's checkpoints ``(round, numerator)``, oldest first; the
        #: initial value is keyed 0 so it covers every snapshot before the first update.
        self.quorum_numerator_history: JList[tuple[int, int]] = JList([(0, quorum_numerator)])
        self.quota = quota
        self._proposals: JDict[int, _Proposal] = JDict()
        self.events: JList[Event] = JList()

    # ------------------------------------------------------------------ settings
    def clock(self) -> int:
        return self.votes.clock()

    def voting_delay(self) -> int:
        return self.voting_delay_

    def voting_period(self) -> int:
        return self.voting_period_

    def proposal_threshold(self) -> int:
        return self.proposal_threshold_

    def quorum_numerator(self, round: int | None = None) -> int:
        """The numerator (1e6 = 100 %) now, or in force at ``round`` (the latest checkpoint with
        a round <= ``round``: a change applies to proposals whose snapshot is not earlier)."""
        if round is None:
            return self.quorum_numerator_
        value = 0
        for key, numerator in self.quorum_numerator_history:
            if key > round:
                break
            value = numerator
        return value

    def quorum_denominator(self) -> int:
        return MATH_PERC_DIVISOR

    def quorum(self, round: int) -> int:
        """LPT wei needed: past total active stake × numerator at ``round`` / 1e6."""
        supply = self.votes.get_past_total_supply(round)
        return supply * self.quorum_numerator(round) // MATH_PERC_DIVISOR

    def _executor(self) -> bytes:
        return self.treasury.address if self.treasury is not None else self.address

    def _only_governance(self, sender: bytes) -> None:
        if sender != self._executor():
            raise Revert("Governor: onlyGovernance")

    @external
    def set_voting_delay(self, sender: bytes, new_voting_delay: int) -> None:
        self._only_governance(sender)
        self.events.append(
            Event(
                "VotingDelaySet",
                {"oldVotingDelay": self.voting_delay_, "newVotingDelay": new_voting_delay},
            )
        )
        self.voting_delay_ = new_voting_delay

    @external
    def set_voting_period(self, sender: bytes, new_voting_period: int) -> None:
        self._only_governance(sender)
        if new_voting_period <= 0:
            raise Revert("GovernorSettings: voting period too low")
        self.events.append(
            Event(
                "VotingPeriodSet",
                {"oldVotingPeriod": self.voting_period_, "newVotingPeriod": new_voting_period},
            )
        )
        self.voting_period_ = new_voting_period

    @external
    def set_proposal_threshold(self, sender: bytes, new_proposal_threshold: int) -> None:
        self._only_governance(sender)
        self.events.append(
            Event(
                "ProposalThresholdSet",
                {
                    "oldProposalThreshold": self.proposal_threshold_,
                    "newProposalThreshold": new_proposal_threshold,
                },
            )
        )
        self.proposal_threshold_ = new_proposal_threshold

    @external
    def update_quorum_numerator(self, sender: bytes, new_quorum_numerator: int) -> None:
        self._only_governance(sender)
        if new_quorum_numerator > MATH_PERC_DIVISOR:
            raise Revert("GovernorVotesQuorumFraction: quorumNumerator over quorumDenominator")
        self.events.append(
            Event(
                "QuorumNumeratorUpdated",
                {
                    "oldQuorumNumerator": self.quorum_numerator_,
                    "newQuorumNumerator": new_quorum_numerator,
                },
            )
        )
        self.quorum_numerator_ = new_quorum_numerator
        # Checkpoints.push(clock(), value): a second update in the same round overwrites it
        history = self.quorum_numerator_history
        now = self.clock()
        if history[-1][0] == now:
            history[-1] = (now, new_quorum_numerator)
        else:
            history.append((now, new_quorum_numerator))

    # ------------------------------------------------------------------ proposals
    @staticmethod
    def hash_proposal(calls: Sequence[Call], description: str) -> int:
        text = "|".join(c.describe() for c in calls).encode()
        return int.from_bytes(keccak256(keccak256(description.encode()) + keccak256(text)), "big")

    def _proposal(self, proposal_id: int) -> _Proposal:
        p = self._proposals.get(proposal_id)
        if p is None:
            raise Revert("Governor: unknown proposal id")
        return p

    def proposal_snapshot(self, proposal_id: int) -> int:
        return self._proposal(proposal_id).snapshot

    def proposal_deadline(self, proposal_id: int) -> int:
        return self._proposal(proposal_id).deadline

    def proposal_proposer(self, proposal_id: int) -> bytes:
        return self._proposal(proposal_id).proposer

    def proposal_votes(self, proposal_id: int) -> ProposalVote:
        t = self._proposal(proposal_id).tally
        return ProposalVote(t[0], t[1], t[2])

    def has_voted(self, proposal_id: int, account: bytes) -> bool:
        v = self._proposal(proposal_id).voters.get(account)
        return v is not None and v.has_voted

    def quorum_reached(self, proposal_id: int) -> bool:
        p = self._proposal(proposal_id)
        return self.quorum(p.snapshot) <= sum(p.tally)

    def vote_succeeded(self, proposal_id: int) -> bool:
        """``for >= (for + against) × quota / 1e6`` (abstain ignored; 0/0 passes)."""
        t = self._proposal(proposal_id).tally
        return t[1] >= (t[1] + t[0]) * self.quota // MATH_PERC_DIVISOR

    def state(self, proposal_id: int) -> ProposalState:
        p = self._proposal(proposal_id)
        if p.executed:
            return ProposalState.EXECUTED
        if p.canceled:
            return ProposalState.CANCELED
        now = self.clock()
        if p.snapshot >= now:
            return ProposalState.PENDING
        if p.deadline >= now:
            return ProposalState.ACTIVE
        if not (self.quorum_reached(proposal_id) and self.vote_succeeded(proposal_id)):
            return ProposalState.DEFEATED
        if p.queued:
            return ProposalState.QUEUED
        return ProposalState.SUCCEEDED

    @external
    def propose(self, sender: bytes, calls: Sequence[Call], description: str) -> int:
        """Create a proposal; the proposer needs ``proposal_threshold`` votes at round start."""
        now = self.clock()
        if self.votes.get_past_votes(sender, now - 1) < self.proposal_threshold_:
            raise Revert("Governor: proposer votes below proposal threshold")
        if len(calls) == 0:
            raise Revert("Governor: empty proposal")
        proposal_id = self.hash_proposal(calls, description)
        if proposal_id in self._proposals:
            raise Revert("Governor: proposal already exists")
        snapshot = now + self.voting_delay_
        deadline = snapshot + self.voting_period_
        self._proposals[proposal_id] = _Proposal(
            sender, snapshot, deadline, tuple(calls), description
        )
        self.events.append(
            Event(
                "ProposalCreated",
                {
                    "proposalId": proposal_id,
                    "proposer": sender,
                    "calls": tuple(calls),
                    "voteStart": snapshot,
                    "voteEnd": deadline,
                    "description": description,
                },
            )
        )
        return proposal_id

    @external
    def cancel(self, sender: bytes, proposal_id: int) -> None:
        p = self._proposal(proposal_id)
        if self.state(proposal_id) != ProposalState.PENDING:
            raise Revert("Governor: too late to cancel")
        if sender != p.proposer:
            raise Revert("Governor: only proposer can cancel")
        p.canceled = True
        self.events.append(Event("ProposalCanceled", {"proposalId": proposal_id}))

    @external
    def cast_vote(self, sender: bytes, proposal_id: int, support: int, reason: str = "") -> int:
        """Vote with the stake at the start of round snapshot+1; returns the weight counted."""
        p = self._proposal(proposal_id)
        if self.state(proposal_id) != ProposalState.ACTIVE:
            raise Revert("Governor: vote not currently active")
        weight = self.votes.get_past_votes(sender, p.snapshot)
        self.count_vote(proposal_id, sender, support, weight)
        self.events.append(
            Event(
                "VoteCast",
                {
                    "voter": sender,
                    "proposalId": proposal_id,
                    "support": support,
                    "weight": weight,
                    "reason": reason,
                },
            )
        )
        return weight

    @external
    def count_vote(self, proposal_id: int, account: bytes, support: int, weight: int) -> None:
        """GovernorCountingOverridable._countVote (spec §4.4)."""
        p = self._proposal(proposal_id)
        if support > VoteType.ABSTAIN:
            raise ContractError("InvalidVoteType", support)
        voter = p.voters.get(account)
        if voter is None:
            voter = _Voter()
            p.voters[account] = voter
        if voter.has_voted:
            raise ContractError("VoteAlreadyCast")
        voter.has_voted = True
        voter.support = support
        tally = list(p.tally)
        delegate = self.votes.delegated_at(account, p.snapshot)
        if account == delegate:
            weight -= voter.deductions
        elif delegate == self.votes.delegated_at(delegate, p.snapshot):
            dv = p.voters.get(delegate)
            if dv is None:
                dv = _Voter()
                p.voters[delegate] = dv
            dv.deductions += weight
            if dv.has_voted:
                tally[dv.support] -= weight
        tally[support] += weight
        p.tally = tally

    @external
    def queue(self, sender: bytes, proposal_id: int) -> None:
        p = self._proposal(proposal_id)
        if self.state(proposal_id) != ProposalState.SUCCEEDED:
            raise Revert("Governor: proposal not successful")
        eta = 0
        if self.treasury is not None:
            delay = self.treasury.min_delay
            self.treasury.schedule(self.address, _op_id(proposal_id), delay)
            eta = self.treasury.clock() + delay  # block.timestamp + delay, in the Treasury's clock
        p.queued = True
        self.events.append(Event("ProposalQueued", {"proposalId": proposal_id, "eta": eta}))

    @external
    def execute(self, sender: bytes, proposal_id: int) -> None:
        """Run the proposal's calls through the Treasury (anyone may call once queued)."""
        p = self._proposal(proposal_id)
        st = self.state(proposal_id)
        if st not in (ProposalState.SUCCEEDED, ProposalState.QUEUED):
            raise Revert("Governor: proposal not successful")
        p.executed = True
        self.events.append(Event("ProposalExecuted", {"proposalId": proposal_id}))
        if self.treasury is not None:
            self.treasury.execute(self.address, _op_id(proposal_id), p.calls)
        else:
            for call in p.calls:
                getattr(call.target, call.function)(self.address, *call.args)


def _op_id(proposal_id: int) -> bytes:
    return proposal_id.to_bytes(32, "big")
