"""Adversarial review of the settlement code (src/pm/broker.py, store.py, redemption.py)
against spec/ticketbroker.md and spec/protocol.md §7: one regression test per bug found.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pm.broker import Bonding, BrokerChain, Minter, Rounds, TicketBroker, TxReceipt
from pm.crypto import PrivateKeySigner, keccak256
from pm.evm import UINT256_MAX, u256
from pm.redemption import RedemptionPolicy, RedemptionQueue
from pm.store import MemoryTicketStore, TicketState
from pm.ticket import SignedTicket, Ticket

SENDER_KEY = PrivateKeySigner(bytes([0x41]) * 32)
FORGER = PrivateKeySigner(bytes([0x42]) * 32)
SENDER = SENDER_KEY.address
ORCH = bytes([0xA1]) * 20
OWNER = bytes([0x0E]) * 20


def _winner(
    rounds: Rounds, nonce: int, face_value: int = 1000, *, forged: bool = False
) -> SignedTicket:
    rnd = rounds.current_round()
    rand = 1000 + nonce
    t = Ticket(
        ORCH,
        SENDER,
        face_value,
        UINT256_MAX,
        nonce,
        keccak256(u256(rand)),
        rnd,
        rounds.block_hash_for_round(rnd),
    )
    key = FORGER if forged else SENDER_KEY
    return SignedTicket(t, key.sign(t.hash()), rand)


# -- broker: one Minter for the whole system ---------------------------------------------


def test_broker_funds_the_minter_the_bonding_manager_pays_fees_from() -> None:
    """On chain there is ONE Minter (Controller look-up): the broker deposits into it and the
    BondingManager pays fees out of it. A Bonding built with its Minter must make the broker
    use that Minter, not a second, private one (fees could then never be withdrawn)."""
    minter = Minter()
    rounds = Rounds(100, block=1000)
    bonding = Bonding([ORCH], minter=minter)
    broker = TicketBroker(rounds, bonding, unlock_period=2, ticket_validity_period=2, owner=OWNER)
    assert broker.minter is minter
    broker.fund_deposit(SENDER, 1000)
    assert minter.balance == 1000
    w = _winner(rounds, 1, face_value=600)
    broker.redeem_winning_ticket(ORCH, w.ticket, w.sig, w.recipient_rand)
    assert bonding.withdraw_fees(ORCH) == 600
    # conservation on the single Minter: funded = withdrawn + still held (deposit left)
    assert minter.deposited == 1000 == minter.total_withdrawn + minter.balance
    assert minter.balance == broker.total_held + bonding.fees_held


def test_explicit_minter_is_shared_with_a_bonding_that_has_none() -> None:
    minter = Minter()
    bonding = Bonding([ORCH])
    broker = TicketBroker(
        Rounds(100, block=1000),
        bonding,
        unlock_period=2,
        ticket_validity_period=2,
        owner=OWNER,
        minter=minter,
    )
    assert broker.minter is minter and bonding.minter is minter


# -- redemption queue: a crashed submission is re-sent as the same transaction ------------


class _Crash(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the queue handles it."""


class _CrashingChain(BrokerChain):
    """A BrokerChain that 'kills the process' when a redemption is about to be sent, after the
    queue persisted 'submitted' (the transaction never reaches the chain)."""

    crash = True
    sent: list[bool | None]

    def redeem(  # type: ignore[override]
        self,
        tx_id: bytes,
        caller: bytes,
        tickets: Sequence[Ticket],
        sigs: Sequence[bytes],
        recipient_rands: Sequence[int],
        *,
        batch: bool | None = None,
    ) -> TxReceipt:
        self.sent.append(batch)
        if self.crash:
            raise _Crash
        return super().redeem(tx_id, caller, tickets, sigs, recipient_rands, batch=batch)


def _crash_env() -> tuple[Rounds, TicketBroker, _CrashingChain]:
    rounds = Rounds(100, block=1000)
    broker = TicketBroker(
        rounds, Bonding([ORCH]), unlock_period=2, ticket_validity_period=2, owner=OWNER
    )
    broker.fund_deposit_and_reserve(SENDER, 10**6, 10**6, 2 * 10**6)
    chain = _CrashingChain(broker, rounds, gas_price=1, redeem_gas=100)
    chain.sent = []
    return rounds, broker, chain


@pytest.mark.parametrize(("first", "second"), [(1, 3), (3, 1)])
def test_resend_after_crash_is_the_same_transaction(first: int, second: int) -> None:
    """A ticket persisted as 'submitted' under tx id X, then a crash before X reached the chain:
    the restarted queue (its batch policy may differ, as in test_redemption_crash) must send X
    in the same form (single vs batch call) as the first life would have, since X stands for
    one signed transaction."""
    rounds, _broker, chain = _crash_env()
    store = MemoryTicketStore()
    w = _winner(rounds, 1)
    store.add(w, 1000)
    q1 = RedemptionQueue(
        store, chain, ORCH, policy=RedemptionPolicy(redeem_gas=100, batch_size=first)
    )
    with pytest.raises(_Crash):
        q1.process()
    row = store.get(w.ticket.hash())
    assert row is not None and row.state is TicketState.SUBMITTED and row.tx_id is not None
    chain.crash = False
    q2 = RedemptionQueue(
        store, chain, ORCH, policy=RedemptionPolicy(redeem_gas=100, batch_size=second)
    )
    rep = q2.process()
    assert rep.confirmed == [w.ticket.hash()]
    first_form, resent_form = chain.sent
    rc = chain.receipt(row.tx_id)
    assert rc is not None
    assert rc.batch == (first_form is True)  # the resent transaction is the one first built
    assert resent_form == first_form


def test_lone_ticket_under_batch_policy_gets_its_revert_reason_at_once() -> None:
    """A group of one ticket goes as redeemWinningTicket: its revert reason is known from its
    own transaction, instead of a 1-ticket batch that swallows it and a second, solo tx."""
    rounds, _broker, chain = _crash_env()
    chain.crash = False
    store = MemoryTicketStore()
    bad = _winner(rounds, 1, forged=True)
    store.add(bad, 1000)
    q = RedemptionQueue(store, chain, ORCH, policy=RedemptionPolicy(redeem_gas=100, batch_size=3))
    rep = q.process()
    assert len(rep.receipts) == 1 and not rep.receipts[0].batch
    assert rep.receipts[0].revert_reason == "invalid signature over ticket hash"
    assert rep.failed == [bad.ticket.hash()]


# -- redemption queue: §7.3 step 3 needs a gas price ---------------------------------------


def test_unknown_gas_price_holds_redemption_instead_of_bypassing_cap_and_costs() -> None:
    """§7.3 step 3: the gas price is read before anything is sent, and failing to get one is
    a (retryable) error. A chain that has not polled a price yet (None) must not be read as
    price 0, which skipped the max gas price cap and made every tx-cost check pass."""
    rounds, _broker, chain = _crash_env()
    chain.crash = False
    chain.gas_price_wei = None
    store = MemoryTicketStore()
    w = _winner(rounds, 1, face_value=50)  # below the tx cost at any real gas price
    store.add(w, 1000)
    q = RedemptionQueue(
        store, chain, ORCH, policy=RedemptionPolicy(redeem_gas=100, max_gas_price=5)
    )
    rep = q.process()
    assert rep.receipts == [] and rep.confirmed == []
    assert set(rep.held) == {w.ticket.hash()}
    assert store.get(w.ticket.hash()).state is TicketState.QUEUED  # type: ignore[union-attr]
    # a used ticket is still final without a gas price (step 2 precedes step 3)
    used = _winner(rounds, 2)
    store.add(used, 1000)
    _broker.redeem_winning_ticket(OWNER, used.ticket, used.sig, used.recipient_rand)
    assert q.process().failed == [used.ticket.hash()]
    # once a price is known the ticket is judged on it (1 * 100 >= 50: too small, still held)
    chain.gas_price_wei = 1
    assert q.process().held[w.ticket.hash()] == "insufficient ticket face value for redeem tx cost"
