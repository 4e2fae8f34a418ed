"""Durable storage of winning tickets and of their redemption state (spec/protocol.md §7.2).

A winning ticket is worth its face value in wei, so it must survive a crash from the moment the
recipient reports it won until it is redeemed on chain. :class:`TicketStore` is the Protocol the
recipient (as its ``WinningTicketSink``) and the :class:`pm.redemption.RedemptionQueue` share:

- ``add`` stores a winner durably before it returns, keyed by the ticket hash (the contract's
  ``usedTickets`` key), so a ticket is stored, and therefore redeemed, at most once;
- every state change of the queue's state machine is one transaction::

      queued -> submitted -> confirmed
         |         |  \\---> failed | expired
         |         \\-----> queued   (retryable failure, or the transaction never reached the chain)
         \\--> failed | expired

- each change is also appended to a history, so what happened to a ticket can be audited.

:class:`MemoryTicketStore` keeps everything in memory (tests, simulations);
:class:`SQLiteTicketStore` uses the standard library's ``sqlite3`` in WAL mode with a schema
version table. go-livepeer keys its ``ticketQueue`` table by signature; pm keys by ticket hash,
which also covers a second encoding of the same signature (spec/ticketbroker.md §1).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pm.errors import InvalidInput, InvalidTransition, InvalidType, StoreError
from pm.evm import check_address, check_bytes32, check_uint
from pm.ticket import SignedTicket, Ticket

__all__ = [
    "SCHEMA_VERSION",
    "MemoryTicketStore",
    "SQLiteTicketStore",
    "StoredTicket",
    "TicketState",
    "TicketStore",
    "Transition",
]

SCHEMA_VERSION = 1


class TicketState(StrEnum):
    """Where a winning ticket is in its redemption."""

    QUEUED = "queued"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        """True for confirmed, failed and expired: nothing happens to the ticket any more."""
        return self in (TicketState.CONFIRMED, TicketState.FAILED, TicketState.EXPIRED)


# The queue's state machine: allowed (from, to) pairs.
_ALLOWED: dict[TicketState, frozenset[TicketState]] = {
    TicketState.QUEUED: frozenset({TicketState.SUBMITTED, TicketState.FAILED, TicketState.EXPIRED}),
    TicketState.SUBMITTED: frozenset(
        {TicketState.CONFIRMED, TicketState.FAILED, TicketState.EXPIRED, TicketState.QUEUED}
    ),
    TicketState.CONFIRMED: frozenset(),
    TicketState.FAILED: frozenset(),
    TicketState.EXPIRED: frozenset(),
}


def allowed(current: TicketState, target: TicketState) -> bool:
    """Whether the state machine allows ``current -> target``."""
    return target in _ALLOWED[current]


@dataclass(frozen=True, slots=True)
class StoredTicket:
    """A winning ticket as stored: the signed ticket, the L1 block at which its params expire
    (redeem only after it, §7.2), and its redemption state.

    ``seq`` is the arrival order (go-livepeer's createdAt ordering); ``tx_id`` the id of the
    transaction that carries (or carried) it; ``attempts`` how many times it was submitted;
    ``error`` the last failure's text; ``created_at_ns`` wall-clock arrival time (information
    only, never used for decisions)."""

    ticket_hash: bytes
    signed: SignedTicket
    params_expiration_block: int
    state: TicketState
    seq: int
    tx_id: bytes | None = None
    attempts: int = 0
    error: str = ""
    created_at_ns: int = 0

    @property
    def ticket(self) -> Ticket:
        """The ticket itself."""
        return self.signed.ticket

    @property
    def sender(self) -> bytes:
        """The ticket's sender (reserve holder)."""
        return self.signed.ticket.sender

    @property
    def face_value(self) -> int:
        """Face value in wei."""
        return self.signed.ticket.face_value


@dataclass(frozen=True, slots=True)
class Transition:
    """One recorded state change (``from_state`` None for the initial insert)."""

    ticket_hash: bytes
    from_state: TicketState | None
    to_state: TicketState
    tx_id: bytes | None
    error: str
    at_ns: int


@runtime_checkable
class TicketStore(Protocol):
    """Durable winning tickets with their redemption state. Implementations are thread-safe;
    every method that changes state is atomic and durable when it returns."""

    def add(self, signed_ticket: SignedTicket, params_expiration_block: int) -> None:
        """``WinningTicketSink.add``: store a winner (idempotent: a known ticket is ignored)."""
        ...

    def insert(self, signed_ticket: SignedTicket, params_expiration_block: int) -> bool:
        """Like :meth:`add`; True if the ticket was new."""
        ...

    def get(self, ticket_hash: bytes) -> StoredTicket | None:
        """The stored ticket with this hash, or None."""
        ...

    def tickets(
        self, *, sender: bytes | None = None, states: Iterable[TicketState] | None = None
    ) -> list[StoredTicket]:
        """Stored tickets in arrival order, optionally of one sender and in some states."""
        ...

    def senders(self, states: Iterable[TicketState] | None = None) -> list[bytes]:
        """Senders with tickets (in the given states), in order of their first ticket."""
        ...

    def transition(
        self,
        ticket_hashes: Sequence[bytes],
        target: TicketState,
        *,
        tx_id: bytes | None = None,
        error: str = "",
    ) -> None:
        """Move every ticket to ``target`` in ONE transaction, or none of them
        (:class:`pm.errors.InvalidTransition` if any move is not allowed). Moving to
        ``submitted`` records ``tx_id`` and counts an attempt."""
        ...

    def history(self, ticket_hash: bytes) -> list[Transition]:
        """The ticket's recorded state changes, oldest first."""
        ...

    def counts(self) -> dict[TicketState, int]:
        """Number of tickets per state."""
        ...

    def close(self) -> None:
        """Release resources; the store is unusable afterwards."""
        ...


def _check_signed(
    signed_ticket: object, params_expiration_block: object
) -> tuple[SignedTicket, int]:
    if not isinstance(signed_ticket, SignedTicket):
        raise InvalidType(
            f"signed_ticket must be a pm.SignedTicket, not {type(signed_ticket).__name__}",
            name="signed_ticket",
            value=signed_ticket,
        )
    return signed_ticket, check_uint("params_expiration_block", params_expiration_block, 63)


def _check_target(target: object) -> TicketState:
    if not isinstance(target, TicketState):
        raise InvalidType("target must be a TicketState", name="target", value=target)
    return target


def _transition_args(
    ticket_hashes: Sequence[bytes], target: object, tx_id: bytes | None, error: object
) -> tuple[TicketState, list[bytes], bytes | None, str]:
    """Checked arguments of ``transition`` (the same for every store), before any state is read."""
    tgt = _check_target(target)
    hashes = [check_bytes32("ticket_hash", h) for h in ticket_hashes]
    if len(set(hashes)) != len(hashes):
        raise InvalidInput("duplicate ticket hash in one transition", name="ticket_hashes")
    tx = None if tx_id is None else check_bytes32("tx_id", tx_id)
    if not isinstance(error, str):
        raise InvalidType("error must be a str", name="error", value=error)
    return tgt, hashes, tx, error


def _senders(rows: Iterable[StoredTicket]) -> list[bytes]:
    """The distinct senders of ``rows``, in first-ticket order."""
    return list(dict.fromkeys(r.sender for r in rows))


def _check_states(states: Iterable[TicketState] | None) -> frozenset[TicketState] | None:
    if states is None:
        return None
    out = frozenset(states)
    for s in out:
        if not isinstance(s, TicketState):
            raise InvalidType("states must be TicketState values", name="states", value=s)
    return out


# -- in memory ----------------------------------------------------------------------------


class MemoryTicketStore:
    """:class:`TicketStore` in memory: fast, not durable across processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[bytes, StoredTicket] = {}
        self._history: dict[bytes, list[Transition]] = {}
        self._seq = 0

    def add(self, signed_ticket: SignedTicket, params_expiration_block: int) -> None:
        self.insert(signed_ticket, params_expiration_block)

    def insert(self, signed_ticket: SignedTicket, params_expiration_block: int) -> bool:
        st, exp = _check_signed(signed_ticket, params_expiration_block)
        h = st.ticket.hash()
        now = time.time_ns()
        with self._lock:
            if h in self._rows:
                return False
            self._seq += 1
            self._rows[h] = StoredTicket(
                h, st, exp, TicketState.QUEUED, self._seq, created_at_ns=now
            )
            self._history[h] = [Transition(h, None, TicketState.QUEUED, None, "", now)]
            return True

    def get(self, ticket_hash: bytes) -> StoredTicket | None:
        with self._lock:
            return self._rows.get(check_bytes32("ticket_hash", ticket_hash))

    def tickets(
        self, *, sender: bytes | None = None, states: Iterable[TicketState] | None = None
    ) -> list[StoredTicket]:
        want = _check_states(states)
        s = None if sender is None else check_address("sender", sender)
        with self._lock:
            rows = sorted(self._rows.values(), key=lambda r: r.seq)
        return [
            r for r in rows if (s is None or r.sender == s) and (want is None or r.state in want)
        ]

    def senders(self, states: Iterable[TicketState] | None = None) -> list[bytes]:
        return _senders(self.tickets(states=states))

    def transition(
        self,
        ticket_hashes: Sequence[bytes],
        target: TicketState,
        *,
        tx_id: bytes | None = None,
        error: str = "",
    ) -> None:
        tgt, hashes, tx, error = _transition_args(ticket_hashes, target, tx_id, error)
        now = time.time_ns()
        with self._lock:
            for h in hashes:
                row = self._rows.get(h)
                if row is None or not allowed(row.state, tgt):
                    raise InvalidTransition(h, None if row is None else row.state.value, tgt.value)
            for h in hashes:
                row = self._rows[h]
                submitted = tgt is TicketState.SUBMITTED
                self._rows[h] = replace(
                    row,
                    state=tgt,
                    tx_id=tx if (submitted or tx is not None) else row.tx_id,
                    attempts=row.attempts + (1 if submitted else 0),
                    error=error,
                )
                self._history[h].append(Transition(h, row.state, tgt, tx, error, now))

    def history(self, ticket_hash: bytes) -> list[Transition]:
        with self._lock:
            return list(self._history.get(check_bytes32("ticket_hash", ticket_hash), []))

    def counts(self) -> dict[TicketState, int]:
        out = dict.fromkeys(TicketState, 0)
        with self._lock:
            for r in self._rows.values():
                out[r.state] += 1
        return out

    def close(self) -> None:
        return None


# -- SQLite -------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_hash BLOB NOT NULL UNIQUE,
    sender BLOB NOT NULL,
    recipient BLOB NOT NULL,
    face_value BLOB NOT NULL,
    win_prob BLOB NOT NULL,
    sender_nonce INTEGER NOT NULL,
    recipient_rand_hash BLOB NOT NULL,
    creation_round INTEGER NOT NULL,
    creation_round_block_hash BLOB NOT NULL,
    sig BLOB NOT NULL,
    recipient_rand BLOB NOT NULL,
    params_expiration_block INTEGER NOT NULL,
    state TEXT NOT NULL,
    tx_id BLOB,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_at_ns INTEGER NOT NULL,
    updated_at_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_by_sender_state ON tickets (sender, state, seq);
CREATE INDEX IF NOT EXISTS tickets_by_state ON tickets (state, seq);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_hash BLOB NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    tx_id BLOB,
    error TEXT NOT NULL DEFAULT '',
    at_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_by_ticket ON transitions (ticket_hash, id);
"""

_COLUMNS = (
    "ticket_hash, sender, recipient, face_value, win_prob, sender_nonce, recipient_rand_hash, "
    "creation_round, creation_round_block_hash, sig, recipient_rand, params_expiration_block, "
    "state, tx_id, attempts, error, created_at_ns, seq"
)


def _row_to_ticket(row: tuple[Any, ...]) -> StoredTicket:
    try:
        (h, sender, recipient, fv, wp, nonce, rrh, cr, crbh, sig, rand, exp, state, tx, att, err,
         created, seq) = row  # fmt: skip
        ticket = Ticket(
            bytes(recipient),
            bytes(sender),
            int.from_bytes(fv, "big"),
            int.from_bytes(wp, "big"),
            int(nonce),
            bytes(rrh),
            int(cr),
            bytes(crbh),
        )
        signed = SignedTicket(ticket, bytes(sig), int.from_bytes(rand, "big"))
        return StoredTicket(
            bytes(h),
            signed,
            int(exp),
            TicketState(state),
            int(seq),
            None if tx is None else bytes(tx),
            int(att),
            str(err),
            int(created),
        )
    except (TypeError, ValueError) as e:
        raise StoreError(f"corrupt ticket row: {e}") from e


class SQLiteTicketStore:
    """:class:`TicketStore` on SQLite (stdlib ``sqlite3``), one transaction per change.

    WAL journal; ``synchronous="FULL"`` by default so a committed ticket survives a power loss,
    not only a process crash (``"NORMAL"`` is enough for process crashes and faster). The file
    carries a ``schema_version`` table; opening a file of another version raises
    :class:`pm.errors.StoreError`. Safe to share between threads (one connection, one lock);
    several processes may open the same file (SQLite locking), each with its own instance.
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", timeout_s: int = 30) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise InvalidInput(f"bad synchronous mode {synchronous!r}", name="synchronous")
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._migrate()
        except sqlite3.Error as e:
            raise StoreError(f"cannot open ticket store {self.path}: {e}") from e

    def _migrate(self) -> None:
        db = self._db
        db.executescript(_SCHEMA)  # idempotent (IF NOT EXISTS), safe for concurrent openers
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = db.execute("SELECT version FROM schema_version").fetchall()
            if not rows:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif len(rows) != 1 or rows[0][0] != SCHEMA_VERSION:
                raise StoreError(
                    f"unsupported ticket store schema version {[r[0] for r in rows]} "
                    f"(this pm reads version {SCHEMA_VERSION})"
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def add(self, signed_ticket: SignedTicket, params_expiration_block: int) -> None:
        self.insert(signed_ticket, params_expiration_block)

    def insert(self, signed_ticket: SignedTicket, params_expiration_block: int) -> bool:
        st, exp = _check_signed(signed_ticket, params_expiration_block)
        t = st.ticket
        h = t.hash()
        now = time.time_ns()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    cur = self._db.execute(
                        "INSERT OR IGNORE INTO tickets (ticket_hash, sender, recipient, "
                        "face_value, win_prob, sender_nonce, recipient_rand_hash, creation_round, "
                        "creation_round_block_hash, sig, recipient_rand, params_expiration_block, "
                        "state, created_at_ns, updated_at_ns) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            h,
                            t.sender,
                            t.recipient,
                            t.face_value.to_bytes(32, "big"),
                            t.win_prob.to_bytes(32, "big"),
                            t.sender_nonce,
                            t.recipient_rand_hash,
                            t.creation_round,
                            t.creation_round_block_hash,
                            st.sig,
                            st.recipient_rand.to_bytes(32, "big"),
                            exp,
                            TicketState.QUEUED.value,
                            now,
                            now,
                        ),
                    )
                    new = cur.rowcount == 1
                    if new:
                        self._db.execute(
                            "INSERT INTO transitions (ticket_hash, from_state, to_state, at_ns) "
                            "VALUES (?, NULL, ?, ?)",
                            (h, TicketState.QUEUED.value, now),
                        )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                raise StoreError(f"cannot store winning ticket 0x{h.hex()}: {e}") from e
        return new

    def _select(self, where: str, args: Sequence[object]) -> list[StoredTicket]:
        with self._lock:
            try:
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM tickets {where} ORDER BY seq", tuple(args)
                ).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"ticket store read failed: {e}") from e
        return [_row_to_ticket(r) for r in rows]

    def get(self, ticket_hash: bytes) -> StoredTicket | None:
        rows = self._select("WHERE ticket_hash = ?", (check_bytes32("ticket_hash", ticket_hash),))
        return rows[0] if rows else None

    def tickets(
        self, *, sender: bytes | None = None, states: Iterable[TicketState] | None = None
    ) -> list[StoredTicket]:
        want = _check_states(states)
        clauses: list[str] = []
        args: list[object] = []
        if sender is not None:
            clauses.append("sender = ?")
            args.append(check_address("sender", sender))
        if want is not None:
            if not want:
                return []
            clauses.append(f"state IN ({', '.join('?' * len(want))})")
            args.extend(s.value for s in sorted(want, key=lambda s: s.value))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._select(where, args)

    def senders(self, states: Iterable[TicketState] | None = None) -> list[bytes]:
        return _senders(self.tickets(states=states))

    def transition(
        self,
        ticket_hashes: Sequence[bytes],
        target: TicketState,
        *,
        tx_id: bytes | None = None,
        error: str = "",
    ) -> None:
        tgt, hashes, tx, error = _transition_args(ticket_hashes, target, tx_id, error)
        submitted = tgt is TicketState.SUBMITTED
        now = time.time_ns()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for h in hashes:
                        row = self._db.execute(
                            "SELECT state FROM tickets WHERE ticket_hash = ?", (h,)
                        ).fetchone()
                        current = None if row is None else TicketState(row[0])
                        if current is None or not allowed(current, tgt):
                            raise InvalidTransition(
                                h, None if current is None else current.value, tgt.value
                            )
                        self._db.execute(
                            "UPDATE tickets SET state = ?, "
                            "tx_id = CASE WHEN ? OR ? IS NOT NULL THEN ? ELSE tx_id END, "
                            "attempts = attempts + ?, error = ?, updated_at_ns = ? "
                            "WHERE ticket_hash = ?",
                            (tgt.value, submitted, tx, tx, int(submitted), error, now, h),
                        )
                        self._db.execute(
                            "INSERT INTO transitions (ticket_hash, from_state, to_state, tx_id, "
                            "error, at_ns) VALUES (?, ?, ?, ?, ?, ?)",
                            (h, current.value, tgt.value, tx, error, now),
                        )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                raise StoreError(f"ticket state change failed: {e}") from e

    def history(self, ticket_hash: bytes) -> list[Transition]:
        h = check_bytes32("ticket_hash", ticket_hash)
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT from_state, to_state, tx_id, error, at_ns FROM transitions "
                    "WHERE ticket_hash = ? ORDER BY id",
                    (h,),
                ).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"ticket store read failed: {e}") from e
        return [
            Transition(
                h,
                None if f is None else TicketState(f),
                TicketState(t),
                None if tx is None else bytes(tx),
                str(err),
                int(at),
            )
            for f, t, tx, err, at in rows
        ]

    def counts(self) -> dict[TicketState, int]:
        out = dict.fromkeys(TicketState, 0)
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT state, COUNT(*) FROM tickets GROUP BY state"
                ).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"ticket store read failed: {e}") from e
        for state, n in rows:
            out[TicketState(state)] = int(n)
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteTicketStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
