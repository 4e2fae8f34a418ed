"""Recipient.receive_payment: a Payment (object, header or bytes) through §5.6's
payment-level checks, in go-livepeer's order, and then the ticket checks."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from pm import wire
from pm.chain import InMemoryChain, SenderInfo
from pm.crypto import PrivateKeySigner, to_checksum_address
from pm.errors import (
    Base64DecodeError,
    InvalidExpectedPrice,
    InvalidRecipientRand,
    PaymentError,
    ProtobufDecodeError,
)
from pm.recipient import Recipient
from pm.ticket import ExpirationParams, TicketBatch, TicketParams

GATEWAY = PrivateKeySigner(bytes(31) + b"\x2a")
ORCH = bytes.fromhex("73AEd7b5dEb30222fa896f399d46cC99c7BEe57F")
BLOCK_HASH = bytes(range(1, 33))
PRICE = wire.PriceInfo(5, 4)


def make_recipient() -> Recipient:
    chain = InMemoryChain(
        l1_block=100,
        round_=7,
        round_block_hashes={7: BLOCK_HASH},
        gas_price=1_000_000_000,
        pool_size=1,
        default_sender_info=SenderInfo(10**20, 0, 10**20),
    )
    return Recipient(ORCH, bytes(31) + b"\x03", chain)


def signed_batch(params: TicketParams, nonces: list[int]) -> TicketBatch:
    exp = params.expiration_params or ExpirationParams()
    sigs = GATEWAY.sign_tickets(params.ticket(GATEWAY.address, 0, exp), nonces)
    return TicketBatch(params, GATEWAY.address, exp, nonces, sigs)  # type: ignore[arg-type]


@pytest.fixture
def setup() -> tuple[Recipient, TicketParams, wire.Payment]:
    recipient = make_recipient()
    # what the gateway receives in OrchestratorInfo, and decodes
    info = wire.OrchestratorInfo(
        ticket_params=wire.WireTicketParams.from_params(
            recipient.ticket_params(GATEWAY.address, PRICE.price_per_pixel)
        ),
        price_info=PRICE,
        address=ORCH,
    )
    params = wire.decode_orchestrator_info(wire.encode_orchestrator_info(info)).params()
    assert params.expiration_params == ExpirationParams(7, BLOCK_HASH)
    payment = wire.Payment.from_batch(signed_batch(params, [1, 2, 3]), PRICE)
    return recipient, params, payment


def test_header_payment_is_credited(setup: tuple[Recipient, TicketParams, wire.Payment]) -> None:
    recipient, params, payment = setup
    results = recipient.receive_payment(wire.encode_payment_header(payment), manifest_id="m1")
    assert results.ok, results.error
    assert [r.nonce for r in results] == [1, 2, 3]
    assert all(r.credited for r in results)
    assert results.credited == 3 * params.ev
    assert recipient.balance(GATEWAY.address, "m1") == 3 * params.ev


def test_bytes_and_objects_are_accepted(
    setup: tuple[Recipient, TicketParams, wire.Payment],
) -> None:
    recipient, _, payment = setup
    assert recipient.receive_payment(wire.encode_payment(payment)).ok
    again = recipient.receive_payment(payment)  # same nonces: replay
    assert not again.ok
    assert "already seen" in str(again.error)
    assert not any(r.credited for r in again)


def test_free_payment_has_no_tickets(setup: tuple[Recipient, TicketParams, wire.Payment]) -> None:
    recipient, _, _ = setup
    results = recipient.receive_payment(wire.Payment(sender=GATEWAY.address))
    assert results.ok and len(results) == 0
    assert recipient.balance(GATEWAY.address) is None
    assert len(recipient.receive_payment("")) == 0  # an empty header is an empty Payment


def test_missing_sender_first(setup: tuple[Recipient, TicketParams, wire.Payment]) -> None:
    recipient, _, payment = setup
    # no sender AND no price AND an inactive orchestrator: the sender check comes first
    broken = dataclasses.replace(payment, sender=None, expected_price=None)
    with pytest.raises(PaymentError, match=r"^Could not find Sender for payment: ") as e:
        recipient.receive_payment(broken, is_active=lambda addr: False)
    assert e.value.fatal


def test_inactive_orchestrator_before_price(
    setup: tuple[Recipient, TicketParams, wire.Payment],
) -> None:
    recipient, _, payment = setup
    seen: list[bytes] = []

    def inactive(addr: bytes) -> bool:
        seen.append(addr)
        return False

    with pytest.raises(PaymentError) as e:
        recipient.receive_payment(
            dataclasses.replace(payment, expected_price=None), is_active=inactive
        )
    assert str(e.value) == (
        f"orchestrator {to_checksum_address(ORCH)} is inactive in round 7, "
        "cannot process payments"
    )
    assert seen == [ORCH]
    assert recipient.receive_payment(payment, is_active=lambda addr: addr == ORCH).ok


@pytest.mark.parametrize(
    ("price", "reason"),
    [(None, "expected price is nil"), (wire.PriceInfo(5, 0), "pixels per unit is 0")],
)
def test_expected_price_checked_before_tickets(
    setup: tuple[Recipient, TicketParams, wire.Payment],
    price: wire.PriceInfo | None,
    reason: str,
) -> None:
    recipient, _, payment = setup
    with pytest.raises(InvalidExpectedPrice) as e:
        recipient.receive_payment(dataclasses.replace(payment, expected_price=price))
    assert str(e.value) == f'invalid expected price sent with payment err="{reason}"'
    assert e.value.fatal
    # nothing was tracked: the same nonces are still fresh
    assert recipient.receive_payment(payment).ok


def test_other_price_breaks_the_commitment(
    setup: tuple[Recipient, TicketParams, wire.Payment],
) -> None:
    recipient, _, payment = setup
    results = recipient.receive_payment(
        dataclasses.replace(payment, expected_price=wire.PriceInfo(10, 8))  # same ratio, OK
    )
    assert results.ok
    results = recipient.receive_payment(
        dataclasses.replace(
            payment, nonces=(4,), sigs=payment.sigs[:1], expected_price=wire.PriceInfo(6, 4)
        )
    )
    assert isinstance(results.fatal, InvalidRecipientRand)


def test_field_3_expiration_params_are_used(
    setup: tuple[Recipient, TicketParams, wire.Payment],
) -> None:
    recipient, _, payment = setup
    # field 7 inside the params is ignored; field 3 is what the tickets are built with
    assert payment.ticket_params is not None
    with_field_7 = dataclasses.replace(
        payment,
        ticket_params=dataclasses.replace(
            payment.ticket_params, expiration_params=ExpirationParams(1, bytes(32))
        ),
    )
    assert recipient.receive_payment(with_field_7).ok
    other_round = dataclasses.replace(payment, expiration_params=ExpirationParams(6, BLOCK_HASH))
    assert isinstance(recipient.receive_payment(other_round).fatal, InvalidRecipientRand)
    missing = dataclasses.replace(payment, expiration_params=None)
    with pytest.raises(PaymentError, match="expiration params"):
        recipient.receive_payment(missing)


def test_bad_signature_is_per_ticket(setup: tuple[Recipient, TicketParams, wire.Payment]) -> None:
    recipient, params, payment = setup
    sigs = (payment.sigs[0], payment.sigs[1][:64], payment.sigs[2])
    results = recipient.receive_payment(dataclasses.replace(payment, sigs=sigs))
    assert results.fatal is None
    assert str(results.error) == "invalid ticket signature"
    assert [r.credited for r in results] == [True, False, False]
    assert results.credited == params.ev


def test_malformed_headers(setup: tuple[Recipient, TicketParams, wire.Payment]) -> None:
    recipient, _, _ = setup
    with pytest.raises(Base64DecodeError, match=r"^base64 decode error: "):
        recipient.receive_payment("not base64!")
    with pytest.raises(ProtobufDecodeError, match=r"^protobuf unmarshal error: "):
        recipient.receive_payment("Cv8=")


def test_check_payment_returns_price_per_pixel() -> None:
    p = wire.Payment(
        ticket_params=wire.WireTicketParams(ORCH, 1, 1, bytes(32), 0, 10),
        sender=GATEWAY.address,
        expiration_params=ExpirationParams(),
        expected_price=wire.PriceInfo(-6, 4),
    )
    assert wire.check_payment(p) == Fraction(-3, 2)
