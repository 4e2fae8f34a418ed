"""go-livepeer wire messages for payments: ``net.Payment`` and friends (spec/protocol.md §9).

The protobuf classes are generated from ``pm/proto/lp_rpc.proto`` (a subset of go-livepeer's
``net/lp_rpc.proto`` and ``net/redeemer.proto``, package ``net``) and used only here; the rest
of pm sees the frozen dataclasses below, which hold ``bytes``/``int`` values:

- :class:`PriceInfo`, :class:`AuthToken`, :class:`WireTicketParams` (``net.TicketParams``:
  the recipient's params *without* a price, which travels separately as ``PriceInfo``),
  :class:`Payment`, :class:`OrchestratorInfo`, :class:`RedeemerTicket`;
- ``encode_*`` / ``decode_*`` for message bytes, and :func:`encode_payment_header` /
  :func:`decode_payment_header` for the ``Livepeer-Payment`` HTTP header (standard base64
  with padding, §9.3);
- :meth:`Payment.from_batch` / :meth:`Payment.to_batch` between a Payment and a
  :class:`~pm.ticket.TicketBatch`.

Encoding is canonical (what go-livepeer emits): integers as minimal big-endian bytes (zero is
an absent field), addresses 20 bytes, hashes 32 bytes, expiration params always with a 32-byte
block hash. Decoding is lenient where Go is (§9.2: leading zeros in integers, addresses and
hashes shorter or longer than 20/32 bytes are left-padded or keep their last bytes) and
strict where Go would silently corrupt a value: integers of 2**256 or more and negative
rounds raise :class:`~pm.errors.ProtobufDecodeError`. Every decoder raises a
:class:`~pm.errors.PMError` subclass on any malformed input, never anything else.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar

from .crypto import keccak256, to_checksum_address
from .errors import (
    Base64DecodeError,
    InvalidExpectedPrice,
    InvalidInput,
    InvalidType,
    PaymentError,
    PMError,
    ProtobufDecodeError,
)
from .evm import (
    INT64_MAX,
    check_address,
    check_bytes,
    check_bytes32,
    check_int,
    check_uint,
    minbe,
)
from .proto import lp_rpc_pb2 as pb
from .ticket import ExpirationParams, Ticket, TicketBatch, TicketParams

__all__ = [
    "AuthToken",
    "OrchestratorInfo",
    "Payment",
    "PriceInfo",
    "RedeemerTicket",
    "WireTicketParams",
    "check_payment",
    "decode_orchestrator_info",
    "decode_payment",
    "decode_payment_header",
    "decode_payment_result",
    "decode_redeemer_ticket",
    "encode_orchestrator_info",
    "encode_payment",
    "encode_payment_header",
    "encode_payment_result",
    "encode_redeemer_ticket",
    "pb",
    "split_sigs",
]

_INT64_MIN = -(2**63)
_KECCAK_EMPTY = keccak256(b"")


# -- value types --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """``net.PriceInfo``: ``price_per_unit`` wei for ``pixels_per_unit`` units (int64 each),
    optionally for one ``capability`` (uint32) and model ``constraint``.

    A gateway echoes the orchestrator's PriceInfo verbatim as ``Payment.expected_price``
    (§12 item 6); pm keeps the two integers as sent, not normalized.
    """

    price_per_unit: int
    pixels_per_unit: int
    capability: int = 0
    constraint: str = ""

    def __post_init__(self) -> None:
        check_int("price_per_unit", self.price_per_unit)
        check_int("pixels_per_unit", self.pixels_per_unit)
        check_uint("capability", self.capability, 32)
        if not isinstance(self.constraint, str):
            raise InvalidType("constraint must be a str", name="constraint", value=self.constraint)

    @property
    def price_per_pixel(self) -> Fraction:
        """Wei per pixel (or per unit of work) as an exact, normalized rational.

        Raises :class:`~pm.errors.InvalidInput` "pixels per unit is 0" like go-livepeer's
        ``RatPriceInfo``.
        """
        if self.pixels_per_unit == 0:
            raise InvalidInput("pixels per unit is 0", name="pixels_per_unit", value=0)
        return Fraction(self.price_per_unit, self.pixels_per_unit)

    @classmethod
    def from_price(
        cls, price: Fraction | int, capability: int = 0, constraint: str = ""
    ) -> PriceInfo:
        """The normalized PriceInfo of ``price`` wei/pixel (numerator and denominator must fit
        int64), as an orchestrator emits it."""
        if isinstance(price, bool) or not isinstance(price, Fraction | int):
            raise InvalidType("price must be a Fraction or int", name="price", value=price)
        frac = Fraction(price)
        if not (_INT64_MIN <= frac.numerator <= INT64_MAX and frac.denominator <= INT64_MAX):
            raise InvalidInput(
                f"price {frac} does not fit PriceInfo's int64 fields", name="price", value=frac
            )
        return cls(frac.numerator, frac.denominator, capability, constraint)


@dataclass(frozen=True, slots=True)
class AuthToken:
    """``net.AuthToken``: an opaque HMAC ``token``, the ``session_id`` and its ``expiration``
    (unix seconds, int64)."""

    token: bytes = b""
    session_id: str = ""
    expiration: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.token, bytes):
            raise InvalidType("token must be bytes", name="token", value=self.token)
        if not isinstance(self.session_id, str):
            raise InvalidType("session_id must be a str", name="session_id", value=self.session_id)
        check_int("expiration", self.expiration)


@dataclass(frozen=True, slots=True)
class WireTicketParams:
    """``net.TicketParams``: the recipient's ticket parameters as they travel.

    Integers: ``face_value`` and ``win_prob`` (uint256), ``seed`` (uint256),
    ``expiration_block`` (L1 block number). ``expiration_params`` is field 7, filled in an
    OrchestratorInfo and left empty inside a Payment (which carries them in its field 3).
    The price is not part of this message; :meth:`to_params` takes it separately.
    """

    recipient: bytes
    face_value: int
    win_prob: int
    recipient_rand_hash: bytes
    seed: int
    expiration_block: int
    expiration_params: ExpirationParams | None = None

    def __post_init__(self) -> None:
        check_address("recipient", self.recipient)
        check_uint("face_value", self.face_value)
        check_uint("win_prob", self.win_prob)
        check_bytes32("recipient_rand_hash", self.recipient_rand_hash)
        check_uint("seed", self.seed)
        check_uint("expiration_block", self.expiration_block)
        if self.expiration_params is not None and not isinstance(
            self.expiration_params, ExpirationParams
        ):
            raise InvalidType(
                "expiration_params must be ExpirationParams or None",
                name="expiration_params",
                value=self.expiration_params,
            )

    @classmethod
    def from_params(cls, params: TicketParams, *, with_expiration: bool = True) -> WireTicketParams:
        """The wire form of pm's :class:`~pm.ticket.TicketParams` (the price is dropped:
        send it as a :class:`PriceInfo`). ``with_expiration=False`` omits field 7, as a
        gateway does inside a Payment."""
        if not isinstance(params, TicketParams):
            raise InvalidType("params must be TicketParams", name="params", value=params)
        return cls(
            recipient=params.recipient,
            face_value=params.face_value,
            win_prob=params.win_prob,
            recipient_rand_hash=params.recipient_rand_hash,
            seed=params.seed,
            expiration_block=params.expiration_block,
            expiration_params=params.expiration_params if with_expiration else None,
        )

    def to_params(
        self,
        price_per_pixel: Fraction,
        expiration_params: ExpirationParams | None = None,
    ) -> TicketParams:
        """pm's :class:`~pm.ticket.TicketParams` with the given price (wei/pixel, from the
        PriceInfo that came with these params). ``expiration_params`` overrides field 7."""
        return TicketParams(
            recipient=self.recipient,
            face_value=self.face_value,
            win_prob=self.win_prob,
            recipient_rand_hash=self.recipient_rand_hash,
            seed=self.seed,
            expiration_block=self.expiration_block,
            price_per_pixel=price_per_pixel,
            expiration_params=(
                expiration_params if expiration_params is not None else self.expiration_params
            ),
        )


@dataclass(frozen=True, slots=True)
class Payment:
    """``net.Payment``: one batch of tickets sharing params, as decoded from the wire.

    ``sender`` is ``None`` when the field is empty (§5.6 step 2 distinguishes it).
    ``nonces`` and ``sigs`` are the ``ticket_sender_params`` entries in order; a signature is
    kept as sent, whatever its length (the receiver rejects a bad one per ticket, §5.4 #5).
    ``expiration_params`` is field 3, which a receiver uses for every ticket (§5.6 6.1).
    """

    ticket_params: WireTicketParams | None = None
    sender: bytes | None = None
    expiration_params: ExpirationParams | None = None
    nonces: tuple[int, ...] = ()
    sigs: tuple[bytes, ...] = ()
    expected_price: PriceInfo | None = None

    def __post_init__(self) -> None:
        if self.ticket_params is not None and not isinstance(self.ticket_params, WireTicketParams):
            raise InvalidType(
                "ticket_params must be WireTicketParams or None",
                name="ticket_params",
                value=self.ticket_params,
            )
        if self.sender is not None:
            check_address("sender", self.sender)
        if self.expiration_params is not None and not isinstance(
            self.expiration_params, ExpirationParams
        ):
            raise InvalidType(
                "expiration_params must be ExpirationParams or None",
                name="expiration_params",
                value=self.expiration_params,
            )
        if not isinstance(self.nonces, tuple) or not isinstance(self.sigs, tuple):
            raise InvalidType("nonces and sigs must be tuples", name="nonces", value=self.nonces)
        if len(self.nonces) != len(self.sigs):
            raise InvalidInput(
                f"{len(self.nonces)} nonces but {len(self.sigs)} signatures",
                name="sigs",
                value=len(self.sigs),
            )
        for n in self.nonces:
            check_uint("sender_nonce", n, 32)
        for s in self.sigs:
            if not isinstance(s, bytes):
                raise InvalidType("each sig must be bytes", name="sig", value=s)
        if self.expected_price is not None and not isinstance(self.expected_price, PriceInfo):
            raise InvalidType(
                "expected_price must be PriceInfo or None",
                name="expected_price",
                value=self.expected_price,
            )

    def __len__(self) -> int:
        return len(self.nonces)

    @classmethod
    def from_batch(cls, batch: TicketBatch, expected_price: PriceInfo | None = None) -> Payment:
        """The Payment a gateway sends for ``batch``.

        ``expected_price`` should be the orchestrator's PriceInfo, echoed verbatim; by default
        it is the normalized form of ``batch.params.price_per_pixel``. The params go without
        field 7; the batch's expiration params go in field 3.
        """
        if not isinstance(batch, TicketBatch):
            raise InvalidType("batch must be a TicketBatch", name="batch", value=batch)
        if expected_price is None:
            expected_price = PriceInfo.from_price(batch.params.price_per_pixel)
        return cls(
            ticket_params=WireTicketParams.from_params(batch.params, with_expiration=False),
            sender=batch.sender,
            expiration_params=batch.expiration_params,
            nonces=tuple(batch.nonces),
            sigs=tuple(batch.sigs()),
            expected_price=expected_price,
        )

    def to_batch(self) -> TicketBatch:
        """The :class:`~pm.ticket.TicketBatch` this payment carries.

        Needs ticket params, a sender, expiration params (field 3) and an expected price with
        a non-zero pixels-per-unit; raises :class:`~pm.errors.InvalidInput` naming what is
        missing otherwise. The price per pixel becomes ``params.price_per_pixel`` (the
        recipient recomputes its HMAC with it). Signatures of another length than 65 are
        kept as the batch's irregular signatures (they fail validation per ticket).
        """
        if self.ticket_params is None:
            raise InvalidInput("payment has no ticket params", name="ticket_params")
        if self.sender is None:
            raise InvalidInput("payment has no sender", name="sender")
        if self.expiration_params is None:
            raise InvalidInput("payment has no expiration params", name="expiration_params")
        if self.expected_price is None:
            raise InvalidInput("payment has no expected price", name="expected_price")
        params = self.ticket_params.to_params(self.expected_price.price_per_pixel)
        return TicketBatch.from_signatures(
            params, self.sender, self.expiration_params, self.nonces, self.sigs
        )

    def tickets(self) -> list[Ticket]:
        """The tickets a receiver builds (§5.6 6.1): the params, field 3's expiration params
        (zero when absent), the sender (zero address when absent) and each nonce."""
        if self.ticket_params is None:
            return []
        exp = self.expiration_params or ExpirationParams()
        tp = self.ticket_params
        sender = self.sender if self.sender is not None else bytes(20)
        return [
            Ticket(
                recipient=tp.recipient,
                sender=sender,
                face_value=tp.face_value,
                win_prob=tp.win_prob,
                sender_nonce=n,
                recipient_rand_hash=tp.recipient_rand_hash,
                creation_round=exp.creation_round,
                creation_round_block_hash=exp.creation_round_block_hash,
            )
            for n in self.nonces
        ]


@dataclass(frozen=True, slots=True)
class OrchestratorInfo:
    """The payment-related fields of ``net.OrchestratorInfo`` (§9.1): the ``transcoder`` base
    URL, fresh ``ticket_params`` (with field 7), the ``price_info``, the orchestrator's
    ``address`` (20 bytes or empty), its ``auth_token`` and per-capability prices."""

    transcoder: str = ""
    ticket_params: WireTicketParams | None = None
    price_info: PriceInfo | None = None
    address: bytes = b""
    auth_token: AuthToken | None = None
    capabilities_prices: tuple[PriceInfo, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.transcoder, str):
            raise InvalidType("transcoder must be a str", name="transcoder", value=self.transcoder)
        if self.address != b"":
            check_address("address", self.address)
        for name, value, cls in (
            ("ticket_params", self.ticket_params, WireTicketParams),
            ("price_info", self.price_info, PriceInfo),
            ("auth_token", self.auth_token, AuthToken),
        ):
            if value is not None and not isinstance(value, cls):
                raise InvalidType(f"{name} must be {cls.__name__} or None", name=name, value=value)
        if not isinstance(self.capabilities_prices, tuple):
            raise InvalidType(
                "capabilities_prices must be a tuple",
                name="capabilities_prices",
                value=self.capabilities_prices,
            )
        for p in self.capabilities_prices:
            if not isinstance(p, PriceInfo):
                raise InvalidType(
                    "capabilities_prices must hold PriceInfo", name="capabilities_prices", value=p
                )

    def params(self) -> TicketParams:
        """pm's :class:`~pm.ticket.TicketParams` for a gateway: the ticket params with the
        price from ``price_info`` (what the orchestrator's HMAC covered, §4)."""
        if self.ticket_params is None:
            raise InvalidInput("orchestrator info has no ticket params", name="ticket_params")
        if self.price_info is None:
            raise InvalidInput("orchestrator info has no price info", name="price_info")
        return self.ticket_params.to_params(self.price_info.price_per_pixel)


@dataclass(frozen=True, slots=True)
class RedeemerTicket:
    """``net.Ticket`` (net/redeemer.proto, §7.5): one winning ticket queued with a separate
    redeemer, with the revealed ``recipient_rand`` (uint256)."""

    ticket_params: WireTicketParams
    sender: bytes
    expiration_params: ExpirationParams
    sender_nonce: int
    sig: bytes
    recipient_rand: int

    def __post_init__(self) -> None:
        if not isinstance(self.ticket_params, WireTicketParams):
            raise InvalidType(
                "ticket_params must be WireTicketParams", name="ticket_params", value=None
            )
        check_address("sender", self.sender)
        if not isinstance(self.expiration_params, ExpirationParams):
            raise InvalidType(
                "expiration_params must be ExpirationParams", name="expiration_params", value=None
            )
        check_uint("sender_nonce", self.sender_nonce, 32)
        if not isinstance(self.sig, bytes):
            raise InvalidType("sig must be bytes", name="sig", value=self.sig)
        check_uint("recipient_rand", self.recipient_rand)

    def ticket(self) -> Ticket:
        """The ticket being redeemed."""
        tp, exp = self.ticket_params, self.expiration_params
        return Ticket(
            recipient=tp.recipient,
            sender=self.sender,
            face_value=tp.face_value,
            win_prob=tp.win_prob,
            sender_nonce=self.sender_nonce,
            recipient_rand_hash=tp.recipient_rand_hash,
            creation_round=exp.creation_round,
            creation_round_block_hash=exp.creation_round_block_hash,
        )


# -- to protobuf (canonical) --------------------------------------------------------------


def _price_pb(p: PriceInfo, out: pb.PriceInfo) -> None:
    out.pricePerUnit = p.price_per_unit
    out.pixelsPerUnit = p.pixels_per_unit
    out.capability = p.capability
    out.constraint = p.constraint


def _expiration_pb(e: ExpirationParams, out: pb.TicketExpirationParams) -> None:
    # Go always sends the 32-byte hash, even when it is all zeros (§9.1).
    out.creation_round = e.creation_round
    out.creation_round_block_hash = e.creation_round_block_hash


def _params_pb(p: WireTicketParams, out: pb.TicketParams) -> None:
    out.recipient = p.recipient
    out.face_value = minbe(p.face_value)
    out.win_prob = minbe(p.win_prob)
    out.recipient_rand_hash = p.recipient_rand_hash
    out.seed = minbe(p.seed)
    out.expiration_block = minbe(p.expiration_block)
    if p.expiration_params is not None:
        _expiration_pb(p.expiration_params, out.expiration_params)


def _auth_pb(a: AuthToken, out: pb.AuthToken) -> None:
    out.token = a.token
    out.session_id = a.session_id
    out.expiration = a.expiration


def _payment_pb(p: Payment) -> pb.Payment:
    msg = pb.Payment()
    if p.ticket_params is not None:
        _params_pb(p.ticket_params, msg.ticket_params)
    if p.sender is not None:
        msg.sender = p.sender
    if p.expiration_params is not None:
        _expiration_pb(p.expiration_params, msg.expiration_params)
    for nonce, sig in zip(p.nonces, p.sigs, strict=True):
        msg.ticket_sender_params.add(sender_nonce=nonce, sig=sig)
    if p.expected_price is not None:
        _price_pb(p.expected_price, msg.expected_price)
    return msg


def _info_pb(info: OrchestratorInfo, out: pb.OrchestratorInfo) -> None:
    out.transcoder = info.transcoder
    if info.ticket_params is not None:
        _params_pb(info.ticket_params, out.ticket_params)
    if info.price_info is not None:
        _price_pb(info.price_info, out.price_info)
    out.address = info.address
    if info.auth_token is not None:
        _auth_pb(info.auth_token, out.auth_token)
    for price in info.capabilities_prices:
        _price_pb(price, out.capabilities_prices.add())


def _serialize(msg: pb.Payment | pb.OrchestratorInfo | pb.PaymentResult | pb.Ticket) -> bytes:
    out: bytes = msg.SerializeToString(deterministic=True)
    return out


def encode_payment(payment: Payment) -> bytes:
    """Serialized ``net.Payment`` (fields in number order, defaults omitted, like Go)."""
    if not isinstance(payment, Payment):
        raise InvalidType("payment must be a Payment", name="payment", value=payment)
    return _serialize(_payment_pb(payment))


def encode_payment_header(payment: Payment) -> str:
    """The ``Livepeer-Payment`` header value: standard base64, with padding (§9.3)."""
    return base64.b64encode(encode_payment(payment)).decode("ascii")


def encode_orchestrator_info(info: OrchestratorInfo) -> bytes:
    """Serialized ``net.OrchestratorInfo`` (the payment-related fields)."""
    if not isinstance(info, OrchestratorInfo):
        raise InvalidType("info must be an OrchestratorInfo", name="info", value=info)
    msg = pb.OrchestratorInfo()
    _info_pb(info, msg)
    return _serialize(msg)


def encode_payment_result(info: OrchestratorInfo) -> bytes:
    """Serialized ``net.PaymentResult`` (the ``/payment`` response body) carrying ``info``."""
    if not isinstance(info, OrchestratorInfo):
        raise InvalidType("info must be an OrchestratorInfo", name="info", value=info)
    msg = pb.PaymentResult()
    _info_pb(info, msg.info)
    return _serialize(msg)


def encode_segment_credentials(
    manifest_id: bytes, sig: bytes, auth_token: AuthToken | None, capabilities: bytes = b""
) -> bytes:
    """``net.SegData`` for a payment-only request (remote-signer.md §2.11): the manifest id,
    Seq 0, hash keccak(""), profiles "invalid" (what Go sends), the credentials signature, the
    opaque capabilities and the orchestrator's auth token."""
    manifest_id = check_bytes("manifest_id", manifest_id)
    sig = check_bytes("sig", sig)
    capabilities = check_bytes("capabilities", capabilities)
    if auth_token is not None and not isinstance(auth_token, AuthToken):
        raise InvalidType(
            "auth_token must be AuthToken or None", name="auth_token", value=auth_token
        )
    msg = pb.SegData(
        manifestId=manifest_id,
        hash=_KECCAK_EMPTY,
        profiles=b"invalid",
        sig=sig,
        capabilities=capabilities,
    )
    if auth_token is not None:
        _auth_pb(auth_token, msg.auth_token)
    data: bytes = msg.SerializeToString(deterministic=True)
    return data


def encode_redeemer_ticket(ticket: RedeemerTicket) -> bytes:
    """Serialized ``net.Ticket`` for the redeemer's ``QueueTicket`` call."""
    if not isinstance(ticket, RedeemerTicket):
        raise InvalidType("ticket must be a RedeemerTicket", name="ticket", value=ticket)
    msg = pb.Ticket()
    _params_pb(ticket.ticket_params, msg.ticket_params)
    msg.sender = ticket.sender
    _expiration_pb(ticket.expiration_params, msg.expiration_params)
    msg.sender_params.sender_nonce = ticket.sender_nonce
    msg.sender_params.sig = ticket.sig
    msg.recipient_rand = minbe(ticket.recipient_rand)
    return _serialize(msg)


# -- from protobuf (lenient like Go, but never out of range) ------------------------------


def _lenient(value: bytes, size: int) -> bytes:
    """Go's ``BytesToAddress`` / ``BytesToHash``: keep the last ``size`` bytes, left-pad."""
    return value[-size:].rjust(size, b"\x00")


def _uint(name: str, value: bytes) -> int:
    """Go's ``new(big.Int).SetBytes``, refusing values that do not fit 256 bits."""
    n = int.from_bytes(value, "big")
    if n >> 256:
        raise ProtobufDecodeError(
            f"invalid {name}: {n.bit_length()}-bit integer does not fit uint256",
            name=name,
            value=len(value),
        )
    return n


def _expiration_from(msg: pb.TicketExpirationParams) -> ExpirationParams:
    if msg.creation_round < 0:
        raise ProtobufDecodeError(
            f"invalid creation_round {msg.creation_round}: negative",
            name="creation_round",
            value=msg.creation_round,
        )
    return ExpirationParams(
        creation_round=msg.creation_round,
        creation_round_block_hash=_lenient(msg.creation_round_block_hash, 32),
    )


def _params_from(msg: pb.TicketParams) -> WireTicketParams:
    return WireTicketParams(
        recipient=_lenient(msg.recipient, 20),
        face_value=_uint("face_value", msg.face_value),
        win_prob=_uint("win_prob", msg.win_prob),
        recipient_rand_hash=_lenient(msg.recipient_rand_hash, 32),
        seed=_uint("seed", msg.seed),
        expiration_block=_uint("expiration_block", msg.expiration_block),
        expiration_params=(
            _expiration_from(msg.expiration_params) if msg.HasField("expiration_params") else None
        ),
    )


def _price_from(msg: pb.PriceInfo) -> PriceInfo:
    return PriceInfo(msg.pricePerUnit, msg.pixelsPerUnit, msg.capability, msg.constraint)


def _auth_from(msg: pb.AuthToken) -> AuthToken:
    return AuthToken(msg.token, msg.session_id, msg.expiration)


def _payment_from(msg: pb.Payment) -> Payment:
    return Payment(
        ticket_params=_params_from(msg.ticket_params) if msg.HasField("ticket_params") else None,
        sender=_lenient(msg.sender, 20) if msg.sender else None,
        expiration_params=(
            _expiration_from(msg.expiration_params) if msg.HasField("expiration_params") else None
        ),
        nonces=tuple(tsp.sender_nonce for tsp in msg.ticket_sender_params),
        sigs=tuple(tsp.sig for tsp in msg.ticket_sender_params),
        expected_price=_price_from(msg.expected_price) if msg.HasField("expected_price") else None,
    )


def _info_from(msg: pb.OrchestratorInfo) -> OrchestratorInfo:
    return OrchestratorInfo(
        transcoder=msg.transcoder,
        ticket_params=_params_from(msg.ticket_params) if msg.HasField("ticket_params") else None,
        price_info=_price_from(msg.price_info) if msg.HasField("price_info") else None,
        address=_lenient(msg.address, 20) if msg.address else b"",
        auth_token=_auth_from(msg.auth_token) if msg.HasField("auth_token") else None,
        capabilities_prices=tuple(_price_from(p) for p in msg.capabilities_prices),
    )


_M = TypeVar("_M", pb.Payment, pb.OrchestratorInfo, pb.PaymentResult, pb.Ticket)


def _parse(cls: type[_M], data: object) -> _M:
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise InvalidType(
            f"message must be bytes, not {type(data).__name__}", name="data", value=data
        )
    try:
        msg: _M = cls.FromString(data)
    except Exception as exc:  # google.protobuf.message.DecodeError and runtime variants
        raise ProtobufDecodeError(
            f"protobuf unmarshal error: {exc}", name="data", value=len(data)
        ) from exc
    return msg


def _guard(what: str, exc: PMError) -> PMError:
    """Re-label a value error found while converting a parsed message."""
    if isinstance(exc, ProtobufDecodeError):
        return exc
    return ProtobufDecodeError(f"invalid {what}: {exc}", name=what, value=None)


def decode_payment(data: bytes | bytearray | memoryview) -> Payment:
    """Parse serialized ``net.Payment`` bytes (unknown fields are ignored)."""
    msg = _parse(pb.Payment, data)
    try:
        return _payment_from(msg)
    except PMError as exc:
        raise _guard("Payment", exc) from exc


_B64_RE = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def decode_payment_header(value: str | bytes) -> Payment:
    """Parse a ``Livepeer-Payment`` header value (standard base64 with padding, §9.3).

    Like Go's ``base64.StdEncoding``, CR and LF characters are ignored; anything else outside
    the alphabet, missing padding or a bad length raises
    :class:`~pm.errors.Base64DecodeError` ("base64 decode error: …").
    """
    if isinstance(value, str):
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise Base64DecodeError(
                "base64 decode error: non-ASCII character in header", name="value", value=None
            ) from None
    elif isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        raise InvalidType("header value must be str or bytes", name="value", value=value)
    raw = raw.replace(b"\r", b"").replace(b"\n", b"")
    if _B64_RE.fullmatch(raw) is None:
        bad = next(i for i, c in enumerate(raw) if c not in _B64_ALPHABET)
        raise Base64DecodeError(
            f"base64 decode error: illegal base64 data at input byte {bad}", name="value", value=bad
        )
    if len(raw) % 4:
        raise Base64DecodeError(
            f"base64 decode error: length {len(raw)} is not a multiple of 4",
            name="value",
            value=len(raw),
        )
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Base64DecodeError(f"base64 decode error: {exc}", name="value", value=None) from exc
    return decode_payment(data)


def decode_orchestrator_info(data: bytes | bytearray | memoryview) -> OrchestratorInfo:
    """Parse serialized ``net.OrchestratorInfo`` bytes (fields outside the subset ignored)."""
    msg = _parse(pb.OrchestratorInfo, data)
    try:
        return _info_from(msg)
    except PMError as exc:
        raise _guard("OrchestratorInfo", exc) from exc


def decode_payment_result(data: bytes | bytearray | memoryview) -> OrchestratorInfo:
    """Parse a ``net.PaymentResult`` (``/payment`` response body) and return its info."""
    msg = _parse(pb.PaymentResult, data)
    try:
        return _info_from(msg.info)
    except PMError as exc:
        raise _guard("PaymentResult", exc) from exc


def decode_redeemer_ticket(data: bytes | bytearray | memoryview) -> RedeemerTicket:
    """Parse a serialized ``net.Ticket`` (redeemer ``QueueTicket`` request)."""
    msg = _parse(pb.Ticket, data)
    try:
        return RedeemerTicket(
            ticket_params=_params_from(msg.ticket_params),
            sender=_lenient(msg.sender, 20),
            expiration_params=_expiration_from(msg.expiration_params),
            sender_nonce=msg.sender_params.sender_nonce,
            sig=msg.sender_params.sig,
            recipient_rand=_uint("recipient_rand", msg.recipient_rand),
        )
    except PMError as exc:
        raise _guard("Ticket", exc) from exc


# -- orchestrator-side payment checks (spec/protocol.md §5.6 steps 2-5) -------------------


def check_payment(
    payment: Payment,
    *,
    is_active: Callable[[bytes], bool] | None = None,
    current_round: Callable[[], int] | None = None,
) -> Fraction | None:
    """The orchestrator's checks on a Payment before any ticket (§5.6), in Go's order.

    Returns ``None`` for a free payment (no ticket params, step 3: the session price becomes
    0), else the expected price per pixel (wei/pixel) the tickets are validated with.
    Raises :class:`~pm.errors.PaymentError` (fatal) with go-livepeer's text for:

    - step 2, params without a sender: "Could not find Sender for payment: …";
    - step 4, when ``is_active(recipient)`` is given and false: "orchestrator 0x… is inactive
      in round N, cannot process payments" (N from ``current_round()``);
    - step 5, :class:`~pm.errors.InvalidExpectedPrice`: 'invalid expected price sent with
      payment err="expected price is nil"' or '…err="pixels per unit is 0"';
    - missing expiration params (field 3), which go-livepeer dereferences unchecked.
    """
    if not isinstance(payment, Payment):
        raise InvalidType("payment must be a Payment", name="payment", value=payment)
    tp = payment.ticket_params
    if tp is not None and payment.sender is None:
        raise PaymentError(
            f"Could not find Sender for payment: {_describe(payment)}", name="sender", value=None
        )
    if tp is None:
        return None
    if is_active is not None and not is_active(tp.recipient):
        round_text = str(current_round()) if current_round is not None else "?"
        raise PaymentError(
            f"orchestrator {to_checksum_address(tp.recipient)} is inactive in round "
            f"{round_text}, cannot process payments",
            name="recipient",
            value=tp.recipient,
        )
    price = payment.expected_price
    if price is None:
        raise InvalidExpectedPrice("expected price is nil")
    if price.pixels_per_unit == 0:
        raise InvalidExpectedPrice("pixels per unit is 0", price.price_per_unit, 0)
    if payment.expiration_params is None:
        raise PaymentError(
            "invalid payment: missing expiration params", name="expiration_params", value=None
        )
    return price.price_per_pixel


def _describe(payment: Payment) -> str:
    tp = payment.ticket_params
    rrh = tp.recipient_rand_hash.hex() if tp is not None else ""
    return f"recipient_rand_hash=0x{rrh} tickets={len(payment)}"


def split_sigs(signatures: bytes | bytearray | memoryview) -> tuple[bytes, ...]:
    """Split a flat ``n*65``-byte signature buffer into 65-byte signatures."""
    if isinstance(signatures, bytearray | memoryview):
        signatures = bytes(signatures)
    if not isinstance(signatures, bytes):
        raise InvalidType(
            f"signatures must be bytes, not {type(signatures).__name__}",
            name="signatures",
            value=signatures,
        )
    if len(signatures) % 65:
        raise InvalidInput(
            f"flat signatures length {len(signatures)} is not a multiple of 65",
            name="signatures",
            value=len(signatures),
        )
    return tuple(signatures[i : i + 65] for i in range(0, len(signatures), 65))
