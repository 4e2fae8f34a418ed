"""The one exception hierarchy of pm, rooted at :class:`PMError`.

Bad input raises a subclass that is also a ``ValueError`` (wrong value) or ``TypeError``
(wrong type), so callers can catch either pm's or Python's idiom. Messages reproduce
go-livepeer's strings where one exists (spec/protocol.md §2.3, §5.4, §6.3, §7.3) and never
contain secrets.
"""

from __future__ import annotations

from functools import lru_cache


class PMError(Exception):
    """Base class of every error pm raises."""


class InvalidInput(PMError, ValueError):
    """A value has the right type but is out of range, the wrong length or malformed.

    ``name`` is the argument or field, ``value`` the offending value (never a secret).
    """

    def __init__(self, message: str, *, name: str = "", value: object = None) -> None:
        super().__init__(message)
        self.name = name
        self.value = value


class InvalidType(PMError, TypeError):
    """A value has the wrong Python type."""

    def __init__(self, message: str, *, name: str = "", value: object = None) -> None:
        super().__init__(message)
        self.name = name
        self.value = value


class NativeError(PMError):
    """The C core returned an unexpected status code (a bug or a broken installation)."""

    def __init__(self, function: str, code: int) -> None:
        super().__init__(f"{function} failed with status {code}")
        self.function = function
        self.code = code


# -- signatures (spec/protocol.md §2.3) ---------------------------------------------------


class InvalidSignature(InvalidInput):
    """A signature failed go-livepeer's checks; subclasses say which check, in check order."""


class InvalidSignatureLength(InvalidSignature):
    """The signature is not exactly 65 bytes."""

    def __init__(self, length: int) -> None:
        super().__init__("invalid signature length", name="sig", value=length)
        self.length = length


class SignatureSTooHigh(InvalidSignature):
    """s is above floor(N/2): go-livepeer accepts only low-s signatures."""

    def __init__(self, s: int) -> None:
        super().__init__("signature s value too high", name="sig", value=s)
        self.s = s


class InvalidSignatureV(InvalidSignature):
    """v is not 27 or 28."""

    def __init__(self, v: int) -> None:
        super().__init__("signature v value must be 27 or 28", name="sig", value=v)
        self.v = v


class UnrecoverableSignature(InvalidSignature):
    """libsecp256k1 could not recover a public key (r or s zero or >= N, no curve point)."""

    def __init__(self) -> None:
        super().__init__("invalid signature: public key recovery failed", name="sig")


class InvalidPrivateKey(InvalidInput):
    """The private key is not 32 bytes in [1, N)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid private key: {reason}", name="private_key")


# -- wire formats and calldata (spec/protocol.md §7.4, §9; owner: wire/abi helper) --------


class WireError(InvalidInput):
    """A wire message (``Livepeer-Payment`` header, protobuf bytes) is malformed.

    The message starts like go-livepeer's: "base64 decode error: …" or
    "protobuf unmarshal error: …" (spec/protocol.md §9.3).
    """


class Base64DecodeError(WireError):
    """The header value is not standard base64 with padding."""


class ProtobufDecodeError(WireError):
    """The bytes are not a valid protobuf message of the expected type, or a field holds a
    value pm cannot represent (an integer of 2**256 or more, a negative round, ...)."""


class CalldataError(InvalidInput):
    """TicketBroker calldata (or return data) is malformed or not canonically encoded."""


class UnknownSelector(CalldataError):
    """The 4-byte selector is not one of TicketBroker's functions."""


class PaymentError(PMError):
    """An orchestrator rejects a whole Payment before looking at its tickets
    (spec/protocol.md §5.6 steps 2, 4, 5). Always ``fatal``; the text is go-livepeer's."""

    fatal = True

    def __init__(self, message: str, *, name: str = "", value: object = None) -> None:
        super().__init__(message)
        self.name = name
        self.value = value


# ---------------------------------------------------------------------------------------------
# Roles: sender and recipient (issue 4; src/pm/sender.py, src/pm/recipient.py).
# Texts reproduce go-livepeer's (spec/protocol.md §5.2, §5.4, §5.6, §6.2, §6.3); every error
# carries the compared values as attributes. Addresses in texts are EIP-55.
# ---------------------------------------------------------------------------------------------


def _roles_checksum(addr: bytes) -> str:
    if isinstance(addr, bytes):  # hashable: one keccak per sender, not per rejected ticket
        return _roles_checksum_cached(addr)
    from pm.crypto import to_checksum_address  # local import: crypto imports this module

    return to_checksum_address(addr)


@lru_cache(maxsize=4096)
def _roles_checksum_cached(addr: bytes) -> str:
    from pm.crypto import to_checksum_address  # local import: crypto imports this module

    return to_checksum_address(addr)


def _roles_rat(x: object) -> str:
    from pm.pricing import format_rat  # local import: pricing imports this module

    return format_rat(x, 5)  # type: ignore[arg-type]


class ChainViewError(PMError):
    """A chain view raised something that is not a PMError; the text is kept as is."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause
        super().__init__(str(cause))


class SessionNotFound(PMError, KeyError):
    """Sender: no session with this id (§6.2 step 1: "error loading session: <hex of id>")."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.message = f"error loading session: {session_id.encode().hex()}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class TicketSigningError(PMError):
    """Sender: the signer failed (§6.2 step 4)."""

    def __init__(self, session_id: str, cause: BaseException) -> None:
        self.session_id = session_id
        self.cause = cause
        super().__init__(f"error signing ticket for session: {session_id}: {cause}")


class InsufficientSenderReserve(PMError):
    """Recipient: no acceptable face value for this sender (§5.2 steps 3.7 and 3.8).

    `reason` is "ev" (face value below the ticket EV) or "tx_cost" (below both the current and
    the average redemption cost); all amounts in wei.
    """

    def __init__(
        self,
        *,
        reason: str,
        face_value: int,
        ev: int,
        tx_cost: int,
        avg_tx_cost: int,
        max_float: int,
        max_face_value: int,
    ) -> None:
        self.reason = reason
        self.face_value = face_value
        self.ev = ev
        self.tx_cost = tx_cost
        self.avg_tx_cost = avg_tx_cost
        self.max_float = max_float
        self.max_face_value = max_face_value
        super().__init__("insufficient sender reserve")


class TicketParamsError(PMError):
    """Sender: ticket params refused by validateTicketParams (§6.3)."""


class TicketParamsNil(TicketParamsError):
    def __init__(self) -> None:
        super().__init__("ticketParams is nil")


class ExpirationBlockZero(TicketParamsError):
    """§6.3 check 2: an expiration block of 0 (low 64 bits) would skip every cap."""

    def __init__(self, expiration_block: int) -> None:
        self.expiration_block = expiration_block
        super().__init__("ticketParams expiration block is 0")


class TicketFaceValueTooLow(TicketParamsError):
    """§6.3 check 5: EV ≥ faceValue, i.e. winProb = 2**256-1."""

    def __init__(self, face_value: int, win_prob: int) -> None:
        self.face_value = face_value
        self.win_prob = win_prob
        super().__init__(f"ticket faceValue too low faceValue={face_value}")


class TicketEVTooHigh(TicketParamsError):
    """§6.3 check 6 (ev, max_ev: Fraction wei)."""

    def __init__(self, ev: object, max_ev: object) -> None:
        self.ev = ev
        self.max_ev = max_ev
        super().__init__(f"ticket EV {_roles_rat(ev)} > max ticket EV {_roles_rat(max_ev)}")


class SenderValidationError(TicketParamsError):
    """§6.3 check 8 (go-livepeer's ErrSenderValidation)."""


class SenderUnlocking(SenderValidationError):
    def __init__(self, withdraw_round: int, last_initialized_round: int) -> None:
        self.withdraw_round = withdraw_round
        self.last_initialized_round = last_initialized_round
        super().__init__("unable to validate sender: deposit and reserve is set to unlock soon")


class NoSenderReserve(SenderValidationError):
    def __init__(self, funds_remaining: int = 0) -> None:
        self.funds_remaining = funds_remaining
        super().__init__("no sender reserve")


class NoSenderDeposit(SenderValidationError):
    def __init__(self, deposit: int = 0) -> None:
        self.deposit = deposit
        super().__init__("no sender deposit")


class TotalTicketEVTooHigh(TicketParamsError):
    """§6.3 check 9 (total_ev, max_total_ev: Fraction wei)."""

    def __init__(self, total_ev: object, num_tickets: int, max_total_ev: object) -> None:
        self.total_ev = total_ev
        self.num_tickets = num_tickets
        self.max_total_ev = max_total_ev
        super().__init__(
            f"total ticket EV {_roles_rat(total_ev)} for {num_tickets} tickets > "
            f"max total ticket EV {_roles_rat(max_total_ev)}"
        )


class TicketFaceValueTooHigh(TicketParamsError):
    """§6.3 check 10: faceValue > ⌊deposit / depositMultiplier⌋ (or the policy's cap)."""

    def __init__(self, face_value: int, max_face_value: int) -> None:
        self.face_value = face_value
        self.max_face_value = max_face_value
        super().__init__(f"ticket faceValue {face_value} > max faceValue {max_face_value}")


class ReceiveError(PMError):
    """Recipient: a ticket (or payment) failed a receive check (§5.4, §5.6).

    `fatal` follows go-livepeer's FatalReceiveErr: a fatal error stops the payment at once;
    a non-fatal one is remembered while the remaining tickets are still processed.
    """

    fatal: bool = False


class CouldNotGetSenderInfo(ReceiveError):
    fatal = True

    def __init__(self, sender: bytes, cause: BaseException) -> None:
        self.sender = sender
        self.cause = cause
        super().__init__(f"could not get sender info for {_roles_checksum(sender)}: {cause}")


class SenderUnlockingSoon(ReceiveError):
    fatal = True

    def __init__(self, sender: bytes, withdraw_round: int, last_initialized_round: int) -> None:
        self.sender = sender
        self.withdraw_round = withdraw_round
        self.last_initialized_round = last_initialized_round
        super().__init__(
            f"deposit and reserve for sender {_roles_checksum(sender)} is set to unlock soon"
        )


class InvalidTicketRecipient(ReceiveError):
    fatal = True

    def __init__(self, expected: bytes, actual: bytes) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__("invalid ticket recipient")


class InvalidTicketSender(ReceiveError):
    fatal = True

    def __init__(self, sender: bytes) -> None:
        self.sender = sender
        super().__init__("invalid ticket sender")


class InvalidRecipientRand(ReceiveError):
    """The recomputed recipientRand does not hash to the ticket's recipientRandHash.

    Only the ticket's (public) `recipient_rand_hash` is kept. keccak of the recomputed
    recipientRand is deliberately NOT kept: for tampered params it is exactly the commitment
    the recipient would accept for them, so exposing it would let a sender forge params.
    """

    fatal = True

    def __init__(self, recipient_rand_hash: bytes) -> None:
        self.recipient_rand_hash = recipient_rand_hash
        super().__init__("invalid recipientRand for ticket recipientRandHash")


class InvalidTicketSignature(ReceiveError):
    """Non-fatal; `status` is the pm.ticket.SigStatus of the failed check."""

    fatal = False

    def __init__(self, sender: bytes, nonce: int, status: int) -> None:
        self.sender = sender
        self.nonce = nonce
        self.status = status
        super().__init__("invalid ticket signature")


class NonceAlreadySeen(ReceiveError):
    fatal = False

    def __init__(self, sender: bytes, nonce: int) -> None:
        self.sender = sender
        self.nonce = nonce
        super().__init__(
            "invalid ticket senderNonce: already seen "
            f"sender={_roles_checksum(sender)} nonce={nonce}"
        )


class TooManyNonces(ReceiveError):
    fatal = False

    def __init__(self, sender: bytes, nonce: int, limit: int) -> None:
        self.sender = sender
        self.nonce = nonce
        self.limit = limit
        super().__init__(
            "invalid ticket senderNonce: too many values "
            f"sender={_roles_checksum(sender)} nonce={nonce}"
        )


class TicketParamsExpired(TicketParamsError, ReceiveError):
    """"TicketParams expired": raised by the sender (§6.3 check 3) and returned, non-fatal, by
    the recipient (§5.4 check 8); one class as in go-livepeer (ErrTicketParamsExpired)."""

    fatal = False

    def __init__(self, expiration_block: int, last_seen_block: int) -> None:
        self.expiration_block = expiration_block
        self.last_seen_block = last_seen_block
        super().__init__("TicketParams expired")


class InvalidExpectedPrice(PaymentError):
    """§5.6 step 5: the payment's expected price is missing or has pixelsPerUnit 0 (fatal)."""

    def __init__(
        self, reason: str, price_per_unit: int | None = None, pixels_per_unit: int | None = None
    ) -> None:
        self.reason = reason
        self.price_per_unit = price_per_unit
        self.pixels_per_unit = pixels_per_unit
        super().__init__(
            f'invalid expected price sent with payment err="{reason}"',
            name="expected_price",
            value=(price_per_unit, pixels_per_unit),
        )


# -- settlement: ticket store, sender monitor, redemption (spec/protocol.md §7; owner: settlement
# helper). Texts reproduce go-livepeer's pm/sendermonitor.go and pm/queue.go. -------------------


class StoreError(PMError):
    """The ticket store failed (I/O, an unsupported schema version, a corrupt row)."""


class InvalidTransition(StoreError):
    """A ticket state change that the queue's state machine does not allow.

    ``ticket_hash`` is the ticket, ``current`` its state (None if unknown), ``target`` the
    requested state."""

    def __init__(self, ticket_hash: bytes, current: str | None, target: str) -> None:
        self.ticket_hash = ticket_hash
        self.current = current
        self.target = target
        super().__init__(
            f"invalid ticket state transition {current} -> {target} for 0x{ticket_hash.hex()}"
        )


class InsufficientPendingAmount(PMError):
    """SenderMonitor.addFloat: more was released than is pending (§7.1, §10.1.7)."""

    def __init__(self, pending: int, amount: int) -> None:
        self.pending = pending
        self.amount = amount
        super().__init__("cannot subtract from insufficient pendingAmount")


class RedemptionError(PMError):
    """A redemption attempt failed (§7.2, §7.3). ``retryable`` says whether the queue keeps
    the ticket (go-livepeer's isNonRetryableTicketErr, inverted)."""

    retryable: bool = True


class TicketAlreadyUsed(RedemptionError):
    """usedTickets(hash) is already true on chain; never retried."""

    retryable = False

    def __init__(self, ticket_hash: bytes) -> None:
        self.ticket_hash = ticket_hash
        super().__init__("ticket already used")


class GasPriceTooHigh(RedemptionError):
    """The current gas price is above the operator's cap; retried later (§7.3 step 3)."""

    def __init__(self, max_gas_price: int, current: int) -> None:
        self.max_gas_price = max_gas_price
        self.current = current
        super().__init__(
            "current gas price exceeds maximum gas price "
            f"max={_settlement_gwei(max_gas_price)} GWei current={_settlement_gwei(current)} GWei"
        )


class InsufficientSenderFunds(RedemptionError):
    """availableFunds <= txCost (§7.3 step 4); retried later."""

    def __init__(self, available_funds: int, tx_cost: int) -> None:
        self.available_funds = available_funds
        self.tx_cost = tx_cost
        super().__init__("insufficient sender funds for redeem tx cost")


class InsufficientFaceValue(RedemptionError):
    """faceValue <= txCost (§7.3 step 4); retried later (gas may get cheaper)."""

    def __init__(self, face_value: int, tx_cost: int) -> None:
        self.face_value = face_value
        self.tx_cost = tx_cost
        super().__init__("insufficient ticket face value for redeem tx cost")


class TransactionFailed(RedemptionError):
    """The redemption transaction was mined with status 0; never retried (§7.2).
    ``reason`` is the revert reason when the chain reports one."""

    retryable = False

    def __init__(self, tx_hash: bytes, reason: str | None = None) -> None:
        self.tx_hash = tx_hash
        self.reason = reason
        super().__init__(f"transaction failed txHash=0x{tx_hash.hex()}")


def _settlement_gwei(wei: int) -> str:
    """wei as a decimal GWei string without floats (go-livepeer prints big.Float GWei)."""
    whole, frac = divmod(wei, 10**9)
    return f"{whole}.{frac:09d}".rstrip("0").rstrip(".") if frac else str(whole)
