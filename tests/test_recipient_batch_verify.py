"""Recipient with batch verification on (the default) and off gives identical results."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pm
from pm.crypto import PrivateKeySigner
from pm.errors import InvalidType

GATEWAY = PrivateKeySigner((0xB47C4).to_bytes(32, "big"))
ORCH = PrivateKeySigner((0x0C4).to_bytes(32, "big")).address
SECRET = bytes(range(32))
EV = 10**15  # against a 3.5e15 wei face value: tickets win with probability ~0.29

Outcome = list[tuple[str | None, bool, bool]]


def _chain() -> pm.InMemoryChain:
    chain = pm.InMemoryChain(
        l1_block=1000, round_=100, round_block_hashes={100: b"\x01" * 32}, gas_price=10**8
    )
    chain.default_sender_info = pm.SenderInfo(10**18, 0, 10**18)
    return chain


def _receive_both_ways(n: int, corrupt: list[tuple[int, int, int]]) -> tuple[Outcome, Outcome]:
    chain = _chain()
    fast = pm.Recipient(ORCH, SECRET, chain, pm.RecipientConfig(ticket_ev=EV, batch_verify=True))
    slow = pm.Recipient(ORCH, SECRET, chain, pm.RecipientConfig(ticket_ev=EV, batch_verify=False))
    sender = pm.Sender(GATEWAY, pm.SpendingPolicy(Fraction(2 * EV), Fraction(10**20), 1), chain)
    params = fast.ticket_params(GATEWAY.address, Fraction(1))
    batch = sender.create_batch(sender.start_session(params), n)
    sigs = bytearray(batch.signatures)
    for index, offset, xor in corrupt:
        if index < n:
            sigs[65 * index + offset] ^= xor
    tampered = pm.TicketBatch(
        batch.params, batch.sender, batch.expiration_params, batch.nonces, bytes(sigs)
    )
    outcomes = []
    for recipient in (fast, slow):
        results = recipient.receive(tampered, params.seed, params.price_per_pixel, manifest_id="m")
        outcomes.append(
            [
                (None if r.error is None else type(r.error).__name__, r.won, r.credited)
                for r in results
            ]
        )
    assert fast.balance(GATEWAY.address, "m") == slow.balance(GATEWAY.address, "m")
    return outcomes[0], outcomes[1]


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=120),
    corrupt=st.lists(st.tuples(st.integers(0, 119), st.integers(0, 64), st.integers(1, 255))),
)
def test_batch_verify_switch_does_not_change_results(
    n: int, corrupt: list[tuple[int, int, int]]
) -> None:
    fast, slow = _receive_both_ways(n, corrupt)
    assert fast == slow


def test_a_mixed_batch_with_winners_and_bad_signatures() -> None:
    fast, slow = _receive_both_ways(100, [(3, 10, 1), (40, 64, 3), (41, 40, 255), (99, 0, 7)])
    assert fast == slow
    assert {won for _, won, _ in fast} == {True, False}
    assert [i for i, (err, _, _) in enumerate(fast) if err] == [3, 40, 41, 99]
    assert not any(credited for _, _, credited in fast[3:])  # nothing after the first error


def test_batch_verify_must_be_a_bool() -> None:
    with pytest.raises(InvalidType):
        pm.RecipientConfig(batch_verify=1)  # type: ignore[arg-type]
    assert pm.RecipientConfig().batch_verify is True
