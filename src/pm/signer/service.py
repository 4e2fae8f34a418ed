"""The remote signer's request logic, independent of any HTTP server (spec/remote-signer.md).

:class:`RemoteSigner` turns a request body into a :class:`SignerResponse` (status, JSON body,
headers) following go-livepeer's ``server/remote_signer.go`` step by step, so the first error it
reports is the one Go would report. It keeps nothing between requests: the signed state blob the
gateway echoes back is its only memory (§8), and every request runs the sender's spending policy
(protocol.md §6.3), so a compromised gateway cannot mint more than the policy allows.

Money is exact: EV, fees and balances are :class:`fractions.Fraction` wei.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from ..accounting import stage_tickets
from ..chain import SenderChainView
from ..crypto import keccak256, recover_message_address, to_checksum_address
from ..errors import PMError, TicketParamsExpired
from ..pricing import format_rat
from ..sender import GO_LIVEPEER_POLICY, Sender, SpendingPolicy, session_id_for
from ..wire import (
    AuthToken,
    OrchestratorInfo,
    Payment,
    PriceInfo,
    decode_orchestrator_info,
    encode_payment_header,
    encode_segment_credentials,
)
from .capabilities import (
    CapabilityPrices,
    NetCapabilities,
    configured_max_price,
    parse_capabilities,
)
from .state import RemotePaymentState, parse_rat, rat_string
from .webhook import WebhookAnswer, WebhookConfig, WebhookFailure, canonical_header_key
from .webhook import ask as ask_webhook

log = logging.getLogger("pm.signer")

MAX_TICKETS_PER_REQUEST = 100
AUTH_REFRESH_SECONDS = 180  # 10 % of the 30-minute auth token validity (§2.7)
LV2V_PIXELS_PER_SECOND = 1280 * 720 * 30
_NS = 1_000_000_000
_KECCAK_EMPTY = keccak256(b"")
_MAX_PRICE_UNITS = {"live": "seconds", "lv2v": "720p-pixel-seconds", "fixed": "fixed"}
_MASKED = {500: "Internal Server Error", 503: "Service Unavailable Error"}


class MessageSigner(Protocol):
    """What the signer needs from a key: its address, 32-byte ``personal_sign`` (tickets,
    OrchestratorRequest, segment credentials) and ``personal_sign`` of any bytes (the state)."""

    @property
    def address(self) -> bytes: ...

    def sign(self, msg32: bytes) -> bytes: ...

    def sign_message(self, msg: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class SignerConfig:
    """Policy knobs of the signer.

    - ``policy``: the sender spending policy (defaults: go-livepeer's gateway flags);
    - ``max_price``: the configured ceiling in wei per unit (``-maxPricePerUnit/-pixelsPerUnit``),
      None for none;
    - ``max_tickets``: tickets per request at most (go-livepeer: 100);
    - ``webhook``: the optional auth webhook (``-remoteSignerWebhookUrl/-Headers``, §2.12);
    - ``capability_prices``: per-capability/model ceilings (``-maxPricePerCapability``); when a
      request's capabilities name priced models, their sum replaces ``max_price``.
    """

    policy: SpendingPolicy = GO_LIVEPEER_POLICY
    max_price: Fraction | None = None
    max_tickets: int = MAX_TICKETS_PER_REQUEST
    webhook: WebhookConfig | None = None
    capability_prices: CapabilityPrices | None = None


@dataclass(frozen=True, slots=True)
class SignerResponse:
    """An HTTP answer: status code, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class SignerRequestError(PMError):
    """A request the signer refuses; ``status`` is the HTTP code and ``message`` Go's text
    (masked for 500/503 when sent, as go-livepeer's ``respondJsonError`` does)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> SignerResponse:
        text = _MASKED.get(self.status, self.message)
        return SignerResponse(self.status, {"error": {"message": text}}, self.headers)


def _bad(message: str) -> SignerRequestError:
    return SignerRequestError(400, message)


# -- request decoding (Go encoding/json rules, §2.2) -------------------------------------------


class _JsonFloat(str):
    """A JSON number literal with a fraction or exponent, kept as its text (no float)."""


_GO_JSON_HINTS = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": (
        "looking for beginning of object key string"
    ),
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
}


#: Deepest nesting accepted. Go allows 10000 levels; Python's parser recurses per level and
#: can exhaust the C stack long before that when the recursion limit has been raised, so pm
#: refuses deep bodies up front (a real request nests 3 levels).
MAX_JSON_DEPTH = 256


def _nesting_exceeds(body: bytes, limit: int) -> bool:
    """Whether ``body`` nests arrays/objects deeper than ``limit`` (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:  # cheap exit for every normal request
        return False
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def _decode_json(body: bytes) -> Any:
    """The first JSON value of ``body`` (trailing data ignored, like json.Decoder.Decode)."""
    if _nesting_exceeds(body, MAX_JSON_DEPTH):
        raise _bad("exceeded max depth")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad("invalid character in JSON input: not UTF-8") from exc
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        raise _bad("EOF")
    decoder = json.JSONDecoder(parse_float=_JsonFloat, parse_constant=_reject_constant)
    try:
        value, _ = decoder.raw_decode(stripped)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(stripped):
            raise _bad("unexpected EOF") from exc
        hint = _GO_JSON_HINTS.get(exc.msg, "in JSON input")
        raise _bad(f"invalid character {stripped[exc.pos]!r} {hint}") from exc
    except ValueError as exc:  # NaN / Infinity literals
        raise _bad(f"invalid character {str(exc)!r} looking for beginning of value") from exc
    except RecursionError as exc:  # Go's decoder stops at 10000 levels of nesting
        raise _bad("exceeded max depth") from exc
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(name[0])


def _unmarshal_text(kind: str, field_name: str, go_type: str) -> str:
    return f"json: cannot unmarshal {kind} into Go struct field {field_name} of type {go_type}"


def _type_error(value: object, field_name: str, go_type: str) -> SignerRequestError:
    return _bad(_unmarshal_text(_kind(value), field_name, go_type))


class _Fields:
    """Case-insensitive view of a JSON object, with Go's zero values for null/absent keys."""

    def __init__(self, doc: dict[str, Any], struct: str) -> None:
        self._doc = {k.lower(): v for k, v in doc.items()}
        self._struct = struct

    def raw(self, key: str) -> Any:
        return self._doc.get(key.lower())

    def string(self, key: str) -> str:
        value = self.raw(key)
        if value is None:
            return ""
        if type(value) is not str:
            raise _type_error(value, f"{self._struct}.{key}", "string")
        return value

    def b64(self, key: str) -> bytes:
        value = self.raw(key)
        if value is None:
            return b""
        if type(value) is not str:
            raise _type_error(value, f"{self._struct}.{key}", "[]uint8")
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise _bad(f"illegal base64 data in {key}") from exc

    def int64(self, key: str) -> int:
        value = self.raw(key)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or isinstance(value, _JsonFloat):
            raise _bad(_unmarshal_text(_kind(value), f"{self._struct}.{key}", "int64"))
        if not -(2**63) <= value < 2**63:
            raise _bad(_unmarshal_text(f"number {value}", f"{self._struct}.{key}", "int64"))
        return value

    def object(self, key: str) -> _Fields | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _type_error(value, f"{self._struct}.{key}", "object")
        return _Fields(value, f"{self._struct}.{key}")


def _kind(value: object) -> str:
    if isinstance(value, _JsonFloat):
        return f"number {value}"
    return {dict: "object", list: "array", str: "string", bool: "bool"}.get(type(value), "number")


def _parse_max_price(doc: _Fields, job_type: str) -> Fraction:
    """parseRemotePaymentMaxPrice (§2.9 step 2): the client's ceiling in wei per unit."""
    raw = doc.raw("price")
    text = (
        raw.strip()
        if isinstance(raw, str)
        else ""
        if raw is None or isinstance(raw, bool)
        else str(raw)
    )
    price = parse_rat(text) if text else None
    if price is None or price <= 0:
        raise _bad("maxPrice.price must be a positive decimal")
    if doc.string("currency").strip().lower() != "wei":
        raise _bad("maxPrice.currency must be wei")
    unit = _MAX_PRICE_UNITS.get(job_type)
    if unit is None:
        raise _bad("maxPrice requires payment type live, lv2v, or fixed")
    if doc.string("unit").strip().lower() != unit:
        raise _bad(f"maxPrice.unit must be {unit} for payment type {job_type}")
    return price


def _billable_units(job_type: str, elapsed_ns: int, in_pixels: int) -> int:
    """§2.8. Go computes lv2v pixels with a float64 product; pm uses exact integer arithmetic
    (identical except for a possible ±1 pixel where the float product rounds)."""
    if job_type == "lv2v":
        if elapsed_ns <= 0:
            elapsed_ns = 60 * _NS
        return LV2V_PIXELS_PER_SECOND * elapsed_ns // _NS
    if job_type == "live":
        if elapsed_ns <= 0:
            elapsed_ns = 10 * _NS
        return -(-elapsed_ns // _NS)
    if job_type == "fixed":
        return 1
    if job_type == "":
        return in_pixels
    raise _bad("invalid job type")


def segment_credentials(
    signer: MessageSigner, manifest_id: str, auth_token: AuthToken | None, capabilities: bytes
) -> str:
    """``Livepeer-Segment`` value for a payment-only request (§2.11): SegData whose signature
    covers keccak(manifestID || u256(0) || keccak("") || "") (protocol.md §2.4)."""
    mid = manifest_id.encode()
    sig = signer.sign(keccak256(mid + bytes(32) + _KECCAK_EMPTY))
    data = encode_segment_credentials(mid, sig, auth_token, capabilities)
    return base64.b64encode(data).decode()


# -- the signer ----------------------------------------------------------------------------


class RemoteSigner:
    """go-livepeer's remote signer: ``sign_orchestrator_info`` and ``generate_live_payment``.

    ``clock`` returns wall-clock nanoseconds (``time.time_ns``); ``random_bytes`` is the source
    of state and manifest ids. Thread-safe: requests share nothing but the key and chain view.
    """

    def __init__(
        self,
        signer: MessageSigner,
        chain: SenderChainView,
        config: SignerConfig | None = None,
        *,
        clock: Callable[[], int] = time.time_ns,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.signer = signer
        self.chain = chain
        self.config = config or SignerConfig()
        self.clock = clock
        self.random_bytes = random_bytes
        self.address = bytes(signer.address)
        # §1: computed once at start-up, deterministic (RFC 6979).
        self._info_sig = signer.sign(keccak256(to_checksum_address(self.address).encode()))

    def sign_orchestrator_info(self) -> SignerResponse:
        """``POST /sign-orchestrator-info`` (§1)."""
        return SignerResponse(
            200,
            {
                "address": to_checksum_address(self.address),
                "signature": "0x" + self._info_sig.hex(),
            },
        )

    def generate_live_payment(
        self,
        body: bytes,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> SignerResponse:
        """``POST /generate-live-payment`` (§2). ``headers`` are the incoming request's (a
        mapping or (name, value) pairs; they reach the auth webhook, and ``Signer-Auth-Id`` is
        read). Never raises for bad input: every refusal is a response with Go's status and
        message."""
        pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
        incoming: dict[str, list[str]] = {}
        for key, value in pairs:
            incoming.setdefault(canonical_header_key(key), []).append(value)
        try:
            return self._generate(body, incoming)
        except SignerRequestError as exc:
            if exc.status >= 500:
                log.warning("generate-live-payment failed: %s", exc.message)
            return exc.response()

    # The steps below follow remote-signer.md §2.3 → §2.12 in order.
    def _generate(self, body: bytes, headers: Mapping[str, list[str]]) -> SignerResponse:
        doc = _decode_json(body)
        if not isinstance(doc, dict):
            raise _type_error(doc, "RemotePaymentRequest", "server.RemotePaymentRequest")
        req = _Fields(doc, "RemotePaymentRequest")
        orchestrator = req.b64("orchestrator")
        state_doc = req.object("state")
        state_bytes = state_doc.b64("State") if state_doc else b""
        state_sig = state_doc.b64("Sig") if state_doc else b""
        manifest_id = req.string("ManifestID")
        app = req.string("app")
        in_pixels = req.int64("inPixels")
        job_type = req.string("type")
        max_price_doc = req.object("maxPrice")
        capabilities = req.b64("capabilities")

        info, price_info = self._orchestrator(orchestrator)  # §2.3
        orch_addr = info.address.rjust(20, b"\x00")[-20:]
        now = self.clock()

        if state_bytes or state_sig:  # §2.4
            state = self._load_state(state_bytes, state_sig, orch_addr, app, job_type)
        else:
            state = RemotePaymentState(
                state_id=self.random_bytes(4).hex(),
                orchestrator_address=orch_addr,
                app=app,
                initial_price_per_unit=price_info.price_per_unit,
                initial_pixels_per_unit=price_info.pixels_per_unit,
                type=job_type,
            )
        has_state = bool(state_bytes or state_sig)
        if not manifest_id:
            if has_state:
                raise _bad("missing manifestID")
            manifest_id = self.random_bytes(4).hex()  # for this call only, not stored
        parsed_caps: NetCapabilities | bytes = b""
        if capabilities:
            try:
                parsed_caps = parse_capabilities(capabilities)
            except PMError as exc:
                raise _bad(f"proto: cannot parse invalid wire-format data ({exc})") from exc

        params = info.params()
        sender = Sender(self.signer, self.config.policy, self.chain)
        self._refresh_check(info, params, sender, now)  # §2.7

        elapsed = now - state.last_update_ns if state.last_update_ns else 0  # §2.8
        units = _billable_units(job_type, elapsed, in_pixels)
        if units <= 0:
            raise _bad("missing billable unit or job type")

        orch_price = Fraction(price_info.price_per_unit, price_info.pixels_per_unit)  # §2.9
        ceilings: list[tuple[str, Fraction]] = []
        # the global ceiling, or the per-capability/model maxima the capabilities name
        configured = configured_max_price(
            self.config.max_price, self.config.capability_prices, parsed_caps
        )
        if configured is not None:
            ceilings.append(("configured max price", configured))
        if max_price_doc is not None:
            ceilings.append(("request maxPrice", _parse_max_price(max_price_doc, job_type)))
        if has_state and (state.initial_price_per_unit <= 0 or state.initial_pixels_per_unit <= 0):
            raise _bad("invalid initial price in state")
        initial_price = Fraction(state.initial_price_per_unit, state.initial_pixels_per_unit)
        if has_state:
            ceilings.append(("initial session price", initial_price))
        if ceilings:
            source, ceiling = min(ceilings, key=lambda c: c[1])  # min keeps the earliest on ties
            if orch_price > ceiling:
                raise SignerRequestError(
                    481,
                    f"orchestrator price {format_rat(orch_price, 3)} exceeds {source} ceiling "
                    f"{format_rat(ceiling, 3)}",
                )
        fee = initial_price * units
        ev = params.ev
        existing = state.balance if state.balance is not None else Fraction(0)
        staged = stage_tickets(existing, max(fee, ev), ev)
        n = staged.num_tickets
        if n <= 0:
            raise SignerRequestError(482, "no tickets")
        if n > self.config.max_tickets:
            raise _bad(f"numTickets {n} exceeds maximum of {self.config.max_tickets}")

        # §2.10: the price guard, then the batch under the policy for n tickets.
        if orch_price > 2 * initial_price:
            raise SignerRequestError(
                481,
                "Orchestrator price has more than doubled, "
                f"Orchestrator price: {rat_string(orch_price)}, "
                f"Orchestrator initial price: {rat_string(initial_price)}",
            )
        session_id = session_id_for(params)
        start_nonce = state.sender_nonce if state.pm_session_id == session_id else 0
        sender.start_session(params, start_nonce)
        try:
            batch = sender.create_batch(session_id, n)
        except PMError as exc:
            raise SignerRequestError(500, str(exc)) from exc
        finally:
            sender.cleanup_session(session_id)
        payment = encode_payment_header(Payment.from_batch(batch, expected_price=info.price_info))
        seg_creds = segment_credentials(self.signer, manifest_id, info.auth_token, capabilities)

        new_state = state.evolve(  # §2.12 step 1
            balance=existing + staged.new_credit - fee,
            last_update_ns=now,
            pm_session_id=session_id,
            sender_nonce=batch.nonces[-1],
        )
        answer = self._ask_webhook(headers, new_state, orch_price, job_type, now)
        if answer is not None:
            new_state = new_state.evolve(auth_expiry=answer.expiry)
        # §2.12 step 3: the webhook's auth_id, else the Signer-Auth-Id header, pinned in the state
        auth_id = (answer.auth_id if answer else "") or (headers.get("Signer-Auth-Id") or [""])[0]
        if auth_id and state.auth_id and auth_id != state.auth_id:
            raise SignerRequestError(500, "remote signer auth ID changed")
        new_state = new_state.evolve(auth_id=auth_id or state.auth_id)
        new_bytes = new_state.to_json()
        new_sig = self.signer.sign_message(new_bytes)
        return SignerResponse(
            200,
            {
                "payment": payment,
                "segCreds": seg_creds,
                "state": {
                    "State": base64.b64encode(new_bytes).decode(),
                    "Sig": base64.b64encode(new_sig).decode(),
                },
            },
        )

    def _ask_webhook(
        self,
        headers: Mapping[str, list[str]],
        state: RemotePaymentState,
        orch_price: Fraction,
        job_type: str,
        now: int,
    ) -> WebhookAnswer | None:
        """§2.12 step 2; None when no webhook is configured or its last admission still holds."""
        hook = self.config.webhook
        if hook is None or (state.auth_expiry != 0 and now <= state.auth_expiry * _NS):
            return None
        try:
            answer = ask_webhook(hook, headers, json.loads(state.to_json()))
        except WebhookFailure as exc:
            raise SignerRequestError(500, str(exc)) from exc
        if answer.status != 200:
            reason = answer.reason or f"signer auth rejected request with status {answer.status}"
            raise SignerRequestError(answer.status, reason)
        if answer.max_price is not None:
            try:
                ceiling = _parse_max_price(_Fields(answer.max_price, "maxPrice"), job_type)
            except SignerRequestError as exc:
                raise SignerRequestError(
                    502, f"signer auth invalid maxPrice: {exc.message}"
                ) from exc
            if orch_price > ceiling:
                raise SignerRequestError(
                    481,
                    f"orchestrator price {format_rat(orch_price, 3)} exceeds auth webhook maxPrice "
                    f"ceiling {format_rat(ceiling, 3)}",
                )
        return answer

    def _orchestrator(self, data: bytes) -> tuple[OrchestratorInfo, PriceInfo]:
        if not data:
            raise _bad("missing orchestrator")
        try:
            info = decode_orchestrator_info(data)
        except PMError as exc:
            raise _bad(f"proto: cannot parse invalid wire-format data ({exc})") from exc
        price = info.price_info
        if price is None or price.price_per_unit == 0 or price.pixels_per_unit == 0:
            raise _bad("missing or zero priceInfo")
        if info.ticket_params is None:
            raise _bad("missing ticketParams in OrchestratorInfo")
        return info, price

    def _load_state(
        self, data: bytes, sig: bytes, orch_addr: bytes, app: str, job_type: str
    ) -> RemotePaymentState:
        try:
            valid = recover_message_address(data, sig) == self.address
        except PMError:
            valid = False
        if not valid:
            raise _bad("invalid sig")
        try:
            state = RemotePaymentState.from_json(data)
        except PMError as exc:
            raise _bad("invalid state") from exc
        if state.orchestrator_address != orch_addr:
            raise _bad("orchestratorAddress mismatch")
        if state.app != app:
            raise _bad("app mismatch")
        if state.type and state.type != job_type:
            raise _bad("job type mismatch")
        return state.evolve(type=job_type, sequence_number=state.sequence_number + 1)

    def _refresh_check(self, info: OrchestratorInfo, params: Any, sender: Sender, now: int) -> None:
        prefix = "remote signer could not check whether to refresh session: "
        if info.auth_token is None:
            raise _bad(prefix + "missing auth token")
        refresh = now > (info.auth_token.expiration - AUTH_REFRESH_SECONDS) * _NS
        if not refresh:
            try:
                sender.validate_ticket_params(params, 1)
            except TicketParamsExpired:
                refresh = True
            except PMError as exc:
                raise _bad(prefix + str(exc)) from exc
        if refresh:
            raise SignerRequestError(
                480,
                "refresh session for remote signer",
                {"Livepeer-Orchestrator-URL": info.transcoder},
            )
