"""Adversarial review of the settlement code (src/pm/broker.py, store.py, redemption.py)
against spec/ticketbroker.md and spec/protocol.md §7: one regression test per bug found.
"""

from __future__ import annotations

from pm.broker import Bonding, Minter, Rounds, TicketBroker
from pm.crypto import PrivateKeySigner, keccak256
from pm.evm import UINT256_MAX, u256
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
