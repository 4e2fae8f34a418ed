"""`pm simulate`: an end-to-end payment flow on pm's own parts, deterministic by seed.

One process plays every party of Livepeer's probabilistic micropayments:

- the chain: a reference :class:`pm.broker.TicketBroker` on :class:`pm.broker.Rounds` (rounds of
  ``round_length`` L1 blocks, each initialized round records its block hash) and
  :class:`pm.broker.Bonding` (every orchestrator in the active set), behind
  :class:`pm.broker.BrokerChain` with an Arbitrum-like gas price and redeem gas;
- a gateway: a :class:`pm.sender.Sender` funded with a deposit and a reserve, which buys live
  video from the orchestrators. Every L1 block (12 s) each stream pays for 12 s of 720p30
  video (lv2v units, spec/protocol.md §8.1) at its orchestrator's advertised price per pixel:
  it fetches fresh params (an ``OrchestratorInfo`` as protobuf bytes), sizes the payment with
  credit staging (§8.2), mints the tickets in one native call and sends them as a
  ``Livepeer-Payment`` header value (§9.3);
- orchestrators: a :class:`pm.recipient.Recipient` each, whose winners go to a durable
  :class:`pm.store.SQLiteTicketStore` in the run directory, and a
  :class:`pm.redemption.RedemptionQueue` that redeems them on the broker after their params
  expired, paying gas (§7).

With ``faults`` the run also injects forged, replayed, expired and underpriced payments and
crashes one orchestrator mid-run (it restarts a few blocks later and redeems the winners it had
stored before dying); the summary counts each kind and what happened to it.

Determinism: every key, secret, price and params seed comes from ``seed``, signatures are
RFC 6979, so the same config gives the same ``summary.json``. Wall-clock throughput lives
apart, in ``perf.json``.

Crash safety and ``resume``: the run directory holds the orchestrators' SQLite stores, the
chain (``chain.pkl``, :meth:`pm.broker.BrokerChain.save`, rewritten durably after every
transaction, like a chain that never forgets a mined transaction) and the simulation state
(``state.pkl``, rewritten at every block boundary). After a kill, :meth:`Simulation.resume`
catches the chain up to the state's block and replays the block that was interrupted: the
stores and the chain may be ahead of the state, the block's payments produce the same tickets
again (the stores ignore known winners) and the queue settles any submitted redemption from its
receipt, so no winner is lost, none is redeemed twice, and the run ends as if never killed.
Both files are pickles: only resume run directories you created, with the same pm version.

Money is ``int``/``Fraction`` wei throughout; floats appear only in timing and in the chart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import pickle
import random
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pm
from pm.accounting import (
    LV2V_PIXELS_PER_SECOND,
    Balances,
    BalanceUpdate,
    BalanceUpdateStatus,
    complete_balance_update,
    live_fee,
    min_credit,
)
from pm.broker import Bonding, BrokerChain, Rounds, TicketBroker, TxReceipt
from pm.crypto import PrivateKeySigner, keccak256, to_checksum_address
from pm.errors import (
    CouldNotGetSenderInfo,
    InsufficientSenderReserve,
    InvalidInput,
    InvalidPrivateKey,
    InvalidRecipientRand,
    InvalidTicketRecipient,
    InvalidTicketSignature,
    NonceAlreadySeen,
    PaymentError,
    PMError,
    SenderUnlockingSoon,
    TicketParamsError,
    TicketParamsExpired,
    TooManyNonces,
    WireError,
)
from pm.evm import u256
from pm.recipient import ARBITRUM_ONE, ReceiveResults, Recipient
from pm.redemption import RedemptionPolicy, RedemptionQueue, SenderMonitor
from pm.sender import Sender, SpendingPolicy
from pm.store import SQLiteTicketStore, TicketState
from pm.ticket import ExpirationParams, SignedTicket, TicketBatch, TicketParams
from pm.wire import (
    OrchestratorInfo,
    Payment,
    PriceInfo,
    WireTicketParams,
    decode_orchestrator_info,
    encode_orchestrator_info,
    encode_payment_header,
)

__all__ = [
    "CHAIN_FILE",
    "DEFAULT_OUT",
    "FAULT_KINDS",
    "MAX_TICKETS_PER_PAYMENT",
    "STATE_FILE",
    "Progress",
    "SimConfig",
    "SimError",
    "SimResult",
    "Simulation",
    "run_simulation",
]

#: Default run directory.
DEFAULT_OUT = Path("pm-sim")
#: The chain (BrokerChain.save), rewritten durably after every transaction.
CHAIN_FILE = "chain.pkl"
#: The simulation state, rewritten at every block boundary.
STATE_FILE = "state.pkl"
SUMMARY_FILE = "summary.json"
LOCK_FILE = ".lock"
PERF_FILE = "perf.json"
CHART_FILE = "chart.png"
_STORE_GLOB = "orchestrator-*.sqlite*"

#: The payment faults ``faults=True`` injects (plus one orchestrator crash/restart).
FAULT_KINDS = ("forged", "replayed", "expired", "underpriced")

_FORMAT = 1
#: At most this many chart points per orchestrator are kept in the state.
_MAX_POINTS = 800
#: A payment may need at most this many tickets (go-livepeer's remote signer allows 100 per
#: request); a smaller ticket EV against these prices is a configuration error.
MAX_TICKETS_PER_PAYMENT = 1000
_WEI_PER_ETH = 10**18
_GWEI = 10**9
#: Live video billing: 1280×720 pixels at 30 fps (go-livepeer "lv2v", spec/protocol.md §8.1).
_PIXELS_PER_SECOND = LV2V_PIXELS_PER_SECOND


class SimError(PMError):
    """The simulation cannot start or resume (bad config, no checkpoint, foreign files)."""


# -- configuration ----------------------------------------------------------------------------


def _pos_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SimError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What to simulate. Amounts in wei, durations in L1 blocks or simulated seconds.

    - tickets: stop buying work once the gateway minted this many tickets (ignored with
      ``duration``);
    - duration: simulated seconds of streaming instead (one L1 block is ``block_seconds``);
    - orchestrators, streams_per_orchestrator: the active set, and the live streams each
      orchestrator serves (each pays once per block);
    - ticket_ev: the orchestrators' ``-ticketEV``; gas_price: the chain's gas price;
      redeem_gas: gas of one redemption (Arbitrum One: 1 200 000, spec/protocol.md §5.1);
    - price_per_pixel_min/max: the range orchestrators' base prices are drawn from (wei per
      pixel; advertised with go-livepeer's auto-adjustment, §5.3);
    - deposit, reserve: the gateway's funding (0 = sized from the expected spend);
    - round_length (blocks), ticket_validity_period (rounds): RoundsManager and TicketBroker;
    - faults: inject ``fault_repeats`` payments of each of FAULT_KINDS, ``fault_tickets``
      tickets each where the kind lets the injector choose, and crash one orchestrator for
      ``crash_down_blocks`` blocks;
    - start_block: the first L1 block.

    The defaults are Arbitrum-like for gas (0.01 gwei, 1.2 M gas per redemption, face value
    100 × the redeem cost); the EV and the prices are scaled up from typical values so that a
    run of a few seconds sees dozens of winners.
    """

    tickets: int = 36_000
    duration: int | None = None
    orchestrators: int = 4
    streams_per_orchestrator: int = 3
    ticket_ev: int = 2_000 * _GWEI
    gas_price: int = 10_000_000
    redeem_gas: int = 1_200_000
    price_per_pixel_min: int = 40_000
    price_per_pixel_max: int = 60_000
    deposit: int = 0
    reserve: int = 0
    seed: int = 1
    faults: bool = False
    fault_repeats: int = 3
    fault_tickets: int = 4
    crash_down_blocks: int = 8
    round_length: int = 60
    ticket_validity_period: int = 2
    block_seconds: int = 12
    start_block: int = 24_000_000

    def __post_init__(self) -> None:
        _pos_int("tickets", self.tickets)
        if self.duration is not None:
            _pos_int("duration", self.duration)
        _pos_int("orchestrators", self.orchestrators)
        if self.orchestrators > 64:
            raise SimError(f"orchestrators must be <= 64, got {self.orchestrators}")
        _pos_int("streams_per_orchestrator", self.streams_per_orchestrator)
        _pos_int("ticket_ev", self.ticket_ev)
        _pos_int("gas_price", self.gas_price, 0)
        _pos_int("redeem_gas", self.redeem_gas)
        _pos_int("price_per_pixel_min", self.price_per_pixel_min)
        if _pos_int("price_per_pixel_max", self.price_per_pixel_max) < self.price_per_pixel_min:
            raise SimError("price_per_pixel_max must be >= price_per_pixel_min")
        _pos_int("deposit", self.deposit, 0)
        _pos_int("reserve", self.reserve, 0)
        _pos_int("seed", self.seed, 0)
        _pos_int("fault_repeats", self.fault_repeats)
        _pos_int("fault_tickets", self.fault_tickets)
        _pos_int("crash_down_blocks", self.crash_down_blocks)
        # A ticket must be redeemable after its params expire (40 blocks) and before its
        # creation round leaves the validity window: round_length * (validity - 1) > 40.
        _pos_int("ticket_validity_period", self.ticket_validity_period, 2)
        if (
            self.round_length * (self.ticket_validity_period - 1)
            <= ARBITRUM_ONE.params_expiration_blocks
        ):
            raise SimError(
                "round_length * (ticket_validity_period - 1) must exceed the 40-block params "
                f"expiry, got {self.round_length} * ({self.ticket_validity_period} - 1)"
            )
        _pos_int("block_seconds", self.block_seconds)
        _pos_int("start_block", self.start_block)
        per_payment = -(-self.price_per_pixel_max * self.units_per_payment // self.ticket_ev)
        if per_payment > MAX_TICKETS_PER_PAYMENT:
            raise SimError(
                f"ticket EV {self.ticket_ev} wei is too small for the prices: a payment would "
                f"need up to {per_payment} tickets (max {MAX_TICKETS_PER_PAYMENT}); raise the "
                "ticket EV"
            )

    @property
    def units_per_payment(self) -> int:
        """Pixels one stream pays for per block (lv2v units: 1280×720×30 per second)."""
        return _PIXELS_PER_SECOND * self.block_seconds

    @property
    def face_value(self) -> int:
        """The face value orchestrators quote while reserve allows: redeem cost × 100 (§5.2),
        or EV × 100 when that is below the EV."""
        fv = self.redeem_gas * self.gas_price * ARBITRUM_ONE.tx_cost_multiplier
        return fv if fv >= self.ticket_ev else self.ticket_ev * ARBITRUM_ONE.ev_multiplier

    def funding(self) -> tuple[int, int]:
        """(deposit, reserve) in wei: the configured amounts, or three times the expected
        spend (at least 0.1 ETH, and room for 8 face values) rounded up to 0.01 ETH."""
        spend = self.ticket_ev * (self.tickets if self.duration is None else self._est_tickets())
        auto = max(3 * spend, _WEI_PER_ETH // 10, 8 * self.face_value)
        step = _WEI_PER_ETH // 100
        auto = -(-auto // step) * step
        return (self.deposit or auto, self.reserve or max(auto // 2, 8 * self.face_value))

    def _est_tickets(self) -> int:
        blocks = -(-(self.duration or 0) // self.block_seconds)
        mid = Fraction(self.price_per_pixel_min + self.price_per_pixel_max, 2)
        per_payment = math.ceil(mid * self.units_per_payment / self.ticket_ev)
        return blocks * self.orchestrators * self.streams_per_orchestrator * per_payment

    def to_json(self) -> dict[str, object]:
        """The config as JSON-safe values (wei as decimal strings)."""
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = (
                str(v) if isinstance(v, int) and not isinstance(v, bool) and v > 2**53 else v
            )
        deposit, reserve = self.funding()
        out["deposit"] = str(deposit)
        out["reserve"] = str(reserve)
        return out


# -- progress, result ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress report: ``phase`` is "streaming" or "settling"; ``done``/``total`` count
    tickets minted (or blocks with a duration) while streaming, and winners settled while
    settling; ``block`` is the current L1 block."""

    phase: str
    done: int
    total: int
    block: int
    winners: int
    redeemed: int


@dataclass(frozen=True, slots=True)
class SimResult:
    """The outcome: ``summary`` (what summary.json holds), ``perf`` (wall-clock throughput,
    perf.json) and the run directory's files."""

    summary: dict[str, Any]
    perf: dict[str, Any]
    out_dir: Path
    summary_path: Path
    chart_path: Path | None


# -- state that survives a restart (pickled in the checkpoint) ----------------------------


@dataclass
class _FaultTally:
    payments: int = 0
    tickets: int = 0
    accepted: int = 0
    rejected: int = 0
    credited_wei: Fraction = Fraction(0)
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class _OrchState:
    index: int
    address: bytes
    base_price: Fraction
    price: Fraction = Fraction(0)
    epoch: int = 0
    up: bool = True
    payments: int = 0
    payments_missed: int = 0
    tickets_sent: int = 0
    tickets_accepted: int = 0
    ev_credited: Fraction = Fraction(0)
    work_done: int = 0
    work_refused: int = 0
    params: dict[tuple[int, int], int] = field(default_factory=dict)
    balances: dict[tuple[bytes, str], Fraction] = field(default_factory=dict)
    # (block index, cumulative EV credited, face value of winners stored, payout realized)
    series: list[tuple[int, int, int, int]] = field(default_factory=list)


@dataclass
class _Hold:
    deliver_block: int
    orch: int
    header: str
    tickets: int


@dataclass
class _Crash:
    orch: int
    block: int
    restart_block: int
    restarted: bool = False
    pending_at_restart: list[bytes] = field(default_factory=list)
    payment_lost_tickets: int = 0


@dataclass
class _State:
    config: SimConfig
    gateway_key: bytes
    forger_key: bytes
    orch_keys: list[bytes]
    rng_state: object
    block_index: int = 0
    series_stride: int = 1
    streaming_blocks: int = 0
    workload_done: bool = False
    done: bool = False
    tickets_minted: int = 0
    tickets_sent: int = 0
    tickets_accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    gateway_refused: dict[str, int] = field(default_factory=dict)
    gateway_balances: dict[tuple[bytes, str], Fraction] = field(default_factory=dict)
    orchs: list[_OrchState] = field(default_factory=list)
    plan: list[tuple[int, str, int]] = field(default_factory=list)
    faults: dict[str, _FaultTally] = field(default_factory=dict)
    holds: list[_Hold] = field(default_factory=list)
    last_header: dict[int, tuple[str, int]] = field(default_factory=dict)
    crash: _Crash | None = None
    stop_reason: str = ""
    perf_counts: dict[str, int] = field(default_factory=dict)
    perf_seconds: dict[str, float] = field(default_factory=dict)
    summary: dict[str, Any] | None = None


class _DurableChain(BrokerChain):
    """BrokerChain that calls ``after_tx`` once per new transaction (the run writes its chain
    checkpoint there, so a mined redemption is never forgotten). The hook is not pickled."""

    after_tx: Callable[[], None] | None = None

    def redeem(
        self,
        tx_id: bytes,
        caller: bytes,
        tickets: Sequence[Any],
        sigs: Sequence[bytes],
        recipient_rands: Sequence[int],
        *,
        batch: bool | None = None,
    ) -> TxReceipt:
        known = bytes(tx_id) in self.receipts
        rc = super().redeem(tx_id, caller, tickets, sigs, recipient_rands, batch=batch)
        if not known and self.after_tx is not None:
            self.after_tx()
        return rc

    def __getstate__(self) -> dict[str, Any]:
        parent = super().__getstate__()
        state = dict(parent) if isinstance(parent, dict) else dict(self.__dict__)
        state.pop("after_tx", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        parent = getattr(super(), "__setstate__", None)
        if parent is not None:
            parent(state)
        else:
            self.__dict__.update(state)


# -- deterministic keys and secrets ----------------------------------------------------------


def _derive(seed: int, label: bytes, *parts: int) -> bytes:
    return keccak256(b"pm.simulate." + label + u256(seed) + b"".join(u256(p) for p in parts))


def _derive_key(seed: int, label: bytes, index: int) -> bytes:
    for attempt in range(1000):
        key = _derive(seed, label, index, attempt)
        try:
            PrivateKeySigner(key)
        except InvalidPrivateKey:
            continue
        return key
    raise SimError("could not derive a private key")  # pragma: no cover


# -- error labels ------------------------------------------------------------------------

_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (InvalidTicketSignature, "invalid ticket signature"),
    (NonceAlreadySeen, "nonce already seen"),
    (TooManyNonces, "too many nonces"),
    (TicketParamsExpired, "ticket params expired"),
    (InvalidRecipientRand, "invalid recipientRand"),
    (InvalidTicketRecipient, "invalid ticket recipient"),
    (SenderUnlockingSoon, "sender unlocking soon"),
    (CouldNotGetSenderInfo, "could not get sender info"),
    (WireError, "malformed payment"),
    (PaymentError, "invalid payment"),
)


def _reason(err: BaseException) -> str:
    for cls, label in _REASONS:
        if isinstance(err, cls):
            return label
    return type(err).__name__


def _bump(counter: dict[str, int], key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n


# -- the live orchestrator (rebuilt after a crash or a resume) ------------------------------


class _TimedSink:
    """The store as the recipient's WinningTicketSink, timing the (fsynced) inserts so that
    the validation throughput does not count disk syncs."""

    def __init__(self, store: SQLiteTicketStore) -> None:
        self.store = store
        self.seconds = 0.0

    def add(self, signed_ticket: SignedTicket, params_expiration_block: int) -> None:
        t0 = time.perf_counter()
        try:
            self.store.add(signed_ticket, params_expiration_block)
        finally:
            self.seconds += time.perf_counter() - t0


class _Orchestrator:
    def __init__(self, sim: Simulation, st: _OrchState) -> None:
        self.st = st
        cfg = sim.config
        secret = _derive(cfg.seed, b"secret", st.index, st.epoch)
        self.store = SQLiteTicketStore(sim.out_dir / f"orchestrator-{st.index}.sqlite")
        self.sink = _TimedSink(self.store)
        self.monitor = SenderMonitor(sim.chain, st.address)
        config = dataclasses.replace(
            ARBITRUM_ONE, ticket_ev=cfg.ticket_ev, redeem_gas=cfg.redeem_gas
        )
        self.recipient = Recipient(
            st.address,
            secret,
            sim.chain,
            config,
            max_float=self.monitor,
            sink=self.sink,
            random_bytes=sim.random_bytes,  # params seeds from the run's RNG (§5.2 step 1)
        )
        for (addr, mid), amount in st.balances.items():
            self.recipient.balances.credit(addr, mid, amount)
        self.queue = RedemptionQueue(
            self.store,
            sim.chain,
            st.address,
            monitor=self.monitor,
            policy=RedemptionPolicy(
                redeem_gas=cfg.redeem_gas, ticket_validity_period=cfg.ticket_validity_period
            ),
        )

    def snapshot_balances(self) -> dict[tuple[bytes, str], Fraction]:
        out: dict[tuple[bytes, str], Fraction] = {}
        for addr, mid in self.recipient.balances.keys():  # noqa: SIM118 - not a dict
            amount = self.recipient.balances.balance(addr, mid)
            if amount is not None:
                out[(addr, mid)] = amount
        return out

    def info(self, gateway: bytes) -> bytes:
        """What GetOrchestrator returns: fresh params and the price, as protobuf bytes."""
        params = self.recipient.ticket_params(gateway, self.st.price)
        return encode_orchestrator_info(
            OrchestratorInfo(
                transcoder=f"https://orchestrator-{self.st.index}.sim.invalid:8935",
                ticket_params=WireTicketParams.from_params(params),
                price_info=PriceInfo.from_price(self.st.price),
                address=self.st.address,
            )
        )

    def close(self) -> None:
        self.store.close()


# -- the simulation ------------------------------------------------------------------------


class Simulation:
    """One run in ``out_dir``. Build with :meth:`create` (fresh) or :meth:`resume`, then
    call :meth:`run`."""

    def __init__(
        self,
        state: _State,
        chain: _DurableChain,
        out_dir: Path,
        progress: Callable[[Progress], None] | None,
    ) -> None:
        self.state = state
        self.config = state.config
        self.chain = chain
        self.out_dir = out_dir
        self.progress = progress
        self.rng = random.Random()
        self.rng.setstate(state.rng_state)  # type: ignore[arg-type]
        self.gateway = PrivateKeySigner(state.gateway_key)
        self.forger = PrivateKeySigner(state.forger_key)
        ev = Fraction(self.config.ticket_ev)
        max_ticket_ev = max(Fraction(3_000 * _GWEI), 2 * ev)
        self.sender = Sender(
            self.gateway,
            SpendingPolicy(max_ticket_ev, 100 * max_ticket_ev, 1),
            chain,
        )
        self.gateway_balances = Balances()
        for (addr, mid), amount in state.gateway_balances.items():
            self.gateway_balances.credit(addr, mid, amount)
        self.orchs: dict[int, _Orchestrator] = {}
        for o in state.orchs:
            if o.up:
                self.orchs[o.index] = _Orchestrator(self, o)
        chain.after_tx = self._save_chain
        self._won_cache: dict[int, tuple[int, int]] = {}

    def random_bytes(self, n: int) -> bytes:
        """n bytes from the run's seeded RNG (the orchestrators' params seeds)."""
        return self.rng.getrandbits(8 * n).to_bytes(n, "big")

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        config: SimConfig,
        out_dir: str | Path = DEFAULT_OUT,
        *,
        progress: Callable[[Progress], None] | None = None,
    ) -> Simulation:
        """A fresh run in ``out_dir``; earlier simulation files there are removed."""
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name in (STATE_FILE, CHAIN_FILE, SUMMARY_FILE, PERF_FILE, CHART_FILE):
                (out / name).unlink(missing_ok=True)
            for p in out.glob(_STORE_GLOB):
                p.unlink()
        except OSError as e:
            raise SimError(f"cannot use {out} as the run directory: {e}") from e
        cfg = config
        rng = random.Random(cfg.seed)
        orch_keys = [_derive_key(cfg.seed, b"orchestrator", i) for i in range(cfg.orchestrators)]
        state = _State(
            config=cfg,
            gateway_key=_derive_key(cfg.seed, b"gateway", 0),
            forger_key=_derive_key(cfg.seed, b"forger", 0),
            orch_keys=orch_keys,
            rng_state=None,
        )
        for i, key in enumerate(orch_keys):
            base = Fraction(rng.randint(cfg.price_per_pixel_min, cfg.price_per_pixel_max))
            state.orchs.append(_OrchState(i, PrivateKeySigner(key).address, base))
        state.faults = {k: _FaultTally() for k in FAULT_KINDS} if cfg.faults else {}
        state.rng_state = rng.getstate()

        rounds = Rounds(cfg.round_length, block=cfg.start_block, initialize=True)
        bonding = Bonding([o.address for o in state.orchs])
        owner = _derive(cfg.seed, b"owner")[:20]
        broker = TicketBroker(
            rounds,
            bonding,
            unlock_period=cfg.ticket_validity_period,
            ticket_validity_period=cfg.ticket_validity_period,
            owner=owner,
        )
        chain = _DurableChain(broker, rounds, gas_price=cfg.gas_price, redeem_gas=cfg.redeem_gas)
        deposit, reserve = cfg.funding()
        gateway = PrivateKeySigner(state.gateway_key).address
        broker.fund_deposit_and_reserve(gateway, deposit, reserve, deposit + reserve)
        sim = cls(state, chain, out, progress)
        for o in state.orchs:
            # go-livepeer -autoAdjustPrice: base × (1 + 1/txCostMultiplier), in 1/1000 steps
            o.price = sim.orchs[o.index].recipient.price_per_pixel(gateway, o.base_price)
        sim.state.plan = sim._fault_plan()
        sim._save_chain()
        sim._checkpoint()
        return sim

    @classmethod
    def resume(
        cls,
        out_dir: str | Path = DEFAULT_OUT,
        *,
        progress: Callable[[Progress], None] | None = None,
    ) -> Simulation:
        """Continue the run in ``out_dir`` from its checkpoint (after a crash or a kill).

        The chain file may be behind the state file (it is written at transactions only):
        the chain is then caught up block by block, initializing each round on its first
        block exactly as the run does, so every round records the block hash it had.
        """
        out = Path(out_dir)
        path = out / STATE_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SimError(f"nothing to resume: no {STATE_FILE} in {out}") from None
        try:
            saved = pickle.loads(data)  # the run directory is our own output
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError) as e:
            raise SimError(f"cannot read {path}: {e}") from e
        if not isinstance(saved, dict) or saved.get("format") != _FORMAT:
            raise SimError(f"{path} is not a pm simulate state file of format {_FORMAT}")
        if saved.get("pm_version") != pm.__version__:
            raise SimError(
                f"{path} was written by pm {saved.get('pm_version')}, this is pm {pm.__version__}"
            )
        state = saved.get("state")
        if not isinstance(state, _State):
            raise SimError(f"{path} is not a pm simulate state file")
        try:
            chain = _DurableChain.load(out / CHAIN_FILE)
        except PMError as e:
            raise SimError(f"cannot resume: {e}") from e
        if not isinstance(chain, _DurableChain):  # pragma: no cover - load checks the class
            raise SimError(f"{CHAIN_FILE} does not hold a pm simulate chain")
        rounds = chain.rounds
        target = state.config.start_block + state.block_index
        if rounds.block > target:
            raise SimError(f"{CHAIN_FILE} is ahead of {STATE_FILE}: not from the same run")
        while rounds.block < target:
            if not rounds.current_round_initialized():
                rounds.initialize_round()
            rounds.advance_blocks(1)
        return cls(state, chain, out, progress)

    # -- persistence ------------------------------------------------------------------------
    def _save_chain(self) -> None:
        """After a transaction (and at the start and the end): the chain, durably."""
        self.chain.save(self.out_dir / CHAIN_FILE)

    def _checkpoint(self) -> None:
        """At a block boundary: snapshot what live objects hold, write the state atomically.

        Not fsynced: a killed process loses nothing that reached the page cache, and the
        things that must survive a power loss (winners, transactions) are fsynced where they
        are written."""
        st = self.state
        st.rng_state = self.rng.getstate()
        st.gateway_balances = {
            k: v
            for k in self.gateway_balances.keys()  # noqa: SIM118 - not a dict
            if (v := self.gateway_balances.balance(*k)) is not None
        }
        for o in st.orchs:
            live = self.orchs.get(o.index)
            o.balances = live.snapshot_balances() if live is not None else {}
        blob = pickle.dumps(
            {"format": _FORMAT, "pm_version": pm.__version__, "state": st},
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        path = self.out_dir / STATE_FILE
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)

    # -- planning ---------------------------------------------------------------------------
    def _est_streaming_blocks(self) -> int:
        cfg = self.config
        if cfg.duration is not None:
            return -(-cfg.duration // cfg.block_seconds)
        # tickets per block on average: credit staging carries the remainder over, so a
        # stream needs fee / EV tickets per payment (fractions add up across payments)
        per_block = (
            sum(o.price * cfg.units_per_payment for o in self.state.orchs)
            * cfg.streams_per_orchestrator
            / cfg.ticket_ev
        )
        return max(1, math.ceil(cfg.tickets / per_block))

    def _fault_plan(self) -> list[tuple[int, str, int]]:
        """(block index, kind, orchestrator) of every injected fault, spread over the middle
        of the streaming phase. Orchestrator 0 is the crash victim; payment faults go to the
        others (so its restart cannot change their outcome) unless it is alone."""
        cfg = self.config
        if not cfg.faults:
            return []
        blocks = self._est_streaming_blocks()
        n = cfg.orchestrators
        targets = list(range(1, n)) or [0]
        plan: list[tuple[int, str, int]] = []
        if n > 1:
            plan.append((max(1, (blocks * 2) // 5), "crash", 0))
        slots = cfg.fault_repeats * len(FAULT_KINDS)
        for j in range(slots):
            kind = FAULT_KINDS[j % len(FAULT_KINDS)]
            at = max(1, (blocks * (j + 1)) // (slots + 2))
            plan.append((at, kind, targets[j % len(targets)]))
        plan.sort(key=lambda p: p[0])
        return plan

    # -- the run ----------------------------------------------------------------------------
    def run(self, *, chart: bool = True) -> SimResult:
        """Run (or finish) the simulation; writes summary.json, perf.json and (unless
        ``chart`` is False) chart.png."""
        st = self.state
        t0 = time.perf_counter()
        if st.summary is None:
            while not st.done:
                self._block()
            st.summary = self._summarize()
            self._save_chain()
            self._checkpoint()
        elapsed = time.perf_counter() - t0
        for orch in self.orchs.values():
            orch.close()
        self.orchs.clear()
        summary = st.summary
        assert summary is not None
        perf = self._perf(elapsed)
        summary_path = self.out_dir / SUMMARY_FILE
        summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        (self.out_dir / PERF_FILE).write_text(json.dumps(perf, indent=2, sort_keys=True) + "\n")
        chart_path = _chart(self.out_dir / CHART_FILE, st) if chart else None
        return SimResult(summary, perf, self.out_dir, summary_path, chart_path)

    def _perf(self, elapsed: float) -> dict[str, Any]:
        counts, seconds = self.state.perf_counts, self.state.perf_seconds
        out: dict[str, Any] = {"wall_s": round(elapsed, 3)}
        for what in ("mint", "validate"):
            n, s = counts.get(what, 0), seconds.get(what, 0.0)
            out[f"{what}_tickets"] = n
            out[f"{what}_seconds"] = round(s, 4)
            out[f"{what}_tickets_per_s"] = round(n / s) if s > 0 else None
        return out

    def _timed(self, what: str, n: int, seconds: float) -> None:
        st = self.state
        st.perf_counts[what] = st.perf_counts.get(what, 0) + n
        st.perf_seconds[what] = st.perf_seconds.get(what, 0.0) + seconds

    def _report(self) -> None:
        if self.progress is None:
            return
        st = self.state
        winners = redeemed = 0
        for orch in self.orchs.values():
            counts = orch.store.counts()
            winners += sum(counts.values())
            redeemed += counts[TicketState.CONFIRMED]
        if not st.workload_done:
            if self.config.duration is not None:
                total = self._est_streaming_blocks()
                done = min(st.streaming_blocks, total)
            else:
                total, done = self.config.tickets, min(st.tickets_minted, self.config.tickets)
            phase = "streaming"
        else:
            phase, total, done = "settling", winners, redeemed
        self.progress(Progress(phase, done, total, self.chain.rounds.block, winners, redeemed))

    def _block(self) -> None:
        st = self.state
        cfg = self.config
        rounds = self.chain.rounds
        if not rounds.current_round_initialized():
            rounds.initialize_round()
        block = rounds.block
        due = [p for p in st.plan if p[0] == st.block_index]
        self._restart_due()
        crash_now = {p[2] for p in due if p[1] == "crash"}
        for hold in [h for h in st.holds if h.deliver_block <= block]:
            if st.orchs[hold.orch].up:
                st.holds.remove(hold)
                self._deliver(hold.orch, hold.header, hold.tickets, "sim-expired", "expired")

        if not st.workload_done:
            self._stream_block(crash_now)
            st.streaming_blocks += 1
            if cfg.duration is not None:
                if st.streaming_blocks * cfg.block_seconds >= cfg.duration:
                    st.workload_done = True
                    st.stop_reason = "duration reached"
            elif st.tickets_minted >= cfg.tickets:
                st.workload_done = True
                st.stop_reason = "ticket target reached"
            elif st.streaming_blocks >= 10 * self._est_streaming_blocks() + 100:
                st.workload_done = True
                st.stop_reason = "gave up: the gateway could not buy enough work"

        for index in sorted(crash_now):  # the victim got no payment this block: crash anyway
            if index in self.orchs:
                self._crash(index)
        for _, kind, target in due:
            if kind != "crash":
                self._inject(kind, target)

        for orch in self.orchs.values():
            orch.queue.process()

        if st.workload_done and self._settled():
            st.done = True
        elif st.workload_done and st.block_index > st.streaming_blocks + self._drain_cap():
            st.done = True
            st.stop_reason += "; settlement cut off"
        self._sample()
        rounds.advance_blocks(1)
        st.block_index += 1
        self._checkpoint()
        self._report()

    def _sample(self) -> None:
        """Record (block index, cumulative EV, cumulative payout) per orchestrator for the
        chart: every ``series_stride`` blocks and at the end, halving the points (doubling the
        stride) whenever there are more than _MAX_POINTS, so the state stays small."""
        st = self.state
        if st.block_index % st.series_stride and not st.done:
            return
        paid = self.chain.broker.bonding
        for o in st.orchs:
            fees = paid.fees.get(o.address, 0) if isinstance(paid, Bonding) else 0
            ev = o.ev_credited.numerator // o.ev_credited.denominator
            o.series.append((st.block_index, ev, self._won_value(o), fees))
        if len(st.orchs[0].series) > _MAX_POINTS:
            st.series_stride *= 2
            for o in st.orchs:
                o.series = [p for p in o.series if p[0] % st.series_stride == 0]

    def _won_value(self, o: _OrchState) -> int:
        """Face value (wei) of the winners in the orchestrator's store (the last known value
        while it is down); recomputed only when the number of winners changed."""
        orch = self.orchs.get(o.index)
        if orch is None:
            return o.series[-1][2] if o.series else 0
        n = sum(orch.store.counts().values())
        cached = self._won_cache.get(o.index)
        if cached is None or cached[0] != n:
            cached = (n, sum(t.face_value for t in orch.store.tickets()))
            self._won_cache[o.index] = cached
        return cached[1]

    def _drain_cap(self) -> int:
        cfg = self.config
        return cfg.round_length * (cfg.ticket_validity_period + 1) + 2 * cfg.crash_down_blocks + 50

    def _settled(self) -> bool:
        st = self.state
        if st.holds or any(not o.up for o in st.orchs):
            return False
        if any(p[0] >= st.block_index for p in st.plan):
            return False
        for orch in self.orchs.values():
            counts = orch.store.counts()
            if counts[TicketState.QUEUED] or counts[TicketState.SUBMITTED]:
                return False
        return True

    # -- orchestrator lifecycle -------------------------------------------------------------
    def _crash(self, index: int) -> None:
        st = self.state
        orch = self.orchs.pop(index)
        orch.close()
        o = st.orchs[index]
        o.up = False
        o.balances = {}
        block = self.chain.rounds.block
        st.crash = _Crash(index, block, block + self.config.crash_down_blocks)

    def _restart_due(self) -> None:
        st = self.state
        c = st.crash
        if c is None or c.restarted or self.chain.rounds.block < c.restart_block:
            return
        o = st.orchs[c.orch]
        o.up = True
        o.epoch += 1  # a new process: a new HMAC secret, like go-livepeer's
        orch = _Orchestrator(self, o)
        self.orchs[c.orch] = orch
        pending = orch.store.tickets(states=(TicketState.QUEUED, TicketState.SUBMITTED))
        c.pending_at_restart = [t.ticket_hash for t in pending]
        c.restarted = True

    # -- buying work ------------------------------------------------------------------------
    def _params(self, orch: _Orchestrator) -> tuple[TicketParams, PriceInfo]:
        """GetOrchestrator over the wire: O encodes, the gateway decodes."""
        raw = orch.info(self.gateway.address)
        info = decode_orchestrator_info(raw)
        assert info.price_info is not None
        params = info.params()
        o = orch.st
        key = (params.face_value, params.win_prob)
        o.params[key] = o.params.get(key, 0) + 1
        return params, info.price_info

    def _mint(self, params: TicketParams, n: int) -> TicketBatch:
        sid = self.sender.start_session(params)
        try:
            t0 = time.perf_counter()
            batch = self.sender.create_batch(sid, n)
            self._timed("mint", n, time.perf_counter() - t0)
            return batch
        finally:
            self.sender.cleanup_session(sid)

    def _stream_block(self, crash_now: set[int]) -> None:
        st = self.state
        cfg = self.config
        refused = sum(st.gateway_refused.values())
        paid = sum(o.payments for o in st.orchs)
        for k in range(cfg.streams_per_orchestrator):
            for o in st.orchs:
                if cfg.duration is None and st.tickets_minted >= cfg.tickets:
                    return
                self._pay(o, f"stream-{o.index}-{k}", o.index in crash_now)
                crash_now.discard(o.index)
        if sum(o.payments for o in st.orchs) == paid and sum(st.gateway_refused.values()) > refused:
            st.workload_done = True  # nobody could be paid this block: out of funds
            st.stop_reason = "stopped: no payment was possible (gateway funds exhausted?)"

    def _pay(self, o: _OrchState, manifest: str, crash_after: bool) -> None:
        st = self.state
        cfg = self.config
        orch = self.orchs.get(o.index)
        if orch is None:
            o.payments_missed += 1
            return
        try:
            params, price_info = self._params(orch)
        except InsufficientSenderReserve as e:
            _bump(st.gateway_refused, _reason(e))
            return
        price = price_info.price_per_pixel
        fee = live_fee(cfg.units_per_payment, price)
        ev = params.ev
        balance = self.gateway_balances.for_key(o.address, manifest)
        update = BalanceUpdate.from_staged(balance.stage_update(min_credit(fee, ev), ev))
        header = None
        n = update.num_tickets
        if n:
            try:
                batch = self._mint(params, n)
            except TicketParamsError as e:
                _bump(st.gateway_refused, type(e).__name__)
                complete_balance_update(balance, update)
                return
            header = encode_payment_header(Payment.from_batch(batch, price_info))
            st.tickets_minted += n
            st.last_header[o.index] = (header, n)
            update.status = BalanceUpdateStatus.CREDIT_SPENT
        o.payments += 1
        if header is not None:
            self._deliver(o.index, header, n, manifest, None)
        if crash_after:
            # the orchestrator dies after storing the payment's winners, before answering
            complete_balance_update(balance, update)
            self._crash(o.index)
            assert st.crash is not None
            st.crash.payment_lost_tickets = n
            return
        have = orch.recipient.balance(self.gateway.address, manifest) or Fraction(0)
        if have >= fee:
            orch.recipient.debit_fees(self.gateway.address, manifest, price, cfg.units_per_payment)
            update.status = BalanceUpdateStatus.RECEIVED_CHANGE
            update.debit = fee
            o.work_done += 1
        else:
            # "insufficient balance": no work; the gateway writes its credit off and pays in
            # full next time (a restarted orchestrator has forgotten every balance)
            update.status = BalanceUpdateStatus.CREDIT_SPENT
            o.work_refused += 1
        complete_balance_update(balance, update)

    def _deliver(self, index: int, header: str, n: int, manifest: str, fault: str | None) -> None:
        """Send a Livepeer-Payment header to orchestrator ``index`` and tally the outcome."""
        st = self.state
        o = st.orchs[index]
        orch = self.orchs[index]
        t0 = time.perf_counter()
        stored_before = orch.sink.seconds
        try:
            results: ReceiveResults | None = orch.recipient.receive_payment(
                header, manifest_id=manifest, is_active=self.chain.is_active_transcoder
            )
            err: PMError | None = None
        except PMError as e:
            results, err = None, e
        storing = orch.sink.seconds - stored_before
        self._timed("validate", n, time.perf_counter() - t0 - storing)
        accepted = 0
        reasons: dict[str, int] = {}
        credited = Fraction(0)
        if results is None or results.fatal is not None:
            cause = err if results is None else results.fatal
            assert cause is not None
            reasons[_reason(cause)] = n
        else:
            for r in results:
                if r.error is None:
                    accepted += 1
                else:
                    _bump(reasons, _reason(r.error))
            credited = results.credited
        st.tickets_sent += n
        st.tickets_accepted += accepted
        o.tickets_sent += n
        o.tickets_accepted += accepted
        o.ev_credited += credited
        for label, count in reasons.items():
            _bump(st.rejected, label, count)
        if fault is not None:
            tally = st.faults[fault]
            tally.payments += 1
            tally.tickets += n
            tally.accepted += accepted
            tally.rejected += n - accepted
            tally.credited_wei += credited
            for label, count in reasons.items():
                _bump(tally.reasons, label, count)

    # -- faults -----------------------------------------------------------------------------
    def _inject(self, kind: str, index: int) -> None:
        st = self.state
        cfg = self.config
        orch = self.orchs.get(index)
        if orch is None:  # cannot happen with the plan's targets; keep the count honest
            return
        m = cfg.fault_tickets
        manifest = f"fault-{kind}"
        if kind == "replayed":
            last = st.last_header.get(index)
            if last is None:
                params, price_info = self._params(orch)
                batch = self._mint(params, m)
                header = encode_payment_header(Payment.from_batch(batch, price_info))
                st.tickets_minted += m  # a genuine payment to replay
                self._deliver(index, header, m, manifest, None)
                last = (header, m)
            self._deliver(index, last[0], last[1], manifest, kind)
            return
        params, price_info = self._params(orch)
        if kind == "forged":
            # someone else signs tickets that claim to come from the gateway
            exp = params.expiration_params or ExpirationParams(
                self.chain.last_initialized_round(), self.chain.last_initialized_block_hash()
            )
            template = params.ticket(self.gateway.address, 0, exp)
            nonces = array("I", range(1, m + 1))
            sigs = self.forger.sign_tickets(template, nonces)
            batch = TicketBatch(params, self.gateway.address, exp, nonces, sigs)
            header = encode_payment_header(Payment.from_batch(batch, price_info))
            self._deliver(index, header, m, manifest, kind)
        elif kind == "underpriced":
            # honest tickets, but the payment claims a price 10% below the quoted one
            batch = self._mint(params, m)
            low = PriceInfo.from_price(params.price_per_pixel * Fraction(9, 10))
            header = encode_payment_header(Payment.from_batch(batch, low))
            self._deliver(index, header, m, manifest, kind)
        elif kind == "expired":
            # honest tickets, delivered only once their params have expired
            batch = self._mint(params, m)
            header = encode_payment_header(Payment.from_batch(batch, price_info))
            st.holds.append(_Hold(params.expiration_block, index, header, m))
        else:  # pragma: no cover - the plan only holds FAULT_KINDS
            raise InvalidInput(f"unknown fault {kind!r}", name="kind", value=kind)

    # -- summary ----------------------------------------------------------------------------
    def _summarize(self) -> dict[str, Any]:
        st = self.state
        cfg = self.config
        chain = self.chain
        broker = chain.broker
        bonding = broker.bonding
        assert isinstance(bonding, Bonding)
        gateway = self.gateway.address
        deposit, reserve = cfg.funding()
        funded = deposit + reserve
        orchs: list[dict[str, Any]] = []
        totals = dict.fromkeys(TicketState, 0)
        winners_by_orch: dict[int, set[bytes]] = {}
        for o in st.orchs:
            orch = self.orchs.get(o.index)
            if orch is None:  # pragma: no cover - every orchestrator is up at the end
                orch = _Orchestrator(self, o)
                self.orchs[o.index] = orch
            counts = orch.store.counts()
            for state, count in counts.items():
                totals[state] += count
            winners_by_orch[o.index] = {t.ticket_hash for t in orch.store.tickets()}
            paid = bonding.fees.get(o.address, 0)
            gas = chain.gas_spent.get(o.address, 0)
            (fv, wp), _ = max(o.params.items(), key=lambda kv: kv[1]) if o.params else ((0, 0), 0)
            orchs.append(
                {
                    "index": o.index,
                    "address": to_checksum_address(o.address),
                    "price_per_pixel": _rat(o.price),
                    "payments": o.payments,
                    "payments_missed": o.payments_missed,
                    "work_done": o.work_done,
                    "work_refused": o.work_refused,
                    "tickets_sent": o.tickets_sent,
                    "tickets_accepted": o.tickets_accepted,
                    "face_value_wei": str(fv),
                    "win_prob": str(wp),
                    "params_variants": len(o.params),
                    "expected_wei": str(o.ev_credited.numerator // o.ev_credited.denominator),
                    "winners": sum(counts.values()),
                    "redeemed": counts[TicketState.CONFIRMED],
                    "expired": counts[TicketState.EXPIRED],
                    "failed": counts[TicketState.FAILED],
                    "pending": counts[TicketState.QUEUED] + counts[TicketState.SUBMITTED],
                    "realized_wei": str(paid),
                    "gas_wei": str(gas),
                    "net_wei": str(paid - gas),
                }
            )
        paid_out = bonding.fees_credited
        gas_total = sum(chain.gas_spent.values())
        info = broker.get_sender_info(gateway)
        left = info.deposit + info.funds_remaining
        faults: dict[str, Any] = {"enabled": cfg.faults}
        for kind, t in st.faults.items():
            faults[kind] = {
                "payments": t.payments,
                "tickets": t.tickets,
                "accepted": t.accepted,
                "rejected": t.rejected,
                "credited_wei": _rat(t.credited_wei),
                "reasons": dict(sorted(t.reasons.items())),
            }
        if st.crash is not None:
            c = st.crash
            store_states = {}
            orch = self.orchs[c.orch]
            for h in c.pending_at_restart:
                row = orch.store.get(h)
                store_states[h] = row.state if row is not None else None
            faults["crash"] = {
                "orchestrator": c.orch,
                "crashed_at_block": c.block,
                "restarted_at_block": c.restart_block,
                "payments_missed": st.orchs[c.orch].payments_missed,
                "tickets_in_unanswered_payment": c.payment_lost_tickets,
                "winners_pending_at_restart": len(c.pending_at_restart),
                "winners_recovered_and_redeemed": sum(
                    1 for s in store_states.values() if s is TicketState.CONFIRMED
                ),
            }
        return {
            "pm_version": pm.__version__,
            "config": cfg.to_json(),
            "stop_reason": st.stop_reason,
            "blocks": {
                "first": cfg.start_block,
                "last": chain.rounds.block,
                "streaming": st.streaming_blocks,
                "total": st.block_index,
                "rounds": chain.rounds.current_round() - cfg.start_block // cfg.round_length + 1,
                "simulated_seconds": st.block_index * cfg.block_seconds,
            },
            "tickets": {
                "minted": st.tickets_minted,
                "sent": st.tickets_sent,
                "accepted": st.tickets_accepted,
                "rejected": st.tickets_sent - st.tickets_accepted,
                "rejected_by_reason": dict(sorted(st.rejected.items())),
                "winners": sum(totals.values()),
                "win_prob_expected_per_ticket": _rat(Fraction(cfg.ticket_ev, cfg.face_value)),
            },
            "settlement": {
                "redeemed": totals[TicketState.CONFIRMED],
                "expired": totals[TicketState.EXPIRED],
                "failed": totals[TicketState.FAILED],
                "pending": totals[TicketState.QUEUED] + totals[TicketState.SUBMITTED],
                "transactions": len(chain.receipts),
                "reverted_transactions": sum(1 for r in chain.receipts.values() if not r.status),
                "used_tickets": sum(
                    1 for hs in winners_by_orch.values() for h in hs if broker.used_tickets(h)
                ),
            },
            "gateway": {
                "address": to_checksum_address(gateway),
                "funded_deposit_wei": str(deposit),
                "funded_reserve_wei": str(reserve),
                "deposit_left_wei": str(info.deposit),
                "reserve_left_wei": str(info.funds_remaining),
                "refused_payments": dict(sorted(st.gateway_refused.items())),
            },
            "orchestrators": orchs,
            "conservation": {
                "funded_wei": str(funded),
                "paid_out_wei": str(paid_out),
                "paid_out_net_of_gas_wei": str(paid_out - gas_total),
                "gas_wei": str(gas_total),
                "left_in_broker_wei": str(left),
                "holds": funded == (paid_out - gas_total) + gas_total + left,
            },
            "faults": faults,
            "files": {"summary": SUMMARY_FILE, "chart": CHART_FILE, "perf": PERF_FILE},
        }


def _rat(x: Fraction) -> str:
    """An exact rational as "n" or "n/d"."""
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


# -- the chart ---------------------------------------------------------------------------


def _chart(path: Path, st: _State) -> Path | None:
    """Two panels over simulated minutes, in ETH. Top: per orchestrator, cumulative expected
    value of the tickets it accepted (dashed) vs the payout it realized on chain (solid).
    Bottom: all orchestrators: expected with the ±2σ band of Binomial(n, p) winners, the face
    value won (when winners are stored) and the payout realized, which lags because a winner
    is redeemed only after its params expired (40 blocks, 8 minutes). Returns None when
    matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency of pm
        return None
    cfg = st.config
    # plotting only: wei -> ETH and blocks -> minutes as floats at the very edge
    eth = float(_WEI_PER_ETH)
    minutes = cfg.block_seconds / 60
    fig, (ax, total) = plt.subplots(
        2, 1, figsize=(9, 7.5), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for o in st.orchs:
        color = colors[o.index % len(colors)]
        xs = [b * minutes for b, _, _, _ in o.series]
        label = f"O{o.index} {to_checksum_address(o.address)[:8]}…"
        ax.plot(
            xs, [e / eth for _, e, _, _ in o.series], linestyle="--", color=color, linewidth=1.2,
            label=f"{label} expected",
        )  # fmt: skip
        ax.step(
            xs, [p / eth for _, _, _, p in o.series], where="post", color=color, linewidth=1.8,
            label=f"{label} realized",
        )  # fmt: skip
    points = st.orchs[0].series
    xs = [b * minutes for b, _, _, _ in points]
    ev_total = [sum(o.series[i][1] for o in st.orchs) for i in range(len(points))]
    won_total = [sum(o.series[i][2] for o in st.orchs) for i in range(len(points))]
    paid_total = [sum(o.series[i][3] for o in st.orchs) for i in range(len(points))]
    # Var(payout) = fv² n p (1-p) and EV = n p fv, so σ = sqrt(fv · EV · (1-p))
    fv = cfg.face_value
    q = 1 - cfg.ticket_ev / fv
    sigma = [math.sqrt(fv * e * q) / eth for e in ev_total]
    mean = [e / eth for e in ev_total]
    total.fill_between(
        xs, [m - 2 * sd for m, sd in zip(mean, sigma, strict=True)],
        [m + 2 * sd for m, sd in zip(mean, sigma, strict=True)], color="tab:blue", alpha=0.15,
        label="expected ± 2σ (binomial winners)",
    )  # fmt: skip
    total.plot(xs, mean, linestyle="--", color="tab:blue", linewidth=1.2, label="expected")
    total.step(
        xs, [w / eth for w in won_total], where="post", color="tab:orange", linewidth=1.4,
        label="won (winners stored)",
    )  # fmt: skip
    total.step(
        xs, [p / eth for p in paid_total], where="post", color="black", linewidth=1.8,
        label="realized (redeemed on chain)",
    )  # fmt: skip
    if st.crash is not None:
        c = st.crash
        start, end = ((b - cfg.start_block) * minutes for b in (c.block, c.restart_block))
        total.axvspan(start, end, color="grey", alpha=0.15)
        ax.axvspan(start, end, color="grey", alpha=0.15, label=f"O{c.orch} down (crash)")
    ax.set_title(f"pm simulate (seed {cfg.seed}): cumulative expected value vs realized payout")
    ax.set_ylabel("ETH per orchestrator")
    total.set_ylabel("ETH, all orchestrators")
    total.set_xlabel("simulated minutes (realized lags: redemption waits for params expiry)")
    for axis in (ax, total):
        axis.grid(True, alpha=0.3)
        axis.set_ylim(bottom=0)
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    total.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


# -- entry point ---------------------------------------------------------------------------


def run_simulation(
    config: SimConfig | None = None,
    out_dir: str | Path = DEFAULT_OUT,
    *,
    resume: bool = False,
    progress: Callable[[Progress], None] | None = None,
    chart: bool = True,
) -> SimResult:
    """Run a simulation in ``out_dir`` (fresh, or continuing the checkpoint with ``resume``);
    ``chart=False`` skips rendering chart.png. Holds an exclusive lock on the run directory
    (released by the kernel if the process dies), so two runs never share one."""
    with _run_lock(Path(out_dir), create=not resume):
        if resume:
            sim = Simulation.resume(out_dir, progress=progress)
        else:
            sim = Simulation.create(config or SimConfig(), out_dir, progress=progress)
        return sim.run(chart=chart)


@contextlib.contextmanager
def _run_lock(out: Path, *, create: bool) -> Iterator[None]:
    """flock(2) on ``out/.lock``; a no-op where fcntl does not exist."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        if create:
            out.mkdir(parents=True, exist_ok=True)
        elif not out.is_dir():
            raise SimError(f"nothing to resume: {out} is not a directory")
        fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise SimError(f"cannot use {out} as the run directory: {e}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SimError(f"{out} is in use by another pm simulate") from None
        yield
    finally:
        os.close(fd)
