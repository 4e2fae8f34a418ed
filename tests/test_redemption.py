"""SenderMonitor (spec/protocol.md §7.1, vectors §10.1.7) and RedemptionQueue (§7.2, §7.3) on
the reference broker."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from pm.broker import Bonding, BrokerChain, Rounds, TicketBroker
from pm.chain import InMemoryChain, MaxFloatSource, RecipientChainView, SenderInfo
from pm.crypto import PrivateKeySigner, keccak256, to_checksum_address
from pm.errors import (
    CouldNotGetSenderInfo,
    GasPriceTooHigh,
    InsufficientPendingAmount,
    InvalidInput,
    SenderUnlockingSoon,
)
from pm.evm import UINT256_MAX, u256
from pm.redemption import (
    RedemptionPolicy,
    RedemptionQueue,
    SenderMonitor,
    is_non_retryable,
)
from pm.store import MemoryTicketStore, SQLiteTicketStore, TicketState, TicketStore
from pm.ticket import SignedTicket, Ticket

DATA = json.loads(
    (Path(__file__).parent / "data" / "broker_sender_monitor_vectors.json").read_text()
)
SENDER_KEY = PrivateKeySigner(bytes([0x31]) * 32)
SENDER = SENDER_KEY.address
CLAIMANT = bytes([0xCC]) * 20
OWNER = bytes([0x0E]) * 20


def _chain(
    deposit: int = 0,
    reserve: int = 0,
    claimed_in_round: int = 0,
    pool: int = 1,
    claimed: int = 0,
    round_: int = 100,
) -> InMemoryChain:
    chain = InMemoryChain(round_=round_, pool_size=pool)
    chain.set_sender_info(SENDER, SenderInfo(deposit, 0, reserve, claimed_in_round))
    chain.set_claimed_reserve(SENDER, CLAIMANT, claimed)
    return chain


# -- SenderMonitor -----------------------------------------------------------------------


@pytest.mark.parametrize("case", DATA["max_float"], ids=lambda c: c["name"])
def test_max_float_vectors(case: dict[str, object]) -> None:
    chain = _chain(
        case["deposit"],
        case["reserve"],
        case["claimed_in_round"],
        case["pool"],  # type: ignore[arg-type]
        case["claimed"],
    )  # type: ignore[arg-type]
    mon = SenderMonitor(chain, CLAIMANT)
    got = []
    for step in case["pending_steps"]:  # type: ignore[attr-defined]
        mon.sub_float(SENDER, step)
        got.append(mon.max_float(SENDER))
    assert got == case["expected"]


@pytest.mark.parametrize("case", DATA["reserve_alloc"], ids=lambda c: c["name"])
def test_reserve_alloc_vectors(case: dict[str, int]) -> None:
    chain = _chain(0, case["reserve"], case["claimed_in_round"], case["pool"], case["claimed"])
    assert SenderMonitor(chain, CLAIMANT).reserve_alloc(SENDER) == case["expected"]


@pytest.mark.parametrize("case", DATA["available_funds"])
def test_available_funds_vectors(case: dict[str, int]) -> None:
    mon = SenderMonitor(_chain(case["deposit"], case["reserve"], 0, case["pool"]), CLAIMANT)
    mon.sub_float(SENDER, case["pending"])
    assert mon.available_funds(SENDER) == case["expected"]


def test_add_float() -> None:
    mon = SenderMonitor(_chain(0, 500, 0, 1, 100), CLAIMANT)
    with pytest.raises(
        InsufficientPendingAmount, match="cannot subtract from insufficient pendingAmount"
    ) as exc:
        mon.add_float(SENDER, 20)
    assert (exc.value.pending, exc.value.amount) == (0, 20)
    assert mon.max_float(SENDER) == 400
    mon.sub_float(SENDER, 30)
    mon.add_float(SENDER, 20)
    assert mon.pending_amount(SENDER) == 10
    assert mon.max_float(SENDER) == 390


def test_ratio_compared_like_go_big_float() -> None:
    # deposit/pending = 3 - 2**-60 rounds to 3.0 at 53 bits (Go big.NewFloat precision): ignored
    pending = 2**60
    mon = SenderMonitor(_chain(3 * pending - 1, 500, 0, 1), CLAIMANT)
    mon.sub_float(SENDER, pending)
    assert mon.max_float(SENDER) == 500
    # 3 - 2**-51 is representable and below 3: pending counts
    pending = 2**51
    mon2 = SenderMonitor(_chain(3 * pending - 1, 500, 0, 1), CLAIMANT)
    mon2.sub_float(SENDER, pending)
    assert mon2.max_float(SENDER) == 500 - pending
    # the tie (3 - 2**-52) rounds to even, i.e. to 3
    pending = 2**52
    mon3 = SenderMonitor(_chain(3 * pending - 1, 500, 0, 1), CLAIMANT)
    mon3.sub_float(SENDER, pending)
    assert mon3.max_float(SENDER) == 500


@pytest.mark.parametrize("case", DATA["validate_sender"])
def test_validate_sender_vectors(case: dict[str, object]) -> None:
    chain = InMemoryChain(round_=case["round"])  # type: ignore[arg-type]
    chain.set_sender_info(SENDER, SenderInfo(1, case["withdraw_round"], 1))  # type: ignore[arg-type]
    mon = SenderMonitor(chain, CLAIMANT)
    if case["error"] is None:
        mon.validate_sender(SENDER)
    else:
        with pytest.raises(SenderUnlockingSoon) as exc:
            mon.validate_sender(SENDER)
        assert str(exc.value) == str(case["error"]).format(sender=to_checksum_address(SENDER))


def test_validate_sender_info_error() -> None:
    chain = InMemoryChain()
    mon = SenderMonitor(chain, CLAIMANT)
    with pytest.raises(CouldNotGetSenderInfo) as exc:
        mon.validate_sender(SENDER)
    assert str(exc.value).startswith(
        f"could not get sender info for {to_checksum_address(SENDER)}: "
    )


def test_monitor_is_max_float_source() -> None:
    assert isinstance(SenderMonitor(InMemoryChain(), CLAIMANT), MaxFloatSource)


# -- queue fixtures on the reference broker ----------------------------------------------


class Env:
    """A broker on pm's own models with one active recipient (the redeemer)."""

    def __init__(
        self,
        *,
        variant: str = "deployed",
        gas_price: int = 0,
        pool: int = 1,
        deposit: int = 10**6,
        reserve: int = 10**6,
    ) -> None:
        self.rounds = Rounds(100, block=1000)
        self.bonding = Bonding([CLAIMANT])
        for i in range(pool - 1):
            self.bonding.add_transcoder(bytes([0xD0 + i]) * 20)
        self.broker = TicketBroker(
            self.rounds,
            self.bonding,
            unlock_period=2,
            ticket_validity_period=2,
            owner=OWNER,
            variant=variant,
        )  # type: ignore[arg-type]
        self.chain = BrokerChain(self.broker, self.rounds, gas_price=gas_price, redeem_gas=100)
        if deposit or reserve:
            self.broker.fund_deposit_and_reserve(SENDER, deposit, reserve, deposit + reserve)
        self.nonce = 0

    def winner(
        self,
        face_value: int = 1000,
        *,
        recipient: bytes = CLAIMANT,
        forged: bool = False,
        creation_round: int | None = None,
    ) -> SignedTicket:
        self.nonce += 1
        rnd = self.rounds.current_round() if creation_round is None else creation_round
        rand = 77 + self.nonce
        t = Ticket(
            recipient,
            SENDER,
            face_value,
            UINT256_MAX,
            self.nonce,
            keccak256(u256(rand)),
            rnd,
            self.rounds.block_hash_for_round(rnd),
        )
        key = PrivateKeySigner(bytes([0x99]) * 32) if forged else SENDER_KEY
        return SignedTicket(t, key.sign(t.hash()), rand)


def _queue(env: Env, store: TicketStore | None = None, **policy: object) -> RedemptionQueue:
    return RedemptionQueue(
        store or MemoryTicketStore(),
        env.chain,
        CLAIMANT,
        policy=RedemptionPolicy(redeem_gas=100, **policy),
    )  # type: ignore[arg-type]


def test_broker_chain_satisfies_views() -> None:
    env = Env()
    assert isinstance(env.chain, RecipientChainView)
    info = env.chain.sender_info(SENDER)
    assert isinstance(info, SenderInfo) and info.deposit == 10**6
    assert env.chain.last_initialized_round() == 10
    assert env.chain.last_initialized_block_hash() == env.rounds.block_hash_for_round(10)
    assert env.chain.last_seen_l1_block() == 1000


def test_redeems_only_after_params_expire() -> None:
    env = Env()
    q = _queue(env)
    w = env.winner()
    q.store.add(w, 1003)
    rep = q.process()
    assert rep.held == {w.ticket.hash(): "params not expired"}
    env.rounds.advance_blocks(3)
    rep = q.process()
    assert rep.confirmed == [w.ticket.hash()]
    row = q.store.get(w.ticket.hash())
    assert (
        row is not None
        and row.state is TicketState.CONFIRMED
        and row.tx_id == rep.receipts[0].tx_hash
    )
    assert env.bonding.fees == {CLAIMANT: 1000}
    assert env.broker.used_tickets(w.ticket.hash())
    assert q.process().receipts == []  # nothing left to do


def test_oldest_first_and_pending_released() -> None:
    env = Env()
    q = _queue(env)
    ws = [env.winner(face_value=100 * (i + 1)) for i in range(3)]
    for w in reversed(ws):
        q.store.add(w, 1000)
    rep = q.process()
    assert rep.confirmed == [w.ticket.hash() for w in reversed(ws)]
    assert q.monitor.pending_amount(SENDER) == 0


def test_skips_inactive_recipient_then_redeems() -> None:
    env = Env()
    q = _queue(env)
    w = env.winner()
    q.store.add(w, 1000)
    env.bonding.set_active(CLAIMANT, False)
    assert q.process().held == {w.ticket.hash(): "recipient not active"}
    env.bonding.set_active(CLAIMANT, True)
    assert q.process().confirmed == [w.ticket.hash()]


def test_gives_up_at_expiry() -> None:
    env = Env()
    q = _queue(env)
    w = env.winner()
    q.store.add(w, 10**9)  # params never expire in time
    env.rounds.advance_rounds(1)
    assert q.process().held  # round 11 < 10 + 2: still valid
    env.rounds.advance_rounds(1)
    rep = q.process()
    assert rep.expired == [w.ticket.hash()]
    row = q.store.get(w.ticket.hash())
    assert row is not None and row.state is TicketState.EXPIRED and row.error == "ticket is expired"
    assert not env.broker.used_tickets(w.ticket.hash())


def test_holds_while_gas_price_above_cap() -> None:
    env = Env(gas_price=50)
    q = _queue(env, max_gas_price=40)
    w = env.winner(face_value=10**6)
    q.store.add(w, 1000)
    rep = q.process()
    assert rep.held == {w.ticket.hash(): str(GasPriceTooHigh(40, 50))}
    assert str(GasPriceTooHigh(40 * 10**9, 5 * 10**8)) == (
        "current gas price exceeds maximum gas price max=40 GWei current=0.5 GWei"
    )
    env.chain.gas_price_wei = 40
    assert q.process().confirmed == [w.ticket.hash()]


def test_redeem_checks_vectors() -> None:
    """§10.1.7 redeem checks: availableFunds 700 (deposit 500 + reserve 1000 / pool 5)."""
    v = DATA["redeem_checks"]
    for case in v["cases"]:
        env = Env(
            pool=v["pool"], deposit=v["deposit"], reserve=v["reserve"], gas_price=case["gas_price"]
        )
        q = RedemptionQueue(
            MemoryTicketStore(),
            env.chain,
            CLAIMANT,
            policy=RedemptionPolicy(redeem_gas=case["redeem_gas"]),
        )
        assert q.monitor.available_funds(SENDER) == 700
        w = env.winner(face_value=v["face_value"])
        q.store.add(w, 1000)
        rep = q.process()
        if case["error"] is None:
            assert rep.confirmed == [w.ticket.hash()]
        else:
            assert rep.held == {w.ticket.hash(): case["error"]}
            assert q.store.get(w.ticket.hash()).state is TicketState.QUEUED  # type: ignore[union-attr]


def test_min_face_value_multiple_policy() -> None:
    env = Env(gas_price=10)
    q = _queue(env, min_face_value_gas_multiple=Fraction(5, 2))  # tx cost 1000 -> need > 2500
    small, big = env.winner(face_value=2500), env.winner(face_value=2501)
    q.store.add(small, 1000)
    q.store.add(big, 1000)
    rep = q.process()
    assert rep.confirmed == [big.ticket.hash()]
    assert rep.held[small.ticket.hash()] == "insufficient ticket face value for redeem tx cost"
    assert rep.gas_fees == 100 * 10


def test_already_used_is_final() -> None:
    env = Env()
    q = _queue(env)
    w = env.winner()
    q.store.add(w, 1000)
    env.broker.redeem_winning_ticket(OWNER, w.ticket, w.sig, w.recipient_rand)  # someone else
    rep = q.process()
    assert rep.failed == [w.ticket.hash()]
    assert q.store.get(w.ticket.hash()).error == "ticket already used"  # type: ignore[union-attr]
    assert rep.receipts == []  # no transaction sent


def test_mined_revert_is_final_transaction_failed() -> None:
    env = Env(gas_price=3)
    q = _queue(env)
    w = env.winner(forged=True)
    q.store.add(w, 1000)
    rep = q.process()
    assert rep.failed == [w.ticket.hash()]
    rc = rep.receipts[0]
    assert not rc.status and rc.revert_reason == "invalid signature over ticket hash"
    err = q.store.get(w.ticket.hash()).error  # type: ignore[union-attr]
    assert err.startswith(f"transaction failed txHash=0x{rc.tx_hash.hex()}")
    assert is_non_retryable(err)
    assert env.chain.gas_spent[CLAIMANT] == 100 * 3  # a reverted tx still costs gas


def test_pr657_insufficient_funds_is_retried() -> None:
    env = Env(variant="pr657", deposit=100, reserve=0)
    q = _queue(env)
    w = env.winner(face_value=500)
    q.store.add(w, 1000)
    rep = q.process()
    assert rep.requeued == [w.ticket.hash()]
    assert q.store.get(w.ticket.hash()).state is TicketState.QUEUED  # type: ignore[union-attr]
    env.broker.fund_deposit(SENDER, 400)
    assert q.process().confirmed == [w.ticket.hash()]
    assert env.bonding.fees[CLAIMANT] == 500


def test_batch_submission_skips_bad_ticket_then_sends_it_alone() -> None:
    env = Env(gas_price=1)
    q = _queue(env, batch_size=3)
    good1, bad, good2 = env.winner(), env.winner(forged=True), env.winner()
    for w in (good1, bad, good2):
        q.store.add(w, 1000)
    rep = q.process()
    assert len(rep.receipts) == 1 and rep.receipts[0].status and rep.receipts[0].batch
    assert (
        rep.receipts[0].gas_used == env.chain.batch_base_gas + 3 * env.chain.redeem_gas_per_ticket
    )
    assert rep.confirmed == [good1.ticket.hash(), good2.ticket.hash()]
    assert rep.requeued == [bad.ticket.hash()]
    # next pass: the skipped ticket goes alone and gets its own revert reason: final
    rep2 = q.process()
    assert len(rep2.receipts) == 1 and not rep2.receipts[0].batch
    assert rep2.receipts[0].revert_reason == "invalid signature over ticket hash"
    assert rep2.failed == [bad.ticket.hash()]
    row = q.store.get(bad.ticket.hash())
    assert row is not None and row.attempts == 2 and row.error.startswith("transaction failed")


def test_batch_level_revert_requeues_then_gives_up() -> None:
    env = Env(gas_price=1)
    q = _queue(env, batch_size=2, max_attempts=2)
    ws = [env.winner(), env.winner()]
    for w in ws:
        q.store.add(w, 1000)
    env.broker.paused = True
    rep = q.process()
    assert rep.receipts[0].revert_reason == "system is paused"
    assert rep.requeued == [w.ticket.hash() for w in ws]  # transient: retried
    rep = q.process()
    assert rep.failed == [w.ticket.hash() for w in ws]  # max_attempts reached
    assert all(not env.broker.used_tickets(w.ticket.hash()) for w in ws)


def test_group_members_see_each_others_pending() -> None:
    """In a batch, each ticket's availableFunds already counts the earlier tickets as pending."""
    env = Env(gas_price=1, deposit=2100, reserve=0)
    q = _queue(env, batch_size=3)  # tx cost 100 per ticket
    ws = [env.winner(face_value=1000) for _ in range(3)]
    for w in ws:
        q.store.add(w, 1000)
    rep = q.process()
    # available: 2100, then 1100, then 100 <= tx cost 100: the third waits
    assert rep.confirmed == [ws[0].ticket.hash(), ws[1].ticket.hash()]
    assert rep.held == {ws[2].ticket.hash(): "insufficient sender funds for redeem tx cost"}
    assert q.monitor.pending_amount(SENDER) == 0


def test_settles_submitted_ticket_never_sent(tmp_path: Path) -> None:
    """Crash after 'submitted' was persisted and before the transaction was sent."""
    env = Env()
    store = SQLiteTicketStore(tmp_path / "q.db")
    q = _queue(env, store)
    w = env.winner()
    store.add(w, 1000)
    row = store.get(w.ticket.hash())
    assert row is not None
    tx_id = q._tx_id([row])
    store.transition([w.ticket.hash()], TicketState.SUBMITTED, tx_id=tx_id)
    store.close()
    store2 = SQLiteTicketStore(tmp_path / "q.db")
    rep = _queue(env, store2).process()
    assert rep.confirmed == [w.ticket.hash()]
    assert env.chain.receipt(tx_id) is not None  # the same transaction was sent
    store2.close()


def test_settles_submitted_ticket_already_mined() -> None:
    """Crash after the transaction was sent, before 'confirmed' was persisted: settle from
    the receipt, never send a second redemption."""
    env = Env()
    q = _queue(env)
    w = env.winner()
    q.store.add(w, 1000)
    row = q.store.get(w.ticket.hash())
    assert row is not None
    tx_id = q._tx_id([row])
    q.store.transition([w.ticket.hash()], TicketState.SUBMITTED, tx_id=tx_id)
    env.chain.redeem(tx_id, CLAIMANT, [w.ticket], [w.sig], [w.recipient_rand])
    n_events = len(env.broker.events)
    rep = _queue(env, q.store).process()
    assert rep.confirmed == [w.ticket.hash()]
    assert len(env.broker.events) == n_events
    assert sum(e.name == "WinningTicketRedeemed" for e in env.broker.events) == 1


def test_chain_idempotent_by_tx_id() -> None:
    env = Env()
    w = env.winner()
    tx = keccak256(b"one")
    r1 = env.chain.redeem(tx, CLAIMANT, [w.ticket], [w.sig], [w.recipient_rand])
    r2 = env.chain.redeem(tx, CLAIMANT, [w.ticket], [w.sig], [w.recipient_rand])
    assert r1 is r2 and r1.status and r1.redeemed == (w.ticket.hash(),)
    assert env.chain.gas_spent[CLAIMANT] == r1.fee


def test_policy_validation() -> None:
    with pytest.raises(InvalidInput):
        RedemptionPolicy(batch_size=0)
    with pytest.raises(InvalidInput):
        RedemptionPolicy(ticket_validity_period=0)
    with pytest.raises(InvalidInput):
        RedemptionPolicy(min_face_value_gas_multiple=0.5)  # type: ignore[arg-type]


def test_non_retryable_rule() -> None:
    assert is_non_retryable("ticket already used")
    assert is_non_retryable("transaction failed txHash=0x00")
    assert is_non_retryable("execution reverted: ticket creationRound does not have a block hash")
    assert not is_non_retryable("execution reverted: ticket is expired")
    assert not is_non_retryable("timed out waiting for transaction receipt txHash=0x00")


def test_preflight_spends_no_gas_on_reverting_tickets() -> None:
    env = Env(gas_price=3)
    q = _queue(env, preflight=True)
    forged, good = env.winner(forged=True), env.winner()
    q.store.add(forged, 1000)
    q.store.add(good, 1000)
    rep = q.process()
    assert rep.confirmed == [good.ticket.hash()]
    # go-livepeer retries "execution reverted: ..." unless its non-retryable rule matches
    assert rep.held == {
        forged.ticket.hash(): "execution reverted: invalid signature over ticket hash"
    }
    assert len(rep.receipts) == 1 and env.chain.gas_spent[CLAIMANT] == 100 * 3
    # the dry run changed nothing on chain
    assert not env.broker.used_tickets(forged.ticket.hash())
    assert env.bonding.fees == {CLAIMANT: 1000}
    # ... and the forged ticket is given up when its window closes
    env.rounds.advance_rounds(2)
    assert q.process().expired == [forged.ticket.hash()]


def test_preflight_non_retryable_reason_is_final() -> None:
    env = Env()
    q = _queue(env, preflight=True)
    w = env.winner(creation_round=11)  # round 11 is not initialized yet: no block hash
    q.store.add(w, 1000)
    rep = q.process()
    assert rep.failed == [w.ticket.hash()]
    assert q.store.get(w.ticket.hash()).error == (  # type: ignore[union-attr]
        "execution reverted: ticket creationRound does not have a block hash"
    )


def test_preflight_needs_an_estimating_chain() -> None:
    with pytest.raises(InvalidInput):
        RedemptionQueue(
            MemoryTicketStore(),
            InMemoryChain(),
            CLAIMANT,  # type: ignore[arg-type]
            policy=RedemptionPolicy(preflight=True),
        )


def test_estimate_redeem_is_side_effect_free() -> None:
    env = Env()
    w = env.winner(face_value=5000)
    before = (
        env.broker.get_sender_info(SENDER),
        dict(env.bonding.fees),
        len(env.bonding.events),
        len(env.broker.events),
        env.broker.minter.balance,  # type: ignore[attr-defined]
    )
    assert env.chain.estimate_redeem(CLAIMANT, [w.ticket], [w.sig], [w.recipient_rand]) is None
    assert (
        env.chain.estimate_redeem(
            CLAIMANT, [w.ticket, w.ticket], [w.sig, w.sig], [w.recipient_rand] * 2
        )
        is None
    )
    after = (
        env.broker.get_sender_info(SENDER),
        dict(env.bonding.fees),
        len(env.bonding.events),
        len(env.broker.events),
        env.broker.minter.balance,  # type: ignore[attr-defined]
    )
    assert before == after
    assert not env.broker.used_tickets(w.ticket.hash())
    env.bonding.set_active(CLAIMANT, False)
    assert (
        env.chain.estimate_redeem(CLAIMANT, [w.ticket], [w.sig], [w.recipient_rand])
        == "Panic(0x12)"
    )
    assert env.chain.receipts == {} and env.chain.gas_spent == {}
