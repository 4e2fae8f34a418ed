"""End to end on the reference broker: a Sender pays a Recipient whose max float comes from the
SenderMonitor and whose winners go to a SQLite TicketStore; the RedemptionQueue redeems them
after their params expire. Also: the settlement modules use no float anywhere."""

from __future__ import annotations

import ast
import itertools
from fractions import Fraction
from pathlib import Path

import pm
from pm.broker import Bonding, BrokerChain, Rounds, TicketBroker
from pm.crypto import PrivateKeySigner
from pm.recipient import Recipient, RecipientConfig
from pm.redemption import RedemptionPolicy, RedemptionQueue, SenderMonitor
from pm.sender import Sender, SpendingPolicy
from pm.store import SQLiteTicketStore, TicketState

ORCH = bytes([0x0A]) * 20
OWNER = bytes([0x0E]) * 20


def _counter_bytes() -> object:
    counter = itertools.count(1)

    def random_bytes(n: int) -> bytes:
        return next(counter).to_bytes(n, "big")

    return random_bytes


def test_sender_recipient_store_queue_on_broker(tmp_path: Path) -> None:
    rounds = Rounds(100, block=1000)
    bonding = Bonding([ORCH])
    broker = TicketBroker(rounds, bonding, unlock_period=2, ticket_validity_period=2, owner=OWNER)
    chain = BrokerChain(broker, rounds, gas_price=10, redeem_gas=100)
    gateway = PrivateKeySigner(bytes([0x61]) * 32)
    broker.fund_deposit_and_reserve(gateway.address, 10**9, 10**9, 2 * 10**9)

    store = SQLiteTicketStore(tmp_path / "winners.db")
    monitor = SenderMonitor(chain, ORCH)
    # txCost 100 * 10 = 1000, face value 2 * txCost = 2000, EV 1000: winProb ~ 1/2
    config = RecipientConfig(redeem_gas=100, tx_cost_multiplier=2, ticket_ev=1000, avg_gas_price=10)
    recipient = Recipient(
        ORCH,
        bytes([7]) * 32,
        chain,
        config,
        max_float=monitor,
        sink=store,
        random_bytes=_counter_bytes(),  # type: ignore[arg-type]
    )
    sender = Sender(gateway, SpendingPolicy(Fraction(10**6), Fraction(10**8), 2), chain)

    params = recipient.ticket_params(gateway.address, Fraction(1))
    assert params.face_value == 2000
    assert monitor.max_float(gateway.address) == 10**9  # the whole reserve, pool of one
    session = sender.start_session(params)
    batch = sender.create_batch(session, 40)
    results = recipient.receive(batch, params.seed, params.price_per_pixel)
    winners = [r for r in results if r.won]
    assert 0 < len(winners) < 40
    assert store.counts()[TicketState.QUEUED] == len(winners)

    queue = RedemptionQueue(
        store, chain, ORCH, monitor=monitor, policy=RedemptionPolicy(redeem_gas=100)
    )
    assert queue.process().confirmed == []  # params not expired yet
    rounds.advance_blocks(params.expiration_block - rounds.block)
    report = queue.process()
    assert len(report.confirmed) == len(winners)
    assert store.counts()[TicketState.CONFIRMED] == len(winners)
    assert bonding.fees[ORCH] == 2000 * len(winners)
    assert broker.get_sender_info(gateway.address).deposit == 10**9 - 2000 * len(winners)
    assert chain.gas_spent[ORCH] == report.gas_fees == 100 * 10 * len(winners)
    # a replay of the same payment stores nothing new and redeems nothing twice
    recipient.receive(batch, params.seed, params.price_per_pixel)
    assert queue.process().receipts == []
    store.close()


def test_settlement_modules_use_no_float() -> None:
    src = Path(pm.__file__).parent
    for name in ("broker.py", "store.py", "redemption.py"):
        tree = ast.parse((src / name).read_text(), filename=name)
        floats = [
            n.lineno
            for n in ast.walk(tree)
            if (isinstance(n, ast.Constant) and isinstance(n.value, float | complex))
            or (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "float")
        ]
        assert floats == [], f"{name}: float at lines {floats}"
