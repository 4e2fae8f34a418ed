"""Stake polls (contracts/polling/Poll.sol, PollCreator.sol), the pre-Delta parameter governance.

spec/protocol-economics.md §4.5 (LIP-15/16/19). ``PollCreator.create_poll`` needs 100 LPT of
pending or delegated stake and opens a :class:`Poll` lasting ``10 × 5760`` blocks (not updated for
LIP-83). Votes are only events; the tally is off-chain: stake at the end block, a delegator's vote
overriding its orchestrator's for its own stake, quorum 33.33 % of the stake, quota 50 % of the
stake that voted. :func:`tally` reproduces that tally on the models (whether the quota is strict
is not pinned down by the spec; the tally uses "more than 50 %").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pm.evm import Event, Revert

from ._journal import JList, Journaled, external

__all__ = [
    "POLL_CREATION_COST",
    "POLL_PERIOD",
    "QUORUM",
    "QUOTA",
    "Poll",
    "PollCreator",
    "PollTally",
    "tally",
]

QUORUM = 333_300
QUOTA = 500_000
POLL_PERIOD = 10 * 5760
POLL_CREATION_COST = 100 * 10**18


class _Stakes(Protocol):
    def pending_stake(self, delegator: bytes, end_round: int = 0) -> int: ...
    def transcoder_total_stake(self, transcoder: bytes) -> int: ...


class Poll(Journaled):
    """A poll: ``vote`` emits ``Vote(voter, choiceID)`` until ``end_block`` (inclusive)."""

    __slots__ = ("address", "block_num", "destroyed", "end_block", "events")

    def __init__(self, *, end_block: int, block_num: Callable[[], int], address: bytes) -> None:
        self.address = address
        self.end_block = end_block
        self.block_num = block_num
        self.destroyed = False
        self.events: JList[Event] = JList()

    @external
    def vote(self, sender: bytes, choice_id: int) -> None:
        if not self.block_num() <= self.end_block:
            raise Revert("poll is over")
        self.events.append(Event("Vote", {"voter": sender, "choiceID": choice_id}))

    @external
    def destroy(self, sender: bytes) -> None:
        if not self.block_num() > self.end_block:
            raise Revert("poll is active")
        self.destroyed = True


class PollCreator(Journaled):
    """Creates polls for accounts with at least 100 LPT of stake."""

    __slots__ = ("block_num", "bonding_manager", "events", "polls")

    def __init__(self, *, bonding_manager: _Stakes, block_num: Callable[[], int]) -> None:
        self.bonding_manager = bonding_manager
        self.block_num = block_num
        self.polls: JList[Poll] = JList()
        self.events: JList[Event] = JList()

    @external
    def create_poll(self, sender: bytes, proposal: bytes) -> Poll:
        bm = self.bonding_manager
        if not (
            bm.pending_stake(sender, 0) >= POLL_CREATION_COST
            or bm.transcoder_total_stake(sender) >= POLL_CREATION_COST
        ):
            raise Revert("PollCreator#createPoll: INSUFFICIENT_STAKE")
        end_block = self.block_num() + POLL_PERIOD
        poll = Poll(
            end_block=end_block,
            block_num=self.block_num,
            address=len(self.polls).to_bytes(4, "big").rjust(20, b"\x70"),
        )
        self.polls.append(poll)
        self.events.append(
            Event(
                "PollCreated",
                {
                    "poll": poll.address,
                    "proposal": proposal,
                    "endBlock": end_block,
                    "quorum": QUORUM,
                    "quota": QUOTA,
                },
            )
        )
        return poll


@dataclass(frozen=True, slots=True)
class PollTally:
    """Stake (LPT wei) per choice after overrides, and the outcome against quorum and quota."""

    stake_by_choice: dict[int, int]
    total_stake: int
    quorum_reached: bool
    passed: bool


def tally(
    poll: Poll,
    bonding_manager: _Stakes,
    delegate_of: Callable[[bytes], bytes],
    total_stake: int,
    *,
    yes: int = 0,
) -> PollTally:
    """Off-chain tally (LIP-16): each voter's last vote; an orchestrator votes its delegated
    stake minus the pending stake of its delegators that voted themselves."""
    last: dict[bytes, int] = {}
    for e in poll.events:
        last[e.args["voter"]] = e.args["choiceID"]
    weights: dict[bytes, int] = {}
    for voter in last:
        if delegate_of(voter) == voter:
            weights[voter] = weights.get(voter, 0) + bonding_manager.transcoder_total_stake(voter)
        else:
            own = bonding_manager.pending_stake(voter, 0)
            weights[voter] = weights.get(voter, 0) + own
            d = delegate_of(voter)
            if d in last and delegate_of(d) == d:
                weights[d] = weights.get(d, 0) - own
    by_choice: dict[int, int] = {}
    for voter, choice in last.items():
        by_choice[choice] = by_choice.get(choice, 0) + weights.get(voter, 0)
    cast = sum(by_choice.values())
    quorum_reached = cast * 1_000_000 >= total_stake * QUORUM
    passed = quorum_reached and by_choice.get(yes, 0) * 1_000_000 > cast * QUOTA
    return PollTally(by_choice, total_stake, quorum_reached, passed)
