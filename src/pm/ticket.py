"""Tickets, their parameters and batches (spec/protocol.md §1, §3).

Values are frozen, slotted dataclasses holding ``bytes`` and ``int``; constructors validate
every field (uint256 values, uint32 nonces, 20-byte addresses, 32-byte hashes) so that no
invalid ticket can be hashed, signed or sent.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from fractions import Fraction

from . import _bindings
from .crypto import recover_address
from .errors import InvalidInput, InvalidType
from .evm import (
    ZERO_HASH,
    check_address,
    check_bytes,
    check_bytes32,
    check_uint,
)
from .pricing import expected_value


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _aux_data(creation_round: int, block_hash: bytes) -> bytes:
    # spec/protocol.md §1.2: empty only when both the round and the hash are zero.
    if creation_round == 0 and block_hash == ZERO_HASH:
        return b""
    return creation_round.to_bytes(32, "big") + block_hash


@dataclass(frozen=True, slots=True)
class ExpirationParams:
    """The round a ticket is created in and that round's L1 block hash; hashed into the ticket
    as AuxData. ``creation_round`` is a Go int64 that must not be negative."""

    creation_round: int = 0
    creation_round_block_hash: bytes = ZERO_HASH

    def __post_init__(self) -> None:
        check_uint("creation_round", self.creation_round, 63)
        _set(
            self,
            "creation_round_block_hash",
            check_bytes32("creation_round_block_hash", self.creation_round_block_hash),
        )

    @property
    def aux_data(self) -> bytes:
        """b"" or ``u256(creation_round) || creation_round_block_hash`` (spec/protocol.md §1.2)."""
        return _aux_data(self.creation_round, self.creation_round_block_hash)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A lottery ticket: the fields hashed and signed (spec/protocol.md §1.1, §1.3).

    ``face_value`` is in wei, ``win_prob`` a numerator over :data:`pm.pricing.MAX_WIN_PROB`,
    ``sender_nonce`` a uint32, ``creation_round`` in rounds.
    """

    recipient: bytes
    sender: bytes
    face_value: int
    win_prob: int
    sender_nonce: int
    recipient_rand_hash: bytes
    creation_round: int = 0
    creation_round_block_hash: bytes = ZERO_HASH

    def __post_init__(self) -> None:
        _set(self, "recipient", check_address("recipient", self.recipient))
        _set(self, "sender", check_address("sender", self.sender))
        check_uint("face_value", self.face_value)
        check_uint("win_prob", self.win_prob)
        check_uint("sender_nonce", self.sender_nonce, 32)
        _set(
            self,
            "recipient_rand_hash",
            check_bytes32("recipient_rand_hash", self.recipient_rand_hash),
        )
        check_uint("creation_round", self.creation_round, 63)
        _set(
            self,
            "creation_round_block_hash",
            check_bytes32("creation_round_block_hash", self.creation_round_block_hash),
        )

    @property
    def aux_data(self) -> bytes:
        """b"" or 64 bytes (spec/protocol.md §1.2)."""
        return _aux_data(self.creation_round, self.creation_round_block_hash)

    @property
    def expiration_params(self) -> ExpirationParams:
        return ExpirationParams(self.creation_round, self.creation_round_block_hash)

    @property
    def ev(self) -> Fraction:
        """Expected value in wei, exact."""
        return expected_value(self.face_value, self.win_prob)

    def flat(self) -> bytes:
        """The 168- or 232-byte ``abi.encodePacked`` layout that is hashed (§1.3)."""
        return b"".join(
            (
                self.recipient,
                self.sender,
                self.face_value.to_bytes(32, "big"),
                self.win_prob.to_bytes(32, "big"),
                self.sender_nonce.to_bytes(32, "big"),
                self.recipient_rand_hash,
                self.aux_data,
            )
        )

    def hash(self) -> bytes:
        """keccak256 of :meth:`flat`: the 32 bytes a sender signs and the contract's
        ``getTicketHash``."""
        return _bindings.ticket_hash(self.flat())

    def with_nonce(self, sender_nonce: int) -> Ticket:
        """The same ticket with another sender nonce."""
        return Ticket(
            self.recipient,
            self.sender,
            self.face_value,
            self.win_prob,
            sender_nonce,
            self.recipient_rand_hash,
            self.creation_round,
            self.creation_round_block_hash,
        )


def is_winning(sig: bytes, recipient_rand: int, win_prob: int) -> bool:
    """``keccak(sig || u256(recipient_rand)) < win_prob`` (spec/protocol.md §3).

    ``sig`` is hashed exactly as given (the contract's ``abi.encodePacked``); the comparison is
    strict, so win_prob 0 never wins.
    """
    sig = check_bytes("sig", sig)
    rand = check_uint("recipient_rand", recipient_rand).to_bytes(32, "big")
    return _bindings.win_check(sig, rand, check_uint("win_prob", win_prob).to_bytes(32, "big"))


@dataclass(frozen=True, slots=True)
class SignedTicket:
    """A ticket with the sender's signature and the revealed ``recipient_rand`` (uint256), as
    redeemed on chain.

    ``recipient_rand`` is left out of ``repr``: until the params expire it lets a sender predict
    which of its tickets win, so it must not leak into logs.
    """

    ticket: Ticket
    sig: bytes
    recipient_rand: int = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.ticket, Ticket):
            raise InvalidType("ticket must be a pm.Ticket", name="ticket", value=self.ticket)
        _set(self, "sig", check_bytes("sig", self.sig))
        check_uint("recipient_rand", self.recipient_rand)

    def won(self) -> bool:
        """Whether the ticket wins (spec/protocol.md §3)."""
        return is_winning(self.sig, self.recipient_rand, self.ticket.win_prob)

    def signer(self) -> bytes:
        """The address recovered from the signature; raises InvalidSignature subclasses."""
        return recover_address(self.ticket.hash(), self.sig)


class SigStatus(IntEnum):
    """Per-ticket signature status of a batch validation, in go-livepeer's check order."""

    OK = 0
    BAD_LENGTH = 1
    HIGH_S = 2
    BAD_V = 3
    UNRECOVERABLE = 4
    WRONG_SIGNER = 5


@dataclass(frozen=True, slots=True)
class BatchCheck:
    """Result of :func:`validate_batch`: one status byte and one won byte per ticket, kept
    flat; Python objects are made only when a caller asks for them."""

    status_codes: bytes
    won_flags: bytes

    def __len__(self) -> int:
        return len(self.status_codes)

    @property
    def statuses(self) -> list[SigStatus]:
        return [SigStatus(c) for c in self.status_codes]

    @property
    def won(self) -> list[bool]:
        return [bool(w) for w in self.won_flags]

    @property
    def all_valid(self) -> bool:
        return not any(self.status_codes)

    def status(self, i: int) -> SigStatus:
        return SigStatus(self.status_codes[i])

    def winners(self) -> list[int]:
        """Indices of the winning tickets."""
        return [i for i, w in enumerate(self.won_flags) if w]


def _flat_sigs(sigs: Sequence[bytes] | bytes, n: int) -> tuple[bytes, dict[int, bytes]]:
    """Flat n*65 signatures plus the irregular ones (wrong length) by index."""
    if isinstance(sigs, bytes | bytearray | memoryview):
        flat = bytes(sigs)
        if len(flat) != 65 * n:
            raise InvalidInput(
                f"flat signatures must be {65 * n} bytes, got {len(flat)}",
                name="sigs",
                value=len(flat),
            )
        return flat, {}
    if not isinstance(sigs, Sequence) or isinstance(sigs, str):
        raise InvalidType(
            f"sigs must be bytes or a sequence of bytes, not {type(sigs).__name__}",
            name="sigs",
            value=type(sigs).__name__,
        )
    if len(sigs) != n:
        raise InvalidInput(
            f"expected {n} signatures, got {len(sigs)}", name="sigs", value=len(sigs)
        )
    checked = [check_bytes("sig", s) for s in sigs]  # type first: len() of a non-bytes item
    irregular = {i: s for i, s in enumerate(checked) if len(s) != 65}
    if not irregular:
        return b"".join(checked), {}
    return b"".join(bytes(65) if i in irregular else s for i, s in enumerate(checked)), irregular


def _irregular_index(i: object, n: int) -> int:
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
        raise InvalidInput(
            f"irregular signature index {i!r} out of range for {n} tickets",
            name="irregular_sigs",
            value=i,
        )
    return i


def collect_signatures(
    sigs: Sequence[bytes] | bytes, n: int, irregular_sigs: Mapping[int, bytes] | None = None
) -> tuple[bytes, dict[int, bytes]]:
    """The batch paths' view of n signatures: a flat n*65 buffer (zeros where a signature is
    irregular) and the irregular ones by index, i.e. those of another length than 65 plus any
    listed in ``irregular_sigs``. Validates every argument (PMError on bad input)."""
    flat, irregular = _flat_sigs(sigs, n)
    if irregular_sigs is not None and not isinstance(irregular_sigs, Mapping):
        raise InvalidType(
            "irregular_sigs must be a mapping of index to signature",
            name="irregular_sigs",
            value=type(irregular_sigs).__name__,
        )
    if irregular_sigs:
        extra = {_irregular_index(i, n): check_bytes("sig", s) for i, s in irregular_sigs.items()}
        irregular = {**irregular, **extra}
    return flat, irregular


def validate_batch(
    template: Ticket,
    nonces: Sequence[int] | array[int],
    sigs: Sequence[bytes] | bytes,
    recipient_rand: int | None,
    *,
    irregular_sigs: Mapping[int, bytes] | None = None,
) -> BatchCheck:
    """Check n tickets that share every field of ``template`` but the nonce, in ONE native call
    (GIL released): hash, recover, compare with ``template.sender``, and (when
    ``recipient_rand`` is given and the signature is good) the win check.

    ``sigs`` is a sequence of signatures or their flat n*65 concatenation; entries of another
    length (or listed in ``irregular_sigs``) get :attr:`SigStatus.BAD_LENGTH`.
    """
    if not isinstance(template, Ticket):
        raise InvalidType("template must be a pm.Ticket", name="template", value=template)
    nonce_arr = _bindings.nonce_array(nonces)
    n = len(nonce_arr)
    flat_sigs, irregular = collect_signatures(sigs, n, irregular_sigs)
    rand = (
        None
        if recipient_rand is None
        else check_uint("recipient_rand", recipient_rand).to_bytes(32, "big")
    )
    status, won = _bindings.validate_tickets(
        template.flat(), nonce_arr, flat_sigs, template.sender, rand
    )
    if irregular:
        status_arr, won_arr = bytearray(status), bytearray(won)
        for i in irregular:
            status_arr[i], won_arr[i] = SigStatus.BAD_LENGTH, 0
        status, won = bytes(status_arr), bytes(won_arr)
    return BatchCheck(status, won)


@dataclass(frozen=True, slots=True)
class TicketParams:
    """What a recipient advertises to one sender (spec/protocol.md §1.4, §5.2).

    ``face_value`` in wei; ``win_prob`` over M; ``seed`` a uint256 the recipient echoes into
    its HMAC; ``expiration_block`` an L1 block number; ``price_per_pixel`` in wei per pixel.
    """

    recipient: bytes
    face_value: int
    win_prob: int
    recipient_rand_hash: bytes
    seed: int
    expiration_block: int
    price_per_pixel: Fraction = Fraction(0)
    expiration_params: ExpirationParams | None = None

    def __post_init__(self) -> None:
        _set(self, "recipient", check_address("recipient", self.recipient))
        check_uint("face_value", self.face_value)
        check_uint("win_prob", self.win_prob)
        _set(
            self,
            "recipient_rand_hash",
            check_bytes32("recipient_rand_hash", self.recipient_rand_hash),
        )
        check_uint("seed", self.seed)
        check_uint("expiration_block", self.expiration_block)
        if isinstance(self.price_per_pixel, bool) or not isinstance(
            self.price_per_pixel, Fraction | int
        ):
            raise InvalidType(
                "price_per_pixel must be a Fraction",
                name="price_per_pixel",
                value=self.price_per_pixel,
            )
        _set(self, "price_per_pixel", Fraction(self.price_per_pixel))
        if self.expiration_params is not None and not isinstance(
            self.expiration_params, ExpirationParams
        ):
            raise InvalidType(
                "expiration_params must be ExpirationParams",
                name="expiration_params",
                value=self.expiration_params,
            )

    @property
    def ev(self) -> Fraction:
        """Expected value of one ticket in wei."""
        return expected_value(self.face_value, self.win_prob)

    def ticket(
        self, sender: bytes, sender_nonce: int, expiration_params: ExpirationParams | None = None
    ) -> Ticket:
        """The ticket ``sender`` would sign with these params (and these expiration params, or
        the params' own, or none)."""
        exp = expiration_params or self.expiration_params or ExpirationParams()
        return Ticket(
            self.recipient,
            sender,
            self.face_value,
            self.win_prob,
            sender_nonce,
            self.recipient_rand_hash,
            exp.creation_round,
            exp.creation_round_block_hash,
        )


@dataclass(frozen=True, slots=True)
class TicketBatch:
    """n tickets that share every field but the nonce and signature (spec/protocol.md §1.4).

    Nonces live in an ``array('I')`` and signatures in one flat n*65-byte buffer, so a batch of
    10,000 tickets costs no per-ticket Python objects until :meth:`ticket` or :meth:`tickets` is
    called. Signatures of another length than 65 (possible only when decoded from the wire) are
    kept in ``irregular_sigs`` by index, with zeros in the flat buffer.
    """

    params: TicketParams
    sender: bytes
    expiration_params: ExpirationParams
    nonces: array[int]
    signatures: bytes
    irregular_sigs: Mapping[int, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.params, TicketParams):
            raise InvalidType("params must be TicketParams", name="params", value=self.params)
        if not isinstance(self.expiration_params, ExpirationParams):
            raise InvalidType(
                "expiration_params must be ExpirationParams",
                name="expiration_params",
                value=self.expiration_params,
            )
        _set(self, "sender", check_address("sender", self.sender))
        # Copied, so a caller mutating its array later cannot change this frozen batch.
        nonces = array("I", _bindings.nonce_array(self.nonces))
        _set(self, "nonces", nonces)
        sigs = check_bytes("signatures", self.signatures)
        if len(sigs) != 65 * len(nonces):
            raise InvalidInput(
                f"signatures must be {65 * len(nonces)} bytes for {len(nonces)} tickets, "
                f"got {len(sigs)}",
                name="signatures",
                value=len(sigs),
            )
        _set(self, "signatures", sigs)
        if not isinstance(self.irregular_sigs, Mapping):
            raise InvalidType(
                "irregular_sigs must be a mapping of index to signature",
                name="irregular_sigs",
                value=type(self.irregular_sigs).__name__,
            )
        irregular = {
            _irregular_index(i, len(nonces)): check_bytes("sig", s)
            for i, s in self.irregular_sigs.items()
        }
        for i, s in irregular.items():
            # validate() reports every irregular entry as BAD_LENGTH while sig(i) returns it:
            # a 65-byte one would be a good signature that validation rejects.
            if len(s) == 65:
                raise InvalidInput(
                    f"irregular_sigs[{i}] is 65 bytes: put it in the flat signatures instead",
                    name="irregular_sigs",
                    value=i,
                )
        _set(self, "irregular_sigs", irregular)

    @classmethod
    def from_signatures(
        cls,
        params: TicketParams,
        sender: bytes,
        expiration_params: ExpirationParams,
        nonces: Sequence[int],
        sigs: Sequence[bytes],
    ) -> TicketBatch:
        """Build a batch from per-ticket signatures (any lengths, e.g. decoded from the wire)."""
        nonce_arr = _bindings.nonce_array(nonces)
        flat, irregular = _flat_sigs(sigs, len(nonce_arr))
        return cls(params, sender, expiration_params, nonce_arr, flat, irregular)

    def __len__(self) -> int:
        return len(self.nonces)

    @property
    def template(self) -> Ticket:
        """The shared ticket, with nonce 0."""
        return self.params.ticket(self.sender, 0, self.expiration_params)

    def sig(self, i: int) -> bytes:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)  # irregular_sigs is keyed 0..n-1: normalize before the lookup
        irregular = self.irregular_sigs.get(i)
        if irregular is not None:
            return irregular
        return self.signatures[65 * i : 65 * i + 65]

    def sigs(self) -> list[bytes]:
        return [self.sig(i) for i in range(len(self))]

    def ticket(self, i: int) -> Ticket:
        return self.template.with_nonce(self.nonces[i])

    def tickets(self) -> Iterator[Ticket]:
        template = self.template
        return (template.with_nonce(n) for n in self.nonces)

    def signed(self, i: int, recipient_rand: int) -> SignedTicket:
        return SignedTicket(self.ticket(i), self.sig(i), recipient_rand)

    def validate(self, recipient_rand: int | None) -> BatchCheck:
        """Signature and win checks for every ticket, in one native call."""
        return validate_batch(
            self.template,
            self.nonces,
            self.signatures,
            recipient_rand,
            irregular_sigs=self.irregular_sigs,
        )
