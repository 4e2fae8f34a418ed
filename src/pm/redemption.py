"""Settlement on the orchestrator side: the sender monitor and the redemption queue
(spec/protocol.md §7).

- :class:`SenderMonitor` tracks, per sender, the reserve allocation this recipient may claim,
  the face value of redemptions in flight (``pending``) and from them the max float and the
  available funds (§7.1), exactly like go-livepeer's ``LocalSenderMonitor`` (the §10.1.7
  vectors). It is the :class:`pm.chain.MaxFloatSource` a :class:`pm.recipient.Recipient` uses.
- :class:`RedemptionQueue` redeems the winning tickets of a :class:`pm.store.TicketStore` on a
  :class:`RedemptionChain` (for example :class:`pm.broker.BrokerChain`): per sender, oldest first,
  only after the ticket's params expired and while its creation round is still valid, skipping
  inactive recipients, with go-livepeer's profitability checks (§7.3), retryable vs
  non-retryable failures (§7.2) and every state change persisted before the next step, so a
  crash at any point neither loses a ticket nor redeems one twice.

Crash safety rests on one ordering: a ticket is marked ``submitted`` together with the id of the
transaction that will carry it BEFORE that transaction is sent, and transaction ids are
idempotent on the chain (a signed transaction sent twice is mined once). After a restart every
``submitted`` ticket is settled from its transaction's receipt, re-sending the same transaction
if it never reached the chain.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Protocol, runtime_checkable

from pm.broker import TxReceipt
from pm.chain import SenderInfo
from pm.crypto import keccak256
from pm.errors import (
    CouldNotGetSenderInfo,
    GasPriceTooHigh,
    InsufficientFaceValue,
    InsufficientPendingAmount,
    InsufficientSenderFunds,
    InvalidInput,
    PMError,
    RedemptionError,
    SenderUnlockingSoon,
    TicketAlreadyUsed,
    TransactionFailed,
)
from pm.evm import check_address, check_uint, u256
from pm.store import StoredTicket, TicketState, TicketStore
from pm.ticket import Ticket

__all__ = [
    "MIN_DEPOSIT_PENDING_RATIO",
    "NON_RETRYABLE_MARKERS",
    "EstimatingChain",
    "QueueReport",
    "RedemptionChain",
    "RedemptionPolicy",
    "RedemptionQueue",
    "SenderMonitor",
    "SenderMonitorChain",
    "is_non_retryable",
]

# pm/sendermonitor.go: pending amounts are ignored while deposit / pending >= 3.0 (§7.1).
MIN_DEPOSIT_PENDING_RATIO = 3
# go-livepeer compares big.Float(deposit) / big.Float(pending) (quotient rounded to the 53-bit
# precision of big.NewFloat(0.0), nearest-even) with 3.0. A quotient q rounds to >= 3.0 iff
# q >= 3 - 2**-52 (half an ulp below 3; the tie rounds to 3, whose mantissa is even).
_RATIO_THRESHOLD = Fraction(MIN_DEPOSIT_PENDING_RATIO) - Fraction(1, 2**52)
_LOW64 = (1 << 64) - 1

# pm/queue.go isNonRetryableTicketErr (§7.2).
NON_RETRYABLE_MARKERS = (
    "ticket already used",
    "transaction failed",
    "ticket creationRound does not have a block hash",
)


def is_non_retryable(error: BaseException | str) -> bool:
    """go-livepeer's rule: "ticket already used", any "transaction failed" and a creation
    round without a block hash are final; everything else is retried (§7.2)."""
    text = str(error)
    return text == NON_RETRYABLE_MARKERS[0] or any(m in text for m in NON_RETRYABLE_MARKERS[1:])


# -- sender monitor (§7.1) --------------------------------------------------------------


@runtime_checkable
class SenderMonitorChain(Protocol):
    """What the sender monitor reads (a subset of :class:`pm.chain.RecipientChainView`)."""

    def sender_info(self, sender: bytes) -> SenderInfo: ...

    def transcoder_pool_size(self) -> int: ...

    def claimed_reserve(self, reserve_holder: bytes, claimant: bytes) -> int: ...

    def last_initialized_round(self) -> int: ...


class SenderMonitor:
    """go-livepeer's ``LocalSenderMonitor`` accounting for one claimant (this recipient).

    All amounts in wei. ``pending`` per sender is the face value of redemptions in flight;
    :meth:`sub_float` adds to it before a redemption is sent and :meth:`add_float` removes it
    afterwards. Thread-safe. Satisfies :class:`pm.chain.MaxFloatSource`.
    """

    def __init__(self, chain: SenderMonitorChain, claimant: bytes) -> None:
        self.chain = chain
        self.claimant = check_address("claimant", claimant)
        self._lock = threading.Lock()
        self._pending: dict[bytes, int] = {}

    def pending_amount(self, sender: bytes) -> int:
        """Face value (wei) of ``sender``'s redemptions in flight."""
        with self._lock:
            return self._pending.get(check_address("sender", sender), 0)

    def sub_float(self, sender: bytes, amount: int) -> None:
        """Count ``amount`` wei as pending (lowers the max float)."""
        s = check_address("sender", sender)
        a = check_uint("amount", amount)
        with self._lock:
            self._pending[s] = self._pending.get(s, 0) + a

    def add_float(self, sender: bytes, amount: int) -> None:
        """Release ``amount`` wei of pending; raises
        :class:`pm.errors.InsufficientPendingAmount` if less is pending (nothing changes)."""
        s = check_address("sender", sender)
        a = check_uint("amount", amount)
        with self._lock:
            pending = self._pending.get(s, 0)
            if pending < a:
                raise InsufficientPendingAmount(pending, a)
            self._pending[s] = pending - a

    def reserve_alloc(self, sender: bytes) -> int:
        """⌊(fundsRemaining + claimedInCurrentRound) / poolSize⌋ − claimedReserve; 0 for an
        empty pool; can be negative (§7.1)."""
        s = check_address("sender", sender)
        info = self.chain.sender_info(s)
        claimed = self.chain.claimed_reserve(s, self.claimant)
        pool = self.chain.transcoder_pool_size()
        if pool == 0:
            return 0
        return (info.funds_remaining + info.claimed_in_current_round) // pool - claimed

    def max_float(self, sender: bytes) -> int:
        """reserveAlloc, or reserveAlloc − pending unless deposit / pending ≥ 3 (§7.1)."""
        s = check_address("sender", sender)
        alloc = self.reserve_alloc(s)
        info = self.chain.sender_info(s)
        pending = self.pending_amount(s)
        if pending > 0 and Fraction(info.deposit, pending) >= _RATIO_THRESHOLD:
            return alloc
        return alloc - pending

    def available_funds(self, sender: bytes) -> int:
        """reserveAlloc + deposit − pending: what could cover redemptions now (§7.1)."""
        s = check_address("sender", sender)
        info = self.chain.sender_info(s)
        return self.reserve_alloc(s) + info.deposit - self.pending_amount(s)

    def validate_sender(self, sender: bytes) -> None:
        """Raise if ``sender``'s unlock ends by the round after the last initialized one
        (go-livepeer ``ValidateSender``; messages of §10.1.7)."""
        s = check_address("sender", sender)
        try:
            info = self.chain.sender_info(s)
        except Exception as exc:
            raise CouldNotGetSenderInfo(s, exc) from exc
        rnd = self.chain.last_initialized_round()
        w = info.withdraw_round
        # Go: info.WithdrawRound.Int64() != 0 && WithdrawRound <= LastInitializedRound + 1
        if (w & _LOW64) != 0 and w <= rnd + 1:
            raise SenderUnlockingSoon(s, w, rnd)


# -- the chain the queue submits to -------------------------------------------------------


@runtime_checkable
class RedemptionChain(SenderMonitorChain, Protocol):
    """What the redemption queue reads from and sends to the chain.

    ``redeem`` sends ONE transaction identified by ``tx_id`` (a 32-byte id the queue derives
    and persists before sending). It must be idempotent by ``tx_id``: sending an id that was
    already sent returns the first transaction's receipt and changes nothing (on a real chain:
    re-broadcasting the same signed transaction). ``receipt`` returns None for an id never sent.
    A reverted transaction is a receipt with ``status`` False, not an exception; an exception
    means the transaction was not sent (the queue retries it later).
    """

    def last_seen_l1_block(self) -> int: ...

    def current_round(self) -> int: ...

    def gas_price(self) -> int | None: ...

    def is_active_transcoder(self, addr: bytes) -> bool: ...

    def used_tickets(self, ticket_hash: bytes) -> bool: ...

    def receipt(self, tx_id: bytes) -> TxReceipt | None: ...

    def redeem(
        self,
        tx_id: bytes,
        caller: bytes,
        tickets: Sequence[Ticket],
        sigs: Sequence[bytes],
        recipient_rands: Sequence[int],
        *,
        batch: bool | None = None,
    ) -> TxReceipt: ...


@runtime_checkable
class EstimatingChain(Protocol):
    """A chain that can dry-run a redemption (gas estimation / ``eth_call``), for
    ``RedemptionPolicy(preflight=True)``. :class:`pm.broker.BrokerChain` implements it."""

    def estimate_redeem(
        self,
        caller: bytes,
        tickets: Sequence[Ticket],
        sigs: Sequence[bytes],
        recipient_rands: Sequence[int],
        *,
        batch: bool | None = None,
    ) -> str | None:
        """The revert reason the redemption would give now, or None if it would succeed."""
        ...


# -- the queue ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RedemptionPolicy:
    """How the queue decides what to redeem, and when.

    - ``redeem_gas``: gas of one redemption, for the tx-cost checks (§7.3; 350 000 on L1,
      1 200 000 on Arbitrum One);
    - ``max_gas_price``: hold every redemption while the gas price (wei) is above it
      (None: no cap; go-livepeer ``-maxGasPrice``);
    - ``min_face_value_gas_multiple``: redeem only tickets whose face value is more than this
      multiple of the tx cost (1 = go-livepeer's ``faceValue > txCost``);
    - ``ticket_validity_period``: rounds a ticket stays redeemable after its creation round
      (the contract's, 2 on Arbitrum One); tickets past it are given up as ``expired``;
    - ``batch_size``: 1 submits each ticket with ``redeemWinningTicket``; more groups up to that
      many tickets of one sender into ``batchRedeemWinningTickets`` (a group of one ticket is
      still sent with ``redeemWinningTicket``);
    - ``max_attempts``: a ticket that was submitted this many times without a final answer
      fails (protects against a ticket a batch keeps skipping);
    - ``preflight``: dry-run each ticket's redemption first, as go-livepeer's transaction
      sender does when it estimates gas: a ticket that would revert is not sent (no gas spent);
      the error "execution reverted: <reason>" is final only if go-livepeer's non-retryable rule
      says so (§7.2), otherwise the ticket is retried on a later block. Needs a chain with
      ``estimate_redeem`` (:class:`EstimatingChain`).
    """

    redeem_gas: int = 350_000
    max_gas_price: int | None = None
    min_face_value_gas_multiple: Fraction = Fraction(1)
    ticket_validity_period: int = 2
    batch_size: int = 1
    max_attempts: int = 10
    preflight: bool = False

    def __post_init__(self) -> None:
        check_uint("redeem_gas", self.redeem_gas)
        if self.max_gas_price is not None:
            check_uint("max_gas_price", self.max_gas_price)
        if not isinstance(self.min_face_value_gas_multiple, Fraction | int) or isinstance(
            self.min_face_value_gas_multiple, bool
        ):
            raise InvalidInput(
                "min_face_value_gas_multiple must be an int or Fraction",
                name="min_face_value_gas_multiple",
                value=self.min_face_value_gas_multiple,
            )
        if self.min_face_value_gas_multiple < 0:
            raise InvalidInput(
                "min_face_value_gas_multiple must be >= 0",
                name="min_face_value_gas_multiple",
                value=self.min_face_value_gas_multiple,
            )
        if check_uint("ticket_validity_period", self.ticket_validity_period) == 0:
            raise InvalidInput("ticket_validity_period must be > 0", name="ticket_validity_period")
        if check_uint("batch_size", self.batch_size) == 0:
            raise InvalidInput("batch_size must be > 0", name="batch_size", value=0)
        if check_uint("max_attempts", self.max_attempts) == 0:
            raise InvalidInput("max_attempts must be > 0", name="max_attempts", value=0)
        if not isinstance(self.preflight, bool):
            raise InvalidInput("preflight must be a bool", name="preflight", value=self.preflight)


@dataclass
class QueueReport:
    """What one :meth:`RedemptionQueue.process` pass did (ticket hashes per outcome)."""

    confirmed: list[bytes] = field(default_factory=list)
    failed: list[bytes] = field(default_factory=list)
    expired: list[bytes] = field(default_factory=list)
    requeued: list[bytes] = field(default_factory=list)
    held: dict[bytes, str] = field(default_factory=dict)
    receipts: list[TxReceipt] = field(default_factory=list)

    @property
    def gas_fees(self) -> int:
        """Gas paid by the transactions of this pass, in wei."""
        return sum(r.fee for r in self.receipts)


# A ticket a successful batch skipped without a visible reason: it is sent alone next time,
# so that a failing ticket gets its own revert reason (and a final answer) at once.
_SKIPPED_BY_BATCH = "not redeemed by batch"


class RedemptionQueue:
    """Redeems the store's winning tickets on ``chain`` as ``redeemer`` (§7.2, §7.3).

    Call :meth:`process` on every new L1 block (go-livepeer's block-driven queue). One pass:
    settles the transactions of ``submitted`` tickets (after a crash: from their receipts,
    re-sending the same transaction if it never reached the chain); gives up tickets whose
    creation round is no longer valid; then, per sender and oldest first, redeems tickets whose
    params expired (``params_expiration_block <= latest L1 block``) and whose recipient is
    active, after the §7.3 checks. Tickets held by a retryable check stay ``queued``.
    """

    def __init__(
        self,
        store: TicketStore,
        chain: RedemptionChain,
        redeemer: bytes,
        *,
        monitor: SenderMonitor | None = None,
        policy: RedemptionPolicy | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.redeemer = check_address("redeemer", redeemer)
        self.monitor = monitor if monitor is not None else SenderMonitor(chain, self.redeemer)
        self.policy = policy if policy is not None else RedemptionPolicy()
        if self.policy.preflight and not isinstance(chain, EstimatingChain):
            raise InvalidInput(
                "preflight needs a chain with estimate_redeem", name="chain", value=chain
            )
        self._lock = threading.Lock()

    # -- helpers ------------------------------------------------------------------------

    def _tx_id(self, tickets: Sequence[StoredTicket]) -> bytes:
        """Deterministic id of the next submission of these tickets: the redeemer, the ticket
        hashes and their attempt counts, so every (re)submission has its own id."""
        parts = [b"pm.redemption.tx", self.redeemer]
        for t in tickets:
            parts.append(t.ticket_hash + u256(t.attempts))
        return keccak256(b"".join(parts))

    def _expired(self, t: StoredTicket, current_round: int) -> bool:
        # the contract's rule: valid iff currentRound < creationRound + ticketValidityPeriod
        return current_round >= t.ticket.creation_round + self.policy.ticket_validity_period

    def _send(
        self, tx_id: bytes, group: Sequence[StoredTicket], *, batch: bool | None = None
    ) -> TxReceipt:
        if batch is None:
            # The call's form depends on the group alone, never on the policy: a restart (maybe
            # under another policy) re-sends tx_id exactly as it was first built. Several tickets
            # go in one batch call; one ticket goes alone, so its revert reason is its own.
            batch = len(group) > 1
        return self.chain.redeem(
            tx_id,
            self.redeemer,
            [t.ticket for t in group],
            [t.signed.sig for t in group],
            [t.signed.recipient_rand for t in group],
            batch=batch,
        )

    # -- settle a transaction -------------------------------------------------------------

    def _settle(self, group: Sequence[StoredTicket], rc: TxReceipt, report: QueueReport) -> None:
        """Apply a receipt to the tickets it carried (all in ``submitted``)."""
        report.receipts.append(rc)
        redeemed = set(rc.redeemed)
        done = [t.ticket_hash for t in group if t.ticket_hash in redeemed]
        if done:
            self.store.transition(done, TicketState.CONFIRMED, tx_id=rc.tx_hash)
            report.confirmed.extend(done)
        cur = self.chain.current_round()
        for t in group:
            h = t.ticket_hash
            if h in redeemed:
                continue
            if rc.status and self.chain.used_tickets(h):
                # a successful batch skipped it because someone else had redeemed it
                self.store.transition([h], TicketState.FAILED, error=str(TicketAlreadyUsed(h)))
                report.failed.append(h)
            elif self._expired(t, cur) or rc.revert_reason == "ticket is expired":
                self.store.transition([h], TicketState.EXPIRED, error="ticket is expired")
                report.expired.append(h)
            elif not rc.status and not rc.batch and not _retryable_revert(rc):
                err = TransactionFailed(rc.tx_hash, rc.revert_reason)
                self.store.transition([h], TicketState.FAILED, error=_describe(err))
                report.failed.append(h)
            elif t.attempts >= self.policy.max_attempts:
                msg = f"gave up after {t.attempts} attempts: {rc.revert_reason or 'skipped'}"
                self.store.transition([h], TicketState.FAILED, error=msg)
                report.failed.append(h)
            else:
                why = rc.revert_reason if rc.revert_reason else _SKIPPED_BY_BATCH
                self.store.transition([h], TicketState.QUEUED, error=why)
                report.requeued.append(h)

    def _settle_submitted(self, report: QueueReport) -> None:
        """Finish every transaction a previous pass (or process) started."""
        groups: dict[bytes, list[StoredTicket]] = {}
        for t in self.store.tickets(states=(TicketState.SUBMITTED,)):
            if t.tx_id is None:  # cannot happen through this queue; be safe
                self.store.transition([t.ticket_hash], TicketState.QUEUED, error="no tx id")
                continue
            groups.setdefault(t.tx_id, []).append(t)
        for tx_id, group in groups.items():
            rc = self.chain.receipt(tx_id)
            if rc is None:
                try:
                    rc = self._send(tx_id, group)
                except PMError as e:
                    hashes = [t.ticket_hash for t in group]
                    self.store.transition(hashes, TicketState.QUEUED, error=str(e))
                    report.requeued.extend(hashes)
                    continue
            self._settle(group, rc, report)

    # -- one pass ---------------------------------------------------------------------------

    def process(self) -> QueueReport:
        """One pass over the queue (call on every new L1 block); returns what happened."""
        with self._lock:
            report = QueueReport()
            self._settle_submitted(report)
            block = self.chain.last_seen_l1_block()
            cur = self.chain.current_round()
            for sender in self.store.senders(states=(TicketState.QUEUED,)):
                ready: list[StoredTicket] = []
                for t in self.store.tickets(sender=sender, states=(TicketState.QUEUED,)):
                    h = t.ticket_hash
                    if self._expired(t, cur):
                        self.store.transition([h], TicketState.EXPIRED, error="ticket is expired")
                        report.expired.append(h)
                    elif t.params_expiration_block > block:
                        report.held[h] = "params not expired"
                    elif not self._recipient_active(t):
                        report.held[h] = "recipient not active"
                    else:
                        ready.append(t)
                for t in [t for t in ready if t.error == _SKIPPED_BY_BATCH]:
                    self._redeem_group([t], report, solo=True)
                rest = [t for t in ready if t.error != _SKIPPED_BY_BATCH]
                size = self.policy.batch_size
                for i in range(0, len(rest), size):
                    self._redeem_group(rest[i : i + size], report)
            return report

    def _recipient_active(self, t: StoredTicket) -> bool:
        try:
            return self.chain.is_active_transcoder(t.ticket.recipient)
        except Exception:
            return True  # go-livepeer: an error counts as active (§7.2 step 3)

    def _precheck(self, t: StoredTicket, gas_price: int | None) -> None:
        """§7.3 steps 1-4 for one ticket; raises a RedemptionError."""
        p = self.policy
        available = self.monitor.available_funds(t.sender)
        if self.chain.used_tickets(t.ticket_hash):
            raise TicketAlreadyUsed(t.ticket_hash)
        if gas_price is None:
            # step 3 failed (no price polled yet): retry later, never assume a free transaction
            raise RedemptionError("could not get gas price")
        if p.max_gas_price is not None and gas_price > p.max_gas_price:
            raise GasPriceTooHigh(p.max_gas_price, gas_price)
        tx_cost = p.redeem_gas * gas_price
        if available <= tx_cost:
            raise InsufficientSenderFunds(available, tx_cost)
        if t.face_value <= tx_cost * p.min_face_value_gas_multiple:
            raise InsufficientFaceValue(t.face_value, tx_cost)

    def _preflight(self, t: StoredTicket, report: QueueReport) -> bool:
        """Dry-run one ticket; False (and the ticket held or failed) if it would revert."""
        assert isinstance(self.chain, EstimatingChain)
        try:
            reason = self.chain.estimate_redeem(
                self.redeemer, [t.ticket], [t.signed.sig], [t.signed.recipient_rand], batch=False
            )
        except PMError as e:
            report.held[t.ticket_hash] = str(e)
            return False
        if reason is None:
            return True
        text = f"execution reverted: {reason}" if reason else "execution reverted"
        if is_non_retryable(text):
            self.store.transition([t.ticket_hash], TicketState.FAILED, error=text)
            report.failed.append(t.ticket_hash)
        else:
            report.held[t.ticket_hash] = text
        return False

    def _redeem_group(
        self, group: Sequence[StoredTicket], report: QueueReport, *, solo: bool = False
    ) -> None:
        gas_price = self.chain.gas_price()
        send: list[StoredTicket] = []
        try:
            for t in group:
                try:
                    self._precheck(t, gas_price)
                except RedemptionError as e:
                    if e.retryable:
                        report.held[t.ticket_hash] = str(e)
                    else:
                        self.store.transition([t.ticket_hash], TicketState.FAILED, error=str(e))
                        report.failed.append(t.ticket_hash)
                    continue
                except PMError as e:  # a chain read failed: retry on a later block
                    report.held[t.ticket_hash] = str(e)
                    continue
                if self.policy.preflight and not self._preflight(t, report):
                    continue
                # pending from here on, so the next ticket of the group sees less available
                self.monitor.sub_float(t.sender, t.face_value)
                send.append(t)
            if not send:
                return
            tx_id = self._tx_id(send)
            hashes = [t.ticket_hash for t in send]
            # Durable BEFORE sending: a crash from here on is settled from the receipt.
            self.store.transition(hashes, TicketState.SUBMITTED, tx_id=tx_id)
            group_now = [t for t in (self.store.get(h) for h in hashes) if t is not None]
            try:
                rc = self._send(tx_id, group_now, batch=False if solo else None)
            except PMError as e:
                self.store.transition(hashes, TicketState.QUEUED, error=str(e))
                report.requeued.extend(hashes)
                return
            self._settle(group_now, rc, report)
        finally:
            # go-livepeer adds the full face value back whatever happened (§7.3 note)
            for t in send:
                self.monitor.add_float(t.sender, t.face_value)


def _retryable_revert(rc: TxReceipt) -> bool:
    """A mined revert that is worth retrying: PR #657's all-or-nothing funds check (go-livepeer
    #4012 retries it) and the batch-level pause / round-not-initialized checks."""
    reason = rc.revert_reason or ""
    return reason in (
        "sender deposit and reserve insufficient to cover ticket face value",
        "system is paused",
        "current round is not initialized",
    )


def _describe(err: TransactionFailed) -> str:
    return f"{err} reason={err.reason!r}" if err.reason is not None else str(err)
