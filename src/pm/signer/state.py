"""The remote signer's state: go-livepeer's ``RemotePaymentState`` (remote-signer.md §2.5).

The state is the signer's only memory between requests: the gateway echoes it back and the signer
verifies its own signature over the exact bytes before trusting it. pm produces the same JSON shape
and key order as Go's ``json.Marshal`` so that a Go signer and a pm signer sharing a key accept each
other's states.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from ..errors import InvalidInput

_ZERO_TIME = "0001-01-01T00:00:00Z"
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})"
)
_RAT = re.compile(r"\s*([+-]?[0-9]+)(?:/([0-9]+))?\s*", re.ASCII)
_DECIMAL = re.compile(r"\s*([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\s*", re.ASCII)
#: Longest number text parsed. Go's SetString has no limit, but no wei amount a state or a price
#: ceiling can meaningfully hold comes near it (2**256 has 78 digits), and Python's int() refuses
#: more than 4300 digits by default.
_MAX_RAT_CHARS = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rat_string(value: Fraction) -> str:
    """Go ``big.Rat.RatString``: ``"n"`` for integers, ``"n/d"`` otherwise."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def parse_rat(text: str) -> Fraction | None:
    """Go ``big.Rat.SetString`` for the forms a state can hold: ``"n"``, ``"n/d"`` and decimals
    such as ``"1.5"`` or ``"2e3"``, ASCII digits only. Returns None where Go's SetString fails,
    and for texts over 1000 characters."""
    if len(text) > _MAX_RAT_CHARS:
        return None
    m = _RAT.fullmatch(text)
    if m:
        den = int(m.group(2)) if m.group(2) is not None else 1
        return None if den == 0 else Fraction(int(m.group(1)), den)
    m = _DECIMAL.fullmatch(text)
    if not m or not (m.group(2) or m.group(3)):
        return None
    sign, whole, frac, exp = m.group(1), m.group(2) or "0", m.group(3) or "", m.group(4)
    exponent = int(exp) if exp else 0
    if abs(exponent) > 10_000:  # Go caps exponents too; refuse absurd values rather than hang
        return None
    value = Fraction(int(whole + frac), 10 ** len(frac)) * Fraction(10) ** exponent
    return -value if sign == "-" else value


def format_time(ns: int) -> str:
    """RFC 3339 with nanoseconds, UTC, trailing zeros of the fraction dropped (Go
    ``time.RFC3339Nano``); 0 is Go's zero time."""
    if ns == 0:
        return _ZERO_TIME
    seconds, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    tail = f".{frac:09d}".rstrip("0") if frac else ""
    return f"{base}{tail}Z"


def parse_time(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time (0 for Go's zero time)."""
    if text == _ZERO_TIME:
        return 0
    m = _RFC3339.fullmatch(text)
    if not m:
        raise InvalidInput(f"invalid time {text!r}", name="LastUpdate", value=text)
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = int((m.group(7) or "").ljust(9, "0") or 0)
    zone = m.group(8)
    offset = (
        0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[4:6]))
    )
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput(f"invalid time {text!r}", name="LastUpdate", value=text) from exc
    seconds = int((moment - _EPOCH).total_seconds()) - offset * 60
    return seconds * 1_000_000_000 + frac


@dataclass(frozen=True, slots=True)
class RemotePaymentState:
    """What a gateway carries between ``/generate-live-payment`` calls (remote-signer.md §2.5).

    ``last_update_ns`` is wall-clock nanoseconds (0 = never); ``balance`` the signer's estimate of
    the gateway's credit at the orchestrator in wei (None = ``""``); prices are the orchestrator's
    at session start (int64 wei per ``initial_pixels_per_unit`` units).
    """

    state_id: str
    orchestrator_address: bytes
    pm_session_id: str = ""
    last_update_ns: int = 0
    app: str = ""
    auth_expiry: int = 0
    sender_nonce: int = 0
    balance: Fraction | None = None
    initial_price_per_unit: int = 0
    initial_pixels_per_unit: int = 0
    type: str = ""
    sequence_number: int = 0
    auth_id: str = ""

    def to_json(self) -> bytes:
        """Compact JSON in Go's field order (the exact bytes that get signed)."""
        doc = {
            "StateID": self.state_id,
            "PMSessionID": self.pm_session_id,
            "LastUpdate": format_time(self.last_update_ns),
            "OrchestratorAddress": "0x" + self.orchestrator_address.hex(),
            "App": self.app,
            "AuthExpiry": self.auth_expiry,
            "SenderNonce": self.sender_nonce,
            "Balance": "" if self.balance is None else rat_string(self.balance),
            "InitialPricePerUnit": self.initial_price_per_unit,
            "InitialPixelsPerUnit": self.initial_pixels_per_unit,
            "Type": self.type,
            "SequenceNumber": self.sequence_number,
            "AuthID": self.auth_id,
        }
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> RemotePaymentState:
        """Parse a state (already signature-checked). Raises InvalidInput on any malformation."""
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("invalid state", name="State") from exc
        if not isinstance(doc, dict):
            raise InvalidInput("invalid state", name="State")
        fields = {k.lower(): v for k, v in doc.items()}  # Go matches keys case-insensitively

        def get(key: str, kind: type, default: Any) -> Any:
            value = fields.get(key.lower(), default)
            if value is None:
                return default
            if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInput("invalid state", name=key, value=value)
            if kind is str and not isinstance(value, str):
                raise InvalidInput("invalid state", name=key, value=value)
            return value

        address_text = get("OrchestratorAddress", str, "0x" + "00" * 20)
        if not re.fullmatch(r"0[xX][0-9a-fA-F]{40}", address_text):
            raise InvalidInput("invalid state", name="OrchestratorAddress", value=address_text)
        balance_text = get("Balance", str, "")
        balance = parse_rat(balance_text) if balance_text else None
        nonce = get("SenderNonce", int, 0)
        seq = get("SequenceNumber", int, 0)
        if not 0 <= nonce < 2**32 or not 0 <= seq < 2**64:
            raise InvalidInput("invalid state", name="SenderNonce", value=nonce)
        return cls(
            state_id=get("StateID", str, ""),
            orchestrator_address=bytes.fromhex(address_text[2:]),
            pm_session_id=get("PMSessionID", str, ""),
            last_update_ns=parse_time(get("LastUpdate", str, _ZERO_TIME)),
            app=get("App", str, ""),
            auth_expiry=get("AuthExpiry", int, 0),
            sender_nonce=nonce,
            balance=balance,
            initial_price_per_unit=get("InitialPricePerUnit", int, 0),
            initial_pixels_per_unit=get("InitialPixelsPerUnit", int, 0),
            type=get("Type", str, ""),
            sequence_number=seq,
            auth_id=get("AuthID", str, ""),
        )

    def evolve(self, **changes: Any) -> RemotePaymentState:
        return replace(self, **changes)
