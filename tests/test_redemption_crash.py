"""Crash safety of the redemption queue: SIGKILL at random points, restart, and at the end every
winning ticket was redeemed exactly once and none was lost.

The queue runs in a forked child process on a SQLite ticket store; the reference broker lives in
this (parent) process behind the queue's ``RedemptionChain`` protocol, reached over a pipe, so it
survives every kill. Each child life is killed by one of:

- ``rpc-before``: the parent kills the child when its k-th chain call arrives, before the call
  runs (for a redemption: the ticket is ``submitted`` but the transaction never reached the chain);
- ``rpc-after``: the parent runs the k-th call, then kills the child before it sees the answer
  (for a redemption: the transaction is mined, the child never learns it);
- ``sql``: the child kills itself just before its k-th SQLite statement (inside a transaction,
  before or at COMMIT) — a crash in the middle of a state change.

Each life randomly submits singly or in batches of 3. The parent restarts the child until the
queue reports that every ticket reached a final state, with at least 50 kills.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from pm.broker import Bonding, BrokerChain, Rounds, TicketBroker, TxReceipt
from pm.chain import SenderInfo
from pm.crypto import PrivateKeySigner, keccak256
from pm.errors import PMError
from pm.evm import UINT256_MAX, u256
from pm.redemption import RedemptionPolicy, RedemptionQueue
from pm.store import SQLiteTicketStore, TicketState
from pm.ticket import SignedTicket, Ticket

SENDER_KEY = PrivateKeySigner(bytes([0x51]) * 32)
SENDER = SENDER_KEY.address
REDEEMER = bytes([0xAE]) * 20
OWNER = bytes([0x0E]) * 20
N_TICKETS = 60
MIN_KILLS = 50


class RemoteChain:
    """The child's view of the parent's BrokerChain: every call goes over the pipe."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.conn.send(("call", name, args, kwargs))
        status, value = self.conn.recv()
        if status == "err":
            raise PMError(value)
        return value

    def sender_info(self, sender: bytes) -> SenderInfo:
        return self._call("sender_info", sender)  # type: ignore[no-any-return]

    def transcoder_pool_size(self) -> int:
        return self._call("transcoder_pool_size")  # type: ignore[no-any-return]

    def claimed_reserve(self, reserve_holder: bytes, claimant: bytes) -> int:
        return self._call("claimed_reserve", reserve_holder, claimant)  # type: ignore[no-any-return]

    def last_initialized_round(self) -> int:
        return self._call("last_initialized_round")  # type: ignore[no-any-return]

    def last_seen_l1_block(self) -> int:
        return self._call("last_seen_l1_block")  # type: ignore[no-any-return]

    def current_round(self) -> int:
        return self._call("current_round")  # type: ignore[no-any-return]

    def gas_price(self) -> int | None:
        return self._call("gas_price")  # type: ignore[no-any-return]

    def is_active_transcoder(self, addr: bytes) -> bool:
        return self._call("is_active_transcoder", addr)  # type: ignore[no-any-return]

    def used_tickets(self, ticket_hash: bytes) -> bool:
        return self._call("used_tickets", ticket_hash)  # type: ignore[no-any-return]

    def receipt(self, tx_id: bytes) -> TxReceipt | None:
        return self._call("receipt", tx_id)  # type: ignore[no-any-return]

    def redeem(
        self,
        tx_id: bytes,
        caller: bytes,
        tickets: Sequence[Ticket],
        sigs: Sequence[bytes],
        recipient_rands: Sequence[int],
        *,
        batch: bool | None = None,
    ) -> TxReceipt:
        return self._call(  # type: ignore[no-any-return]
            "redeem", tx_id, caller, list(tickets), list(sigs), list(recipient_rands), batch=batch
        )


class _KillingConnection:
    """Wraps the store's sqlite3 connection: SIGKILL this process before statement k."""

    def __init__(self, db: Any, k: int) -> None:
        self._db = db
        self._left = k

    def execute(self, sql: str, *args: Any) -> Any:
        self._left -= 1
        if self._left <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return self._db.execute(sql, *args)

    def close(self) -> None:
        self._db.close()


def _child(conn: Connection, db_path: str, sql_kill_at: int, batch_size: int) -> None:
    """One life of the redeemer: process the queue on every block until all is final."""
    chain = RemoteChain(conn)
    store = SQLiteTicketStore(db_path, synchronous="NORMAL")
    if sql_kill_at:
        store._db = _KillingConnection(store._db, sql_kill_at)  # type: ignore[assignment]
    queue = RedemptionQueue(
        store, chain, REDEEMER, policy=RedemptionPolicy(redeem_gas=100, batch_size=batch_size)
    )
    while True:
        queue.process()
        if not store.tickets(states=(TicketState.QUEUED, TicketState.SUBMITTED)):
            conn.send(("done", None))
            return
        chain._call("advance")


def _winner(rounds: Rounds, nonce: int) -> SignedTicket:
    rnd = rounds.current_round()
    rand = 10_000 + nonce
    t = Ticket(
        REDEEMER,
        SENDER,
        1000 + nonce,
        UINT256_MAX,
        nonce,
        keccak256(u256(rand)),
        rnd,
        rounds.block_hash_for_round(rnd),
    )
    return SignedTicket(t, SENDER_KEY.sign(t.hash()), rand)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs os.fork (POSIX)"
)
@pytest.mark.parametrize("seed", [20261127, 1, 2])
def test_sigkill_at_random_points_loses_and_doubles_nothing(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    rounds = Rounds(10_000, block=50_000)
    bonding = Bonding([REDEEMER])
    broker = TicketBroker(rounds, bonding, unlock_period=2, ticket_validity_period=2, owner=OWNER)
    chain = BrokerChain(broker, rounds, gas_price=1, redeem_gas=100)
    broker.fund_deposit_and_reserve(SENDER, 10**9, 10**9, 2 * 10**9)

    db_path = str(tmp_path / "queue.db")
    winners: list[SignedTicket] = []
    kills = {"rpc-before": 0, "rpc-after": 0, "sql": 0}

    def more_to_come() -> bool:
        return len(winners) < N_TICKETS or sum(kills.values()) < MIN_KILLS

    def new_winner() -> None:
        """A winner arrives (the recipient's store.add, from this process, while the child
        may be writing to the same file); its params expire within 10 blocks."""
        w = _winner(rounds, len(winners))
        winners.append(w)
        s = SQLiteTicketStore(db_path, synchronous="NORMAL")
        s.add(w, rounds.block + rng.randrange(0, 10))
        s.close()

    for _ in range(10):
        new_winner()

    ctx = multiprocessing.get_context("fork")
    done = False
    lives = 0
    while not done:
        lives += 1
        assert lives < 2000, "the queue makes no progress"
        # keep killing until MIN_KILLS, then let a life run to completion now and then
        mode = rng.choice(["rpc-before", "rpc-after", "sql"])
        if sum(kills.values()) >= MIN_KILLS and rng.random() < 0.3:
            mode = "none"
        k = rng.randrange(1, 40)
        parent_conn, child_conn = ctx.Pipe()
        proc = ctx.Process(
            target=_child,
            args=(child_conn, db_path, k if mode == "sql" else 0, rng.choice([1, 3])),
        )
        proc.start()
        child_conn.close()
        calls = 0
        killed = False
        while True:
            # a generous bound so a hung child fails the test instead of hanging CI
            if not parent_conn.poll(120):
                os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
                proc.join()
                raise AssertionError("the redeemer child stopped talking for 120 s")
            try:
                msg = parent_conn.recv()
            except EOFError:  # the child died (sql mode)
                break
            if msg[0] == "done":
                if more_to_come():
                    new_winner()
                else:
                    done = True
                break
            _, name, args, kwargs = msg
            calls += 1
            if mode == "rpc-before" and calls == k:
                os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
                killed = True
                break
            try:
                if name == "advance":
                    rounds.advance_blocks(1)
                    if more_to_come() and rng.random() < 0.5:
                        new_winner()
                    value: Any = None
                else:
                    value = getattr(chain, name)(*args, **kwargs)
                reply: tuple[str, Any] = ("ok", value)
            except PMError as e:
                reply = ("err", str(e))
            if mode == "rpc-after" and calls == k:
                os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
                killed = True
                break
            parent_conn.send(reply)
        proc.join()
        parent_conn.close()
        if mode == "sql" and proc.exitcode == -signal.SIGKILL:
            killed = True
        if killed:
            kills[mode] += 1
        else:
            assert proc.exitcode == 0, f"child failed with exit code {proc.exitcode}"

    assert sum(kills.values()) >= MIN_KILLS, kills
    assert all(n > 0 for n in kills.values()), kills

    # every winning ticket redeemed exactly once, none lost
    store = SQLiteTicketStore(db_path)
    rows = store.tickets()
    assert len(rows) == len(winners) >= N_TICKETS
    assert {r.state for r in rows} == {TicketState.CONFIRMED}
    hashes = {w.ticket.hash() for w in winners}
    redeemed_events = [e for e in broker.events if e.name == "WinningTicketRedeemed"]
    assert len(redeemed_events) == len(winners)
    assert all(broker.used_tickets(h) for h in hashes)
    per_ticket = {h: 0 for h in hashes}
    for rc in chain.receipts.values():
        for h in rc.redeemed:
            per_ticket[h] += 1
    assert set(per_ticket.values()) == {1}
    # each ticket's history ends with exactly one confirmation, by the transaction that redeemed it
    for r in rows:
        confirmations = [
            x for x in store.history(r.ticket_hash) if x.to_state is TicketState.CONFIRMED
        ]
        assert len(confirmations) == 1
        assert r.tx_id is not None and r.ticket_hash in chain.receipts[r.tx_id].redeemed
    # nothing was ever refused or retried for a reason other than a crash
    assert all(x.error == "" for r in rows for x in store.history(r.ticket_hash))
    store.close()
    # the money: every face value paid in full, and ETH conserved
    assert bonding.fees[REDEEMER] == sum(w.ticket.face_value for w in winners)
    assert broker.minter.balance == broker.total_held + bonding.fees_held  # type: ignore[attr-defined]
