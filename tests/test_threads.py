"""Thread safety (issue 9): 8 threads share one Sender and one Recipient and create and validate
tickets concurrently. Nonces must be unique (and gap-free), counters and balances must add up
to what the threads saw, every winning ticket must reach the sink exactly once, and a payment
replayed from 8 threads at once must be credited once.

The native batch calls release the GIL, so signing and validation really do run in parallel.
Threads start together on a barrier; no assertion depends on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pytest

from pm.chain import InMemoryChain, SenderInfo
from pm.crypto import PrivateKeySigner, recover_address
from pm.ticket import SigStatus, Ticket, TicketBatch, TicketParams, is_winning, validate_batch

THREADS = 8
ROUNDS = 6  # batches per thread
RECIPIENT_ADDR = bytes.fromhex("73aed7b5deb30222fa896f399d46cc99c7bee57f")
SECRET = bytes(range(1, 33))
PRICE = Fraction(1)


def run_threads(worker: Callable[[int], None]) -> None:
    """Run ``worker(i)`` on THREADS threads started together; re-raise the first failure."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            worker(i)
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# -- 8 threads sharing one PrivateKeySigner and validate_batch ------------------------------------


def test_shared_signer_and_validate_batch() -> None:
    signer = PrivateKeySigner(bytes(31) + b"\x2a")
    template = TicketParams(RECIPIENT_ADDR, 10**9, 2**255, bytes(32), 0, 100).ticket(
        signer.address, 0
    )
    per_thread: dict[int, tuple[list[int], bytes]] = {}

    def worker(i: int) -> None:
        nonces = list(range(i * 1000, i * 1000 + 250))
        sigs = signer.sign_tickets(template, nonces)
        check = validate_batch(template, nonces, sigs, 12345)
        assert check.all_valid
        per_thread[i] = (nonces, sigs)
        # A batch signed by another thread at the same time is also valid here.
        other = per_thread.get((i + 1) % THREADS)
        if other is not None:
            assert validate_batch(template, other[0], other[1], None).all_valid

    run_threads(worker)
    assert len(per_thread) == THREADS
    for nonces, sigs in per_thread.values():  # identical to single-threaded signing
        assert sigs == signer.sign_tickets(template, nonces)
        h = template.with_nonce(nonces[-1]).hash()
        assert recover_address(h, sigs[-65:]) == signer.address


# -- 8 threads sharing one Sender and one Recipient --------------------------------------------

sender_mod = pytest.importorskip("pm.sender")
recipient_mod = pytest.importorskip("pm.recipient")


def _setup() -> tuple[Any, Any, InMemoryChain, PrivateKeySigner]:
    signer = PrivateKeySigner(bytes(31) + b"\x2b")
    chain = InMemoryChain(
        l1_block=100,
        round_=10,
        round_block_hashes={10: b"\x0a" * 32, 9: b"\x09" * 32},
        gas_price=1,
        pool_size=1,
    )
    chain.set_sender_info(signer.address, SenderInfo(10**18, 0, 10**18, 0))
    # gasPrice 1 wei × redeemGas 100 × multiplier 100: face value 10,000 wei; EV 5,000 wei, so
    # winProb is about M/2 and about half of the tickets win.
    cfg = recipient_mod.RecipientConfig(redeem_gas=100, tx_cost_multiplier=100, ticket_ev=5000)
    r = recipient_mod.Recipient(RECIPIENT_ADDR, SECRET, chain, cfg)
    policy = sender_mod.SpendingPolicy(Fraction(10**9), Fraction(10**12), 1)
    return r, sender_mod.Sender(signer, policy, chain), chain, signer


@dataclass
class Seen:
    lock: threading.Lock = field(default_factory=threading.Lock)
    batches: list[TicketBatch] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    credited: Fraction = Fraction(0)
    winners: list[bytes] = field(default_factory=list)  # signatures of winning tickets


def _expected_rand(r: Any, params: TicketParams, batch: TicketBatch) -> int:
    return int(
        recipient_mod.recipient_rand(
            SECRET,
            params.seed,
            batch.sender,
            params.face_value,
            params.win_prob,
            params.expiration_block,
            PRICE,
            batch.expiration_params.aux_data,
        )
    )


def test_shared_sender_and_recipient_one_session() -> None:
    r, snd, _chain, signer = _setup()
    params = r.ticket_params(signer.address, PRICE)
    assert 2**254 < params.win_prob < 2**256 - 2**254  # winners are common
    sid = snd.start_session(params)
    seen = Seen()

    def worker(i: int) -> None:
        for k in range(ROUNDS):
            batch = snd.create_batch(sid, 1 + (i + k) % 5)
            res = r.receive(batch, params.seed, PRICE)
            with seen.lock:
                seen.batches.append(batch)
                seen.results.append(res)
                seen.credited += res.credited
                seen.winners += [batch.sig(w) for w in res.winners]

    run_threads(worker)

    all_nonces = [n for b in seen.batches for n in b.nonces]
    total = sum((i + k) % 5 + 1 for i in range(THREADS) for k in range(ROUNDS))
    # Nonces: unique, gap-free from 1, and the session counter agrees.
    assert sorted(all_nonces) == list(range(1, total + 1))
    assert snd.session_nonce(sid) == total
    # Every ticket was accepted: no nonce was seen twice and no update of the seen-set was lost.
    for res in seen.results:
        assert res.error is None and res.fatal is None
        assert all(item.credited for item in res)
    assert [count for _, count in r.iter_nonce_sets()] == [total]
    # Balances: what the threads were told was credited is what the recipient holds: EV each.
    ev = params.ev
    assert seen.credited == ev * total
    assert r.balance(signer.address) == ev * total
    # Winners: recompute every win from scratch; the sink holds exactly those, once each.
    expected_winners = set()
    for b in seen.batches:
        rand = _expected_rand(r, params, b)
        for i in range(len(b)):
            if is_winning(b.sig(i), rand, params.win_prob):
                expected_winners.add(b.sig(i))
    assert expected_winners, "with winProb ~ 1/2 some tickets must win"
    assert sorted(seen.winners) == sorted(expected_winners)
    stored = r.sink.tickets()
    assert len(stored) == len(expected_winners)
    assert {st.sig for st, _ in stored} == expected_winners
    for st, exp_block in stored:
        assert st.won() and exp_block == params.expiration_block
        assert recover_address(st.ticket.hash(), st.sig) == signer.address


def test_shared_sender_and_recipient_many_sessions() -> None:
    """Each thread also starts its own sessions (new params from the shared recipient), so the
    sender's session table and the recipient's nonce sets are mutated concurrently."""
    r, snd, _chain, signer = _setup()
    seen = Seen()
    sessions: dict[str, TicketParams] = {}
    sessions_lock = threading.Lock()

    def worker(i: int) -> None:
        for k in range(ROUNDS):
            params = r.ticket_params(signer.address, PRICE)
            sid = snd.start_session(params)
            with sessions_lock:
                sessions[sid] = params
            batch = snd.create_batch(sid, 2 + k % 3)
            res = r.receive(batch, params.seed, PRICE)
            with seen.lock:
                seen.batches.append(batch)
                seen.results.append(res)
                seen.credited += res.credited
            if k % 2:
                snd.cleanup_session(sid)

    run_threads(worker)
    assert len(sessions) == THREADS * ROUNDS  # every params got a fresh seed and session id
    assert len(snd.sessions()) == THREADS * ROUNDS - THREADS * (ROUNDS // 2)
    for res in seen.results:
        assert res.error is None
    total = sum(len(b) for b in seen.batches)
    assert sum(count for _, count in r.iter_nonce_sets()) == total
    assert r.balance(signer.address) == seen.credited
    assert seen.credited == sum(b.params.ev * len(b) for b in seen.batches)


def test_replayed_payment_from_8_threads_is_credited_once() -> None:
    r, snd, _chain, signer = _setup()
    params = r.ticket_params(signer.address, PRICE)
    batch = snd.create_batch(snd.start_session(params), 20)
    results: list[Any] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        res = r.receive(batch, params.seed, PRICE)
        with lock:
            results.append(res)

    run_threads(worker)
    clean = [res for res in results if res.error is None]
    assert len(clean) == 1, "exactly one submission of a payment may be accepted"
    for res in results:
        if res is clean[0]:
            continue
        assert res.credited == 0
        assert all(isinstance(item.error, recipient_mod.NonceAlreadySeen) for item in res)
    assert r.balance(signer.address) == params.ev * len(batch)
    winners = {batch.sig(i) for i in clean[0].winners}
    assert {st.sig for st, _ in r.sink.tickets()} == winners


def test_concurrent_forged_and_valid_batches_do_not_mix() -> None:
    """Threads alternate valid batches with batches whose signatures are another key's: the
    forged tickets are refused one by one and never credited or stored."""
    r, snd, _chain, signer = _setup()
    forger = PrivateKeySigner(bytes(31) + b"\x2c")
    params = r.ticket_params(signer.address, PRICE)
    sid = snd.start_session(params)
    seen = Seen()

    def worker(i: int) -> None:
        for k in range(ROUNDS):
            batch = snd.create_batch(sid, 3)
            if (i + k) % 2:
                template: Ticket = batch.template
                batch = TicketBatch(
                    batch.params,
                    batch.sender,
                    batch.expiration_params,
                    batch.nonces,
                    forger.sign_tickets(template, batch.nonces),
                )
            res = r.receive(batch, params.seed, PRICE)
            with seen.lock:
                seen.results.append((batch, res, (i + k) % 2 == 1))
                seen.credited += res.credited

    run_threads(worker)
    good = 0
    for batch, res, forged in seen.results:
        if forged:
            assert res.credited == 0 and not res.winners
            for item in res:
                assert isinstance(item.error, recipient_mod.InvalidTicketSignature)
                assert item.error.status == SigStatus.WRONG_SIGNER
        else:
            assert res.error is None
            good += len(batch)
    assert r.balance(signer.address) == seen.credited == params.ev * good
    forged_sigs = {batch.sig(i) for batch, _, f in seen.results if f for i in range(len(batch))}
    assert not forged_sigs & {st.sig for st, _ in r.sink.tickets()}
