"""What the sender and the recipient read from the chain, as small Protocols.

Chain access belongs to the embedder (DESIGN.md "Roles"): pm never talks to a node itself. The
sender (spec/protocol.md §6.3) needs the gateway's own deposit/reserve, the last initialized
round with its L1 block hash, and the last seen L1 block. The recipient (§5.2, §5.4, §7.1) also
needs block hashes of earlier rounds, the current gas price, the active transcoder pool size and
the reserve already claimed from a sender.

`InMemoryChain` is a plain settable implementation of both views, for tests, simulations and
offline use; the settlement layer backs the same Protocols with the reference TicketBroker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pm.errors import InvalidType, PMError
from pm.evm import check_address, check_bytes32, check_uint
from pm.ticket import SignedTicket

__all__ = [
    "InMemoryChain",
    "MaxFloatSource",
    "RecipientChainView",
    "SenderChainView",
    "SenderInfo",
    "UnknownSender",
    "WinningTicketSink",
]

_ZERO_HASH = bytes(32)
_uint = check_uint
_address = check_address
_hash = check_bytes32


@dataclass(frozen=True, slots=True)
class SenderInfo:
    """A sender's on-chain funds, as TicketBroker.getSenderInfo returns them (all in wei/rounds).

    - deposit: wei in the sender's deposit;
    - withdraw_round: round from which the sender may withdraw; 0 when no unlock is in progress;
    - funds_remaining: wei left in the sender's reserve;
    - claimed_in_current_round: reserve wei claimed by recipients in the current round.
    """

    deposit: int
    withdraw_round: int
    funds_remaining: int
    claimed_in_current_round: int = 0

    def __post_init__(self) -> None:
        _uint("deposit", self.deposit)
        _uint("withdraw_round", self.withdraw_round)
        _uint("funds_remaining", self.funds_remaining)
        _uint("claimed_in_current_round", self.claimed_in_current_round)


@runtime_checkable
class SenderChainView(Protocol):
    """What a sender (gateway) reads from the chain (spec/protocol.md §6.2, §6.3).

    Any method may raise; the sender passes a PMError through unchanged and wraps anything else
    in `pm.errors.ChainViewError` with the same text.
    """

    def sender_info(self, sender: bytes) -> SenderInfo:
        """Deposit, withdraw round and reserve of `sender` (20-byte address)."""
        ...

    def last_initialized_round(self) -> int:
        """The last initialized Livepeer round."""
        ...

    def last_initialized_block_hash(self) -> bytes:
        """The 32-byte L1 block hash recorded for the last initialized round (zeros if none)."""
        ...

    def last_seen_l1_block(self) -> int:
        """The latest L1 block number the node has seen (on Arbitrum: the L1 number)."""
        ...


@runtime_checkable
class RecipientChainView(SenderChainView, Protocol):
    """What a recipient (orchestrator) reads from the chain (spec/protocol.md §5.2, §5.4, §7.1)."""

    def block_hash_for_round(self, round_: int) -> bytes:
        """The 32-byte L1 block hash recorded for `round_` (zeros if none)."""
        ...

    def gas_price(self) -> int | None:
        """The last polled gas price in wei, or None when no value has been polled yet."""
        ...

    def transcoder_pool_size(self) -> int:
        """Number of active transcoders in the current round (the reserve is split by it)."""
        ...

    def claimed_reserve(self, reserve_holder: bytes, claimant: bytes) -> int:
        """Reserve wei `claimant` already claimed from `reserve_holder` in the current round."""
        ...


class UnknownSender(PMError, LookupError):
    """InMemoryChain has no sender info for the address (like a failed getSenderInfo call)."""

    def __init__(self, sender: bytes) -> None:
        self.sender = sender
        super().__init__(f"no sender info for 0x{sender.hex()}")


class InMemoryChain:
    """A settable, thread-safe in-memory chain view implementing both Protocols.

    Set attributes directly (`chain.l1_block = 120`) or use the helpers. Unknown senders raise
    `UnknownSender` unless `default_sender_info` is set. Block hashes default to all zeros,
    which is also what a round without a recorded hash gives on chain.
    """

    def __init__(
        self,
        *,
        l1_block: int = 0,
        round_: int = 0,
        round_block_hashes: dict[int, bytes] | None = None,
        gas_price: int | None = None,
        pool_size: int = 1,
        default_sender_info: SenderInfo | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.l1_block = _uint("l1_block", l1_block)
        self.round = _uint("round_", round_)
        self.round_block_hashes: dict[int, bytes] = {}
        for r, h in (round_block_hashes or {}).items():
            self.round_block_hashes[_uint("round", r)] = _hash("block hash", h)
        self.gas_price_wei: int | None = (
            None if gas_price is None else _uint("gas_price", gas_price)
        )
        self.pool_size = _uint("pool_size", pool_size)
        self.default_sender_info = default_sender_info
        self.senders: dict[bytes, SenderInfo] = {}
        self.claimed: dict[tuple[bytes, bytes], int] = {}
        self.sender_info_error: Exception | None = None

    # -- setters ---------------------------------------------------------------------------
    def set_sender_info(self, sender: bytes, info: SenderInfo) -> None:
        """Records `info` for `sender`."""
        if not isinstance(info, SenderInfo):
            raise InvalidType(f"info must be a SenderInfo, got {type(info).__name__}")
        with self._lock:
            self.senders[_address("sender", sender)] = info

    def set_round(self, round_: int, block_hash: bytes | None = None) -> None:
        """Makes `round_` the last initialized round, recording its L1 block hash if given."""
        with self._lock:
            self.round = _uint("round_", round_)
            if block_hash is not None:
                self.round_block_hashes[round_] = _hash("block_hash", block_hash)

    def set_claimed_reserve(self, reserve_holder: bytes, claimant: bytes, amount: int) -> None:
        """Records the reserve wei `claimant` claimed from `reserve_holder` this round."""
        key = (_address("reserve_holder", reserve_holder), _address("claimant", claimant))
        with self._lock:
            self.claimed[key] = _uint("amount", amount)

    def advance(self, blocks: int = 1) -> int:
        """Moves the last seen L1 block forward by `blocks` and returns the new number."""
        with self._lock:
            self.l1_block = _uint("l1_block", self.l1_block + _uint("blocks", blocks))
            return self.l1_block

    # -- SenderChainView -------------------------------------------------------------------
    def sender_info(self, sender: bytes) -> SenderInfo:
        with self._lock:
            if self.sender_info_error is not None:
                raise self.sender_info_error
            info = self.senders.get(bytes(sender))
            if info is None:
                info = self.default_sender_info
        if info is None:
            raise UnknownSender(bytes(sender))
        return info

    def last_initialized_round(self) -> int:
        return self.round

    def last_initialized_block_hash(self) -> bytes:
        with self._lock:
            return self.round_block_hashes.get(self.round, _ZERO_HASH)

    def last_seen_l1_block(self) -> int:
        return self.l1_block

    # -- RecipientChainView ----------------------------------------------------------------
    def block_hash_for_round(self, round_: int) -> bytes:
        with self._lock:
            return self.round_block_hashes.get(round_, _ZERO_HASH)

    def gas_price(self) -> int | None:
        return self.gas_price_wei

    def transcoder_pool_size(self) -> int:
        return self.pool_size

    def claimed_reserve(self, reserve_holder: bytes, claimant: bytes) -> int:
        with self._lock:
            return self.claimed.get((bytes(reserve_holder), bytes(claimant)), 0)


@runtime_checkable
class MaxFloatSource(Protocol):
    """Where the recipient gets a sender's max float (spec/protocol.md §7.1) for §5.2 step 3.5.

    `max_float(sender)` returns wei (an int that CAN be negative: the reserve allocation minus
    what the recipient already claimed, minus pending redemptions); it may raise, and the
    recipient passes a PMError through to the `ticket_params` caller unchanged (anything else
    is wrapped in `pm.errors.ChainViewError`). `pm.recipient.ChainMaxFloat` computes it from a
    `RecipientChainView` with no pending amounts; the settlement layer's SenderMonitor
    satisfies the same Protocol with pending redemptions counted.
    """

    def max_float(self, sender: bytes) -> int: ...


@runtime_checkable
class WinningTicketSink(Protocol):
    """Where the recipient hands every winning ticket (spec/protocol.md §5.6 step 6.6).

    `add(signed_ticket, params_expiration_block)` must have stored the ticket durably when it
    returns: `Recipient.receive` reports a win only after `add` returned. It must be idempotent
    per ticket (a replayed winning ticket, same signature, is ignored, never stored twice) and
    raise on a storage failure, which `receive` propagates. `params_expiration_block` is the L1
    block at which the ticket's params expire: it is not part of the signed ticket, and
    redemption must wait until it has passed (§7.2). `pm.recipient.MemoryWinningTicketSink` is
    the in-memory implementation; the settlement layer's ticket store implements it durably.
    """

    def add(self, signed_ticket: SignedTicket, params_expiration_block: int) -> None: ...
