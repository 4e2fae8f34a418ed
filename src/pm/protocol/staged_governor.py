"""Governor (contracts/governance/Governor.sol): the Controller owner, a staged-update executor.

spec/protocol-economics.md §4.1 (LIP-25). On Arbitrum One the Controller is owned by this contract
and the Governor's own ``owner`` is the governance multisig: parameter changes decided by stake vote
(polls, §4.5) are staged with a delay in blocks and then executed by anyone, the calls being made
AS the Governor, i.e. as the Controller owner every ``onlyControllerOwner`` setter checks.
An update's calls are :class:`~pm.protocol.treasury.Call` records run on the models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pm.crypto import keccak256
from pm.evm import ZERO_ADDRESS, Event, Revert

from ._journal import JDict, JList, Journaled, external
from ._math import add
from .treasury import Call

__all__ = ["Governor", "Update"]


@dataclass(frozen=True, slots=True)
class Update:
    """``Governor.Update``: the calls (target, function, args) and a nonce making it unique."""

    calls: tuple[Call, ...]
    nonce: int = 0

    def hash(self) -> bytes:
        """A stable id (keccak of a text rendering; not the contract's ``abi.encode`` hash)."""
        text = "|".join(c.describe() for c in self.calls) + f"#{self.nonce}"
        return keccak256(text.encode())


class Governor(Journaled):
    """Staged updates: ``stage`` (owner only) -> wait ``delay`` blocks -> ``execute`` (anyone)."""

    __slots__ = ("address", "block_num", "events", "owner", "updates")

    def __init__(
        self,
        *,
        owner: bytes,
        block_num: Callable[[], int],
        address: bytes = bytes.fromhex("d9ded6f9959176f0a04dcf88a0d2306178a736a6"),
    ) -> None:
        self.address = address
        self.owner = owner
        self.block_num = block_num
        #: update hash -> block number from which it may execute (0 = not staged)
        self.updates: JDict[bytes, int] = JDict()
        self.events: JList[Event] = JList()

    def _only_owner(self, sender: bytes) -> None:
        if sender != self.owner:
            raise Revert("unauthorized: msg.sender not owner")

    @external
    def transfer_ownership(self, sender: bytes, new_owner: bytes) -> None:
        """Only as part of an executed update (the Governor calling itself)."""
        if sender != self.address:
            raise Revert("unauthorized: msg.sender not Governor")
        if new_owner == ZERO_ADDRESS:
            raise Revert("newOwner is a null address")
        self.events.append(
            Event("OwnershipTransferred", {"previousOwner": self.owner, "newOwner": new_owner})
        )
        self.owner = new_owner

    @external
    def stage(self, sender: bytes, update: Update, delay: int) -> bytes:
        self._only_owner(sender)
        h = update.hash()
        if self.updates.get(h, 0) != 0:
            raise Revert("update already staged")
        self.updates[h] = add(self.block_num(), delay)
        self.events.append(Event("UpdateStaged", {"update": update, "delay": delay}))
        return h

    @external
    def execute(self, sender: bytes, update: Update) -> None:
        """Run the update's calls as the Governor; a failing call reverts the whole batch."""
        h = update.hash()
        at = self.updates.get(h, 0)
        if at == 0:
            raise Revert("update is not staged")
        if not self.block_num() >= at:
            raise Revert("delay for update not expired")
        del self.updates[h]
        for call in update.calls:
            getattr(call.target, call.function)(self.address, *call.args)
        self.events.append(Event("UpdateExecuted", {"update": update}))

    @external
    def cancel(self, sender: bytes, update: Update) -> None:
        self._only_owner(sender)
        h = update.hash()
        if self.updates.get(h, 0) == 0:
            raise Revert("update is not staged")
        del self.updates[h]
        self.events.append(Event("UpdateCancelled", {"update": update}))
