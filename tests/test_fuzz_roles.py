"""Bounded fuzzing of the roles layer (issue 9): what an orchestrator does with bytes from the
network (``Recipient.receive_payment`` with header values, protobuf bytes and Payment objects,
mostly mutations of a real gateway's payments), its other entry points with wrong values, and
the constructors of the role and wire value types.

Only ``PMError`` may escape. Whatever is accepted must keep the books straight: the credited
amount is the EV of an accepted prefix of the tickets, the balance is the sum of the credits,
and every winner reported is in the sink.
"""

from __future__ import annotations

import base64
from fractions import Fraction
from typing import Any

import pytest
from fuzz_support import budget, edge_ints, fuzz_input, junk, mostly
from hypothesis import given
from hypothesis import strategies as st

from pm.chain import InMemoryChain, SenderInfo
from pm.crypto import PrivateKeySigner
from pm.ticket import ExpirationParams

recipient_mod = pytest.importorskip("pm.recipient")
sender_mod = pytest.importorskip("pm.sender")
wire = pytest.importorskip("pm.wire")

RECIPIENT_ADDR = bytes.fromhex("73aed7b5deb30222fa896f399d46cc99c7bee57f")
SIGNER = PrivateKeySigner(bytes(31) + b"\x33")
PRICE = Fraction(1)


def _world() -> tuple[Any, Any, InMemoryChain]:
    chain = InMemoryChain(
        l1_block=100,
        round_=10,
        round_block_hashes={10: b"\x0a" * 32, 9: b"\x09" * 32},
        gas_price=1,
    )
    chain.set_sender_info(SIGNER.address, SenderInfo(10**18, 0, 10**18, 0))
    cfg = recipient_mod.RecipientConfig(redeem_gas=100, tx_cost_multiplier=100, ticket_ev=5000)
    r = recipient_mod.Recipient(RECIPIENT_ADDR, bytes(range(32)), chain, cfg)
    snd = sender_mod.Sender(
        SIGNER, sender_mod.SpendingPolicy(Fraction(10**9), Fraction(10**12), 1), chain
    )
    return r, snd, chain


# One orchestrator and the gateway's real payments for it (built once; a fresh Recipient per
# example keeps the nonce sets independent, with the same secret so the params stay valid).
_R, _SND, _CHAIN = _world()
_PARAMS = _R.ticket_params(SIGNER.address, PRICE)
_SID = _SND.start_session(_PARAMS)
SEED_PAYMENTS = [
    wire.encode_payment(
        wire.Payment.from_batch(_SND.create_batch(_SID, n), wire.PriceInfo.from_price(PRICE))
    )
    for n in (1, 3)
]


@st.composite
def mutated_payment(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEED_PAYMENTS)))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        pos = draw(st.integers(min_value=0, max_value=len(data) - 1)) if data else 0
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=12))
        elif op == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 20))]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


payments = st.one_of(
    mutated_payment(),
    mutated_payment().map(lambda b: base64.b64encode(b).decode()),
    mutated_payment().map(lambda b: base64.b64encode(b).decode()[:-1]),
    st.binary(max_size=120),
    st.text(max_size=40),
    junk,
)


@budget(150)
@given(payment=payments, manifest=st.sampled_from(["", "m1"]))
def test_fuzz_receive_payment(payment: Any, manifest: str) -> None:
    r = recipient_mod.Recipient(RECIPIENT_ADDR, bytes(range(32)), _CHAIN, _R.config)
    with fuzz_input("Recipient.receive_payment"):
        res = r.receive_payment(payment, manifest_id=manifest)
        n = len(res)
        credited_prefix = sum(1 for item in res if item.credited)
        assert all(item.credited for item in list(res)[:credited_prefix])  # a prefix
        if n:
            ev = _PARAMS.ev if res.credited else res.credited
            assert res.credited == ev * credited_prefix
        bal = r.balance(SIGNER.address, manifest)
        assert (bal or 0) == res.credited
        stored = {st.sig for st, _ in r.sink.tickets()}
        assert len(stored) == len(res.winners)
        # Replaying the same payment credits nothing more.
        again = r.receive_payment(payment, manifest_id=manifest)
        assert again.credited == 0
        assert (r.balance(SIGNER.address, manifest) or 0) == res.credited


@budget(150)
@given(
    sender=mostly(st.just(SIGNER.address), st.one_of(st.binary(max_size=21), junk)),
    price=mostly(st.one_of(st.fractions(max_denominator=1000), st.integers(-5, 10**6)), junk),
)
def test_fuzz_ticket_params(sender: Any, price: Any) -> None:
    with fuzz_input("Recipient.ticket_params"):
        p = _R.ticket_params(sender, price)
        assert p.recipient == RECIPIENT_ADDR
        assert 0 <= p.win_prob <= 2**256 - 1


@budget(150)
@given(
    seed=mostly(st.just(_PARAMS.seed), st.one_of(edge_ints, junk)),
    price=mostly(st.just(PRICE), st.one_of(st.fractions(), junk, st.tuples(edge_ints, edge_ints))),
    batch=mostly(st.just(None), junk),
)
def test_fuzz_receive_arguments(seed: Any, price: Any, batch: Any) -> None:
    r = recipient_mod.Recipient(RECIPIENT_ADDR, bytes(range(32)), _CHAIN, _R.config)
    real = _SND.create_batch(_SID, 2)
    with fuzz_input("Recipient.receive(args)"):
        res = r.receive(real if batch is None else batch, seed, price)
        assert len(res) in (1, 2)  # a fatal error reports the first ticket only


@budget(100)
@given(
    session=mostly(st.just(_SID), st.one_of(st.text(max_size=8), junk)),
    n=st.one_of(edge_ints, junk),
)
def test_fuzz_create_batch(session: Any, n: Any) -> None:
    with fuzz_input("Sender.create_batch"):
        if isinstance(n, int) and n > 50:
            n = 50 + n % 7  # keep signing bounded; huge n are covered below
        batch = _SND.create_batch(session, n)
        assert len(batch) == n
        assert len(set(batch.nonces)) == n


@budget(150)
@given(
    fields=st.fixed_dictionaries(
        {
            "redeem_gas": mostly(st.integers(0, 10**7), st.one_of(edge_ints, junk)),
            "ticket_ev": mostly(st.integers(0, 10**12), st.one_of(edge_ints, junk)),
            "max_sender_nonces": mostly(st.integers(0, 1000), st.one_of(edge_ints, junk)),
        }
    ),
    policy=st.tuples(
        mostly(st.fractions(min_value=0), st.one_of(st.fractions(), junk)),
        mostly(st.fractions(min_value=0), st.one_of(st.fractions(), junk)),
        mostly(st.integers(1, 10), st.one_of(edge_ints, junk)),
        mostly(st.none(), st.one_of(edge_ints, junk)),
    ),
    info=st.tuples(edge_ints, edge_ints, mostly(st.integers(0, 10**20), junk), edge_ints),
)
def test_fuzz_role_constructors(fields: dict[str, Any], policy: tuple[Any, ...], info: Any) -> None:
    with fuzz_input("RecipientConfig"):
        cfg = recipient_mod.RecipientConfig(**fields)
        assert cfg.redeem_gas == fields["redeem_gas"]
    with fuzz_input("SpendingPolicy"):
        sp = sender_mod.SpendingPolicy(*policy)
        assert sp.deposit_multiplier > 0
    with fuzz_input("SenderInfo"):
        si = SenderInfo(*info)
        assert si.deposit >= 0 and si.withdraw_round >= 0


@budget(150)
@given(
    ppu=mostly(st.integers(-(2**63), 2**63 - 1), st.one_of(edge_ints, junk)),
    pixels=mostly(st.integers(0, 2**63 - 1), st.one_of(edge_ints, junk)),
    recipient=mostly(st.just(RECIPIENT_ADDR), st.one_of(st.binary(max_size=21), junk)),
    face_value=mostly(st.integers(0, 2**256 - 1), st.one_of(edge_ints, junk)),
    nonces=mostly(
        st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=2).map(tuple),
        st.one_of(junk, st.binary(), st.lists(edge_ints, max_size=3).map(tuple)),
    ),
    sigs=mostly(
        st.lists(st.binary(min_size=65, max_size=65), min_size=2, max_size=2).map(tuple),
        st.one_of(junk, st.lists(st.binary(max_size=70), max_size=3).map(tuple)),
    ),
)
def test_fuzz_wire_constructors(
    ppu: Any, pixels: Any, recipient: Any, face_value: Any, nonces: Any, sigs: Any
) -> None:
    with fuzz_input("wire.PriceInfo"):
        price = wire.PriceInfo(ppu, pixels)
        if pixels:
            assert price.price_per_pixel == Fraction(ppu, pixels)
    with fuzz_input("wire.WireTicketParams/Payment"):
        tp = wire.WireTicketParams(recipient, face_value, 2**200, bytes(32), 5, 100)
        p = wire.Payment(
            ticket_params=tp,
            sender=SIGNER.address,
            expiration_params=ExpirationParams(3, b"\x03" * 32),
            nonces=nonces,
            sigs=sigs,
            expected_price=wire.PriceInfo(1, 1),
        )
        assert wire.decode_payment(wire.encode_payment(p)) == p
        assert len(p.to_batch()) == len(p)


@pytest.mark.parametrize("session", [None, ["x"], b"0x00", 5], ids=["none", "list", "bytes", "int"])
def test_sender_rejects_non_str_session_ids_with_pm_error(session: Any) -> None:
    from pm.errors import PMError

    for call in (
        lambda: _SND.create_batch(session, 1),
        lambda: _SND.session_nonce(session),
        lambda: _SND.session_params(session),
    ):
        with pytest.raises(PMError):
            call()
