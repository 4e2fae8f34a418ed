"""net.Payment and friends (pm.wire): canonical encoding checked field by field with an
independent protobuf wire-format reader, Hypothesis round trips, lenient-but-safe decoding,
the Livepeer-Payment header, and the orchestrator's payment-level checks (§5.6)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pm import wire
from pm.crypto import PrivateKeySigner, recover_address
from pm.errors import (
    Base64DecodeError,
    InvalidInput,
    PaymentError,
    PMError,
    ProtobufDecodeError,
)
from pm.evm import minbe
from pm.ticket import ExpirationParams, TicketBatch, TicketParams

# -- an independent protobuf wire-format reader (varint / length-delimited only) ------------


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """[(field number, value)] in wire order; varints as int, length-delimited as bytes."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wtype = key >> 3, key & 7
        if wtype == 0:
            value, pos = read_varint(data, pos)
            out.append((number, value))
        elif wtype == 2:
            length, pos = read_varint(data, pos)
            out.append((number, data[pos : pos + length]))
            pos += length
        else:  # pragma: no cover - pm emits no other wire types
            raise AssertionError(f"unexpected wire type {wtype}")
    return out


def as_int64(v: int | bytes) -> int:
    assert isinstance(v, int)
    return v - 2**64 if v >= 2**63 else v


# -- fixtures -------------------------------------------------------------------------------

SIGNER = PrivateKeySigner(bytes(31) + b"\x07")
RECIPIENT = bytes.fromhex("73AEd7b5dEb30222fa896f399d46cC99c7BEe57F")
PARAMS = TicketParams(
    recipient=RECIPIENT,
    face_value=1_000_000_000_000,
    win_prob=2**200 + 12345,
    recipient_rand_hash=bytes.fromhex(
        "c65a7bb8d6351c1cf70c95a316cc6a92839c986682d98bc35f958f4883f9d2a8"
    ),
    seed=0x00FF_1234,  # minbe drops nothing here, but the leading 0x00 nibble matters below
    expiration_block=21_000_041,
    price_per_pixel=Fraction(5, 4),
    expiration_params=ExpirationParams(4321, bytes(range(32))),
)
EXP = ExpirationParams(4321, bytes(range(32)))


def make_batch(nonces: list[int], params: TicketParams = PARAMS) -> TicketBatch:
    template = params.ticket(SIGNER.address, 0, EXP)
    sigs = SIGNER.sign_tickets(template, nonces)
    return TicketBatch(params, SIGNER.address, EXP, nonces, sigs)  # type: ignore[arg-type]


BATCH = make_batch([1, 2, 3])
PRICE = wire.PriceInfo(5, 4)


# -- encoding, checked with the independent reader and the stock runtime ------------------


def test_payment_from_batch_has_go_field_layout() -> None:
    payment = wire.Payment.from_batch(BATCH, PRICE)
    data = wire.encode_payment(payment)
    top = fields(data)
    assert [n for n, _ in top] == [1, 2, 3, 4, 4, 4, 5]  # ascending field order, like Go
    tp = dict(fields(top[0][1]))  # type: ignore[arg-type]
    assert tp == {
        1: RECIPIENT,
        2: minbe(PARAMS.face_value),
        3: minbe(PARAMS.win_prob),
        4: PARAMS.recipient_rand_hash,
        5: minbe(PARAMS.seed),
        6: minbe(PARAMS.expiration_block),
    }  # no field 7 inside a Payment
    assert top[1] == (2, SIGNER.address)
    exp = dict(fields(top[2][1]))  # type: ignore[arg-type]
    assert exp == {1: 4321, 2: bytes(range(32))}
    for (_, tsp), nonce, sig in zip(top[3:6], [1, 2, 3], BATCH.sigs(), strict=True):
        assert fields(tsp) == [(1, nonce), (2, sig)]  # type: ignore[arg-type]
    assert fields(top[6][1]) == [(1, 5), (2, 4)]  # type: ignore[arg-type]


def test_stock_runtime_reads_pm_payment() -> None:
    from google.protobuf import json_format

    payment = wire.Payment.from_batch(BATCH, wire.PriceInfo(7, 3, capability=27, constraint="m"))
    msg = wire.pb.Payment.FromString(wire.encode_payment(payment))
    assert msg.ticket_params.recipient == RECIPIENT
    assert int.from_bytes(msg.ticket_params.face_value, "big") == PARAMS.face_value
    assert int.from_bytes(msg.ticket_params.win_prob, "big") == PARAMS.win_prob
    assert int.from_bytes(msg.ticket_params.seed, "big") == PARAMS.seed
    assert int.from_bytes(msg.ticket_params.expiration_block, "big") == PARAMS.expiration_block
    assert not msg.ticket_params.HasField("expiration_params")
    assert msg.sender == SIGNER.address
    assert msg.expiration_params.creation_round == 4321
    assert [t.sender_nonce for t in msg.ticket_sender_params] == [1, 2, 3]
    assert [t.sig for t in msg.ticket_sender_params] == BATCH.sigs()
    assert (msg.expected_price.pricePerUnit, msg.expected_price.pixelsPerUnit) == (7, 3)
    as_json = json_format.MessageToDict(msg)
    assert as_json["expectedPrice"] == {
        "pricePerUnit": "7",
        "pixelsPerUnit": "3",
        "capability": 27,
        "constraint": "m",
    }
    # every signature verifies against the ticket the receiver rebuilds from the message
    rebuilt = wire.decode_payment(msg.SerializeToString()).tickets()
    for t, sig in zip(rebuilt, BATCH.sigs(), strict=True):
        assert recover_address(t.hash(), sig) == SIGNER.address


def test_zero_values_are_absent_fields() -> None:
    params = TicketParams(RECIPIENT, 0, 0, bytes(32), 0, 0, Fraction(0))
    payment = wire.Payment(
        ticket_params=wire.WireTicketParams.from_params(params),
        sender=SIGNER.address,
        expiration_params=ExpirationParams(),
        expected_price=wire.PriceInfo(0, 1),
    )
    top = fields(wire.encode_payment(payment))
    assert [n for n, _ in top] == [1, 2, 3, 5]
    assert fields(top[0][1]) == [(1, RECIPIENT), (4, bytes(32))]  # type: ignore[arg-type]
    # Go always sends the 32-byte block hash, even all zeros
    assert fields(top[2][1]) == [(2, bytes(32))]  # type: ignore[arg-type]
    assert fields(top[3][1]) == [(2, 1)]  # type: ignore[arg-type]


def test_negative_price_is_int64_twos_complement() -> None:
    payment = wire.Payment(expected_price=wire.PriceInfo(-3, 2))
    ((number, price),) = fields(wire.encode_payment(payment))
    assert number == 5
    assert [as_int64(v) for _, v in fields(price)] == [-3, 2]  # type: ignore[arg-type]
    assert wire.decode_payment(wire.encode_payment(payment)).expected_price == wire.PriceInfo(-3, 2)


def test_empty_payment_encodes_to_nothing() -> None:
    assert wire.encode_payment(wire.Payment()) == b""
    assert wire.decode_payment(b"") == wire.Payment()


# -- batch conversion -------------------------------------------------------------------------


def test_batch_round_trip_through_bytes() -> None:
    payment = wire.Payment.from_batch(BATCH)  # default expected price: 5/4 normalized
    assert payment.expected_price == wire.PriceInfo(5, 4)
    back = wire.decode_payment(wire.encode_payment(payment)).to_batch()
    assert back.params == dataclasses.replace(PARAMS, expiration_params=None)
    assert back.sender == BATCH.sender
    assert back.expiration_params == EXP
    assert list(back.nonces) == [1, 2, 3]
    assert back.signatures == BATCH.signatures
    assert [t.hash() for t in back.tickets()] == [t.hash() for t in BATCH.tickets()]


def test_to_batch_keeps_irregular_signatures() -> None:
    payment = wire.Payment.from_batch(BATCH, PRICE)
    odd = wire.Payment(
        payment.ticket_params, payment.sender, payment.expiration_params,
        (1, 2), (b"foo", BATCH.sig(1)), PRICE,
    )
    batch = odd.to_batch()
    assert batch.sig(0) == b"foo"
    assert batch.sig(1) == BATCH.sig(1)
    assert wire.Payment.from_batch(batch, PRICE) == odd


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"ticket_params": None}, "ticket params"),
        ({"sender": None}, "sender"),
        ({"expiration_params": None}, "expiration params"),
        ({"expected_price": None}, "expected price"),
    ],
)
def test_to_batch_names_what_is_missing(change: dict[str, Any], missing: str) -> None:
    payment = wire.Payment.from_batch(BATCH, PRICE)
    broken = dataclasses.replace(payment, **change)
    with pytest.raises(InvalidInput, match=missing):
        broken.to_batch()


def test_price_info() -> None:
    assert wire.PriceInfo(10, 4).price_per_pixel == Fraction(5, 2)
    assert wire.PriceInfo.from_price(Fraction(10, 4)) == wire.PriceInfo(5, 2)
    with pytest.raises(InvalidInput, match="pixels per unit is 0"):
        _ = wire.PriceInfo(1, 0).price_per_pixel
    with pytest.raises(InvalidInput):
        wire.PriceInfo.from_price(Fraction(2**63, 1))
    with pytest.raises(PMError):
        wire.PriceInfo(2**63, 1)


# -- Hypothesis: bytes -> objects -> bytes ------------------------------------------------------

uint256 = st.integers(min_value=0, max_value=2**256 - 1)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
exp_params = st.builds(
    ExpirationParams,
    st.integers(min_value=0, max_value=2**63 - 1),
    st.binary(min_size=32, max_size=32),
)
wire_params = st.builds(
    wire.WireTicketParams,
    st.binary(min_size=20, max_size=20),
    uint256,
    uint256,
    st.binary(min_size=32, max_size=32),
    uint256,
    uint256,
    st.none() | exp_params,
)
prices = st.builds(
    wire.PriceInfo,
    int64,
    int64,
    st.integers(min_value=0, max_value=2**32 - 1),
    st.text(max_size=8),
)


sig_bytes = st.binary(min_size=65, max_size=65) | st.binary(max_size=70)


@st.composite
def payments(draw: st.DrawFn) -> wire.Payment:
    n = draw(st.integers(min_value=0, max_value=6))
    return wire.Payment(
        ticket_params=draw(st.none() | wire_params),
        sender=draw(st.none() | st.binary(min_size=20, max_size=20)),
        expiration_params=draw(st.none() | exp_params),
        nonces=tuple(draw(st.lists(st.integers(0, 2**32 - 1), min_size=n, max_size=n))),
        sigs=tuple(
            draw(st.lists(sig_bytes, min_size=n, max_size=n))
        ),
        expected_price=draw(st.none() | prices),
    )


@settings(max_examples=150, deadline=None)
@given(payments())
def test_payment_bytes_round_trip(payment: wire.Payment) -> None:
    data = wire.encode_payment(payment)
    decoded = wire.decode_payment(data)
    assert decoded == payment
    assert wire.encode_payment(decoded) == data
    header = wire.encode_payment_header(payment)
    assert base64.b64decode(header, validate=True) == data
    assert wire.decode_payment_header(header) == payment


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), max_size=8, unique=True), uint256, uint256)
def test_signed_batches_round_trip(nonces: list[int], fv: int, wp: int) -> None:
    params = TicketParams(RECIPIENT, fv, wp, bytes(32), 7, 100, Fraction(1, 3))
    batch = make_batch(nonces, params)
    data = wire.encode_payment(wire.Payment.from_batch(batch))
    again = wire.Payment.from_batch(wire.decode_payment(data).to_batch())
    assert wire.encode_payment(again) == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data: bytes) -> None:
    for decode in (
        wire.decode_payment,
        wire.decode_orchestrator_info,
        wire.decode_payment_result,
        wire.decode_redeemer_ticket,
    ):
        with contextlib.suppress(PMError):
            decode(data)


VALID = wire.encode_payment(wire.Payment.from_batch(BATCH, PRICE))


def test_every_truncation_is_error_or_a_prefix_message() -> None:
    for n in range(len(VALID)):
        try:
            wire.decode_payment(VALID[:n])
        except ProtobufDecodeError as exc:
            assert str(exc).startswith("protobuf unmarshal error: ")


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_payments_never_crash(data: st.DataObject) -> None:
    raw = bytearray(VALID)
    for _ in range(data.draw(st.integers(min_value=1, max_value=5))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(PMError):
        wire.decode_payment(bytes(raw))


# -- lenient decoding like Go, but never out of range --------------------------------------


def raw_payment(**kw: object) -> bytes:
    msg = wire.pb.Payment(**kw)  # type: ignore[arg-type]
    out: bytes = msg.SerializeToString()
    return out


def test_addresses_and_hashes_are_padded_or_truncated_like_go() -> None:
    data = raw_payment(
        ticket_params=wire.pb.TicketParams(
            recipient=b"\x01\x02",
            recipient_rand_hash=b"\xaa" * 40,
            face_value=b"\x00\x00\x05",  # leading zeros tolerated (SetBytes)
        ),
        sender=b"\x09" * 25,
        expiration_params=wire.pb.TicketExpirationParams(creation_round=3),
    )
    p = wire.decode_payment(data)
    assert p.ticket_params is not None
    assert p.ticket_params.recipient == bytes(18) + b"\x01\x02"
    assert p.ticket_params.recipient_rand_hash == b"\xaa" * 32
    assert p.ticket_params.face_value == 5
    assert p.sender == b"\x09" * 20
    assert p.expiration_params == ExpirationParams(3, bytes(32))


def test_empty_sender_is_none() -> None:
    p = wire.decode_payment(raw_payment(ticket_params=wire.pb.TicketParams(seed=b"\x01")))
    assert p.sender is None
    assert p.ticket_params is not None and p.ticket_params.seed == 1


@pytest.mark.parametrize("name", ["face_value", "win_prob", "seed", "expiration_block"])
def test_integers_above_uint256_rejected(name: str) -> None:
    data = raw_payment(ticket_params={name: b"\x01" + bytes(32)})
    with pytest.raises(ProtobufDecodeError, match=name):
        wire.decode_payment(data)
    # 33 bytes with a leading zero still fit
    ok = raw_payment(ticket_params={name: b"\x00" + b"\xff" * 32})
    tp = wire.decode_payment(ok).ticket_params
    assert tp is not None and getattr(tp, name) == 2**256 - 1


def test_negative_creation_round_rejected() -> None:
    data = raw_payment(expiration_params=wire.pb.TicketExpirationParams(creation_round=-1))
    with pytest.raises(ProtobufDecodeError, match="creation_round"):
        wire.decode_payment(data)


def test_unknown_fields_are_ignored() -> None:
    # field 9 (varint) is not part of net.Payment
    data = VALID + bytes([9 << 3, 1])
    assert wire.decode_payment(data) == wire.decode_payment(VALID)


def test_wrong_wire_type_is_unmarshal_error() -> None:
    with pytest.raises(ProtobufDecodeError, match=r"^protobuf unmarshal error: "):
        wire.decode_payment(bytes([(2 << 3) | 0, 0x80]))  # truncated varint
    with pytest.raises(ProtobufDecodeError):
        wire.decode_payment(b"\x0a\x05ab")  # length beyond the end
    with pytest.raises(PMError):
        wire.decode_payment("not bytes")  # type: ignore[arg-type]


# -- the Livepeer-Payment header --------------------------------------------------------------


def test_header_is_standard_base64_with_padding() -> None:
    payment = wire.Payment(sender=b"\xfb" * 20)  # bytes that give + and / in base64
    header = wire.encode_payment_header(payment)
    assert header == base64.standard_b64encode(wire.encode_payment(payment)).decode()
    assert header.endswith("=") and ("+" in header or "/" in header)
    assert wire.decode_payment_header(header) == payment
    assert wire.decode_payment_header(header.encode()) == payment
    # Go's StdEncoding ignores CR and LF
    assert wire.decode_payment_header(header[:8] + "\r\n" + header[8:]) == payment


@pytest.mark.parametrize(
    "value",
    [
        "AAA",  # missing padding
        "AA==A===",  # padding in the middle
        "-_8=",  # URL-safe alphabet
        "AAAA AAAA",  # spaces
        "ÄAAA",  # non-ASCII
        "A===",
    ],
)
def test_header_base64_errors(value: str) -> None:
    with pytest.raises(Base64DecodeError, match=r"^base64 decode error: "):
        wire.decode_payment_header(value)


def test_header_protobuf_error() -> None:
    with pytest.raises(ProtobufDecodeError, match=r"^protobuf unmarshal error: "):
        wire.decode_payment_header(base64.b64encode(b"\x0a\xff").decode())


# -- OrchestratorInfo, PaymentResult, redeemer Ticket -----------------------------------------


INFO = wire.OrchestratorInfo(
    transcoder="https://o.example:8935",
    ticket_params=wire.WireTicketParams.from_params(PARAMS),
    price_info=PRICE,
    address=RECIPIENT,
    auth_token=wire.AuthToken(b"\x01" * 32, "session-1", 1_800_000_000),
    capabilities_prices=(wire.PriceInfo(1, 1, 27, "model-a"), wire.PriceInfo(2, 3, 28)),
)


def test_orchestrator_info_round_trip_and_fields() -> None:
    data = wire.encode_orchestrator_info(INFO)
    assert [n for n, _ in fields(data)] == [1, 2, 3, 4, 6, 33, 33]
    tp = dict(fields(dict(fields(data))[2]))  # type: ignore[arg-type]
    assert dict(fields(tp[7])) == {1: 4321, 2: bytes(range(32))}  # type: ignore[arg-type]
    assert wire.decode_orchestrator_info(data) == INFO
    assert INFO.params() == PARAMS  # the gateway's view: params + price + field 7


def test_orchestrator_info_from_go_with_extra_fields() -> None:
    # field 5 (capabilities) and 7 (storage-like) are outside pm's subset: ignored
    data = wire.encode_orchestrator_info(INFO) + bytes([(5 << 3) | 2, 2, 8, 1, (7 << 3) | 2, 0])
    assert wire.decode_orchestrator_info(data) == INFO


def test_payment_result_wraps_info_in_field_16() -> None:
    data = wire.encode_payment_result(INFO)
    ((number, inner),) = fields(data)
    assert number == 16 and inner == wire.encode_orchestrator_info(INFO)
    assert wire.decode_payment_result(data) == INFO


def test_redeemer_ticket_round_trip() -> None:
    rt = wire.RedeemerTicket(
        ticket_params=wire.WireTicketParams.from_params(PARAMS),
        sender=SIGNER.address,
        expiration_params=EXP,
        sender_nonce=2,
        sig=BATCH.sig(1),
        recipient_rand=0x0102,
    )
    data = wire.encode_redeemer_ticket(rt)
    assert [n for n, _ in fields(data)] == [1, 2, 3, 4, 5]
    assert dict(fields(data))[5] == b"\x01\x02"
    assert wire.decode_redeemer_ticket(data) == rt
    assert rt.ticket() == BATCH.ticket(1)


# -- orchestrator payment checks (§5.6) ----------------------------------------------------------


def test_free_payment() -> None:
    assert wire.check_payment(wire.Payment()) is None
    assert wire.check_payment(wire.Payment(sender=SIGNER.address)) is None


def test_payment_checks_in_go_order() -> None:
    ok = wire.Payment.from_batch(BATCH, wire.PriceInfo(10, 4))
    assert wire.check_payment(ok) == Fraction(5, 2)
    no_sender = wire.Payment(ok.ticket_params, None, None, (), (), None)
    with pytest.raises(PaymentError, match=r"^Could not find Sender for payment: ") as e:
        wire.check_payment(no_sender)
    assert e.value.fatal
    no_price = dataclasses.replace(ok, expected_price=None)
    with pytest.raises(PaymentError) as e:
        wire.check_payment(no_price)
    assert str(e.value) == 'invalid expected price sent with payment err="expected price is nil"'
    zero = wire.Payment(
        ok.ticket_params, ok.sender, ok.expiration_params, ok.nonces, ok.sigs, wire.PriceInfo(1, 0)
    )
    with pytest.raises(PaymentError) as e:
        wire.check_payment(zero)
    assert str(e.value) == 'invalid expected price sent with payment err="pixels per unit is 0"'
    no_exp = wire.Payment(ok.ticket_params, ok.sender, None, ok.nonces, ok.sigs, PRICE)
    with pytest.raises(PaymentError, match="expiration params"):
        wire.check_payment(no_exp)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80) | st.text(alphabet="ABCDEFGHabcdefgh0123456789+/=\r\n", max_size=80))
def test_random_headers_never_crash(value: str) -> None:
    with contextlib.suppress(PMError):
        wire.decode_payment_header(value)


def test_split_sigs() -> None:
    assert wire.split_sigs(BATCH.signatures) == tuple(BATCH.sigs())
    assert wire.split_sigs(bytearray(65)) == (bytes(65),)
    with pytest.raises(InvalidInput):
        wire.split_sigs(bytes(64))
    for bad in (5, "a" * 65, None):
        with pytest.raises(PMError):
            wire.split_sigs(bad)  # type: ignore[arg-type]
