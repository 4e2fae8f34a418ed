"""Ticket values, batches and the win check against eth-abi and the reference path."""

from __future__ import annotations

from array import array
from fractions import Fraction

import pytest
from eth_abi.packed import encode_packed
from hypothesis import given
from hypothesis import strategies as st

from pm import (
    ExpirationParams,
    SignedTicket,
    SigStatus,
    Ticket,
    TicketBatch,
    TicketParams,
    _reference,
    is_winning,
    validate_batch,
)
from pm.crypto import PrivateKeySigner, keccak256, recover_address
from pm.errors import InvalidInput, InvalidType, PMError
from pm.pricing import MAX_WIN_PROB

u256 = st.integers(min_value=0, max_value=2**256 - 1)
addresses = st.binary(min_size=20, max_size=20)
hashes = st.binary(min_size=32, max_size=32)
rounds = st.integers(min_value=0, max_value=2**63 - 1)

tickets = st.builds(
    Ticket,
    recipient=addresses,
    sender=addresses,
    face_value=u256,
    win_prob=u256,
    sender_nonce=st.integers(min_value=0, max_value=2**32 - 1),
    recipient_rand_hash=hashes,
    creation_round=rounds,
    creation_round_block_hash=hashes | st.just(bytes(32)),
)

SIGNER = PrivateKeySigner((0xC0FFEE).to_bytes(32, "big"))


@given(tickets)
def test_hash_equals_eth_abi_encode_packed(t: Ticket) -> None:
    types = ["address", "address", "uint256", "uint256", "uint256", "bytes32", "bytes"]
    values = [
        "0x" + t.recipient.hex(),
        "0x" + t.sender.hex(),
        t.face_value,
        t.win_prob,
        t.sender_nonce,
        t.recipient_rand_hash,
        t.aux_data,
    ]
    packed = encode_packed(types, values)
    assert t.flat() == packed
    assert t.hash() == _reference.keccak256(packed)
    ref_flat = _reference.ticket_flat(
        t.recipient,
        t.sender,
        t.face_value,
        t.win_prob,
        t.sender_nonce,
        t.recipient_rand_hash,
        t.creation_round,
        t.creation_round_block_hash,
    )
    assert t.flat() == ref_flat


@given(st.binary(max_size=200), u256, u256)
def test_win_check_matches_reference(sig: bytes, rand: int, win_prob: int) -> None:
    assert is_winning(sig, rand, win_prob) == _reference.is_winning(sig, rand, win_prob)


@given(st.binary(min_size=65, max_size=65), u256)
def test_win_prob_extremes(sig: bytes, rand: int) -> None:
    assert not is_winning(sig, rand, 0)
    win_hash = int.from_bytes(keccak256(sig + rand.to_bytes(32, "big")), "big")
    assert is_winning(sig, rand, MAX_WIN_PROB) == (win_hash != MAX_WIN_PROB)


def _template(sender: bytes = SIGNER.address, win_prob: int = 2**255) -> Ticket:
    return Ticket(b"\x11" * 20, sender, 10**15, win_prob, 0, keccak256(b"r"), 42, keccak256(b"b"))


@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), max_size=40), u256)
def test_batch_create_and_validate_equal_one_by_one(nonces: list[int], rand: int) -> None:
    template = _template()
    sigs = SIGNER.sign_tickets(template, nonces)
    assert len(sigs) == 65 * len(nonces)
    key = SIGNER.export_private_key()
    ref = _reference.create_tickets(key, template.flat(), nonces)
    assert [sigs[65 * i : 65 * i + 65] for i in range(len(nonces))] == ref
    for i, nonce in enumerate(nonces):
        t = template.with_nonce(nonce)
        assert SIGNER.sign(t.hash()) == ref[i]
    check = validate_batch(template, nonces, sigs, rand)
    expected = _reference.validate_tickets(template.flat(), nonces, ref, template.sender, rand)
    assert check.statuses == [SigStatus(s) for s, _ in expected]
    assert check.won == [w for _, w in expected]
    assert check.all_valid
    for i, nonce in enumerate(nonces):
        assert check.won[i] == SignedTicket(template.with_nonce(nonce), ref[i], rand).won()


def test_validate_batch_flags_each_bad_ticket() -> None:
    template = _template()
    nonces = list(range(1, 9))
    sigs = [SIGNER.sign(template.with_nonce(n).hash()) for n in nonces]
    other = PrivateKeySigner.generate()
    n_order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    bad = list(sigs)
    bad[1] = sigs[1][:64]  # short
    s = int.from_bytes(sigs[2][32:64], "big")
    bad[2] = sigs[2][:32] + (n_order - s).to_bytes(32, "big") + bytes([55 - sigs[2][64]])  # high s
    bad[3] = sigs[3][:64] + b"\x01"  # bad v
    bad[4] = bytes(64) + b"\x1b"  # unrecoverable
    bad[5] = other.sign(template.with_nonce(nonces[5]).hash())  # wrong signer
    bad[6] = sigs[7]  # a valid signature of another nonce recovers to someone else
    check = validate_batch(template, nonces, bad, recipient_rand=7)
    assert check.statuses == [
        SigStatus.OK,
        SigStatus.BAD_LENGTH,
        SigStatus.HIGH_S,
        SigStatus.BAD_V,
        SigStatus.UNRECOVERABLE,
        SigStatus.WRONG_SIGNER,
        SigStatus.WRONG_SIGNER,
        SigStatus.OK,
    ]
    assert not any(check.won[i] for i in range(1, 7))  # bad signatures never win
    assert check.winners() == [i for i in (0, 7) if check.won[i]]


def test_signed_ticket_repr_hides_recipient_rand() -> None:
    rand = 0x5EC2E7_5EC2E7
    text = repr(SignedTicket(_template(), b"sig", rand))
    assert str(rand) not in text and hex(rand)[2:] not in text


def test_validate_batch_without_rand_never_wins() -> None:
    template = _template(win_prob=MAX_WIN_PROB)
    sigs = SIGNER.sign_tickets(template, [1, 2, 3])
    assert validate_batch(template, [1, 2, 3], sigs, None).won == [False] * 3
    assert validate_batch(template, [1, 2, 3], sigs, 5).won == [True] * 3


def test_ticket_batch_views_and_memory_layout() -> None:
    exp = ExpirationParams(42, keccak256(b"b"))
    params = TicketParams(
        b"\x11" * 20, 10**15, 2**255, keccak256(b"r"), 99, 1000, Fraction(3, 2), exp
    )
    template = params.ticket(SIGNER.address, 0)
    assert template == _template()
    nonces = array("I", range(1, 101))
    batch = TicketBatch(params, SIGNER.address, exp, nonces, SIGNER.sign_tickets(template, nonces))
    assert len(batch) == 100
    assert batch.nonces == nonces and batch.nonces.typecode == "I"  # flat, no per-ticket objects
    nonces[0] = 999  # the batch holds its own copy
    assert batch.nonces[0] == 1
    assert batch.template == template
    assert batch.ticket(9) == template.with_nonce(10)
    assert recover_address(batch.ticket(9).hash(), batch.sig(9)) == SIGNER.address
    assert batch.sig(-1) == batch.sig(99)
    assert [t.sender_nonce for t in batch.tickets()] == list(range(1, 101))
    assert batch.validate(None).all_valid
    assert batch.signed(3, 5).recipient_rand == 5
    with pytest.raises(IndexError):
        batch.sig(100)


def test_ticket_batch_from_wire_like_signatures() -> None:
    exp = ExpirationParams(1, keccak256(b"x"))
    params = TicketParams(b"\x22" * 20, 100, 100, keccak256(b"h"), 1, 50, Fraction(1), exp)
    template = params.ticket(SIGNER.address, 0, exp)
    good = [SIGNER.sign(template.with_nonce(n).hash()) for n in (1, 2, 3)]
    batch = TicketBatch.from_signatures(
        params, SIGNER.address, exp, [1, 2, 3], [good[0], b"foo", good[2]]
    )
    assert batch.sig(1) == b"foo"
    assert batch.validate(None).statuses == [SigStatus.OK, SigStatus.BAD_LENGTH, SigStatus.OK]


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"recipient": b"\x00" * 19}, InvalidInput),
        ({"sender": b"\x00" * 21}, InvalidInput),
        ({"recipient": "0x" + "00" * 20}, InvalidType),
        ({"face_value": -1}, InvalidInput),
        ({"face_value": 2**256}, InvalidInput),
        ({"face_value": 1.5}, InvalidType),
        ({"face_value": True}, InvalidType),
        ({"win_prob": 2**256}, InvalidInput),
        ({"sender_nonce": 2**32}, InvalidInput),
        ({"sender_nonce": -1}, InvalidInput),
        ({"recipient_rand_hash": b"\x00" * 31}, InvalidInput),
        ({"creation_round": -1}, InvalidInput),
        ({"creation_round": 2**63}, InvalidInput),
        ({"creation_round_block_hash": b""}, InvalidInput),
    ],
)
def test_ticket_rejects_bad_fields(kwargs: dict[str, object], exc: type[Exception]) -> None:
    fields: dict[str, object] = {
        "recipient": bytes(20),
        "sender": bytes(20),
        "face_value": 0,
        "win_prob": 0,
        "sender_nonce": 0,
        "recipient_rand_hash": bytes(32),
    }
    fields.update(kwargs)
    with pytest.raises(exc) as info:
        Ticket(**fields)  # type: ignore[arg-type]
    assert isinstance(info.value, PMError)


def test_other_constructors_reject_bad_input() -> None:
    with pytest.raises(InvalidInput):
        ExpirationParams(-1)
    with pytest.raises(InvalidInput):
        TicketParams(bytes(20), 0, 0, bytes(32), -1, 0)
    with pytest.raises(InvalidType):
        TicketParams(bytes(20), 0, 0, bytes(32), 0, 0, 0.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        SignedTicket(_template(), b"sig", 2**256)
    with pytest.raises(InvalidType):
        SignedTicket("ticket", b"sig", 1)  # type: ignore[arg-type]
    params = TicketParams(bytes(20), 0, 0, bytes(32), 0, 0)
    with pytest.raises(InvalidInput):
        TicketBatch(params, bytes(20), ExpirationParams(), array("I", [1, 2]), bytes(65))
    with pytest.raises(InvalidInput):
        TicketBatch(params, bytes(20), ExpirationParams(), [1, 2**32], bytes(130))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        validate_batch(_template(), [1, 2], bytes(64), None)
    with pytest.raises(InvalidInput):
        validate_batch(_template(), [1], [bytes(65)], 2**256)
    with pytest.raises(InvalidInput):
        is_winning(b"", -1, 0)
    with pytest.raises(InvalidType):
        validate_batch(_template(), [1, True], [bytes(65)] * 2, None)


@given(st.lists(st.binary(max_size=70), min_size=1, max_size=8), u256 | st.none())
def test_validate_random_signatures_never_crashes(sigs: list[bytes], rand: int | None) -> None:
    nonces = list(range(len(sigs)))
    check = validate_batch(_template(), nonces, sigs, rand)
    expected = _reference.validate_tickets(_template().flat(), nonces, sigs, SIGNER.address, rand)
    assert check.statuses == [SigStatus(s) for s, _ in expected]
    assert check.won == [w for _, w in expected]
