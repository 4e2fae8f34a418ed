"""Treasury: the timelock that executes the LivepeerGovernor's passed proposals.

spec/protocol-economics.md §4.1 (OpenZeppelin ``TimelockControllerUpgradeable``, Arbitrum One
``minDelay = 0``; PROPOSER, CANCELLER and EXECUTOR roles held by the LivepeerGovernor). It holds
the treasury's LPT (the BondingManager's treasury reward cut is paid to :attr:`address`) and runs
a proposal's calls AS the Treasury: each :class:`Call` invokes ``target.function(treasury, *args)``
on a model, e.g. ``Call(token, "transfer", (grantee, amount))`` or a governor setting change.
Delays are measured in the ``clock`` the Treasury is given (blocks; 0 by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pm.crypto import keccak256
from pm.evm import Event, Revert

from ._journal import JDict, JList, Journaled, external

__all__ = ["Call", "Treasury"]

_DONE = 1
_OFFSET = 2  # stored "timestamps" are clock + delay + 2 so that 0 (unset) and 1 (done) stay free


@dataclass(frozen=True, slots=True)
class Call:
    """One proposal action: ``getattr(target, function)(treasury_address, *args)``."""

    target: Any
    function: str
    args: tuple[Any, ...] = ()

    def describe(self) -> str:
        name = getattr(self.target, "address", b"")
        shown = name.hex() if isinstance(name, bytes) else str(name)
        return f"{shown}.{self.function}{self.args!r}"


class Treasury(Journaled):
    """A TimelockController model: schedule / execute / cancel operations by id."""

    __slots__ = ("_governors", "_timestamps", "address", "clock", "events", "min_delay")

    def __init__(
        self,
        *,
        min_delay: int = 0,
        clock: Callable[[], int] | None = None,
        address: bytes = bytes.fromhex("f82c1ff415f1fcf582554fdba790e27019c8e8c4"),
    ) -> None:
        self.address = address
        self.min_delay = min_delay
        self.clock: Callable[[], int] = clock if clock is not None else (lambda: 0)
        self._governors: JDict[bytes, bool] = JDict()
        self._timestamps: JDict[bytes, int] = JDict()
        self.events: JList[Event] = JList()

    def grant_governor(self, governor: bytes) -> None:
        """Give ``governor`` the proposer, canceller and executor roles (deployment step)."""
        self._governors[governor] = True

    def _only_role(self, sender: bytes, role: str) -> None:
        # OZ AccessControl._checkRole: the role is shown as its 32-byte id, keccak256(name)
        if not self._governors.get(sender, False):
            role_id = keccak256(role.encode()).hex()
            raise Revert(f"AccessControl: account 0x{sender.hex()} is missing role 0x{role_id}")

    def get_timestamp(self, op_id: bytes) -> int:
        return self._timestamps.get(op_id, 0)

    def is_operation(self, op_id: bytes) -> bool:
        return self.get_timestamp(op_id) > 0

    def is_operation_pending(self, op_id: bytes) -> bool:
        return self.get_timestamp(op_id) > _DONE

    def is_operation_ready(self, op_id: bytes) -> bool:
        ts = self.get_timestamp(op_id)
        return ts > _DONE and ts <= self.clock() + _OFFSET

    def is_operation_done(self, op_id: bytes) -> bool:
        return self.get_timestamp(op_id) == _DONE

    @external
    def schedule(self, sender: bytes, op_id: bytes, delay: int) -> None:
        self._only_role(sender, "PROPOSER_ROLE")
        if self.is_operation(op_id):
            raise Revert("TimelockController: operation already scheduled")
        if delay < self.min_delay:
            raise Revert("TimelockController: insufficient delay")
        self._timestamps[op_id] = self.clock() + delay + _OFFSET
        self.events.append(Event("CallScheduled", {"id": op_id, "delay": delay}))

    @external
    def execute(self, sender: bytes, op_id: bytes, calls: tuple[Call, ...]) -> None:
        """Run ``calls`` as the Treasury; any revert in a call reverts the whole operation with
        "TimelockController: underlying transaction reverted"."""
        self._only_role(sender, "EXECUTOR_ROLE")
        if not self.is_operation_ready(op_id):
            raise Revert("TimelockController: operation is not ready")
        for i, call in enumerate(calls):
            try:
                getattr(call.target, call.function)(self.address, *call.args)
            except Revert:
                # OZ 4.x _execute: require(success, ...) drops the call's own revert reason
                raise Revert("TimelockController: underlying transaction reverted") from None
            self.events.append(Event("CallExecuted", {"id": op_id, "index": i}))
        self._timestamps[op_id] = _DONE

    @external
    def cancel(self, sender: bytes, op_id: bytes) -> None:
        self._only_role(sender, "CANCELLER_ROLE")
        if not self.is_operation_pending(op_id):
            raise Revert("TimelockController: operation cannot be cancelled")
        del self._timestamps[op_id]
        self.events.append(Event("Cancelled", {"id": op_id}))
