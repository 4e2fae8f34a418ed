"""The sender (gateway) side: sessions, nonces, spending policy and batch minting (§6).

A `Sender` keeps one session per set of ticket params it got from an orchestrator, keyed by the
params' recipientRandHash. `create_batch(session_id, n)` checks the params against the
`SpendingPolicy` and the chain (spec/protocol.md §6.3, in go-livepeer's order and with its
texts) before anything is signed, reserves n unique nonces, and signs all n tickets in one
native call when the signer supports it (`PrivateKeySigner.sign_tickets`).

Money is `int` / `Fraction` wei; EVs are exact rationals.
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol, runtime_checkable

from pm.chain import SenderChainView, SenderInfo
from pm.crypto import Signer
from pm.errors import (
    ChainViewError,
    ExpirationBlockZero,
    InvalidInput,
    InvalidType,
    NoSenderDeposit,
    NoSenderReserve,
    PMError,
    SenderUnlocking,
    SessionNotFound,
    TicketEVTooHigh,
    TicketFaceValueTooHigh,
    TicketFaceValueTooLow,
    TicketParamsExpired,
    TicketParamsNil,
    TicketSigningError,
    TotalTicketEVTooHigh,
)
from pm.evm import check_address
from pm.pricing import MAX_WIN_PROB, expected_value
from pm.ticket import ExpirationParams, Ticket, TicketBatch, TicketParams

__all__ = [
    "GO_LIVEPEER_POLICY",
    "MAX_NONCE",
    "PARAMS_EXPIRY_BUFFER",
    "Sender",
    "SpendingPolicy",
    "session_id_for",
    "validate_sender_info",
]

#: Params expire for the sender this many blocks before their expiration block (§6.3 check 3).
PARAMS_EXPIRY_BUFFER = 1

#: Sender nonces are uint32 (spec/protocol.md §1.1).
MAX_NONCE = 2**32 - 1

_LOW64 = (1 << 64) - 1
_ZERO_HASH = bytes(32)


def _ev_amount(name: str, value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise InvalidType(
            f"{name} must be an int or Fraction (wei), not {type(value).__name__}",
            name=name,
            value=value,
        )
    rat = Fraction(value)
    if rat < 0:
        raise InvalidInput(f"{name} must be >= 0, got {rat}", name=name, value=value)
    return rat


@dataclass(frozen=True, slots=True)
class SpendingPolicy:
    """How much a sender is willing to risk per ticket and per batch (spec/protocol.md §6.3).

    - max_ticket_ev: highest EV of one ticket, wei (rational, ≥ 0; go-livepeer `-maxTicketEV`);
    - max_total_ev: highest EV of one batch, wei (rational, ≥ 0; `-maxTotalEV`);
    - deposit_multiplier: face value must be ≤ ⌊deposit / multiplier⌋ (int > 0;
      `-depositMultiplier`);
    - max_face_value: optional extra cap on the face value, wei (None = no cap).
    """

    max_ticket_ev: Fraction
    max_total_ev: Fraction
    deposit_multiplier: int
    max_face_value: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_ticket_ev", _ev_amount("max_ticket_ev", self.max_ticket_ev))
        object.__setattr__(self, "max_total_ev", _ev_amount("max_total_ev", self.max_total_ev))
        m = self.deposit_multiplier
        if isinstance(m, bool) or not isinstance(m, int):
            raise InvalidType(
                f"deposit_multiplier must be an int, not {type(m).__name__}",
                name="deposit_multiplier",
                value=m,
            )
        if m <= 0:
            raise InvalidInput(
                f"deposit_multiplier must be > 0, got {m}", name="deposit_multiplier", value=m
            )
        cap = self.max_face_value
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            raise InvalidInput(
                f"max_face_value must be None or an int >= 0, got {cap!r}",
                name="max_face_value",
                value=cap,
            )

    @classmethod
    def go_livepeer_defaults(cls) -> SpendingPolicy:
        """go-livepeer's defaults: 3000 gwei per ticket, 20000 gwei per batch, multiplier 1."""
        return GO_LIVEPEER_POLICY


#: go-livepeer's flag defaults (spec/protocol.md §6.3): -maxTicketEV 3 000 000 000 000 wei,
#: -maxTotalEV 20 000 000 000 000 wei, -depositMultiplier 1.
GO_LIVEPEER_POLICY = SpendingPolicy(
    max_ticket_ev=Fraction(3_000_000_000_000),
    max_total_ev=Fraction(20_000_000_000_000),
    deposit_multiplier=1,
)


def validate_sender_info(info: SenderInfo, last_initialized_round: int) -> None:
    """§6.3 check 8: the sender must not be unlocking and must have reserve and deposit.

    go-livepeer tests `WithdrawRound.Int64() != 0`, i.e. the low 64 bits.
    """
    w = info.withdraw_round
    if (w & _LOW64) != 0 and w <= last_initialized_round + 1:
        raise SenderUnlocking(w, last_initialized_round)
    if info.funds_remaining == 0:
        raise NoSenderReserve(info.funds_remaining)
    if info.deposit == 0:
        raise NoSenderDeposit(info.deposit)


@runtime_checkable
class _TicketSigner(Protocol):
    """A signer that can hash and sign many same-template tickets in one call."""

    def sign_tickets(self, template: Ticket, nonces: array[int]) -> bytes: ...


class _Session:
    __slots__ = ("lock", "nonce", "params")

    def __init__(self, params: TicketParams, nonce: int) -> None:
        self.params = params
        self.nonce = nonce
        self.lock = threading.Lock()


def _check_session_id(session_id: object) -> str:
    if not isinstance(session_id, str):
        raise InvalidType(
            f"session_id must be a str, not {type(session_id).__name__}",
            name="session_id",
            value=session_id,
        )
    return session_id


def session_id_for(params: TicketParams) -> str:
    """The session id of a set of params: 0x-prefixed lowercase hex of recipientRandHash."""
    return "0x" + params.recipient_rand_hash.hex()


class Sender:
    """Mints tickets for orchestrators' params under a spending policy (spec/protocol.md §6).

    Thread-safe: sessions can be started, used and dropped from any thread, and every nonce of
    a session is handed out once (nonces start at 1 after `start_session(params)`).
    """

    def __init__(self, signer: Signer, policy: SpendingPolicy, chain: SenderChainView) -> None:
        if not isinstance(policy, SpendingPolicy):
            raise InvalidType(
                f"policy must be a SpendingPolicy, not {type(policy).__name__}",
                name="policy",
                value=policy,
            )
        if not isinstance(signer, Signer):
            raise InvalidType(
                f"signer must have .address and .sign(), not {type(signer).__name__}",
                name="signer",
                value=type(signer).__name__,
            )
        self._signer = signer
        self._address = check_address("signer.address", signer.address)
        self.policy = policy
        self.chain = chain
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    @property
    def address(self) -> bytes:
        """The sender's 20-byte address (the signer's)."""
        return self._address

    # -- sessions ------------------------------------------------------------------------
    def start_session(self, params: TicketParams, nonce: int = 0) -> str:
        """Starts (or restarts) the session for `params`; the first ticket gets `nonce + 1`.

        Returns the session id, "0x" + hex(recipientRandHash) (§6.1).
        """
        if not isinstance(params, TicketParams):
            raise InvalidType(
                f"params must be TicketParams, not {type(params).__name__}",
                name="params",
                value=params,
            )
        if isinstance(nonce, bool) or not isinstance(nonce, int) or not 0 <= nonce <= MAX_NONCE:
            raise InvalidInput(f"nonce must be a uint32, got {nonce!r}", name="nonce", value=nonce)
        sid = session_id_for(params)
        with self._lock:
            self._sessions[sid] = _Session(params, nonce)
        return sid

    def cleanup_session(self, session_id: str) -> None:
        """Forgets a session (nothing happens if it is unknown)."""
        _check_session_id(session_id)
        with self._lock:
            self._sessions.pop(session_id, None)

    def sessions(self) -> list[str]:
        """Ids of the current sessions."""
        with self._lock:
            return list(self._sessions)

    def _load(self, session_id: str) -> _Session:
        _check_session_id(session_id)
        with self._lock:
            session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        return session

    def session_params(self, session_id: str) -> TicketParams:
        """The params of a session."""
        return self._load(session_id).params

    def session_nonce(self, session_id: str) -> int:
        """The last nonce handed out in a session (0 before the first ticket)."""
        session = self._load(session_id)
        with session.lock:
            return session.nonce

    def ev(self, session_id: str) -> Fraction:
        """EV in wei of one ticket of the session (faceValue × winProb / M)."""
        p = self._load(session_id).params
        return expected_value(p.face_value, p.win_prob)

    # -- validation ------------------------------------------------------------------------
    def _sender_info(self) -> SenderInfo:
        try:
            return self.chain.sender_info(self._address)
        except PMError:
            raise
        except Exception as exc:  # the embedder's chain view: keep its text
            raise ChainViewError(exc) from exc

    def validate_ticket_params(self, params: TicketParams | None, num_tickets: int = 1) -> None:
        """Raises the first failed check of spec/protocol.md §6.3, in go-livepeer's order.

        1 nil params; 2 expiration block 0 (low 64 bits); 3 expired (expiration block −
        last seen L1 block ≤ 1); 4 EV ≤ 0 accepts; 5 winProb = M; 6 EV > max ticket EV; 7 sender
        info error; 8 unlocking / no reserve / no deposit; 9 EV × n > max total EV; 10 face
        value > ⌊deposit / multiplier⌋ (or the policy's max_face_value).
        """
        if params is None:
            raise TicketParamsNil()
        if not isinstance(params, TicketParams):
            raise InvalidType(
                f"params must be TicketParams, not {type(params).__name__}",
                name="params",
                value=params,
            )
        if isinstance(num_tickets, bool) or not isinstance(num_tickets, int) or num_tickets < 0:
            raise InvalidInput(
                f"num_tickets must be an int >= 0, got {num_tickets!r}",
                name="num_tickets",
                value=num_tickets,
            )
        exp = params.expiration_block
        if exp & _LOW64 == 0:
            raise ExpirationBlockZero(exp)
        last_seen = self.chain.last_seen_l1_block()
        if exp - last_seen <= PARAMS_EXPIRY_BUFFER:
            raise TicketParamsExpired(exp, last_seen)
        ev = expected_value(params.face_value, params.win_prob)
        if ev <= 0:
            return
        if params.win_prob >= MAX_WIN_PROB:
            raise TicketFaceValueTooLow(params.face_value, params.win_prob)
        policy = self.policy
        if ev > policy.max_ticket_ev:
            raise TicketEVTooHigh(ev, policy.max_ticket_ev)
        info = self._sender_info()
        validate_sender_info(info, self.chain.last_initialized_round())
        total = ev * num_tickets
        if total > policy.max_total_ev:
            raise TotalTicketEVTooHigh(total, num_tickets, policy.max_total_ev)
        max_fv = info.deposit // policy.deposit_multiplier
        if policy.max_face_value is not None:
            max_fv = min(max_fv, policy.max_face_value)
        if params.face_value > max_fv:
            raise TicketFaceValueTooHigh(params.face_value, max_fv)

    # -- minting ---------------------------------------------------------------------------
    def _expiration_params(self, params: TicketParams) -> ExpirationParams:
        """§6.2 step 3: O's expiration params, or the sender's own view if they are missing,
        have round 0 or a zero block hash (no zero-hash backdating on this side)."""
        ep = params.expiration_params
        if ep is None or ep.creation_round == 0 or ep.creation_round_block_hash == _ZERO_HASH:
            return ExpirationParams(
                self.chain.last_initialized_round(), self.chain.last_initialized_block_hash()
            )
        return ep

    def _reserve_nonces(self, session: _Session, n: int) -> array[int]:
        with session.lock:
            first = session.nonce + 1
            last = session.nonce + n
            if last > MAX_NONCE:
                raise InvalidInput(
                    f"session nonces exhausted: {n} more would pass {MAX_NONCE}",
                    name="num_tickets",
                    value=n,
                )
            session.nonce = last
        return array("I", range(first, last + 1))

    def create_batch(self, session_id: str, n: int) -> TicketBatch:
        """Validates the session's params for n tickets and mints n signed tickets (§6.2).

        The n nonces are reserved atomically (unique across threads); with a signer that has
        `sign_tickets` all n are hashed and signed in one native call.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInput(f"n must be an int >= 1, got {n!r}", name="n", value=n)
        session = self._load(session_id)
        params = session.params
        self.validate_ticket_params(params, n)
        expiration = self._expiration_params(params)
        nonces = self._reserve_nonces(session, n)
        template = Ticket(
            params.recipient,
            self._address,
            params.face_value,
            params.win_prob,
            0,
            params.recipient_rand_hash,
            expiration.creation_round,
            expiration.creation_round_block_hash,
        )
        try:
            if isinstance(self._signer, _TicketSigner):
                sigs = self._signer.sign_tickets(template, nonces)
            else:
                sigs = b"".join(self._signer.sign(template.with_nonce(k).hash()) for k in nonces)
        except Exception as exc:
            raise TicketSigningError(session_id, exc) from exc
        return TicketBatch(params, self._address, expiration, nonces, sigs)
