"""Credit accounting on both sides of a payment (spec/protocol.md §8), in exact rationals.

- `Balances`: balances keyed by (address, manifest id) as exact `Fraction`s of wei; entries
  idle for longer than the TTL (10 minutes, like go-livepeer) are dropped. The orchestrator
  keys them by sender (§8.1); the gateway by orchestrator (§8.2).
- `Balance.stage_update(min_credit, ev)`: go-livepeer's StageUpdate (§8.2): reserve the current
  credit and work out how many tickets cover the gap; `BalanceUpdate` and
  `complete_balance_update` finish the cycle.
- Fee estimates: transcoding (pixels × fps × duration × 1.02 × price), AI and live (§8.2), and
  the orchestrator's debit (§8.1).

Money is `int` / `Fraction` wei throughout; time is integer nanoseconds of a monotonic clock.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

from pm.errors import InvalidInput, InvalidType
from pm.evm import check_address

__all__ = [
    "BALANCE_TTL_NS",
    "DEFAULT_FPS",
    "LV2V_PIXELS_PER_SECOND",
    "PIXEL_ESTIMATE_MULTIPLIER",
    "Balance",
    "BalanceUpdate",
    "BalanceUpdateStatus",
    "Balances",
    "StagedUpdate",
    "VideoProfile",
    "ai_fee_estimate",
    "complete_balance_update",
    "fee_for_units",
    "live_fee",
    "min_credit",
    "stage_tickets",
    "transcode_fee_estimate",
]

#: Idle lifetime of a balance entry: 10 minutes in nanoseconds (spec/protocol.md §8.1).
BALANCE_TTL_NS = 600 * 1_000_000_000

#: go-livepeer's pixelEstimateMultiplier is the float64 1.02 turned into a big.Rat with
#: SetFloat64, i.e. the exact binary value of that double: 2296835809958953 / 2**51.
PIXEL_ESTIMATE_MULTIPLIER = Fraction(2296835809958953, 2**51)

#: Frame rate assumed for a profile without one (pass-through fps), frames per second (§8.2).
DEFAULT_FPS = 60

#: "lv2v" live billing: 1280 × 720 pixels at 30 fps, pixels per second (§8.1).
LV2V_PIXELS_PER_SECOND = 1280 * 720 * 30

Amount = int | Fraction


def _rat(name: str, value: object) -> Fraction:
    """Converts an int/Fraction amount to Fraction; floats and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise InvalidType(f"{name} must be an int or Fraction, got {type(value).__name__}")
    return Fraction(value)


def _nonneg_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise InvalidInput(f"{name} must be >= 0, got {value}")
    return value


def _key(addr: object, manifest_id: object) -> tuple[bytes, str]:
    """(20-byte address, manifest id str): bytes(addr) alone would crash on a str and quietly
    turn an int n into n zero bytes."""
    if not isinstance(manifest_id, str):
        raise InvalidType(
            f"manifest_id must be a str, got {type(manifest_id).__name__}",
            name="manifest_id",
            value=manifest_id,
        )
    return check_address("address", addr), manifest_id


def _ceil(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


@dataclass(frozen=True, slots=True)
class StagedUpdate:
    """Result of `stage_update`: tickets to send, the credit they add, the reserved credit (wei)."""

    num_tickets: int
    new_credit: Fraction
    existing_credit: Fraction


def stage_tickets(existing_credit: Amount, min_credit: Amount, ev: Amount | None) -> StagedUpdate:
    """Pure StageUpdate arithmetic (spec/protocol.md §8.2).

    - existing ≥ min_credit: 0 tickets;
    - ev None or 0: 0 tickets;
    - else n = ceil((min_credit − existing) / ev) and new credit n × ev.
    """
    existing = _rat("existing_credit", existing_credit)
    minimum = _rat("min_credit", min_credit)
    if existing >= minimum:
        return StagedUpdate(0, Fraction(0), existing)
    if ev is None:
        return StagedUpdate(0, Fraction(0), existing)
    per_ticket = _rat("ev", ev)
    if per_ticket <= 0:
        # go-livepeer returns no tickets for a nil or zero EV; a negative EV cannot come from
        # uint256 face value and win probability, so it is refused rather than guessed at.
        if per_ticket < 0:
            raise InvalidInput(f"ev must be >= 0, got {per_ticket}")
        return StagedUpdate(0, Fraction(0), existing)
    n = _ceil((minimum - existing) / per_ticket)
    return StagedUpdate(n, n * per_ticket, existing)


class _Entry:
    __slots__ = ("amount", "last_update")

    def __init__(self, amount: Fraction, last_update: int) -> None:
        self.amount = amount
        self.last_update = last_update


class Balances:
    """Thread-safe credit balances keyed by (20-byte address, manifest id), in wei.

    Entries not updated (credit/debit) for more than `ttl_ns` nanoseconds are dropped by
    `cleanup()`, which also runs on its own on a mutation once per TTL period, so memory stays
    bounded by the entries that are live. `clock` returns monotonic nanoseconds (injectable for
    tests).
    """

    def __init__(
        self, ttl_ns: int = BALANCE_TTL_NS, clock: Callable[[], int] = time.monotonic_ns
    ) -> None:
        self._ttl = _nonneg_int("ttl_ns", ttl_ns)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[bytes, str], _Entry] = {}
        self._last_sweep = clock()

    @property
    def ttl_ns(self) -> int:
        return self._ttl

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def keys(self) -> list[tuple[bytes, str]]:
        """A snapshot of the (address, manifest id) keys currently held."""
        with self._lock:
            return list(self._entries)

    def _entry(self, key: tuple[bytes, str], now: int) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = _Entry(Fraction(0), now)
            self._entries[key] = entry
        return entry

    def _maybe_sweep(self, now: int) -> None:
        if now - self._last_sweep >= self._ttl:
            self._sweep(now)

    def _sweep(self, now: int) -> int:
        self._last_sweep = now
        dead = [k for k, e in self._entries.items() if now - e.last_update > self._ttl]
        for k in dead:
            del self._entries[k]
        return len(dead)

    def credit(self, addr: bytes, manifest_id: str, amount: Amount) -> None:
        """Adds `amount` wei (may be negative, which debits) to the balance."""
        key = _key(addr, manifest_id)
        value = _rat("amount", amount)
        now = self._clock()
        with self._lock:
            self._maybe_sweep(now)
            entry = self._entry(key, now)
            entry.amount += value
            entry.last_update = now

    def debit(self, addr: bytes, manifest_id: str, amount: Amount) -> None:
        """Subtracts `amount` wei from the balance (which may go negative)."""
        self.credit(addr, manifest_id, -_rat("amount", amount))

    def reserve(self, addr: bytes, manifest_id: str) -> Fraction:
        """Zeroes the balance and returns what it held (go-livepeer's Reserve; no TTL refresh)."""
        key = _key(addr, manifest_id)
        now = self._clock()
        with self._lock:
            entry = self._entry(key, now)
            amount = entry.amount
            entry.amount = Fraction(0)
            return amount

    def balance(self, addr: bytes, manifest_id: str) -> Fraction | None:
        """The current balance in wei, or None if there is no entry."""
        key = _key(addr, manifest_id)
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else entry.amount

    def cleanup(self) -> int:
        """Drops entries idle for longer than the TTL; returns how many were dropped."""
        now = self._clock()
        with self._lock:
            return self._sweep(now)

    def for_key(self, addr: bytes, manifest_id: str) -> Balance:
        """A `Balance` view of one (address, manifest id) entry."""
        return Balance(self, addr, manifest_id)


class Balance:
    """One (address, manifest id) entry of a `Balances` (go-livepeer's core.Balance)."""

    __slots__ = ("_balances", "addr", "manifest_id")

    def __init__(self, balances: Balances, addr: bytes, manifest_id: str) -> None:
        self._balances = balances
        self.addr, self.manifest_id = _key(addr, manifest_id)

    def credit(self, amount: Amount) -> None:
        self._balances.credit(self.addr, self.manifest_id, amount)

    def debit(self, amount: Amount) -> None:
        self._balances.debit(self.addr, self.manifest_id, amount)

    def balance(self) -> Fraction | None:
        return self._balances.balance(self.addr, self.manifest_id)

    def stage_update(self, min_credit: Amount, ev: Amount | None) -> StagedUpdate:
        """Reserves (zeroes) the balance and returns the tickets needed to reach `min_credit`.

        spec/protocol.md §8.2; `num_tickets` is the number of tickets to send. The arguments
        are checked before the balance is reserved, so bad input leaves the credit in place.
        """
        minimum = _rat("min_credit", min_credit)
        per_ticket = None if ev is None else _rat("ev", ev)
        if per_ticket is not None and per_ticket < 0:
            raise InvalidInput(f"ev must be >= 0, got {per_ticket}")
        existing = self._balances.reserve(self.addr, self.manifest_id)
        return stage_tickets(existing, minimum, per_ticket)


class BalanceUpdateStatus(enum.IntEnum):
    """Where a staged payment ended up (go-livepeer's BalanceUpdateStatus)."""

    STAGED = 0  # never sent: the reserved credit goes back
    CREDIT_SPENT = 1  # sent, no answer: the credit is gone
    RECEIVED_CHANGE = 2  # acknowledged: balance = existing + new − debit


@dataclass(slots=True)
class BalanceUpdate:
    """A payment in flight on the gateway side (wei amounts; mutable status and debit)."""

    existing_credit: Fraction
    new_credit: Fraction
    num_tickets: int
    debit: Fraction = Fraction(0)
    status: BalanceUpdateStatus = BalanceUpdateStatus.STAGED

    @classmethod
    def from_staged(cls, staged: StagedUpdate) -> BalanceUpdate:
        return cls(staged.existing_credit, staged.new_credit, staged.num_tickets)


def complete_balance_update(balance: Balance, update: BalanceUpdate) -> None:
    """Settles a `BalanceUpdate` into `balance` (spec/protocol.md §8.2, completion)."""
    if update.status == BalanceUpdateStatus.STAGED:
        balance.credit(update.existing_credit)
    elif update.status == BalanceUpdateStatus.RECEIVED_CHANGE:
        balance.credit(update.existing_credit + update.new_credit - update.debit)


def min_credit(fee: Amount, ev: Amount) -> Fraction:
    """max(fee, ev): O needs at least one ticket's EV of credit (spec/protocol.md §8.2)."""
    return max(_rat("fee", fee), _rat("ev", ev))


@dataclass(frozen=True, slots=True)
class VideoProfile:
    """An output rendition for fee estimates: pixels and frame rate (0 = not set)."""

    width: int
    height: int
    framerate: int = 0
    framerate_den: int = 0

    def __post_init__(self) -> None:
        _nonneg_int("width", self.width)
        _nonneg_int("height", self.height)
        _nonneg_int("framerate", self.framerate)
        _nonneg_int("framerate_den", self.framerate_den)


def transcode_fee_estimate(
    profiles: Iterable[VideoProfile], segment_duration: Amount, price: Amount
) -> Fraction:
    """Fee estimate in wei for one segment (spec/protocol.md §8.2, go-livepeer estimateFee).

    Σ over profiles of width × height × ceil(fps) × ceil(duration seconds), times
    `PIXEL_ESTIMATE_MULTIPLIER`, times `price` (wei per pixel). fps = framerate /
    framerate_den with 60 when the frame rate is unset and 1 when the denominator is.
    """
    duration = _rat("segment_duration", segment_duration)
    if duration < 0:
        raise InvalidInput(f"segment_duration must be >= 0, got {duration}")
    price_rat = _rat("price", price)
    seconds = _ceil(duration)
    pixels = 0
    for p in profiles:
        if not isinstance(p, VideoProfile):
            raise InvalidType(f"profiles must hold VideoProfile, got {type(p).__name__}")
        fps_num = p.framerate or DEFAULT_FPS
        fps_den = p.framerate_den or 1
        pixels += p.width * p.height * _ceil(Fraction(fps_num, fps_den)) * seconds
    return pixels * PIXEL_ESTIMATE_MULTIPLIER * price_rat


def ai_fee_estimate(out_pixels: int, price: Amount) -> Fraction:
    """AI fee estimate in wei: output pixels × price per pixel (spec/protocol.md §8.2)."""
    return _nonneg_int("out_pixels", out_pixels) * _rat("price", price)


def live_fee(units: int, price: Amount) -> Fraction:
    """Live fee in wei: billable units × price per unit (spec/protocol.md §8.1, §8.2)."""
    return _nonneg_int("units", units) * _rat("price", price)


def fee_for_units(price_per_unit: int, pixels_per_unit: int, units: int) -> Fraction:
    """The orchestrator's debit: (pricePerUnit / pixelsPerUnit) × units in wei (§8.1)."""
    for name, v in (("price_per_unit", price_per_unit), ("pixels_per_unit", pixels_per_unit)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidType(f"{name} must be an int, got {type(v).__name__}")
    if pixels_per_unit == 0:
        raise InvalidInput("pixels_per_unit must not be 0")
    return Fraction(price_per_unit, pixels_per_unit) * _nonneg_int("units", units)
