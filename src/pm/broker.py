"""A reference model of Livepeer's TicketBroker contract, bit for bit.

The settlement oracle of pm: the same check order, the same revert strings, the same checked
uint256 arithmetic (including the places where the contract panics), the same events in the
same order and the same state corner cases as the contract deployed on Arbitrum One
(spec/ticketbroker.md; livepeer/protocol ``delta`` f225b10 + OpenZeppelin ECDSA 4.4.1).
``variant="pr657"`` switches on the all-or-nothing funds check of upstream PR #657 (§2a).

The contract reads two other contracts during settlement. They are reached through two small
Protocols, :class:`RoundsView` and :class:`BondingView`, so the broker runs on pm's own small
models (:class:`Rounds`, :class:`Bonding`) or on fuller ones (``pm.protocol``). ETH sits in a
:class:`Minter`, as on chain, so that funded = withdrawn + fees credited + still held is
checkable at any time.

Every public call takes the transaction's sender (and ETH value) explicitly, is atomic (a call
that raises changes no state and logs no event) and raises :class:`Revert` with the contract's
exact reason. Malformed Python arguments raise :class:`pm.errors.InvalidInput` /
:class:`pm.errors.InvalidType` before anything runs (on chain that would be an ABI-decoding
failure, an empty revert).

:class:`BrokerChain` puts the model behind the chain-view Protocols of :mod:`pm.chain` and the
transaction Protocol of :mod:`pm.redemption`, with a gas cost per redemption, so that senders,
recipients and the redemption queue run against it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol, TypeVar, runtime_checkable

from pm.chain import SenderInfo as ChainSenderInfo
from pm.crypto import keccak256, recover_address
from pm.errors import InvalidInput, InvalidSignature, InvalidType
from pm.evm import (
    UINT256_MAX,
    ZERO_ADDRESS,
    ZERO_HASH,
    Event,
    Revert,
    check_address,
    check_bytes,
    check_bytes32,
    check_uint,
    u256,
)
from pm.ticket import Ticket

__all__ = [
    "EVENT_PARAMS",
    "EVENT_SIGNATURES",
    "PANIC_ARRAY_INDEX",
    "PANIC_DIVISION_BY_ZERO",
    "PANIC_OVERFLOW",
    "Bonding",
    "BondingView",
    "BrokerChain",
    "ContractTicket",
    "Event",
    "Minter",
    "MinterView",
    "ReserveInfo",
    "Revert",
    "Rounds",
    "RoundsView",
    "SenderInfo",
    "TicketBroker",
    "TxReceipt",
    "event_topic0",
]

# Canonical signatures of the events the broker logs (spec/ticketbroker.md §6); keccak256 of
# each is the log's topic0. ``Event.args`` keys are the Solidity parameter names, in order.
EVENT_SIGNATURES: dict[str, str] = {
    "DepositFunded": "DepositFunded(address,uint256)",
    "ReserveFunded": "ReserveFunded(address,uint256)",
    "ReserveClaimed": "ReserveClaimed(address,address,uint256)",
    "WinningTicketRedeemed": (
        "WinningTicketRedeemed(address,address,uint256,uint256,uint256,uint256,bytes)"
    ),
    "WinningTicketTransfer": "WinningTicketTransfer(address,address,uint256)",
    "Unlock": "Unlock(address,uint256,uint256)",
    "UnlockCancelled": "UnlockCancelled(address)",
    "Withdrawal": "Withdrawal(address,uint256,uint256)",
    "ParameterUpdate": "ParameterUpdate(string)",
}
EVENT_PARAMS: dict[str, tuple[str, ...]] = {
    "DepositFunded": ("sender", "amount"),
    "ReserveFunded": ("reserveHolder", "amount"),
    "ReserveClaimed": ("reserveHolder", "claimant", "amount"),
    "WinningTicketRedeemed": (
        "sender",
        "recipient",
        "faceValue",
        "winProb",
        "senderNonce",
        "recipientRand",
        "auxData",
    ),
    "WinningTicketTransfer": ("sender", "recipient", "amount"),
    "Unlock": ("sender", "startRound", "endRound"),
    "UnlockCancelled": ("sender",),
    "Withdrawal": ("sender", "deposit", "reserve"),
    "ParameterUpdate": ("param",),
}


def event_topic0(name: str) -> bytes:
    """topic0 of a broker event: keccak256 of its canonical signature."""
    try:
        return keccak256(EVENT_SIGNATURES[name].encode())
    except KeyError:
        raise InvalidInput(
            f"unknown TicketBroker event {name!r}", name="name", value=name
        ) from None


# Solidity 0.8 panic codes (spec/ticketbroker.md §0, §5).
PANIC_OVERFLOW = "Panic(0x11)"
PANIC_DIVISION_BY_ZERO = "Panic(0x12)"
PANIC_ARRAY_INDEX = "Panic(0x32)"

# secp256k1 group order and the OZ ECDSA high-s bound (spec/ticketbroker.md §1).
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0

Variant = Literal["deployed", "pr657"]
EcdsaVersion = Literal["4.4.1", "4.9.2"]


# -- checked uint256 arithmetic (OZ SafeMath in 0.8 = checked ops, spec §0) ---------------


def _add(a: int, b: int) -> int:
    r = a + b
    if r > UINT256_MAX:
        raise Revert(PANIC_OVERFLOW)
    return r


def _sub(a: int, b: int) -> int:
    if b > a:
        raise Revert(PANIC_OVERFLOW)
    return a - b


# -- the other contracts, as Protocols ---------------------------------------------------


@runtime_checkable
class RoundsView(Protocol):
    """What the broker reads from the RoundsManager (spec/ticketbroker.md §9)."""

    def current_round(self) -> int:
        """The current round number."""
        ...

    def current_round_initialized(self) -> bool:
        """Whether ``initializeRound`` ran for the current round."""
        ...

    def block_hash_for_round(self, round: int) -> bytes:
        """The 32-byte L1 block hash recorded for ``round``; 32 zero bytes if none."""
        ...


@runtime_checkable
class BondingView(Protocol):
    """What the broker reads from and writes to the BondingManager (spec/ticketbroker.md §9)."""

    def is_active_transcoder(self, addr: bytes) -> bool:
        """Whether ``addr`` is in the current round's active set."""
        ...

    def transcoder_pool_size(self) -> int:
        """Size of the transcoder pool (the divisor of every reserve)."""
        ...

    def update_transcoder_with_fees(self, transcoder: bytes, fees: int, round: int) -> None:
        """Credit ``fees`` wei to ``transcoder``; raise :class:`Revert` to abort the redemption."""
        ...


@runtime_checkable
class MinterView(Protocol):
    """The Minter as the broker uses it: the holder of every sender's ETH."""

    def deposit_eth(self, value: int) -> None:
        """Receive ``value`` wei from the broker."""
        ...

    def trusted_withdraw_eth(self, to: bytes, amount: int) -> None:
        """Send ``amount`` wei to ``to``."""
        ...


# -- pm's own small models of RoundsManager, BondingManager and Minter ---------------------


def default_block_hash(number: int) -> bytes:
    """A deterministic, never-zero stand-in for the hash of L1 block ``number``."""
    return keccak256(b"pm.broker.block" + u256(number))


class Rounds:
    """RoundsManager as settlement sees it: rounds of ``round_length`` L1 blocks.

    ``block`` is the current L1 block number. ``current_round()`` is
    ``block // round_length`` (measured from the last round-length change, like the contract);
    ``initialize_round()`` records the hash of the previous block for the current round, and a
    round without a recorded hash reads as 32 zero bytes (spec/protocol-economics.md §2).
    ``initialize=True`` initializes the starting round (round 0 is initialized from deployment
    on chain, but has no block hash: start at a block of round 1 or later to redeem tickets).
    """

    def __init__(
        self,
        round_length: int = 5760,
        *,
        block: int = 0,
        initialize: bool = True,
        block_hash: Callable[[int], bytes] = default_block_hash,
    ) -> None:
        self.round_length = check_uint("round_length", round_length)
        if self.round_length == 0:
            raise InvalidInput("round_length must be > 0", name="round_length", value=0)
        self.block = check_uint("block", block)
        self._block_hash = block_hash
        self._hashes: dict[int, bytes] = {}
        self._update_round = 0
        self._update_block = 0
        self.last_initialized_round = 0
        if initialize and self.current_round() > 0:
            self.initialize_round()

    # RoundsView
    def current_round(self) -> int:
        """The round of the current L1 block."""
        return self._update_round + (self.block - self._update_block) // self.round_length

    def current_round_initialized(self) -> bool:
        """``lastInitializedRound == currentRound()`` (so round 0 counts as initialized from
        deployment, without a block hash, exactly like the contract)."""
        return self.last_initialized_round == self.current_round()

    def block_hash_for_round(self, round: int) -> bytes:
        """The L1 block hash recorded when ``round`` was initialized (zeros if never)."""
        return self._hashes.get(round, ZERO_HASH)

    # model controls
    def current_round_start_block(self) -> int:
        """First L1 block of the current round."""
        return self._update_block + (self.current_round() - self._update_round) * self.round_length

    def initialize_round(self, block_hash: bytes | None = None) -> int:
        """Initialize the current round and return it. ``block_hash`` overrides the recorded
        hash (for example 32 zero bytes, the Arbitrum quirk of go-livepeer #2358)."""
        rnd = self.current_round()
        if not self.last_initialized_round < rnd:
            raise Revert("round already initialized")
        if block_hash is None:
            block_hash = self._block_hash(max(self.block - 1, 0))
        self._hashes[rnd] = check_bytes32("block_hash", block_hash)
        self.last_initialized_round = rnd
        return rnd

    def set_round_length(self, round_length: int) -> None:
        """Change the round length from the current round on (like RoundsManager)."""
        length = check_uint("round_length", round_length)
        if length == 0:
            raise InvalidInput("round_length must be > 0", name="round_length", value=0)
        start, rnd = self.current_round_start_block(), self.current_round()
        self._update_block, self._update_round = start, rnd
        self.round_length = length

    def advance_blocks(self, n: int = 1) -> int:
        """Move the L1 block forward by ``n``; returns the new block number."""
        self.block += check_uint("n", n)
        return self.block

    def advance_rounds(self, n: int = 1, *, initialize: bool = True) -> int:
        """Move to the first block of the round ``n`` rounds ahead, initializing it."""
        for _ in range(check_uint("n", n)):
            self.block = self.current_round_start_block() + self.round_length
        if initialize and n and not self.current_round_initialized():
            self.initialize_round()
        return self.current_round()


class Minter:
    """The Minter's ETH custody: every funded wei sits here until withdrawn.

    ``balance`` is the ETH held; ``deposited`` the total ever received; ``withdrawn`` the ETH
    sent out per address. Conservation: ``deposited == balance + sum(withdrawn.values())``.
    """

    def __init__(self) -> None:
        self.balance = 0
        self.deposited = 0
        self.withdrawn: dict[bytes, int] = {}

    def deposit_eth(self, value: int) -> None:
        """Receive ``value`` wei (``depositETH``)."""
        check_uint("value", value)
        self.balance += value
        self.deposited += value

    def trusted_withdraw_eth(self, to: bytes, amount: int) -> None:
        """Send ``amount`` wei to ``to`` (``trustedWithdrawETH``); a failed transfer reverts."""
        check_address("to", to)
        check_uint("amount", amount)
        if amount > self.balance:
            raise Revert("")
        self.balance -= amount
        self.withdrawn[to] = self.withdrawn.get(to, 0) + amount

    @property
    def total_withdrawn(self) -> int:
        """ETH sent out of the Minter, in wei."""
        return sum(self.withdrawn.values())


class Bonding:
    """BondingManager as settlement sees it: a transcoder pool, the current round's active set
    and a ledger of fees credited to transcoders.

    ``strict=True`` (the default) behaves like the real BondingManager when fees are credited:
    an unregistered recipient reverts ``"transcoder must be registered"`` and a registered but
    inactive one panics with division by zero (spec/ticketbroker.md §9, TicketFrontRun.js).
    ``strict=False`` accepts any recipient, like the BondingManagerMock of the unit tests.
    Pool size and active set are independent, as on chain (issue #656): ``add_transcoder``
    changes both, ``set_active`` / ``remove_from_pool`` only one.
    """

    def __init__(
        self,
        transcoders: Iterable[bytes] = (),
        *,
        strict: bool = True,
        minter: Minter | None = None,
    ) -> None:
        self.strict = strict
        self.minter = minter
        self.registered: set[bytes] = set()
        self.pool: list[bytes] = []
        self.active: set[bytes] = set()
        self.fees: dict[bytes, int] = {}
        self.fees_credited = 0
        self.fees_withdrawn = 0
        self.events: list[Event] = []
        for t in transcoders:
            self.add_transcoder(t)

    def add_transcoder(self, addr: bytes, *, active: bool = True) -> None:
        """Register ``addr``, put it in the pool and (by default) in the active set."""
        a = check_address("addr", addr)
        self.registered.add(a)
        if a not in self.pool:
            self.pool.append(a)
        if active:
            self.active.add(a)

    def register(self, addr: bytes) -> None:
        """Register ``addr`` without pool membership or activity."""
        self.registered.add(check_address("addr", addr))

    def remove_from_pool(self, addr: bytes) -> None:
        """Take ``addr`` out of the pool (it stays active for the current round)."""
        a = check_address("addr", addr)
        if a in self.pool:
            self.pool.remove(a)

    def set_active(self, addr: bytes, active: bool = True) -> None:
        """Put ``addr`` in or out of the current round's active set."""
        a = check_address("addr", addr)
        if active:
            self.active.add(a)
        else:
            self.active.discard(a)

    # BondingView
    def is_active_transcoder(self, addr: bytes) -> bool:
        """Whether ``addr`` is active in the current round."""
        return bytes(addr) in self.active

    def transcoder_pool_size(self) -> int:
        """Number of transcoders in the pool."""
        return len(self.pool)

    def is_registered_transcoder(self, addr: bytes) -> bool:
        """Whether ``addr`` is a registered transcoder."""
        return bytes(addr) in self.registered

    def update_transcoder_with_fees(self, transcoder: bytes, fees: int, round: int) -> None:
        """Credit ``fees`` wei to ``transcoder``'s ledger and log ``UpdateTranscoderWithFees``."""
        t = check_address("transcoder", transcoder)
        check_uint("fees", fees)
        if self.strict:
            if t not in self.registered:
                raise Revert("transcoder must be registered")
            if t not in self.active:
                raise Revert(PANIC_DIVISION_BY_ZERO)
        self.fees[t] = self.fees.get(t, 0) + fees
        self.fees_credited += fees
        self.events.append(
            Event("UpdateTranscoderWithFees", {"transcoder": t, "fees": fees, "round": round})
        )

    def withdraw_fees(
        self, caller: bytes, recipient: bytes | None = None, amount: int | None = None
    ) -> int:
        """``withdrawFees(recipient, amount)`` sent by ``caller``: pay ``amount`` wei (default:
        all of the caller's fees) to ``recipient`` (default: the caller) through the Minter;
        returns the wei paid. Checks and strings as BondingManager's (protocol-economics.md
        §2); this model books every fee to the transcoder itself (no delegators)."""
        c = check_address("caller", caller)
        to = c if recipient is None else check_address("recipient", recipient)
        fees = self.fees.get(c, 0)
        amt = fees if amount is None else check_uint("amount", amount)
        if to == ZERO_ADDRESS:
            raise Revert("invalid recipient")
        if fees < amt:
            raise Revert("insufficient fees to withdraw")
        if self.minter is None:
            raise InvalidInput("Bonding has no minter to withdraw from", name="minter")
        self.minter.trusted_withdraw_eth(to, amt)
        self.fees[c] = fees - amt
        self.fees_withdrawn += amt
        self.events.append(Event("WithdrawFees", {"delegator": c, "recipient": to, "amount": amt}))
        return amt

    @property
    def fees_held(self) -> int:
        """Fees credited and not yet withdrawn, in wei."""
        return self.fees_credited - self.fees_withdrawn


# -- tickets in the contract's form --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContractTicket:
    """The contract's ``Ticket`` struct (spec/ticketbroker.md §1): every number a uint256 and
    ``aux_data`` any bytes, so malformed tickets from calldata can be modelled."""

    recipient: bytes
    sender: bytes
    face_value: int
    win_prob: int
    sender_nonce: int
    recipient_rand_hash: bytes
    aux_data: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "recipient", check_address("recipient", self.recipient))
        object.__setattr__(self, "sender", check_address("sender", self.sender))
        check_uint("face_value", self.face_value)
        check_uint("win_prob", self.win_prob)
        check_uint("sender_nonce", self.sender_nonce)
        object.__setattr__(
            self,
            "recipient_rand_hash",
            check_bytes32("recipient_rand_hash", self.recipient_rand_hash),
        )
        object.__setattr__(self, "aux_data", check_bytes("aux_data", self.aux_data))

    @classmethod
    def from_ticket(cls, ticket: Ticket) -> ContractTicket:
        """The contract form of a pm :class:`~pm.ticket.Ticket` (auxData per protocol.md §1.2)."""
        if not isinstance(ticket, Ticket):
            raise InvalidType(
                f"ticket must be a pm.Ticket, not {type(ticket).__name__}",
                name="ticket",
                value=ticket,
            )
        return cls(
            ticket.recipient,
            ticket.sender,
            ticket.face_value,
            ticket.win_prob,
            ticket.sender_nonce,
            ticket.recipient_rand_hash,
            ticket.aux_data,
        )

    def hash(self) -> bytes:
        """``getTicketHash``: keccak256 of the packed fields (spec/ticketbroker.md §1)."""
        return keccak256(
            self.recipient
            + self.sender
            + u256(self.face_value)
            + u256(self.win_prob)
            + u256(self.sender_nonce)
            + self.recipient_rand_hash
            + self.aux_data
        )

    @property
    def creation_round(self) -> int:
        """The creationRound word of a 64-byte auxData."""
        return int.from_bytes(self.aux_data[:32], "big")

    @property
    def creation_round_block_hash(self) -> bytes:
        """The creationRoundBlockHash word of a 64-byte auxData."""
        return self.aux_data[32:64]


AnyTicket = ContractTicket | Ticket


def _as_contract_ticket(ticket: object) -> ContractTicket:
    if isinstance(ticket, ContractTicket):
        return ticket
    if isinstance(ticket, Ticket):
        return ContractTicket.from_ticket(ticket)
    raise InvalidType(
        f"ticket must be a ContractTicket or pm.Ticket, not {type(ticket).__name__}",
        name="ticket",
        value=ticket,
    )


class SenderInfo(NamedTuple):
    """``getSenderInfo``: the sender's deposit (wei), withdraw round (0 = no unlock), remaining
    reserve (wei) and the reserve claimed in the current round (wei). Same field names as
    :class:`pm.chain.SenderInfo`, which :class:`BrokerChain` returns to the roles."""

    deposit: int
    withdraw_round: int
    funds_remaining: int
    claimed_in_current_round: int


class ReserveInfo(NamedTuple):
    """``getReserveInfo``: remaining reserve and the amount claimed in the current round (wei)."""

    funds_remaining: int
    claimed_in_current_round: int


# -- the broker ---------------------------------------------------------------------------

_MISSING: Any = object()
_K = TypeVar("_K")


class TicketBroker:
    """The TicketBroker contract (spec/ticketbroker.md), as deployed or with PR #657.

    ``rounds`` and ``bonding`` are the RoundsManager and BondingManager it reads;
    ``unlock_period`` and ``ticket_validity_period`` are in rounds (set by the owner after
    deploy on chain, given here); ``owner`` is the Controller owner, the only caller of the
    setters; ``paused`` mirrors ``Controller.paused()``. ``ecdsa`` picks the OpenZeppelin ECDSA
    version, which only changes the revert reason for a bad ``v`` byte (§1).
    """

    def __init__(
        self,
        rounds: RoundsView,
        bonding: BondingView,
        *,
        unlock_period: int,
        ticket_validity_period: int,
        owner: bytes,
        variant: Variant = "deployed",
        minter: MinterView | None = None,
        ecdsa: EcdsaVersion = "4.4.1",
    ) -> None:
        if variant not in ("deployed", "pr657"):
            raise InvalidInput(f"unknown variant {variant!r}", name="variant", value=variant)
        if ecdsa not in ("4.4.1", "4.9.2"):
            raise InvalidInput(f"unknown ECDSA version {ecdsa!r}", name="ecdsa", value=ecdsa)
        self.rounds = rounds
        self.bonding = bonding
        self.owner = check_address("owner", owner)
        self.variant: Variant = variant
        self.ecdsa: EcdsaVersion = ecdsa
        # One Minter per system (the Controller resolves the same "Minter" for the broker and
        # the BondingManager): take the Bonding's if it has one, and give it ours if it has none.
        if minter is None:
            if isinstance(bonding, Bonding) and bonding.minter is not None:
                minter = bonding.minter
            else:
                minter = Minter()
        if isinstance(bonding, Bonding) and bonding.minter is None and isinstance(minter, Minter):
            bonding.minter = minter
        self.minter = minter
        self.paused = False
        self.events: list[Event] = []
        # storage (spec §0 "Storage"); every write goes through _put for atomicity
        self._params: dict[str, int] = {
            "unlockPeriod": check_uint("unlock_period", unlock_period),
            "ticketValidityPeriod": check_uint("ticket_validity_period", ticket_validity_period),
        }
        self._deposit: dict[bytes, int] = {}
        self._withdraw_round: dict[bytes, int] = {}
        self._funds: dict[bytes, int] = {}
        self._claimed_for_round: dict[tuple[bytes, int], int] = {}
        self._claimed_by_address: dict[tuple[bytes, int, bytes], int] = {}
        self._used: dict[bytes, bool] = {}
        self._undo: list[tuple[dict[Any, Any], Any, Any]] = []
        self._depth = 0

    # -- atomicity ------------------------------------------------------------------------

    def _put(self, mapping: dict[_K, Any], key: _K, value: Any) -> None:
        self._undo.append((mapping, key, mapping.get(key, _MISSING)))
        mapping[key] = value

    def _mark(self) -> tuple[int, int]:
        return len(self._undo), len(self.events)

    def _rollback(self, mark: tuple[int, int]) -> None:
        undo_len, events_len = mark
        while len(self._undo) > undo_len:
            mapping, key, old = self._undo.pop()
            if old is _MISSING:
                mapping.pop(key, None)
            else:
                mapping[key] = old
        del self.events[events_len:]

    def _atomic(self, fn: Callable[[], _K]) -> _K:
        """Run one transaction (or sub-call): on any exception undo every write and event."""
        mark = self._mark()
        self._depth += 1
        try:
            return fn()
        except BaseException:
            self._rollback(mark)
            raise
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._undo.clear()

    def _emit(self, name: str, **args: object) -> None:
        self.events.append(Event(name, dict(args)))

    # -- modifiers (spec §0) --------------------------------------------------------------

    def _when_not_paused(self) -> None:
        if self.paused:
            raise Revert("system is paused")

    def _current_round_initialized(self) -> None:
        if not self.rounds.current_round_initialized():
            raise Revert("current round is not initialized")

    def _only_owner(self, caller: bytes) -> None:
        if caller != self.owner:
            raise Revert("caller must be Controller owner")

    # -- admin ----------------------------------------------------------------------------

    @property
    def unlock_period(self) -> int:
        """Rounds between ``unlock()`` and the first round ``withdraw()`` succeeds."""
        return self._params["unlockPeriod"]

    @property
    def ticket_validity_period(self) -> int:
        """Rounds a ticket stays redeemable after its creation round."""
        return self._params["ticketValidityPeriod"]

    def set_unlock_period(self, caller: bytes, value: int) -> None:
        """``setUnlockPeriod`` (Controller owner only; any value, including 0)."""
        c = check_address("caller", caller)
        v = check_uint("value", value)

        def run() -> None:
            self._only_owner(c)
            self._put(self._params, "unlockPeriod", v)
            self._emit("ParameterUpdate", param="unlockPeriod")

        self._atomic(run)

    def set_ticket_validity_period(self, caller: bytes, value: int) -> None:
        """``setTicketValidityPeriod`` (Controller owner only; must be > 0)."""
        c = check_address("caller", caller)
        v = check_uint("value", value)

        def run() -> None:
            self._only_owner(c)
            if v == 0:
                raise Revert("ticketValidityPeriod must be greater than 0")
            self._put(self._params, "ticketValidityPeriod", v)
            self._emit("ParameterUpdate", param="ticketValidityPeriod")

        self._atomic(run)

    # -- funding (spec §3) ------------------------------------------------------------------

    def _cancel_unlock(self, addr: bytes) -> None:
        self._put(self._withdraw_round, addr, 0)
        self._emit("UnlockCancelled", sender=addr)

    def _process_deposit_pre(self, caller: bytes, addr: bytes, amount: int) -> None:
        self._put(self._deposit, addr, _add(self._deposit.get(addr, 0), amount))
        if caller == addr and self._withdraw_round.get(addr, 0) > 0:
            self._cancel_unlock(addr)

    def _process_reserve_pre(self, caller: bytes, addr: bytes, amount: int) -> None:
        self._put(self._funds, addr, _add(self._funds.get(addr, 0), amount))
        self._emit("ReserveFunded", reserveHolder=addr, amount=amount)
        if caller == addr and self._withdraw_round.get(addr, 0) > 0:
            self._cancel_unlock(addr)

    def fund_deposit(self, sender: bytes, value: int) -> None:
        """``fundDeposit()`` with ``msg.value = value`` wei."""
        s = check_address("sender", sender)
        v = check_uint("value", value)

        def run() -> None:
            self._when_not_paused()
            self._process_deposit_pre(s, s, v)
            self.minter.deposit_eth(v)
            self._emit("DepositFunded", sender=s, amount=v)

        self._atomic(run)

    def fund_reserve(self, sender: bytes, value: int) -> None:
        """``fundReserve()`` with ``msg.value = value`` wei."""
        s = check_address("sender", sender)
        v = check_uint("value", value)

        def run() -> None:
            self._when_not_paused()
            self._process_reserve_pre(s, s, v)
            self.minter.deposit_eth(v)

        self._atomic(run)

    def fund_deposit_and_reserve(
        self, sender: bytes, deposit: int, reserve: int, value: int
    ) -> None:
        """``fundDepositAndReserve(d, r)`` = ``fundDepositAndReserveFor(sender, d, r)``."""
        self.fund_deposit_and_reserve_for(sender, sender, deposit, reserve, value)

    def fund_deposit_and_reserve_for(
        self, caller: bytes, addr: bytes, deposit: int, reserve: int, value: int
    ) -> None:
        """``fundDepositAndReserveFor(addr, d, r)`` sent by ``caller`` with ``value`` wei.

        Only ``caller == addr`` cancels an unlock in progress (d153b78)."""
        c = check_address("caller", caller)
        a = check_address("addr", addr)
        d = check_uint("deposit", deposit)
        r = check_uint("reserve", reserve)
        v = check_uint("value", value)

        def run() -> None:
            self._when_not_paused()
            if v != _add(d, r):
                raise Revert("msg.value does not equal sum of deposit amount and reserve amount")
            self._process_deposit_pre(c, a, d)
            self._process_reserve_pre(c, a, r)
            self.minter.deposit_eth(v)
            self._emit("DepositFunded", sender=a, amount=d)

        self._atomic(run)

    # -- unlock / withdraw (spec §3) --------------------------------------------------------

    def unlock(self, sender: bytes) -> None:
        """``unlock()``: start the unlock period."""
        s = check_address("sender", sender)

        def run() -> None:
            self._when_not_paused()
            if self._deposit.get(s, 0) == 0 and self._funds.get(s, 0) == 0:
                raise Revert("sender deposit and reserve are zero")
            if self._withdraw_round.get(s, 0) != 0:
                raise Revert("unlock already initiated")
            cur = self.rounds.current_round()
            wr = _add(cur, self.unlock_period)
            self._put(self._withdraw_round, s, wr)
            self._emit("Unlock", sender=s, startRound=cur, endRound=wr)

        self._atomic(run)

    def cancel_unlock(self, sender: bytes) -> None:
        """``cancelUnlock()``."""
        s = check_address("sender", sender)

        def run() -> None:
            self._when_not_paused()
            if self._withdraw_round.get(s, 0) == 0:
                raise Revert("no unlock request in progress")
            self._cancel_unlock(s)

        self._atomic(run)

    def withdraw(self, sender: bytes) -> None:
        """``withdraw()``: pay out deposit and reserve once unlocked. ``withdrawRound`` and the
        reserve's claim counters are NOT reset (spec §3, §4)."""
        s = check_address("sender", sender)

        def run() -> None:
            self._when_not_paused()
            deposit = self._deposit.get(s, 0)
            reserve = self._funds.get(s, 0)
            if deposit == 0 and reserve == 0:
                raise Revert("sender deposit and reserve are zero")
            wr = self._withdraw_round.get(s, 0)
            if wr == 0:
                raise Revert("no unlock request in progress")
            if self.rounds.current_round() < wr:
                raise Revert("account is locked")
            self._put(self._deposit, s, 0)
            self._put(self._funds, s, 0)
            self.minter.trusted_withdraw_eth(s, _add(deposit, reserve))
            self._emit("Withdrawal", sender=s, deposit=deposit, reserve=reserve)

        self._atomic(run)

    # -- views ----------------------------------------------------------------------------

    def get_sender_info(self, addr: bytes) -> SenderInfo:
        """``getSenderInfo``: deposit, withdrawRound, reserve funds and this round's claims."""
        a = check_address("addr", addr)
        cur = self.rounds.current_round()
        return SenderInfo(
            deposit=self._deposit.get(a, 0),
            withdraw_round=self._withdraw_round.get(a, 0),
            funds_remaining=self._funds.get(a, 0),
            claimed_in_current_round=self._claimed_for_round.get((a, cur), 0),
        )

    def get_reserve_info(self, addr: bytes) -> ReserveInfo:
        """``getReserveInfo``."""
        a = check_address("addr", addr)
        cur = self.rounds.current_round()
        return ReserveInfo(self._funds.get(a, 0), self._claimed_for_round.get((a, cur), 0))

    def is_unlock_in_progress(self, addr: bytes) -> bool:
        """``isUnlockInProgress``: ``withdrawRound > 0`` (true even after a withdraw)."""
        return self._withdraw_round.get(check_address("addr", addr), 0) > 0

    def used_tickets(self, ticket_hash: bytes) -> bool:
        """``usedTickets(hash)``."""
        return self._used.get(check_bytes32("ticket_hash", ticket_hash), False)

    def get_ticket_hash(self, ticket: AnyTicket) -> bytes:
        """``getTicketHash``."""
        return _as_contract_ticket(ticket).hash()

    def claimable_reserve(self, holder: bytes, claimant: bytes) -> int:
        """``claimableReserve`` (spec §4); may revert ``Panic(0x11)`` when a claimant already
        took more than its current share (pool growth, issue #656)."""
        return self._claimable(check_address("holder", holder), check_address("claimant", claimant))

    def claimed_reserve(self, holder: bytes, claimant: bytes) -> int:
        """``claimedReserve``: what ``claimant`` claimed from ``holder`` this round."""
        h = check_address("holder", holder)
        c = check_address("claimant", claimant)
        return self._claimed_by_address.get((h, self.rounds.current_round(), c), 0)

    def deposit_of(self, addr: bytes) -> int:
        """The sender's deposit in wei (convenience for ``get_sender_info(addr).deposit``)."""
        return self._deposit.get(check_address("addr", addr), 0)

    def reserve_of(self, addr: bytes) -> int:
        """The sender's remaining reserve in wei."""
        return self._funds.get(check_address("addr", addr), 0)

    @property
    def total_held(self) -> int:
        """Sum of every sender's deposit and reserve, in wei."""
        return sum(self._deposit.values()) + sum(self._funds.values())

    def _claimable(self, holder: bytes, claimant: bytes) -> int:
        if not self.bonding.is_active_transcoder(claimant):
            return 0
        pool = self.bonding.transcoder_pool_size()
        if pool == 0:
            return 0
        cur = self.rounds.current_round()
        total = _add(self._funds.get(holder, 0), self._claimed_for_round.get((holder, cur), 0))
        return _sub(total // pool, self._claimed_by_address.get((holder, cur, claimant), 0))

    def _claim_from_reserve(self, holder: bytes, claimant: bytes, amount: int) -> int:
        claim = min(amount, self._claimable(holder, claimant))
        if claim > 0:
            cur = self.rounds.current_round()
            k1 = (holder, cur)
            k2 = (holder, cur, claimant)
            self._put(self._claimed_for_round, k1, _add(self._claimed_for_round.get(k1, 0), claim))
            self._put(
                self._claimed_by_address, k2, _add(self._claimed_by_address.get(k2, 0), claim)
            )
            self._put(self._funds, holder, _sub(self._funds.get(holder, 0), claim))
            self._emit("ReserveClaimed", reserveHolder=holder, claimant=claimant, amount=claim)
        return claim

    # -- redemption (spec §1, §2) --------------------------------------------------------

    def _check_sig(self, ticket: ContractTicket, ticket_hash: bytes, sig: bytes) -> None:
        # isValidTicketSig + OZ ECDSA.recover (spec §1 "Signature check", checks 11-12)
        if len(sig) != 65:
            raise Revert("INVALID_SIGNATURE_LENGTH")
        r = int.from_bytes(sig[:32], "big")
        s = int.from_bytes(sig[32:64], "big")
        v = sig[64]
        if s > _HALF_N:
            raise Revert("ECDSA: invalid signature 's' value")
        if v not in (27, 28):
            if self.ecdsa == "4.4.1":
                raise Revert("ECDSA: invalid signature 'v' value")
            raise Revert("ECDSA: invalid signature")
        if not (0 < r < _SECP256K1_N) or s == 0:
            raise Revert("ECDSA: invalid signature")
        try:
            signer = recover_address(ticket_hash, sig)
        except InvalidSignature:
            raise Revert("ECDSA: invalid signature") from None
        if signer == ZERO_ADDRESS or signer != ticket.sender:
            raise Revert("invalid signature over ticket hash")

    def _redeem(self, t: ContractTicket, sig: bytes, rand: int) -> None:
        """One redeemWinningTicket call, modifiers included; the caller makes it atomic."""
        self._when_not_paused()
        self._current_round_initialized()
        ticket_hash = t.hash()
        # requireValidWinningTicket (checks 3-13)
        if t.recipient == ZERO_ADDRESS:
            raise Revert("ticket recipient is null address")
        if t.sender == ZERO_ADDRESS:
            raise Revert("ticket sender is null address")
        if len(t.aux_data) != 64:
            raise Revert("invalid length for ticket auxData: must be 64 bytes")
        creation_round = t.creation_round
        bh = self.rounds.block_hash_for_round(creation_round)
        if bh == ZERO_HASH:
            raise Revert("ticket creationRound does not have a block hash")
        if t.creation_round_block_hash != bh:
            raise Revert("ticket creationRoundBlockHash invalid for creationRound")
        cur = self.rounds.current_round()
        if not _add(creation_round, self.ticket_validity_period) > cur:
            raise Revert("ticket is expired")
        if keccak256(u256(rand)) != t.recipient_rand_hash:
            raise Revert("recipientRand does not match recipientRandHash")
        if self._used.get(ticket_hash, False):
            raise Revert("ticket is used")
        self._check_sig(t, ticket_hash, sig)
        if not int.from_bytes(keccak256(sig + u256(rand)), "big") < t.win_prob:
            raise Revert("ticket did not win")
        # redeemWinningTicket body (checks 14-15)
        s = t.sender
        wr = self._withdraw_round.get(s, 0)
        if not (wr == 0 or cur < wr):
            raise Revert("sender is unlocked")
        deposit = self._deposit.get(s, 0)
        funds = self._funds.get(s, 0)
        if self.variant == "deployed":
            if deposit == 0 and funds == 0:
                raise Revert("sender deposit and reserve are zero")
        elif _add(deposit, funds) < t.face_value:
            raise Revert("sender deposit and reserve insufficient to cover ticket face value")
        # effects
        self._put(self._used, ticket_hash, True)
        if t.face_value > deposit:
            amount = _add(deposit, self._claim_from_reserve(s, t.recipient, t.face_value - deposit))
            self._put(self._deposit, s, 0)
        else:
            amount = t.face_value
            self._put(self._deposit, s, deposit - t.face_value)
        if amount > 0:
            self.bonding.update_transcoder_with_fees(t.recipient, amount, creation_round)
            self._emit("WinningTicketTransfer", sender=s, recipient=t.recipient, amount=amount)
        self._emit(
            "WinningTicketRedeemed",
            sender=s,
            recipient=t.recipient,
            faceValue=t.face_value,
            winProb=t.win_prob,
            senderNonce=t.sender_nonce,
            recipientRand=rand,
            auxData=t.aux_data,
        )

    def call_static(self, fn: Callable[[], _K]) -> _K:
        """Run ``fn`` (calls on this broker) like ``eth_call``: return its result or raise its
        :class:`Revert`, then undo every write and event, including fee credits on a
        :class:`Bonding` and ETH moves on a :class:`Minter`. A BondingView of another kind is
        not called during a static call (its writes could not be undone), so its own reverts
        are not predicted."""
        saved_bonding = self.bonding
        bonding_snap = None
        if isinstance(saved_bonding, Bonding):
            bonding_snap = (
                dict(saved_bonding.fees), saved_bonding.fees_credited, len(saved_bonding.events)
            )  # fmt: skip
        else:
            self.bonding = _StaticBonding(saved_bonding)
        minter = self.minter
        minter_snap = None
        if isinstance(minter, Minter):
            minter_snap = (minter.balance, minter.deposited, dict(minter.withdrawn))
        mark = self._mark()
        self._depth += 1
        try:
            return fn()
        finally:
            self._rollback(mark)
            self._depth -= 1
            if self._depth == 0:
                self._undo.clear()
            self.bonding = saved_bonding
            if bonding_snap is not None and isinstance(saved_bonding, Bonding):
                saved_bonding.fees, saved_bonding.fees_credited = bonding_snap[0], bonding_snap[1]
                del saved_bonding.events[bonding_snap[2] :]
            if minter_snap is not None and isinstance(minter, Minter):
                minter.balance, minter.deposited, minter.withdrawn = minter_snap

    def _sub_call(self, t: ContractTicket, sig: bytes, rand: int) -> str | None:
        """``address(this).call(redeemWinningTicket(...))``: None on success, else the reason."""
        try:
            self._atomic(lambda: self._redeem(t, sig, rand))
        except Revert as e:
            return e.reason
        return None

    def redeem_winning_ticket(
        self, caller: bytes, ticket: AnyTicket, sig: bytes, recipient_rand: int
    ) -> None:
        """``redeemWinningTicket(ticket, sig, recipientRand)``; anyone may call it."""
        check_address("caller", caller)
        t = _as_contract_ticket(ticket)
        sg = check_bytes("sig", sig)
        rand = check_uint("recipient_rand", recipient_rand)
        self._atomic(lambda: self._redeem(t, sg, rand))

    def batch_redeem_winning_tickets(
        self,
        caller: bytes,
        tickets: Sequence[AnyTicket],
        sigs: Sequence[bytes],
        recipient_rands: Sequence[int],
    ) -> list[str | None]:
        """``batchRedeemWinningTickets``: each ticket in its own sub-call whose failure is
        skipped (spec §5). Returns, per ticket, ``None`` if it was redeemed or the revert reason
        of its sub-call (the contract itself returns nothing; use the events as a chain would).
        Only "system is paused", "current round is not initialized" and a short ``sigs`` /
        ``recipient_rands`` array (``Panic(0x32)``) revert the whole batch."""
        check_address("caller", caller)
        ts = [_as_contract_ticket(t) for t in tickets]
        ss = [check_bytes("sig", s) for s in sigs]
        rs = [check_uint("recipient_rand", r) for r in recipient_rands]

        def run() -> list[str | None]:
            self._when_not_paused()
            self._current_round_initialized()
            # The loop indexes _sigs[i] / _recipientRands[i] for every i < tickets.length and
            # swallows sub-call failures, so a short array always panics the whole batch.
            if len(ss) < len(ts) or len(rs) < len(ts):
                raise Revert(PANIC_ARRAY_INDEX)
            results: list[str | None] = []
            for i, t in enumerate(ts):
                results.append(self._sub_call(t, ss[i], rs[i]))
            return results

        return self._atomic(run)


class _StaticBonding:
    """A BondingView for static calls: reads pass through, fee credits are skipped."""

    def __init__(self, inner: BondingView) -> None:
        self.inner = inner

    def is_active_transcoder(self, addr: bytes) -> bool:
        return self.inner.is_active_transcoder(addr)

    def transcoder_pool_size(self) -> int:
        return self.inner.transcoder_pool_size()

    def update_transcoder_with_fees(self, transcoder: bytes, fees: int, round: int) -> None:
        return None


# -- the broker as a chain for roles and the redemption queue -------------------------------


@dataclass(frozen=True, slots=True)
class TxReceipt:
    """The outcome of one redemption transaction on :class:`BrokerChain`.

    ``status`` is True when the transaction succeeded (a batch succeeds even if every ticket
    in it was skipped); ``redeemed`` lists the ticket hashes that emitted
    ``WinningTicketRedeemed``; ``paid`` the wei credited to recipients; ``gas_used`` ×
    ``gas_price`` is what the submitter paid; ``revert_reason`` is set when ``status`` is
    False; ``events`` are the broker events the transaction logged; ``batch`` is True for a
    ``batchRedeemWinningTickets`` transaction."""

    tx_hash: bytes
    status: bool
    gas_used: int
    gas_price: int
    block: int
    redeemed: tuple[bytes, ...] = ()
    paid: int = 0
    revert_reason: str | None = None
    events: tuple[Event, ...] = field(default=(), repr=False)
    batch: bool = False

    @property
    def fee(self) -> int:
        """Gas fee paid, in wei."""
        return self.gas_used * self.gas_price


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(fn: _F) -> _F:
    """Run a BrokerChain method under the chain's lock."""

    @functools.wraps(fn)
    def wrapper(self: BrokerChain, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return fn(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class BrokerChain:
    """A :class:`TicketBroker` with its :class:`Rounds` as "the chain": the chain views of
    :mod:`pm.chain` (``SenderChainView`` / ``RecipientChainView``) and the transaction side the
    redemption queue needs, with a gas price and a gas cost per redemption.

    Gas: a single redemption costs ``redeem_gas`` (go-livepeer's estimate, spec/protocol.md
    §5.1); a batch costs ``batch_base_gas + redeem_gas_per_ticket`` per ticket. Transactions are
    idempotent by ``tx_id`` (the id the submitter chose, like a signed transaction's hash):
    sending the same id twice returns the first receipt and changes nothing, so a redeemer that
    crashed after sending can safely send again. Gas fees are accounted in ``gas_spent`` per
    submitter.

    Every method runs under ``lock`` (an RLock), so threads (a recipient reading views while a
    queue redeems) see whole transactions; hold ``chain.lock`` yourself when you call the
    broker or the rounds directly from several threads.
    """

    def __init__(
        self,
        broker: TicketBroker,
        rounds: Rounds,
        *,
        gas_price: int | None = 1_000_000_000,
        redeem_gas: int = 350_000,
        batch_base_gas: int = 50_000,
        redeem_gas_per_ticket: int = 300_000,
    ) -> None:
        self.broker = broker
        self.rounds = rounds
        self.gas_price_wei = None if gas_price is None else check_uint("gas_price", gas_price)
        self.redeem_gas = check_uint("redeem_gas", redeem_gas)
        self.batch_base_gas = check_uint("batch_base_gas", batch_base_gas)
        self.redeem_gas_per_ticket = check_uint("redeem_gas_per_ticket", redeem_gas_per_ticket)
        self.receipts: dict[bytes, TxReceipt] = {}
        self.gas_spent: dict[bytes, int] = {}
        self.lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()

    # -- pm.chain views ---------------------------------------------------------------------
    @_locked
    def sender_info(self, sender: bytes) -> ChainSenderInfo:
        """``getSenderInfo`` of the broker, as :class:`pm.chain.SenderInfo`."""
        return ChainSenderInfo(*self.broker.get_sender_info(sender))

    @_locked
    def last_initialized_round(self) -> int:
        """The RoundsManager's last initialized round."""
        return self.rounds.last_initialized_round

    @_locked
    def last_initialized_block_hash(self) -> bytes:
        """The block hash recorded for the last initialized round."""
        return self.rounds.block_hash_for_round(self.rounds.last_initialized_round)

    @_locked
    def last_seen_l1_block(self) -> int:
        """The current L1 block."""
        return self.rounds.block

    @_locked
    def block_hash_for_round(self, round_: int) -> bytes:
        """The block hash recorded for ``round_`` (zeros if none)."""
        return self.rounds.block_hash_for_round(round_)

    @_locked
    def gas_price(self) -> int | None:
        """The current gas price in wei (None: not known)."""
        return self.gas_price_wei

    @_locked
    def transcoder_pool_size(self) -> int:
        """The BondingManager's pool size."""
        return self.broker.bonding.transcoder_pool_size()

    @_locked
    def claimed_reserve(self, reserve_holder: bytes, claimant: bytes) -> int:
        """``claimedReserve`` of the broker."""
        return self.broker.claimed_reserve(reserve_holder, claimant)

    # -- what the redemption queue reads ----------------------------------------------------
    @_locked
    def current_round(self) -> int:
        """The current round."""
        return self.rounds.current_round()

    @_locked
    def is_active_transcoder(self, addr: bytes) -> bool:
        """Whether ``addr`` is active this round."""
        return self.broker.bonding.is_active_transcoder(addr)

    @_locked
    def used_tickets(self, ticket_hash: bytes) -> bool:
        """``usedTickets(hash)``."""
        return self.broker.used_tickets(ticket_hash)

    @_locked
    def receipt(self, tx_id: bytes) -> TxReceipt | None:
        """The receipt of an earlier transaction, or None if it was never sent."""
        return self.receipts.get(bytes(tx_id))

    # -- persistence ----------------------------------------------------------------------
    @_locked
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole chain (broker, rounds, bonding, minter, receipts) to ``path``
        atomically: a crash leaves either the old file or the new one, never a torn file.

        The format is :mod:`pickle`: load only files you wrote yourself."""
        target = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(target))
        fd, tmp = tempfile.mkstemp(prefix=".pm-chain-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BrokerChain:
        """Read a chain written by :meth:`save` (trusted files only: this unpickles)."""
        try:
            with open(os.fspath(path), "rb") as f:
                obj = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError) as e:
            raise InvalidInput(f"cannot load chain from {os.fspath(path)}: {e}", name="path") from e
        if not isinstance(obj, cls):
            raise InvalidType(f"{os.fspath(path)} does not hold a BrokerChain", name="path")
        return obj

    # -- transactions -----------------------------------------------------------------------
    @_locked
    def estimate_redeem(
        self,
        caller: bytes,
        tickets: Sequence[AnyTicket],
        sigs: Sequence[bytes],
        recipient_rands: Sequence[int],
        *,
        batch: bool | None = None,
    ) -> str | None:
        """Gas estimation / ``eth_call`` of :meth:`redeem`: the revert reason it would give
        now, or None if it would succeed. Changes nothing and costs no gas."""
        c = check_address("caller", caller)
        use_batch = len(tickets) != 1 if batch is None else batch
        if not use_batch and len(tickets) != 1:
            raise InvalidInput("a single redemption takes exactly one ticket", name="tickets")
        b = self.broker
        try:
            if use_batch:
                b.call_static(
                    lambda: b.batch_redeem_winning_tickets(c, tickets, sigs, recipient_rands)
                )
            else:
                b.call_static(
                    lambda: b.redeem_winning_ticket(c, tickets[0], sigs[0], recipient_rands[0])
                )
        except Revert as e:
            return e.reason
        return None

    @_locked
    def redeem(
        self,
        tx_id: bytes,
        caller: bytes,
        tickets: Sequence[AnyTicket],
        sigs: Sequence[bytes],
        recipient_rands: Sequence[int],
        *,
        batch: bool | None = None,
    ) -> TxReceipt:
        """Send one redemption transaction: ``redeemWinningTicket`` for one ticket (unless
        ``batch`` is True), ``batchRedeemWinningTickets`` otherwise. A revert is reported in the
        receipt (``status=False``), and gas is charged either way, as on chain."""
        key = check_bytes32("tx_id", tx_id)
        if key in self.receipts:
            return self.receipts[key]
        c = check_address("caller", caller)
        use_batch = len(tickets) != 1 if batch is None else batch
        if not use_batch and len(tickets) != 1:
            raise InvalidInput("a single redemption takes exactly one ticket", name="tickets")
        start = len(self.broker.events)
        reason: str | None = None
        try:
            if use_batch:
                self.broker.batch_redeem_winning_tickets(c, tickets, sigs, recipient_rands)
                gas = self.batch_base_gas + self.redeem_gas_per_ticket * len(tickets)
            else:
                self.broker.redeem_winning_ticket(c, tickets[0], sigs[0], recipient_rands[0])
                gas = self.redeem_gas
        except Revert as e:
            reason = e.reason
            gas = self.redeem_gas if not use_batch else self.batch_base_gas
        events = tuple(self.broker.events[start:])
        # WinningTicketRedeemed carries every hashed field except recipientRandHash, which is
        # keccak(recipientRand) for any ticket that got this far (spec §1 "recipientRand").
        redeemed = tuple(
            ContractTicket(
                e.args["recipient"],
                e.args["sender"],
                e.args["faceValue"],
                e.args["winProb"],
                e.args["senderNonce"],
                keccak256(u256(int(e.args["recipientRand"]))),
                e.args["auxData"],
            ).hash()
            for e in events
            if e.name == "WinningTicketRedeemed"
        )
        paid = sum(int(e.args["amount"]) for e in events if e.name == "WinningTicketTransfer")
        price = self.gas_price_wei or 0
        rc = TxReceipt(
            tx_hash=key,
            status=reason is None,
            gas_used=gas,
            gas_price=price,
            block=self.rounds.block,
            redeemed=redeemed,
            paid=paid,
            revert_reason=reason,
            events=events,
            batch=use_batch,
        )
        self.receipts[key] = rc
        self.gas_spent[c] = self.gas_spent.get(c, 0) + gas * price
        return rc
