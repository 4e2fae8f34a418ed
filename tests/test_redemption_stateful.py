"""A Hypothesis state machine over the redemption queue on the reference broker: winners
(valid and forged) arrive, blocks and rounds pass, the gas price moves around a cap, the
recipient drops out of and back into the active set, the system pauses, a third party front-runs
a redemption, the sender's funds run low, and the redeemer restarts (a new queue on the same
store). After every pass: nothing stays submitted, no pending float leaks, every confirmed ticket
was redeemed on chain by the transaction the store names, and nothing is redeemed twice. At the
end every ticket reaches a final state once its validity window has passed.
"""

from __future__ import annotations

import contextlib

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pm.broker import Bonding, BrokerChain, Revert, Rounds, TicketBroker
from pm.crypto import PrivateKeySigner, keccak256
from pm.evm import UINT256_MAX, u256
from pm.redemption import RedemptionPolicy, RedemptionQueue
from pm.store import MemoryTicketStore, TicketState
from pm.ticket import SignedTicket, Ticket

SENDER_KEY = PrivateKeySigner(bytes([0x71]) * 32)
FORGER = PrivateKeySigner(bytes([0x72]) * 32)
SENDER = SENDER_KEY.address
ORCH = bytes([0x0A]) * 20
OTHER = bytes([0x0B]) * 20
OWNER = bytes([0x0E]) * 20
FINAL = {TicketState.CONFIRMED, TicketState.FAILED, TicketState.EXPIRED}


class QueueMachine(RuleBasedStateMachine):
    @initialize(
        batch_size=st.sampled_from([1, 1, 3]),
        deposit=st.sampled_from([0, 5_000, 10**9]),
        reserve=st.sampled_from([0, 5_000, 10**9]),
        preflight=st.booleans(),
    )
    def setup(self, batch_size: int, deposit: int, reserve: int, preflight: bool) -> None:
        self.rounds = Rounds(50, block=100)
        self.bonding = Bonding([ORCH, OTHER])
        self.broker = TicketBroker(
            self.rounds, self.bonding, unlock_period=2, ticket_validity_period=2, owner=OWNER
        )
        self.chain = BrokerChain(self.broker, self.rounds, gas_price=1, redeem_gas=100)
        if deposit or reserve:
            self.broker.fund_deposit_and_reserve(SENDER, deposit, reserve, deposit + reserve)
        self.store = MemoryTicketStore()
        self.policy = RedemptionPolicy(
            redeem_gas=100, max_gas_price=5, batch_size=batch_size, preflight=preflight
        )
        self.queue = RedemptionQueue(self.store, self.chain, ORCH, policy=self.policy)
        self.nonce = 0
        self.winners: list[SignedTicket] = []

    @rule(face=st.integers(0, 3000), expire_in=st.integers(0, 15), forged=st.booleans())
    def winner_arrives(self, face: int, expire_in: int, forged: bool) -> None:
        self.nonce += 1
        rnd = self.rounds.last_initialized_round
        rand = 500 + self.nonce
        t = Ticket(
            ORCH, SENDER, face, UINT256_MAX, self.nonce, keccak256(u256(rand)), rnd,
            self.rounds.block_hash_for_round(rnd),
        )  # fmt: skip
        key = FORGER if forged else SENDER_KEY
        w = SignedTicket(t, key.sign(t.hash()), rand)
        self.winners.append(w)
        self.store.add(w, self.rounds.block + expire_in)

    @rule(n=st.integers(1, 12))
    def blocks_pass(self, n: int) -> None:
        self.rounds.advance_blocks(n)
        if not self.rounds.current_round_initialized():
            self.rounds.initialize_round()

    @rule(price=st.sampled_from([0, 1, 5, 6, 50]))
    def gas_price_moves(self, price: int) -> None:
        self.chain.gas_price_wei = price

    @rule(active=st.booleans())
    def recipient_activity(self, active: bool) -> None:
        self.bonding.set_active(ORCH, active)

    @rule(paused=st.sampled_from([False, False, True]))
    def pause(self, paused: bool) -> None:
        self.broker.paused = paused

    @rule(data=st.data())
    def third_party_front_runs(self, data: st.DataObject) -> None:
        if not self.winners:
            return
        w = data.draw(st.sampled_from(self.winners))
        with contextlib.suppress(Revert):
            self.broker.redeem_winning_ticket(OTHER, w.ticket, w.sig, w.recipient_rand)

    @rule()
    def restart(self) -> None:
        self.queue = RedemptionQueue(self.store, self.chain, ORCH, policy=self.policy)

    @rule()
    def process(self) -> None:
        self.queue.process()
        assert self.store.counts()[TicketState.SUBMITTED] == 0
        assert self.queue.monitor.pending_amount(SENDER) == 0

    @invariant()
    def confirmed_means_redeemed_by_its_tx(self) -> None:
        if not hasattr(self, "store"):
            return
        for row in self.store.tickets(states=[TicketState.CONFIRMED]):
            assert self.broker.used_tickets(row.ticket_hash)
            assert row.tx_id is not None
            assert row.ticket_hash in self.chain.receipts[row.tx_id].redeemed
        seen: set[bytes] = set()
        for rc in self.chain.receipts.values():
            for h in rc.redeemed:
                assert h not in seen, "redeemed twice"
                seen.add(h)

    def teardown(self) -> None:
        if not hasattr(self, "store"):
            return
        # after the validity window every ticket has a final answer
        self.broker.paused = False
        self.bonding.set_active(ORCH, True)
        self.chain.gas_price_wei = 1
        self.blocks_pass(16)  # every params expiration passed, still inside the window
        self.queue.process()
        self.rounds.advance_rounds(2)
        self.queue.process()
        assert {r.state for r in self.store.tickets()} <= FINAL
        for r in self.store.tickets():
            if r.state is TicketState.CONFIRMED:
                assert r.signed.sig == SENDER_KEY.sign(r.ticket_hash)


TestQueueStateful = QueueMachine.TestCase
TestQueueStateful.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
