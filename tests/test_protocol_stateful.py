"""Hypothesis state machine over the whole protocol model (bounded): random bonding, rewards,
fees, claims, transfers, withdrawals and rounds, with the conservation and pool invariants of
issue 12 checked after every step:

- LPT: supply = faucet + minted; the Minter holds exactly Σ delegatedAmount + Σ unbonding locks
  (bonded, unbonding and unclaimed stake); every pending stake is covered by its delegate's stake
  (the contract's truncations and forfeits only ever leave LPT unclaimed, never create it).
- ETH: credited fees = Minter balance + withdrawn; pending fees never exceed what is held.
- Pool: sorted, size <= max, keys = delegated stake, next-round total = Σ keys, members
  registered and active from the next round at the latest.
- Claims: claiming in forward, reverse or interleaved order gives every delegator exactly the
  pending stake and fees the view functions reported (a second claim in the same round is a
  no-op, as in the contract); dry-run, so the models are left untouched.
"""

from __future__ import annotations

import itertools

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pm.evm import Revert
from pm.protocol import MAX_FUTURE_ROUND, UNIT_TEST, Protocol, dry_run
from pm.protocol.mocks import label

E18 = 10**18
TRANSCODERS = [label(f"t{i}") for i in range(4)]
DELEGATORS = [label(f"d{i}") for i in range(4)]
ACCOUNTS = TRANSCODERS + DELEGATORS
amounts = st.integers(1, 5000).map(lambda x: x * E18 // 7)


class ProtocolMachine(RuleBasedStateMachine):
    p: Protocol

    @initialize()
    def setup(self) -> None:
        from dataclasses import replace

        self.p = Protocol(replace(UNIT_TEST, num_active_transcoders=3), with_broker=False)
        self.faucet = 0
        self.fees_credited = 0
        for t in TRANSCODERS[:2]:
            self._fund(t, 1000 * E18)
            self.p.bond(t, 1000 * E18, t)
        self.p.advance_rounds(1)

    def _fund(self, who: bytes, amount: int) -> None:
        self.p.faucet(who, amount)
        self.faucet += amount

    def _snapshot(self) -> object:
        p = self.p
        bm = p.bonding_manager
        return (
            [bm.get_delegator(a) for a in ACCOUNTS],
            [bm.get_transcoder(a) for a in ACCOUNTS],
            [bm.get_delegator_unbonding_lock(a, i) for a in ACCOUNTS for i in range(4)],
            bm.transcoder_pool_members(),
            bm.next_round_total_active_stake,
            p.token.holders(),
            p.minter.eth_balance,
            len(bm.events),
            len(p.token.events),
            len(p.bonding_votes.events),
        )

    def _try(self, fn: object) -> None:
        """Run a transaction; a revert must leave every model exactly as it was."""
        before = self._snapshot()
        try:
            fn()  # type: ignore[operator]
        except Revert:
            assert self._snapshot() == before

    @rule(who=st.sampled_from(ACCOUNTS), to=st.sampled_from(TRANSCODERS), amount=amounts)
    def bond(self, who: bytes, to: bytes, amount: int) -> None:
        self._fund(who, amount)
        self.p.token.approve(who, self.p.bonding_manager.address, amount)
        self._try(lambda: self.p.bonding_manager.bond(who, amount, to))

    @rule(who=st.sampled_from(ACCOUNTS), frac=st.integers(1, 4))
    def unbond(self, who: bytes, frac: int) -> None:
        bonded = self.p.bonding_manager.pending_stake(who, 0)
        self._try(lambda: self.p.bonding_manager.unbond(who, max(1, bonded * frac // 4)))

    def _lock(self, who: bytes, pick: int) -> int:
        """One of ``who``'s valid lock ids (or an invalid one if it has none)."""
        bm = self.p.bonding_manager
        ids = [
            i
            for i in range(bm.get_delegator(who).next_unbonding_lock_id)
            if bm.is_valid_unbonding_lock(who, i)
        ]
        return ids[pick % len(ids)] if ids else pick

    @rule(who=st.sampled_from(ACCOUNTS), pick=st.integers(0, 3), to=st.sampled_from(TRANSCODERS))
    def rebond(self, who: bytes, pick: int, to: bytes) -> None:
        bm = self.p.bonding_manager
        lock = self._lock(who, pick)
        self._try(lambda: bm.rebond(who, lock))
        self._try(lambda: bm.rebond_from_unbonded(who, to, lock))

    @rule(who=st.sampled_from(ACCOUNTS), pick=st.integers(0, 3))
    def withdraw_stake(self, who: bytes, pick: int) -> None:
        lock = self._lock(who, pick)
        self._try(lambda: self.p.bonding_manager.withdraw_stake(who, lock))

    @rule(t=st.sampled_from(TRANSCODERS))
    def reward(self, t: bytes) -> None:
        self._try(lambda: self.p.bonding_manager.reward(t))

    @rule(t=st.sampled_from(TRANSCODERS), rc=st.integers(0, 10**6), fs=st.integers(0, 10**6))
    def transcoder(self, t: bytes, rc: int, fs: int) -> None:
        self._try(lambda: self.p.bonding_manager.transcoder(t, rc, fs))

    @rule(t=st.sampled_from(TRANSCODERS), fees=st.integers(1, 10**18))
    def fees(self, t: bytes, fees: int) -> None:
        p = self.p
        before = p.minter.eth_balance

        def credit() -> None:
            p.bonding_manager.update_transcoder_with_fees(p.TICKET_BROKER, t, fees, p.current_round)
            p.minter.deposit_eth(p.minter.jobs_manager, fees)  # the ticket's ETH sits here

        self._try(credit)
        self.fees_credited += p.minter.eth_balance - before

    @rule(who=st.sampled_from(ACCOUNTS), frac=st.integers(0, 2))
    def withdraw_fees(self, who: bytes, frac: int) -> None:
        fees = self.p.bonding_manager.pending_fees(who, 0)
        self._try(lambda: self.p.bonding_manager.withdraw_fees(who, who, fees * frac // 2))

    @rule(who=st.sampled_from(ACCOUNTS))
    def claim(self, who: bytes) -> None:
        self._try(lambda: self.p.bonding_manager.claim_earnings(who, 0))

    @rule(who=st.sampled_from(ACCOUNTS), to=st.sampled_from(ACCOUNTS), frac=st.integers(1, 4))
    def transfer_bond(self, who: bytes, to: bytes, frac: int) -> None:
        bonded = self.p.bonding_manager.pending_stake(who, 0)
        self._try(lambda: self.p.bonding_manager.transfer_bond(who, to, max(1, bonded * frac // 4)))

    @rule(n=st.integers(1, 3))
    def advance(self, n: int) -> None:
        self.p.advance_rounds(n)

    # -- invariants -----------------------------------------------------------------------
    @invariant()
    def lpt_conserved(self) -> None:
        p = self.p
        bm = p.bonding_manager
        minted = sum(e.args["amount"] for e in p.token.events if e.name == "Mint")
        assert p.token.total_supply() == minted == sum(p.token.holders().values())
        assert minted - self.faucet == sum(
            e.args["amount"]
            for e in p.token.events
            if e.name == "Mint" and e.args["to"] == p.minter.address
        )
        delegated = sum(bm.transcoder_total_stake(a) for a in [*ACCOUNTS, bytes(20)])
        locks = sum(
            bm.get_delegator_unbonding_lock(a, i).amount
            for a in ACCOUNTS
            for i in range(bm.get_delegator(a).next_unbonding_lock_id)
        )
        assert p.token.balance_of(p.minter.address) == delegated + locks
        for t in ACCOUNTS:
            backing = sum(
                bm.pending_stake(d, 0)
                for d in ACCOUNTS
                if bm.get_delegator(d).delegate_address == t
            )
            assert backing <= bm.transcoder_total_stake(t)

    @invariant()
    def fees_conserved(self) -> None:
        p = self.p
        m = p.minter
        assert self.fees_credited == m.eth_balance + sum(m.eth_paid.values())
        pending = sum(p.bonding_manager.pending_fees(a, 0) for a in ACCOUNTS)
        assert pending <= m.eth_balance

    @invariant()
    def pool_invariants(self) -> None:
        bm = self.p.bonding_manager
        members = bm.transcoder_pool_members()
        keys = [k for _, k in members]
        assert keys == sorted(keys, reverse=True)
        assert len(members) == bm.get_transcoder_pool_size() <= bm.get_transcoder_pool_max_size()
        assert bm.next_round_total_active_stake == sum(keys)
        cur = self.p.current_round
        for t, k in members:
            assert k == bm.transcoder_total_stake(t)
            assert bm.is_registered_transcoder(t)
            tr = bm.get_transcoder(t)
            assert tr.activation_round <= cur + 1 and tr.deactivation_round == MAX_FUTURE_ROUND
        for t in TRANSCODERS:
            if t not in dict(members):
                assert bm.get_transcoder(t).deactivation_round <= cur + 1

    @invariant()
    def claims_order_independent(self) -> None:
        bm = self.p.bonding_manager
        cur = self.p.current_round
        # a claim in a round already claimed is a no-op (even if fees arrived since)
        want = [
            (bm.pending_stake(a, 0), bm.pending_fees(a, 0))
            if bm.get_delegator(a).last_claim_round < cur
            else (bm.get_delegator(a).bonded_amount, bm.get_delegator(a).fees)
            for a in ACCOUNTS
        ]

        def claim_all(order: list[int]) -> list[tuple[int, int]]:
            for i in order:
                bm.claim_earnings(ACCOUNTS[i], 0)
            return [(bm.get_delegator(a).bonded_amount, bm.get_delegator(a).fees) for a in ACCOUNTS]

        idx = list(range(len(ACCOUNTS)))
        for order in (idx, idx[::-1], list(itertools.chain(idx[1::2], idx[::2]))):
            assert dry_run(lambda o=order: claim_all(o)) == want  # type: ignore[misc]


ProtocolMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=40, deadline=None)
TestProtocolMachine = ProtocolMachine.TestCase
