"""The recipient (orchestrator) side: ticket params, receive checks, nonces and credit (§4, §5).

- `recipient_rand`: the HMAC of spec/protocol.md §4, as a pure function.
- `Recipient.ticket_params(sender, price)`: §5.2 (face value with every cap, winProb,
  expiration block, expiration params with the zero-hash backdating, HMAC commitment).
- `Recipient.tx_cost_multiplier(sender)` and `auto_adjust_price` with its 1/1000 quantisation
  (§5.3).
- `Recipient.receive(batch, seed, expected_price)`: §5.4's checks in go-livepeer's order for
  every ticket of a payment, the signature and win checks of the whole batch in one native
  call, the nonce seen-set (§5.5), expiry, winners to a `WinningTicketSink`, and credit of the
  exact EV until the first non-fatal error (§5.6).
- Balances keyed by (sender, manifest id) (§8.1).

Money is `int` / `Fraction` wei, probabilities `int` numerators over 2**256 − 1.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import overload

from pm.accounting import BALANCE_TTL_NS, Balances
from pm.batchverify import validate_batch_same_sender
from pm.chain import MaxFloatSource, RecipientChainView, WinningTicketSink
from pm.crypto import keccak256
from pm.errors import (
    ChainViewError,
    CouldNotGetSenderInfo,
    InsufficientSenderReserve,
    InvalidExpectedPrice,
    InvalidInput,
    InvalidRecipientRand,
    InvalidTicketRecipient,
    InvalidTicketSender,
    InvalidTicketSignature,
    InvalidType,
    NonceAlreadySeen,
    PMError,
    ReceiveError,
    SenderUnlockingSoon,
    TicketParamsExpired,
    TooManyNonces,
)
from pm.evm import check_address, check_bytes, check_uint, minbe, u256
from pm.pricing import expected_value, win_prob_for
from pm.ticket import ExpirationParams, SignedTicket, TicketBatch, TicketParams
from pm.wire import Payment, check_payment, decode_payment, decode_payment_header

__all__ = [
    "ARBITRUM_ONE",
    "AVG_GAS_PRICE",
    "ETHEREUM_MAINNET",
    "EV_MULTIPLIER",
    "MAX_SENDER_NONCES",
    "PARAMS_EXPIRATION_BLOCKS",
    "PRICE_SCALING_FACTOR",
    "ChainMaxFloat",
    "MemoryWinningTicketSink",
    "ReceiveResult",
    "ReceiveResults",
    "Recipient",
    "RecipientConfig",
    "auto_adjust_price",
    "price_to_fixed",
    "rat_price_info",
    "recipient_rand",
    "recipient_rand_hash",
]

#: Params expire this many L1 blocks after issue (spec/protocol.md §5.1; 10 before 2025).
PARAMS_EXPIRATION_BLOCKS = 40
#: Distinct nonces accepted per recipientRand (spec/protocol.md §5.1, §5.5; 150 before 2025).
MAX_SENDER_NONCES = 600
#: Face value = EV × this when the gas-based face value is below the EV (§5.2 step 3.4).
EV_MULTIPLIER = 100
#: go-livepeer's hard-coded average gas price, 3 gwei in wei (§5.2 step 3.8).
AVG_GAS_PRICE = 3_000_000_000
#: Auto-adjusted prices are fixed point with this scale (§5.3).
PRICE_SCALING_FACTOR = 1000

_LOW64 = (1 << 64) - 1
_INT64_MAX = (1 << 63) - 1
_INT64_MIN = -(1 << 63)
_ZERO_ADDRESS = bytes(20)
_ZERO_HASH = bytes(32)


def _int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(
            f"{name} must be an int, not {type(value).__name__}", name=name, value=value
        )
    return value


def _secret_bytes(value: object, length: int | None = None) -> bytes:
    """The HMAC secret as bytes. Not check_bytes for the type check: its error keeps the value,
    which here would be the secret itself (a hex str, an int, a list) in the exception's
    attributes and pickles; wrong-length errors keep only the length."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidType(f"secret must be bytes, not {type(value).__name__}", name="secret")
    return check_bytes("secret", value, length)


def _price(name: str, value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise InvalidType(
            f"{name} must be a Fraction or int (wei per pixel), not {type(value).__name__}",
            name=name,
            value=value,
        )
    return Fraction(value)


# -- §4: recipientRand ------------------------------------------------------------------------


def recipient_rand(
    secret: bytes,
    seed: int,
    sender: bytes,
    face_value: int,
    win_prob: int,
    expiration_block: int,
    price: Fraction,
    aux_data: bytes,
) -> int:
    """HMAC-SHA256(secret, msg) as a uint256 (spec/protocol.md §4), where msg is

    minbe(seed) || sender(20) || minbe(faceValue) || minbe(winProb) || minbe(expirationBlock)
    || minbe(|priceNum|) || minbe(priceDen) || auxData (0 or 64 bytes),

    with `price` (wei per pixel) normalized as `Fraction` always is.
    """
    key = _secret_bytes(secret)
    rat = _price("price", price)
    aux = check_bytes("aux_data", aux_data)
    if len(aux) not in (0, 64):
        raise InvalidInput(
            f"aux_data must be 0 or 64 bytes, got {len(aux)}", name="aux_data", value=len(aux)
        )
    msg = b"".join(
        (
            minbe(check_uint("seed", seed)),
            check_address("sender", sender),
            minbe(check_uint("face_value", face_value)),
            minbe(check_uint("win_prob", win_prob)),
            minbe(check_uint("expiration_block", expiration_block)),
            minbe(abs(rat.numerator)),
            minbe(rat.denominator),
            aux,
        )
    )
    return int.from_bytes(hmac.new(key, msg, hashlib.sha256).digest(), "big")


def recipient_rand_hash(rand: int) -> bytes:
    """keccak(u256(recipientRand)), the commitment carried by tickets (spec/protocol.md §4)."""
    return keccak256(u256(rand))


# -- §5.3: price quantisation -----------------------------------------------------------------


def _go_float_trunc_int64(x: Fraction) -> int:
    """Go `new(big.Float).SetRat(x).Int64()`: round x to max(64, bitlen(num), bitlen(den))
    significant bits (nearest, ties to even), then truncate toward zero and clamp to int64."""
    a, den = abs(x.numerator), x.denominator
    if a == 0:
        return 0
    prec = max(64, a.bit_length(), den.bit_length())
    e = a.bit_length() - den.bit_length()
    if _ge_pow2(a, den, e):
        e += 1
    shift = prec - e  # mantissa = a / den * 2**shift in [2**(prec-1), 2**prec)
    if shift >= 0:
        q, r = divmod(a << shift, den)
        d = den
    else:
        d = den << -shift
        q, r = divmod(a, d)
    if 2 * r > d or (2 * r == d and q & 1):
        q += 1
    mag = q >> shift if shift >= 0 else q << -shift
    value = -mag if x.numerator < 0 else mag
    return min(max(value, _INT64_MIN), _INT64_MAX)


def _ge_pow2(a: int, den: int, e: int) -> bool:
    """a / den >= 2**e."""
    return a >= den << e if e >= 0 else a << -e >= den


def price_to_fixed(price: Fraction) -> int:
    """go-livepeer PriceToFixed: price × 1000 truncated toward zero to an int64 (§5.3)."""
    return _go_float_trunc_int64(_price("price", price) * PRICE_SCALING_FACTOR)


def auto_adjust_price(base_price: Fraction, tx_cost_multiplier: Fraction) -> Fraction:
    """The advertised price with -autoAdjustPrice (spec/protocol.md §5.3), wei per pixel.

    base × (1 + 1/m) when base > 0 and m > 0 (else base × 1), quantized to n/1000.
    """
    base = _price("base_price", base_price)
    m = _price("tx_cost_multiplier", tx_cost_multiplier)
    overhead = Fraction(1)
    if base.numerator > 0 and m > 0:
        overhead += 1 / m
    return Fraction(price_to_fixed(base * overhead), PRICE_SCALING_FACTOR)


def rat_price_info(price_per_unit: int, pixels_per_unit: int) -> Fraction:
    """PriceInfo → wei per pixel, normalized (go-livepeer common.RatPriceInfo, §4, §5.6).

    Raises `InvalidExpectedPrice` ('…err="pixels per unit is 0"') for a zero denominator.
    """
    ppu = _int("price_per_unit", price_per_unit)
    ppx = _int("pixels_per_unit", pixels_per_unit)
    if ppx == 0:
        raise InvalidExpectedPrice("pixels per unit is 0", ppu, ppx)
    return Fraction(ppu, ppx)


ExpectedPrice = Fraction | int | tuple[int, int] | None


def _expected_price(value: object) -> Fraction:
    """The payment's expected price as wei per pixel (spec/protocol.md §5.6 step 5).

    Accepts a Fraction/int (already a price per pixel), a (pricePerUnit, pixelsPerUnit) pair,
    or a PriceInfo-like object (`price_per_unit`/`pixels_per_unit` or protobuf's
    `pricePerUnit`/`pixelsPerUnit`); None is 'expected price is nil'.
    """
    if value is None:
        raise InvalidExpectedPrice("expected price is nil")
    if isinstance(value, (int, Fraction)) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, tuple) and len(value) == 2:
        return rat_price_info(value[0], value[1])
    for a, b in (("price_per_unit", "pixels_per_unit"), ("pricePerUnit", "pixelsPerUnit")):
        if hasattr(value, a) and hasattr(value, b):
            return rat_price_info(getattr(value, a), getattr(value, b))
    raise InvalidType(
        f"expected_price must be a Fraction, a (pricePerUnit, pixelsPerUnit) pair or a "
        f"PriceInfo, not {type(value).__name__}",
        name="expected_price",
        value=value,
    )


# -- configuration ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecipientConfig:
    """An orchestrator's payment settings (spec/protocol.md §5.1), all amounts in wei.

    - redeem_gas: gas of one redemption (350 000 on L1, 1 200 000 on Arbitrum One);
    - tx_cost_multiplier: face value = redeem cost × this (100);
    - ticket_ev: EV each ticket should carry (-ticketEV, 8 gwei);
    - max_face_value: operator cap on the face value, 0 = none (-maxFaceValue);
    - avg_gas_price: fallback gas price of the face-value floor (3 gwei);
    - min_gas_price: polled gas prices below it are ignored (1 gwei on mainnet, else 0);
    - max_gas_price: highest gas price to redeem at, 0 = none (used by redemption, §7.3);
    - params_expiration_blocks, max_sender_nonces, ev_multiplier: §5.1 constants;
    - balance_ttl_ns: idle lifetime of a balance entry (10 minutes);
    - batch_verify: check a payment's signatures with one multi-scalar multiplication
      (`pm.batchverify`, about 3× faster per ticket for 64+ tickets) instead of one
      libsecp256k1 recovery each; the per-ticket results are identical either way.
    """

    redeem_gas: int = 350_000
    tx_cost_multiplier: int = 100
    ticket_ev: int = 8_000_000_000
    max_face_value: int = 0
    avg_gas_price: int = AVG_GAS_PRICE
    min_gas_price: int = 0
    max_gas_price: int = 0
    params_expiration_blocks: int = PARAMS_EXPIRATION_BLOCKS
    max_sender_nonces: int = MAX_SENDER_NONCES
    ev_multiplier: int = EV_MULTIPLIER
    balance_ttl_ns: int = BALANCE_TTL_NS
    batch_verify: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.batch_verify, bool):
            raise InvalidType(
                "batch_verify must be a bool", name="batch_verify", value=self.batch_verify
            )
        for name in (
            "redeem_gas",
            "tx_cost_multiplier",
            "ticket_ev",
            "max_face_value",
            "avg_gas_price",
            "min_gas_price",
            "max_gas_price",
            "params_expiration_blocks",
            "max_sender_nonces",
            "ev_multiplier",
            "balance_ttl_ns",
        ):
            check_uint(name, getattr(self, name))

    @classmethod
    def ethereum_mainnet(cls) -> RecipientConfig:
        """go-livepeer's defaults on Ethereum L1: redeem gas 350 000, min gas price 1 gwei."""
        return ETHEREUM_MAINNET

    @classmethod
    def arbitrum_one(cls) -> RecipientConfig:
        """go-livepeer's defaults on Arbitrum One: redeem gas 1 200 000, no min gas price."""
        return ARBITRUM_ONE


ETHEREUM_MAINNET = RecipientConfig(redeem_gas=350_000, min_gas_price=1_000_000_000)
ARBITRUM_ONE = RecipientConfig(redeem_gas=1_200_000, min_gas_price=0)


# -- collaborators ----------------------------------------------------------------------------


class ChainMaxFloat:
    """`MaxFloatSource` from a chain view alone (spec/protocol.md §7.1, no pending amounts).

    max float = reserveAlloc = ⌊(fundsRemaining + claimedInCurrentRound) / poolSize⌋ −
    claimedReserve(sender, claimant), or 0 when the pool is empty; it can be negative.
    """

    def __init__(self, chain: RecipientChainView, claimant: bytes) -> None:
        self.chain = chain
        self.claimant = check_address("claimant", claimant)

    def max_float(self, sender: bytes) -> int:
        info = self.chain.sender_info(sender)
        pool = self.chain.transcoder_pool_size()
        if pool == 0:
            return 0
        claimed = self.chain.claimed_reserve(sender, self.claimant)
        return (info.funds_remaining + info.claimed_in_current_round) // pool - claimed


class MemoryWinningTicketSink:
    """In-memory `WinningTicketSink`: winners by signature (idempotent), in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[bytes, tuple[SignedTicket, int]] = {}

    def add(self, signed_ticket: SignedTicket, params_expiration_block: int) -> None:
        with self._lock:
            self._tickets.setdefault(signed_ticket.sig, (signed_ticket, params_expiration_block))

    def __len__(self) -> int:
        with self._lock:
            return len(self._tickets)

    def tickets(self) -> list[tuple[SignedTicket, int]]:
        """(signed ticket, params expiration block) pairs in arrival order."""
        with self._lock:
            return list(self._tickets.values())


# -- receive results --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiveResult:
    """What happened to one ticket of a payment (go-livepeer ReceiveTicket's return values).

    - index, nonce: position in the batch and sender nonce;
    - won: the ticket wins (handed to the sink); also true with a nonce or expiry error;
    - session_id: "0x" + recipientRandHash hex when won, else "";
    - error: the ReceiveError of this ticket, or None;
    - credited: its EV was credited to the balance (only before the payment's first error).
    """

    index: int
    nonce: int
    won: bool
    session_id: str
    error: ReceiveError | None
    credited: bool


class ReceiveResults(Sequence[ReceiveResult]):
    """The per-ticket results of one payment (a sequence of `ReceiveResult`) and its summary.

    - error: what go-livepeer's ProcessPayment returns: the fatal error, else the LAST
      non-fatal error, else None;
    - fatal: the fatal error (processing stopped at once, one result), or None;
    - first_error: the first error of the payment (from it on nothing is credited);
    - ev: EV of one ticket (wei); credited: total credited (wei); winners: winning indices.

    The per-ticket `ReceiveResult` objects are made only when indexed or iterated, so a
    10,000-ticket payment costs no per-ticket Python objects unless a caller asks for them.
    """

    __slots__ = (
        "_credited_upto",
        "_errors",
        "_n",
        "_nonces",
        "_session_id",
        "_won",
        "credited",
        "error",
        "ev",
        "fatal",
        "first_error",
        "winners",
    )

    def __init__(
        self,
        nonces: Sequence[int] = (),
        won_flags: bytes = b"",
        errors: dict[int, ReceiveError] | None = None,
        *,
        count: int | None = None,
        credited_upto: int = 0,
        session_id: str = "",
        fatal: ReceiveError | None = None,
        error: ReceiveError | None = None,
        first_error: ReceiveError | None = None,
        ev: Fraction = Fraction(0),
        credited: Fraction = Fraction(0),
        winners: tuple[int, ...] = (),
    ) -> None:
        self._n = len(nonces) if count is None else count
        self._nonces = nonces
        self._won = won_flags
        self._errors = errors or {}
        self._credited_upto = credited_upto
        self._session_id = session_id
        self.fatal = fatal
        self.error = error
        self.first_error = first_error
        self.ev = ev
        self.credited = credited
        self.winners = winners

    def __len__(self) -> int:
        return self._n

    def _result(self, i: int) -> ReceiveResult:
        won = bool(self._won[i]) if self._won else False
        return ReceiveResult(
            i,
            self._nonces[i],
            won,
            self._session_id if won else "",
            self._errors.get(i),
            i < self._credited_upto,
        )

    @overload
    def __getitem__(self, index: int) -> ReceiveResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[ReceiveResult]: ...

    def __getitem__(self, index: int | slice) -> ReceiveResult | list[ReceiveResult]:
        if isinstance(index, slice):
            return [self._result(i) for i in range(*index.indices(self._n))]
        if not -self._n <= index < self._n:
            raise IndexError(index)
        return self._result(index % self._n)

    def __iter__(self) -> Iterator[ReceiveResult]:
        return (self._result(i) for i in range(self._n))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReceiveResults | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ReceiveResults(n={self._n}, credited={self.credited}, error={self.error!r})"

    @property
    def ok(self) -> bool:
        """No error at all in this payment."""
        return self.error is None

    def raise_for_error(self) -> None:
        """Raises `error` if there is one (what an HTTP handler turns into a 400)."""
        if self.error is not None:
            raise self.error


class _NonceSet:
    __slots__ = ("expiration_block", "seen")

    def __init__(self, expiration_block: int) -> None:
        self.seen: set[int] = set()
        self.expiration_block = expiration_block


# -- the recipient ----------------------------------------------------------------------------


class Recipient:
    """An orchestrator's ticket logic (spec/protocol.md §4, §5, §8.1).

    `address` is the ticket recipient (the on-chain orchestrator address); `secret` the 32-byte
    HMAC key (random by default, and like go-livepeer's never persisted: after a restart,
    tickets for older params fail with "invalid recipientRand…"). `max_float` defaults to
    `ChainMaxFloat(chain, address)`; `sink` to a `MemoryWinningTicketSink`. `random_bytes(n)`
    supplies the params seeds (and the default secret): os.urandom by default, a seeded source
    for reproducible simulations (the seed is public; go-livepeer uses math/rand). Thread-safe.
    """

    def __init__(
        self,
        address: bytes,
        secret: bytes | None,
        chain: RecipientChainView,
        config: RecipientConfig = RecipientConfig(),
        *,
        max_float: MaxFloatSource | None = None,
        sink: WinningTicketSink | None = None,
        balances: Balances | None = None,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.address = check_address("address", address)
        self._random_bytes = random_bytes
        if secret is None:
            secret = random_bytes(32)
        self.__secret = _secret_bytes(secret, 32)
        if not isinstance(config, RecipientConfig):
            raise InvalidType(
                f"config must be a RecipientConfig, not {type(config).__name__}",
                name="config",
                value=config,
            )
        self.chain = chain
        self.config = config
        self.max_float_source: MaxFloatSource = (
            max_float if max_float is not None else ChainMaxFloat(chain, self.address)
        )
        self.sink: WinningTicketSink = sink if sink is not None else MemoryWinningTicketSink()
        self.balances = balances if balances is not None else Balances(config.balance_ttl_ns)
        self._max_face_value = config.max_face_value
        self._gas_lock = threading.Lock()
        self._gas_price: int | None = None
        self._nonce_lock = threading.Lock()
        self._nonces: dict[int, _NonceSet] = {}
        self._expiries: list[tuple[int, int]] = []  # heap of (expiration block, recipientRand)
        self._cleaned_block = -1

    def __repr__(self) -> str:
        return f"Recipient(address=0x{self.address.hex()})"

    # -- configuration at run time -------------------------------------------------------
    @property
    def max_face_value(self) -> int:
        """The operator's face-value cap in wei (0 = none); settable at run time."""
        return self._max_face_value

    def set_max_face_value(self, value: int) -> None:
        self._max_face_value = check_uint("max_face_value", value)

    @property
    def ev(self) -> Fraction:
        """The configured ticket EV in wei (what SufficientBalance compares against)."""
        return Fraction(self.config.ticket_ev)

    # -- gas price (the GasPriceMonitor of §5.2 step 3.1) ---------------------------------
    def gas_price(self) -> int:
        """The current gas price in wei, like go-livepeer's GasPriceMonitor.GasPrice():
        max(last polled value ≥ min_gas_price (0 before any), min_gas_price). Polled values
        below the minimum are ignored; the floor also applies before anything acceptable was
        polled (minGasPrice exists because providers returned 0, #1851)."""
        polled = self.chain.gas_price()
        with self._gas_lock:
            if polled is not None and check_uint("gas_price", polled) >= self.config.min_gas_price:
                self._gas_price = polled
            return max(self._gas_price or 0, self.config.min_gas_price)

    def tx_cost(self) -> int:
        """redeemGas × gas price, wei."""
        return self.config.redeem_gas * self.gas_price()

    # -- §5.2 -----------------------------------------------------------------------------
    def _max_float(self, sender: bytes) -> int:
        try:
            return _int("max_float", self.max_float_source.max_float(sender))
        except PMError:
            raise
        except Exception as exc:
            raise ChainViewError(exc) from exc

    def _face_value(self, sender: bytes) -> tuple[int, int]:
        """(face value, tx cost) per §5.2 step 3; raises InsufficientSenderReserve."""
        cfg = self.config
        tx_cost = self.tx_cost()
        ev = cfg.ticket_ev
        fv = tx_cost * cfg.tx_cost_multiplier
        if fv < ev:
            fv = ev * cfg.ev_multiplier
        max_float = self._max_float(sender)
        if fv > max_float:
            fv = max_float
        cap = self._max_face_value
        if cap > 0 and cap < fv:
            fv = cap
        avg_tx_cost = cfg.redeem_gas * cfg.avg_gas_price
        # §5.2 steps 3.7 and 3.8: the same message, two causes (kept apart in `reason`)
        reason = "ev" if fv < ev else "tx_cost" if fv < tx_cost and fv < avg_tx_cost else ""
        if reason:
            raise InsufficientSenderReserve(
                reason=reason,
                face_value=fv,
                ev=ev,
                tx_cost=tx_cost,
                avg_tx_cost=avg_tx_cost,
                max_float=max_float,
                max_face_value=cap,
            )
        return fv, tx_cost

    def expiration_params(self) -> ExpirationParams:
        """§5.2 step 6: last initialized round and its block hash, or the previous round's
        when that hash is all zeros (an Arbitrum quirk)."""
        round_ = self.chain.last_initialized_round()
        block_hash = self.chain.last_initialized_block_hash()
        if block_hash == _ZERO_HASH and round_ > 0:  # no round before 0 to fall back to
            round_ -= 1
            block_hash = self.chain.block_hash_for_round(round_)
        return ExpirationParams(round_, block_hash)

    def ticket_params(self, sender: bytes, price: Fraction | int) -> TicketParams:
        """Fresh ticket params for `sender` at `price` wei per pixel (spec/protocol.md §5.2).

        Raises InsufficientSenderReserve, or whatever the max-float source raises.
        """
        sender = check_address("sender", sender)
        price_rat = _price("price", price)
        seed = int.from_bytes(check_bytes("random bytes", self._random_bytes(32), 32), "big")
        face_value = 0
        if price_rat.numerator > 0:
            face_value, _ = self._face_value(sender)
        last_block = self.chain.last_seen_l1_block()
        self._maybe_clean(last_block)
        expiration_block = last_block + self.config.params_expiration_blocks
        win_prob = win_prob_for(face_value, self.config.ticket_ev)
        exp = self.expiration_params()
        rand = recipient_rand(
            self.__secret,
            seed,
            sender,
            face_value,
            win_prob,
            expiration_block,
            price_rat,
            exp.aux_data,
        )
        return TicketParams(
            self.address,
            face_value,
            win_prob,
            recipient_rand_hash(rand),
            seed,
            expiration_block,
            price_rat,
            exp,
        )

    # -- §5.3 -----------------------------------------------------------------------------
    def tx_cost_multiplier(self, sender: bytes) -> Fraction:
        """faceValue / txCost for `sender` (0 when txCost ≤ 0); raises like ticket_params."""
        fv, tx_cost = self._face_value(check_address("sender", sender))
        if tx_cost <= 0:
            return Fraction(0)
        return Fraction(fv, tx_cost)

    def price_per_pixel(
        self, sender: bytes, base_price: Fraction | int, *, auto_adjust: bool = True
    ) -> Fraction:
        """The price to advertise to `sender` (§5.3): `base_price` as is without
        auto-adjustment, else base × (1 + 1/txCostMultiplier) quantized to 1/1000."""
        base = _price("base_price", base_price)
        if not auto_adjust:
            return base
        m = self.tx_cost_multiplier(sender) if base.numerator > 0 else Fraction(0)
        return auto_adjust_price(base, m)

    # -- §5.5 nonce bookkeeping ----------------------------------------------------------
    def _maybe_clean(self, latest_block: int) -> None:
        if latest_block > self._cleaned_block:
            self.clean_nonces(latest_block)

    def clean_nonces(self, latest_block: int) -> int:
        """Drops the nonce sets whose expiration block is ≤ `latest_block` (§5.5); returns
        how many were dropped. Runs by itself whenever a newer L1 block is seen."""
        dropped = 0
        with self._nonce_lock:
            self._cleaned_block = max(self._cleaned_block, latest_block)
            heap = self._expiries
            while heap and heap[0][0] <= latest_block:
                _, rand = heapq.heappop(heap)
                entry = self._nonces.get(rand)
                if entry is not None and entry.expiration_block <= latest_block:
                    del self._nonces[rand]
                    dropped += 1
        return dropped

    def nonce_set_count(self) -> int:
        """How many recipientRands currently have a nonce set (for monitoring and tests)."""
        with self._nonce_lock:
            return len(self._nonces)

    # -- §5.4 / §5.6 ---------------------------------------------------------------------
    def _validate_sender(self, sender: bytes) -> ReceiveError | None:
        try:
            info = self.chain.sender_info(sender)
        except Exception as exc:
            return CouldNotGetSenderInfo(sender, exc)
        round_ = self.chain.last_initialized_round()
        w = info.withdraw_round
        if (w & _LOW64) != 0 and w <= round_ + 1:
            return SenderUnlockingSoon(sender, w, round_)
        return None

    def receive(
        self,
        batch: TicketBatch,
        seed: int,
        expected_price: ExpectedPrice | object,
        *,
        manifest_id: str = "",
    ) -> ReceiveResults:
        """Validates and credits the tickets of one payment (spec/protocol.md §5.4, §5.6).

        `seed` is the seed echoed in the payment's ticket params; `expected_price` the price
        it echoes (a Fraction in wei per pixel, a (pricePerUnit, pixelsPerUnit) pair or a
        PriceInfo; None or pixelsPerUnit 0 raise `InvalidExpectedPrice`). Checks 1–4 depend
        only on fields the tickets share, so they are evaluated once: a fatal failure stops
        the payment at its first ticket, as in go-livepeer. Then, per ticket in order: the
        signature (non-fatal), the win, the nonce (non-fatal) and the expiry (non-fatal).
        Winners go to the sink (durably) before this returns; each ticket's exact EV is
        credited to (sender, manifest_id) until the first error of the payment.
        """
        price = _expected_price(expected_price)
        if not isinstance(batch, TicketBatch):
            raise InvalidType(
                f"batch must be a TicketBatch, not {type(batch).__name__}",
                name="batch",
                value=batch,
            )
        check_uint("seed", seed)
        if not isinstance(manifest_id, str):  # before any nonce is recorded
            raise InvalidType(
                f"manifest_id must be a str, not {type(manifest_id).__name__}",
                name="manifest_id",
                value=manifest_id,
            )
        n = len(batch)
        if n == 0:
            return ReceiveResults()
        params = batch.params
        sender = batch.sender
        exp = batch.expiration_params
        nonces = batch.nonces
        rand = recipient_rand(
            self.__secret,
            seed,
            sender,
            params.face_value,
            params.win_prob,
            params.expiration_block,
            price,
            exp.aux_data,
        )
        fatal = self._validate_sender(sender)
        if fatal is None:
            if params.recipient != self.address:
                fatal = InvalidTicketRecipient(self.address, params.recipient)
            elif sender == _ZERO_ADDRESS:
                fatal = InvalidTicketSender(sender)
            else:
                expected_hash = recipient_rand_hash(rand)
                if not hmac.compare_digest(expected_hash, params.recipient_rand_hash):
                    fatal = InvalidRecipientRand(params.recipient_rand_hash)
        if fatal is not None:
            return ReceiveResults(
                nonces, b"", {0: fatal}, count=1, fatal=fatal, error=fatal, first_error=fatal
            )

        if self.config.batch_verify:
            check = validate_batch_same_sender(
                batch.template,
                batch.nonces,
                batch.signatures,
                rand,
                irregular_sigs=batch.irregular_sigs,
            )
        else:
            check = batch.validate(rand)
        status_codes, won_flags = check.status_codes, check.won_flags
        last_seen = self.chain.last_seen_l1_block()
        self._maybe_clean(last_seen)
        exp_block = params.expiration_block
        expired = exp_block <= last_seen
        limit = self.config.max_sender_nonces
        errors: dict[int, ReceiveError] = {}

        added: set[int] = set()  # nonces this call records (forgotten again if it fails)
        with self._nonce_lock:
            entry = self._nonces.get(rand)
            fast = check.all_valid and not expired
            fresh: set[int] = set()
            if fast:
                fresh = set(nonces)
                seen = entry.seen if entry is not None else fresh
                fast = len(fresh) == n and (
                    entry is None or (seen.isdisjoint(fresh) and len(seen) + n <= limit)
                )
                fast = fast and n <= limit
            if fast:
                if entry is None:
                    entry = self._new_nonce_set(rand, exp_block)
                entry.seen |= fresh
                added = fresh
            else:
                for i in range(n):
                    nonce = nonces[i]
                    status = status_codes[i]
                    if status:
                        errors[i] = InvalidTicketSignature(sender, nonce, status)
                        continue
                    if entry is None:
                        entry = self._new_nonce_set(rand, exp_block)
                    seen = entry.seen
                    if nonce in seen:
                        errors[i] = NonceAlreadySeen(sender, nonce)
                    elif len(seen) >= limit:
                        errors[i] = TooManyNonces(sender, nonce, limit)
                    else:
                        seen.add(nonce)
                        added.add(nonce)
                        if expired:
                            errors[i] = TicketParamsExpired(exp_block, last_seen)

        # Winners are stored durably before anything is reported or credited (DESIGN.md).
        winners = tuple(i for i, w in enumerate(won_flags) if w) if any(won_flags) else ()
        try:
            for i in winners:
                self.sink.add(batch.signed(i, rand), exp_block)
        except BaseException:
            # Nothing was credited: forget this call's nonces so that the same payment can be
            # re-sent (and credited) once storage works again, instead of 'already seen'.
            with self._nonce_lock:
                if entry is not None and self._nonces.get(rand) is entry:
                    entry.seen -= added
            raise

        first_error_index = min(errors) if errors else n
        ev = expected_value(params.face_value, params.win_prob)
        credited = ev * first_error_index
        if first_error_index:
            self.balances.credit(sender, manifest_id, credited)

        last_error = errors[max(errors)] if errors else None
        first_error = errors[first_error_index] if errors else None
        return ReceiveResults(
            nonces,
            won_flags,
            errors,
            credited_upto=first_error_index,
            session_id="0x" + params.recipient_rand_hash.hex(),
            error=last_error,
            first_error=first_error,
            ev=ev,
            credited=credited,
            winners=winners,
        )

    def receive_payment(
        self,
        payment: Payment | str | bytes,
        *,
        manifest_id: str = "",
        is_active: Callable[[bytes], bool] | None = None,
    ) -> ReceiveResults:
        """Processes one incoming Payment like go-livepeer's ProcessPayment (§5.6).

        `payment` is a decoded `pm.wire.Payment`, a `Livepeer-Payment` header value (str,
        base64) or the serialized protobuf (bytes); malformed input raises
        `Base64DecodeError` / `ProtobufDecodeError` ("base64 decode error: …", "protobuf
        unmarshal error: …", HTTP 402 in go-livepeer). Then, in Go's order and before any
        ticket check: params without a sender raise `PaymentError` "Could not find Sender for
        payment: …"; a payment without params is free and returns empty results (go-livepeer
        also fixes the session price at 0; pm keeps no per-session price); if `is_active` is
        given, an inactive recipient raises "orchestrator 0x… is inactive in round N, cannot
        process payments"; a missing expected price or pixelsPerUnit 0 raise
        `InvalidExpectedPrice`. The tickets (built with the payment's field-3 expiration
        params) then go through `receive` with the echoed seed and expected price.
        """
        if isinstance(payment, str):
            payment = decode_payment_header(payment)
        elif isinstance(payment, bytes | bytearray | memoryview):
            payment = decode_payment(payment)
        elif not isinstance(payment, Payment):
            raise InvalidType(
                f"payment must be a Payment, a header str or bytes, not {type(payment).__name__}",
                name="payment",
                value=payment,
            )
        price = check_payment(
            payment, is_active=is_active, current_round=self.chain.last_initialized_round
        )
        if price is None or payment.ticket_params is None:
            return ReceiveResults([])
        return self.receive(
            payment.to_batch(),
            payment.ticket_params.seed,
            payment.expected_price,
            manifest_id=manifest_id,
        )

    def _new_nonce_set(self, rand: int, expiration_block: int) -> _NonceSet:
        entry = _NonceSet(expiration_block)
        self._nonces[rand] = entry
        heapq.heappush(self._expiries, (expiration_block, rand))
        return entry

    # -- §8.1 balances -------------------------------------------------------------------
    def balance(self, sender: bytes, manifest_id: str = "") -> Fraction | None:
        """Credit of (sender, manifest id) in wei, or None if there is none."""
        return self.balances.balance(sender, manifest_id)

    def debit_fees(
        self, sender: bytes, manifest_id: str, price: ExpectedPrice | object, units: int
    ) -> Fraction:
        """Debits price × units (wei) from the balance and returns the fee (§8.1)."""
        fee = _expected_price(price) * check_uint("units", units)
        self.balances.debit(sender, manifest_id, fee)
        return fee

    def sufficient_balance(self, sender: bytes, manifest_id: str = "") -> bool:
        """Balance ≥ the configured ticket EV (go-livepeer SufficientBalance, §8.1)."""
        bal = self.balances.balance(sender, manifest_id)
        return bal is not None and bal >= self.config.ticket_ev

    def iter_nonce_sets(self) -> Iterator[tuple[int, int]]:
        """(expiration block, number of nonces) of each live nonce set (for monitoring)."""
        with self._nonce_lock:
            snapshot = [(e.expiration_block, len(e.seen)) for e in self._nonces.values()]
        return iter(snapshot)
