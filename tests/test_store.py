"""TicketStore: MemoryTicketStore and SQLiteTicketStore behave the same (state machine,
idempotent inserts keyed by ticket hash, atomic multi-ticket transitions, history), and the
SQLite store is durable across reopen, versioned and safe under threads and processes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pm.chain import WinningTicketSink
from pm.crypto import PrivateKeySigner, keccak256
from pm.errors import InvalidInput, InvalidTransition, InvalidType, StoreError
from pm.evm import UINT256_MAX, u256
from pm.store import (
    MemoryTicketStore,
    SQLiteTicketStore,
    StoredTicket,
    TicketState,
    TicketStore,
)
from pm.ticket import SignedTicket, Ticket

SIGNER = PrivateKeySigner(bytes([0x21]) * 32)
RECIPIENT = bytes([0xAA]) * 20
Q, S, C, F, E = (
    TicketState.QUEUED,
    TicketState.SUBMITTED,
    TicketState.CONFIRMED,
    TicketState.FAILED,
    TicketState.EXPIRED,
)


def signed(
    nonce: int, *, signer: PrivateKeySigner = SIGNER, face_value: int = 10**15
) -> SignedTicket:
    rand = 1000 + nonce
    t = Ticket(
        RECIPIENT,
        signer.address,
        face_value,
        UINT256_MAX,
        nonce,
        keccak256(u256(rand)),
        7,
        keccak256(b"round 7"),
    )
    return SignedTicket(t, signer.sign(t.hash()), rand)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    s: TicketStore = (
        MemoryTicketStore() if request.param == "memory" else SQLiteTicketStore(tmp_path / "t.db")
    )
    yield s
    s.close()


def test_protocols(store: TicketStore) -> None:
    assert isinstance(store, TicketStore)
    assert isinstance(store, WinningTicketSink)


def test_insert_is_idempotent_by_hash(store: TicketStore) -> None:
    a = signed(1)
    assert store.insert(a, 100)
    assert not store.insert(a, 999)  # same ticket: ignored, first expiration kept
    store.add(a, 5)
    # same ticket hash with another encoding of the signature: still one ticket
    other_sig = SignedTicket(a.ticket, a.sig[:64] + bytes([a.sig[64] ^ 1]), a.recipient_rand)
    assert not store.insert(other_sig, 1)
    rows = store.tickets()
    assert len(rows) == 1
    row = rows[0]
    assert row.ticket_hash == a.ticket.hash()
    assert row.signed == a
    assert row.params_expiration_block == 100
    assert row.state is Q and row.attempts == 0 and row.tx_id is None
    assert store.counts() == {Q: 1, S: 0, C: 0, F: 0, E: 0}


def test_round_trip_every_field(store: TicketStore) -> None:
    t = Ticket(
        RECIPIENT,
        SIGNER.address,
        UINT256_MAX,
        1,
        2**32 - 1,
        bytes(range(32)),
        2**63 - 1,
        b"\xff" * 32,
    )
    st_ = SignedTicket(t, SIGNER.sign(t.hash()), UINT256_MAX)
    store.add(st_, 2**63 - 1)
    got = store.get(t.hash())
    assert got is not None and got.signed == st_ and got.params_expiration_block == 2**63 - 1
    assert store.get(bytes(32)) is None


def test_state_machine(store: TicketStore) -> None:
    a, b = signed(1), signed(2)
    store.add(a, 1)
    store.add(b, 1)
    ha, hb = a.ticket.hash(), b.ticket.hash()
    tx = keccak256(b"tx1")
    store.transition([ha, hb], S, tx_id=tx)
    ra = store.get(ha)
    assert ra is not None and ra.state is S and ra.tx_id == tx and ra.attempts == 1
    store.transition([ha], C, tx_id=tx)
    store.transition([hb], Q, error="retry me")
    rb = store.get(hb)
    assert rb is not None and rb.state is Q and rb.error == "retry me" and rb.attempts == 1
    store.transition([hb], S, tx_id=keccak256(b"tx2"))
    rb = store.get(hb)
    assert rb is not None and rb.attempts == 2
    store.transition([hb], F, error="transaction failed")
    # terminal states are final
    for target in TicketState:
        with pytest.raises(InvalidTransition) as exc:
            store.transition([ha], target)
        assert exc.value.current == "confirmed" and exc.value.target == target.value
    with pytest.raises(InvalidTransition):
        store.transition([bytes(32)], S)  # unknown ticket
    assert [(x.from_state, x.to_state) for x in store.history(ha)] == [(None, Q), (Q, S), (S, C)]
    assert [x.to_state for x in store.history(hb)] == [Q, S, Q, S, F]


def test_queued_cannot_jump_to_confirmed(store: TicketStore) -> None:
    a = signed(1)
    store.add(a, 1)
    with pytest.raises(InvalidTransition):
        store.transition([a.ticket.hash()], C)
    store.transition([a.ticket.hash()], E, error="ticket is expired")
    assert store.counts()[E] == 1


def test_multi_ticket_transition_is_all_or_nothing(store: TicketStore) -> None:
    a, b = signed(1), signed(2)
    store.add(a, 1)
    store.add(b, 1)
    store.transition([b.ticket.hash()], F)
    with pytest.raises(InvalidTransition):
        store.transition([a.ticket.hash(), b.ticket.hash()], S, tx_id=keccak256(b"x"))
    ra = store.get(a.ticket.hash())
    assert ra is not None and ra.state is Q and ra.attempts == 0
    assert len(store.history(a.ticket.hash())) == 1
    with pytest.raises(InvalidInput):
        store.transition([a.ticket.hash(), a.ticket.hash()], S)


def test_queries_order_and_filters(store: TicketStore) -> None:
    other = PrivateKeySigner(bytes([0x22]) * 32)
    order = [signed(3), signed(1, signer=other), signed(2), signed(5, signer=other)]
    for x in order:
        store.add(x, 1)
    assert [r.signed for r in store.tickets()] == order  # arrival order, not nonce order
    assert [r.signed for r in store.tickets(sender=other.address)] == [order[1], order[3]]
    assert store.senders() == [SIGNER.address, other.address]
    store.transition([order[0].ticket.hash()], S, tx_id=keccak256(b"t"))
    assert [r.signed for r in store.tickets(states=[Q])] == order[1:]
    assert store.tickets(states=[]) == []
    assert store.senders(states=[S]) == [SIGNER.address]
    seqs = [r.seq for r in store.tickets()]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4


def test_bad_input(store: TicketStore) -> None:
    with pytest.raises(InvalidType):
        store.add(signed(1).ticket, 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        store.add(signed(1), -1)
    with pytest.raises(InvalidType):
        store.transition([signed(1).ticket.hash()], "queued")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        store.get(b"short")
    assert store.tickets() == []


def test_transition_arguments_are_checked_alike_by_both_stores(store: TicketStore) -> None:
    h = signed(1).ticket.hash()
    missing = signed(2).ticket.hash()
    store.add(signed(1), 1)
    # argument errors come before any state is read: a duplicate is reported even for an
    # unknown ticket, and a non-str error is refused
    with pytest.raises(InvalidInput, match="duplicate"):
        store.transition([missing, missing], TicketState.SUBMITTED)
    with pytest.raises(InvalidType):
        store.transition([h], TicketState.SUBMITTED, error=3)  # type: ignore[arg-type]
    assert store.get(h) is not None and store.get(h).state is TicketState.QUEUED  # type: ignore[union-attr]
    assert [t.to_state for t in store.history(h)] == [TicketState.QUEUED]  # only the insert


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(list(TicketState))), max_size=25)
)
def test_memory_and_sqlite_agree(tmp_path: Path, steps: list[tuple[int, TicketState]]) -> None:
    """Random transition sequences give the same outcome (accepted or refused, final states,
    attempts) on both stores."""
    mem = MemoryTicketStore()
    db = SQLiteTicketStore(
        tmp_path / f"agree-{len(list(tmp_path.iterdir()))}.db", synchronous="OFF"
    )
    try:
        tickets = [signed(i) for i in range(4)]
        for s_ in (mem, db):
            for t in tickets:
                s_.add(t, 1)
        for i, target in steps:
            h = tickets[i].ticket.hash()
            outcomes = []
            for s_ in (mem, db):
                try:
                    s_.transition([h], target, tx_id=keccak256(bytes([i])))
                    outcomes.append(True)
                except InvalidTransition:
                    outcomes.append(False)
            assert outcomes[0] == outcomes[1]

        def summary(s_: TicketStore) -> list[tuple[TicketState, int, bytes | None]]:
            return [(r.state, r.attempts, r.tx_id) for r in s_.tickets()]

        assert summary(mem) == summary(db)
        assert mem.counts() == db.counts()
    finally:
        db.close()


# -- SQLite specifics ------------------------------------------------------------------


def test_sqlite_durable_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    s1 = SQLiteTicketStore(path)
    a = signed(1)
    s1.add(a, 42)
    s1.transition([a.ticket.hash()], S, tx_id=keccak256(b"tx"))
    s1.close()
    s2 = SQLiteTicketStore(path)
    row = s2.get(a.ticket.hash())
    assert isinstance(row, StoredTicket)
    assert row.state is S and row.tx_id == keccak256(b"tx") and row.signed == a
    assert [x.to_state for x in s2.history(a.ticket.hash())] == [Q, S]
    s2.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    con.close()


def test_sqlite_rejects_other_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    SQLiteTicketStore(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE schema_version SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version"):
        SQLiteTicketStore(path)


def test_sqlite_bad_path_is_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SQLiteTicketStore(tmp_path / "missing-dir" / "x.db")


def test_sqlite_threads_insert_each_ticket_once(tmp_path: Path) -> None:
    store = SQLiteTicketStore(tmp_path / "th.db", synchronous="OFF")
    tickets = [signed(i) for i in range(40)]
    new_counts: list[int] = []

    def worker() -> None:
        new_counts.append(sum(store.insert(t, 1) for t in tickets))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(new_counts) == 40
    assert store.counts()[Q] == 40
    store.close()


def test_sqlite_two_connections_same_file(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    a, b = SQLiteTicketStore(path), SQLiteTicketStore(path)
    t = signed(1)
    assert a.insert(t, 1)
    assert not b.insert(t, 1)
    b.transition([t.ticket.hash()], S, tx_id=keccak256(b"z"))
    with pytest.raises(InvalidTransition):
        a.transition([t.ticket.hash()], S, tx_id=keccak256(b"z"))
    a.close()
    b.close()
