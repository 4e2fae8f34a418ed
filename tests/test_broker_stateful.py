"""A Hypothesis state machine over the reference TicketBroker on pm's own Rounds / Bonding /
Minter models: funding (self and third party, with wrong msg.value), unlocks, cancels,
withdrawals, round changes (initialized or not), pool and active-set changes, pauses, and
redemptions of valid, forged, replayed and expired tickets, single and batched.

After every step: ETH is conserved (funded = withdrawn + fees credited to recipients + still
held by senders), no ticket is paid twice, no payout exceeds its face value, every reserve
claim stays within the claimant's per-round share, and a reverted call changed nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)
from test_broker_helpers import state

from pm.broker import Bonding, ContractTicket, Minter, Revert, Rounds, TicketBroker
from pm.crypto import PrivateKeySigner, keccak256
from pm.evm import UINT256_MAX, u256

SIGNERS = [PrivateKeySigner(bytes([0x41 + i]) * 32) for i in range(2)]
FORGER = PrivateKeySigner(bytes([0x66]) * 32)
SENDERS = [s.address for s in SIGNERS]
RECIPIENTS = [bytes([0xB0 + i]) * 20 for i in range(3)]
FUNDER = bytes([0xF1]) * 20
OWNER = bytes([0x0E]) * 20
ROUND_LENGTH = 10
VALIDITY = 2

amounts = st.integers(0, 3000)


class BrokerMachine(RuleBasedStateMachine):
    tickets = Bundle("tickets")
    redeemed = Bundle("redeemed")

    @initialize(variant=st.sampled_from(["deployed", "pr657"]), unlock_period=st.integers(0, 3))
    def setup(self, variant: str, unlock_period: int) -> None:
        self.rounds = Rounds(ROUND_LENGTH, block=100)
        self.minter = Minter()
        self.bonding = Bonding(RECIPIENTS[:2], minter=self.minter)
        self.bonding.register(RECIPIENTS[2])  # registered, outside the pool, inactive
        self.broker = TicketBroker(
            self.rounds,
            self.bonding,
            unlock_period=unlock_period,
            ticket_validity_period=VALIDITY,
            owner=OWNER,
            variant=variant,  # type: ignore[arg-type]
            minter=self.minter,
        )
        self.funded = 0
        self.nonce = 0
        self.paid: dict[bytes, int] = {}
        self.face: dict[bytes, int] = {}
        self.outcomes: dict[str | None, int] = {}
        for s in SENDERS:
            self.broker.fund_deposit_and_reserve(s, 1000, 2000, 3000)
            self.funded += 3000

    # -- helpers ------------------------------------------------------------------------

    def _call(self, fn: Any, *args: Any) -> str | None:
        """Run a broker call; on revert check that nothing changed and return the reason."""
        before = state(self.broker)
        fees_before = dict(self.bonding.fees)
        try:
            fn(*args)
        except Revert as e:
            assert state(self.broker) == before
            assert self.bonding.fees == fees_before
            return e.reason
        return None

    def _payouts(self, start: int) -> None:
        """Record WinningTicketTransfer amounts of events[start:] per ticket."""
        events = self.broker.events[start:]
        transfers = [e for e in events if e.name == "WinningTicketTransfer"]
        redeemed_events = [e for e in events if e.name == "WinningTicketRedeemed"]
        # a transfer immediately precedes its ticket's WinningTicketRedeemed
        for e in redeemed_events:
            t = ContractTicket(
                e.args["recipient"],
                e.args["sender"],
                e.args["faceValue"],
                e.args["winProb"],
                e.args["senderNonce"],
                keccak256(u256(e.args["recipientRand"])),
                e.args["auxData"],
            )
            h = t.hash()
            assert h not in self.paid, "ticket paid twice"
            idx = events.index(e)
            amount = 0
            if idx > 0 and events[idx - 1].name == "WinningTicketTransfer":
                amount = events[idx - 1].args["amount"]
            assert amount <= t.face_value, "payout above face value"
            self.paid[h] = amount
        assert len(transfers) <= len(redeemed_events)

    def _make(
        self, sender_i: int, face: int, recipient_i: int, round_back: int, forged: bool
    ) -> tuple[Any, ...]:
        self.nonce += 1
        rnd = max(self.rounds.last_initialized_round - round_back, 0)
        bh = self.rounds.block_hash_for_round(rnd)
        rand = 1000 + self.nonce
        t = ContractTicket(
            RECIPIENTS[recipient_i],
            SENDERS[sender_i],
            face,
            UINT256_MAX,
            self.nonce,
            keccak256(u256(rand)),
            u256(rnd) + bh,
        )
        signer = FORGER if forged else SIGNERS[sender_i]
        self.face[t.hash()] = face
        return (t, signer.sign(t.hash()), rand, forged)

    # -- funding / unlock / withdraw ----------------------------------------------------

    @rule(i=st.integers(0, 1), v=amounts)
    def fund_deposit(self, i: int, v: int) -> None:
        if self._call(self.broker.fund_deposit, SENDERS[i], v) is None:
            self.funded += v

    @rule(i=st.integers(0, 1), v=amounts)
    def fund_reserve(self, i: int, v: int) -> None:
        if self._call(self.broker.fund_reserve, SENDERS[i], v) is None:
            self.funded += v

    @rule(
        i=st.integers(0, 1),
        d=amounts,
        r=amounts,
        off=st.sampled_from([0, 0, 0, 1, -1]),
        third=st.booleans(),
    )
    def fund_both(self, i: int, d: int, r: int, off: int, third: bool) -> None:
        caller = FUNDER if third else SENDERS[i]
        value = max(d + r + off, 0)
        was_unlocking = self.broker.is_unlock_in_progress(SENDERS[i])
        reason = self._call(
            self.broker.fund_deposit_and_reserve_for, caller, SENDERS[i], d, r, value
        )
        if value != d + r:
            assert reason in (
                "msg.value does not equal sum of deposit amount and reserve amount",
                "system is paused",
            )
        if reason is None:
            self.funded += value
            # only the sender itself cancels its unlock (d153b78)
            assert self.broker.is_unlock_in_progress(SENDERS[i]) == (was_unlocking and third)

    @rule(i=st.integers(0, 1))
    def unlock(self, i: int) -> None:
        self._call(self.broker.unlock, SENDERS[i])

    @rule(i=st.integers(0, 1))
    def cancel_unlock(self, i: int) -> None:
        self._call(self.broker.cancel_unlock, SENDERS[i])

    @rule(i=st.integers(0, 1))
    def withdraw(self, i: int) -> None:
        info = self.broker.get_sender_info(SENDERS[i])
        reason = self._call(self.broker.withdraw, SENDERS[i])
        if reason is None:
            assert self.minter.withdrawn[SENDERS[i]] >= info.deposit + info.funds_remaining
            assert self.broker.get_sender_info(SENDERS[i]).withdraw_round == info.withdraw_round

    @rule(i=st.integers(0, 1))
    def recipient_withdraws_fees(self, i: int) -> None:
        if self.bonding.fees.get(RECIPIENTS[i], 0):
            self.bonding.withdraw_fees(RECIPIENTS[i])

    # -- environment ------------------------------------------------------------------------

    @rule(initialize=st.sampled_from([True, True, True, False]))
    def next_round(self, initialize: bool) -> None:
        self.rounds.advance_rounds(1, initialize=initialize)

    @rule()
    def initialize_round(self) -> None:
        if not self.rounds.current_round_initialized():
            self.rounds.initialize_round()

    @rule(i=st.integers(0, 2), active=st.booleans())
    def set_active(self, i: int, active: bool) -> None:
        self.bonding.set_active(RECIPIENTS[i], active)

    @rule(i=st.integers(0, 2), add=st.booleans())
    def pool_change(self, i: int, add: bool) -> None:
        if add:
            self.bonding.add_transcoder(RECIPIENTS[i], active=False)
        else:
            self.bonding.remove_from_pool(RECIPIENTS[i])

    @rule(paused=st.sampled_from([False, False, True]))
    def pause(self, paused: bool) -> None:
        self.broker.paused = paused

    # -- tickets --------------------------------------------------------------------------

    @rule(
        target=tickets,
        i=st.integers(0, 1),
        face=st.integers(0, 4000),
        r=st.integers(0, 2),
        back=st.sampled_from([0, 0, 0, 1, 2, 3]),
        forged=st.sampled_from([False, False, False, True]),
    )
    def make_ticket(self, i: int, face: int, r: int, back: int, forged: bool) -> tuple[Any, ...]:
        return self._make(i, face, r, back, forged)

    def _expect(self, t: ContractTicket, forged: bool) -> list[str] | None:
        """The reasons a single redemption may legitimately give before its funds checks,
        evaluated in the contract's order; None when it must get past signature and win."""
        if self.broker.paused:
            return ["system is paused"]
        if not self.rounds.current_round_initialized():
            return ["current round is not initialized"]
        if self.rounds.block_hash_for_round(t.creation_round) == bytes(32):
            return ["ticket creationRound does not have a block hash"]
        if t.creation_round + VALIDITY <= self.rounds.current_round():
            return ["ticket is expired"]
        if self.broker.used_tickets(t.hash()):
            return ["ticket is used"]
        if forged:
            return ["invalid signature over ticket hash"]
        return None

    def _redeem_one(self, item: tuple[Any, ...]) -> str | None:
        t, sig, rand, forged = item
        expected = self._expect(t, forged)
        holder, claimant = t.sender, t.recipient
        try:
            share = self.broker.claimable_reserve(holder, claimant)
        except Revert:
            share = None
        start = len(self.broker.events)
        reason = self._call(self.broker.redeem_winning_ticket, RECIPIENTS[0], t, sig, rand)
        self.outcomes[reason] = self.outcomes.get(reason, 0) + 1
        if expected is not None:
            assert reason in expected, (reason, expected)
        elif reason is not None:
            assert reason in (
                "sender is unlocked",
                "sender deposit and reserve are zero",
                "sender deposit and reserve insufficient to cover ticket face value",
                "transcoder must be registered",
                "Panic(0x12)",
                "Panic(0x11)",
            ), reason
        else:
            claims = [e for e in self.broker.events[start:] if e.name == "ReserveClaimed"]
            for c in claims:
                assert share is not None and c.args["amount"] <= share, "claim above share"
            self._payouts(start)
        return reason

    @rule(
        i=st.integers(0, 1),
        face=st.integers(0, 4000),
        r=st.sampled_from([0, 0, 1, 1, 2]),
        forged=st.sampled_from([False, False, False, True]),
    )
    def make_and_redeem(self, i: int, face: int, r: int, forged: bool) -> None:
        self._redeem_one(self._make(i, face, r, 0, forged))

    @rule(target=redeemed, item=consumes(tickets))
    def redeem(self, item: tuple[Any, ...]) -> tuple[Any, ...]:
        self._redeem_one(item)
        return item

    @rule(item=redeemed)
    def replay(self, item: tuple[Any, ...]) -> None:
        t = item[0]
        was_used = self.broker.used_tickets(t.hash())
        reason = self._redeem_one(item)
        if was_used:
            assert reason in (
                "system is paused",
                "current round is not initialized",
                "ticket is expired",
                "ticket is used",
            )

    @rule(items=st.lists(tickets, min_size=1, max_size=4))
    def batch(self, items: list[tuple[Any, ...]]) -> None:
        start = len(self.broker.events)
        before = state(self.broker)
        try:
            results = self.broker.batch_redeem_winning_tickets(
                FUNDER, [x[0] for x in items], [x[1] for x in items], [x[2] for x in items]
            )
        except Revert as e:
            assert e.reason in ("system is paused", "current round is not initialized")
            assert state(self.broker) == before
            return
        n_ok = sum(r is None for r in results)
        redeemed_events = [
            e for e in self.broker.events[start:] if e.name == "WinningTicketRedeemed"
        ]
        assert len(redeemed_events) == n_ok
        for (_, _, _, forged), r in zip(items, results, strict=True):
            if forged:
                assert r is not None
        self._payouts(start)

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def eth_conserved(self) -> None:
        if not hasattr(self, "broker"):
            return
        m = self.minter
        assert m.deposited == self.funded
        assert m.balance == self.broker.total_held + self.bonding.fees_held
        assert self.funded == m.total_withdrawn + self.bonding.fees_held + self.broker.total_held
        assert self.bonding.fees_credited == sum(self.paid.values())

    @invariant()
    def claims_within_share(self) -> None:
        if not hasattr(self, "broker"):
            return
        b = self.broker
        for (holder, rnd), total in b._claimed_for_round.items():
            by = [v for (h, r, _), v in b._claimed_by_address.items() if h == holder and r == rnd]
            assert sum(by) == total

    @invariant()
    def used_means_redeemed(self) -> None:
        if not hasattr(self, "broker"):
            return
        assert {h for h, v in self.broker._used.items() if v} == set(self.paid)


TestBrokerStateful = BrokerMachine.TestCase
TestBrokerStateful.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
