"""TicketBroker calldata (pm.abi): selectors, the §7.4 layout, round trips, strict decoding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pm import abi
from pm.crypto import keccak256
from pm.errors import CalldataError, InvalidInput, InvalidType, PMError, UnknownSelector
from pm.ticket import Ticket

DATA = Path(__file__).parent / "data"


def word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def padded(b: bytes) -> bytes:
    return b + bytes(-len(b) % 32)


TICKET = Ticket(
    recipient=bytes.fromhex("73AEd7b5dEb30222fa896f399d46cC99c7BEe57F"),
    sender=bytes.fromhex("A69cdA26600c155cF2c150964Bdb5371ac3f606F"),
    face_value=10**18,
    win_prob=2**255 + 3,
    sender_nonce=42,
    recipient_rand_hash=bytes.fromhex(
        "c65a7bb8d6351c1cf70c95a316cc6a92839c986682d98bc35f958f4883f9d2a8"
    ),
    creation_round=10,
    creation_round_block_hash=bytes(range(32)),
)
SIG = bytes(range(100, 165))  # 65 bytes
RAND = 10


# -- selectors ----------------------------------------------------------------------------


def test_selectors_match_the_spec_table() -> None:
    table = json.loads((DATA / "ticketbroker_selectors.json").read_text())["functions"]
    ours = {f.signature: "0x" + f.selector.hex() for f in abi.FUNCTIONS}
    assert len(table) == 23
    assert ours == {row["signature"]: row["selector"] for row in table}


def test_selector_lookup_and_unknown() -> None:
    assert abi.function_by_selector(bytes.fromhex("ec8b3cb6")).name == "redeemWinningTicket"
    with pytest.raises(UnknownSelector):
        abi.function_by_selector(b"\x00\x00\x00\x00")
    with pytest.raises(UnknownSelector):
        abi.function_by_name("redeem")


# -- §7.4 layout, built word by word without eth-abi ----------------------------------------


def expected_redeem_calldata(t: Ticket, sig: bytes, rand: int) -> bytes:
    aux = t.aux_data
    tuple_part = (
        bytes(12) + t.recipient
        + bytes(12) + t.sender
        + word(t.face_value)
        + word(t.win_prob)
        + word(t.sender_nonce)
        + t.recipient_rand_hash
        + word(0xE0)  # offset of auxData, relative to the tuple start
        + word(len(aux))
        + padded(aux)
    )
    sig_part = word(len(sig)) + padded(sig)
    head = word(0x60) + word(0x60 + len(tuple_part)) + word(rand)
    return bytes.fromhex("ec8b3cb6") + head + tuple_part + sig_part


def test_single_redemption_matches_spec_layout_byte_for_byte() -> None:
    data = abi.encode_redeem_winning_ticket(TICKET, SIG, RAND)
    assert data == expected_redeem_calldata(TICKET, SIG, RAND)
    # the landmarks named in spec/protocol.md §7.4
    assert data[:4].hex() == "ec8b3cb6"
    assert data[4:36] == word(0x60)
    assert data[4 + 0x60 + 6 * 32 : 4 + 0x60 + 7 * 32] == word(0xE0)
    assert data[4 + 0x60 + 7 * 32 : 4 + 0x60 + 8 * 32] == word(64)
    sig_at = int.from_bytes(data[36:68], "big") + 4
    assert data[sig_at : sig_at + 32] == word(0x41)
    assert len(data) - sig_at == 32 + 96
    assert len(data) == 4 + 3 * 32 + 10 * 32 + 4 * 32


def test_ticket_without_aux_data_encodes_empty_bytes() -> None:
    t = Ticket(TICKET.recipient, TICKET.sender, 1, 2, 3, bytes(32))
    data = abi.encode_redeem_winning_ticket(t, SIG, 0)
    assert data == expected_redeem_calldata(t, SIG, 0)
    assert abi.decode_redeem_winning_ticket(data).ticket == t


def test_get_ticket_hash_and_view_calls() -> None:
    data = abi.encode_call("getTicketHash", TICKET)
    assert data[:4].hex() == "b03fa864"
    call = abi.decode_call(data)
    assert call.name == "getTicketHash"
    assert call.arg("ticket") == TICKET
    data = abi.encode_call("claimableReserve", TICKET.sender, TICKET.recipient)
    assert data == (
        bytes.fromhex("81779f38") + bytes(12) + TICKET.sender + bytes(12) + TICKET.recipient
    )
    assert abi.decode_call(data).named_args() == {
        "reserveHolder": TICKET.sender,
        "claimant": TICKET.recipient,
    }
    assert abi.encode_call("withdraw") == bytes.fromhex("3ccfd60b")
    assert abi.decode_call(bytes.fromhex("3ccfd60b")).args == ()


def test_sender_info_result_round_trip() -> None:
    data = abi.encode_result("getSenderInfo", (100, 0), (5000, 7))
    assert data == word(100) + word(0) + word(5000) + word(7)
    assert abi.decode_result("getSenderInfo", data) == ((100, 0), (5000, 7))
    assert abi.decode_result("usedTickets", word(1)) == (True,)
    with pytest.raises(CalldataError):
        abi.decode_result("usedTickets", word(2))  # a bool must be 0 or 1
    with pytest.raises(CalldataError):
        abi.decode_result("getSenderInfo", data + bytes(32))


def test_encode_rejects_bad_values() -> None:
    with pytest.raises(PMError):
        abi.encode_call("fundDepositAndReserve", -1, 0)
    with pytest.raises(PMError):
        abi.encode_call("fundDepositAndReserve", 2**256, 0)
    with pytest.raises(PMError):
        abi.encode_call("claimedReserve", b"\x01" * 19, b"\x02" * 20)
    with pytest.raises(InvalidInput):
        abi.encode_call("withdraw", 1)


# -- Hypothesis round trips -----------------------------------------------------------------

addresses = st.binary(min_size=20, max_size=20)
hashes = st.binary(min_size=32, max_size=32)
uint256 = st.integers(min_value=0, max_value=2**256 - 1)


@st.composite
def tickets(draw: st.DrawFn) -> Ticket:
    with_aux = draw(st.booleans())
    round_ = draw(st.integers(min_value=1, max_value=2**63 - 1)) if with_aux else 0
    block_hash = draw(hashes) if with_aux else bytes(32)
    return Ticket(
        recipient=draw(addresses),
        sender=draw(addresses),
        face_value=draw(uint256),
        win_prob=draw(uint256),
        sender_nonce=draw(st.integers(min_value=0, max_value=2**32 - 1)),
        recipient_rand_hash=draw(hashes),
        creation_round=round_,
        creation_round_block_hash=block_hash,
    )


sigs = st.one_of(st.binary(min_size=65, max_size=65), st.binary(max_size=130))


@settings(max_examples=100, deadline=None)
@given(tickets(), sigs, uint256)
def test_single_round_trip(t: Ticket, sig: bytes, rand: int) -> None:
    data = abi.encode_redeem_winning_ticket(t, sig, rand)
    assert data == expected_redeem_calldata(t, sig, rand)
    r = abi.decode_redeem_winning_ticket(data)
    assert (r.ticket, r.sig, r.recipient_rand) == (t, sig, rand)
    assert r.ticket.hash() == t.hash()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(tickets(), sigs, uint256), max_size=5))
def test_batch_round_trip(items: list[tuple[Ticket, bytes, int]]) -> None:
    redemptions = [abi.Redemption(t, s, r) for t, s, r in items]
    data = abi.encode_batch_redeem_winning_tickets(redemptions)
    assert data[:4].hex() == "d01b808e"
    assert abi.decode_batch_redeem_winning_tickets(data) == tuple(redemptions)
    call = abi.decode_call(data)
    assert call.arg("tickets") == tuple(t for t, _, _ in items)


def test_batch_layout_two_tickets() -> None:
    t2 = TICKET.with_nonce(43)
    data = abi.encode_batch_redeem_winning_tickets(
        [abi.Redemption(TICKET, SIG, 1), abi.Redemption(t2, SIG, 2)]
    )
    body = data[4:]
    # head: three offsets; tickets array starts right after it with its count
    assert body[:32] == word(0x60)
    assert body[0x60 : 0x80] == word(2)
    # element offsets are relative to the first element slot; ticket 0 right after them
    assert body[0x80:0xA0] == word(0x40)
    ticket_size = 10 * 32  # 6 words, aux offset, aux length, 64 bytes of aux
    assert body[0xA0:0xC0] == word(0x40 + ticket_size)
    recipients_array_end = 0x80 + 0x40 + 2 * ticket_size
    assert body[32:64] == word(recipients_array_end)


# -- strict decoding -------------------------------------------------------------------------

VALID = abi.encode_redeem_winning_ticket(TICKET, SIG, RAND)
VALID_BATCH = abi.encode_batch_redeem_winning_tickets(
    [abi.Redemption(TICKET, SIG, 1), abi.Redemption(TICKET.with_nonce(43), SIG, 2)]
)


def test_unknown_selector_rejected() -> None:
    with pytest.raises(UnknownSelector, match="0xdeadbeef"):
        abi.decode_call(bytes.fromhex("deadbeef") + VALID[4:])
    with pytest.raises(CalldataError):
        abi.decode_call(b"\xec\x8b")


@pytest.mark.parametrize("data", [VALID, VALID_BATCH])
def test_every_truncation_rejected(data: bytes) -> None:
    for n in range(len(data)):
        with pytest.raises(CalldataError):
            abi.decode_call(data[:n])


@pytest.mark.parametrize("extra", [b"\x00", bytes(32), b"\x01" * 64])
def test_trailing_data_rejected(extra: bytes) -> None:
    with pytest.raises(CalldataError, match="trailing"):
        abi.decode_call(VALID + extra)
    with pytest.raises(CalldataError):
        abi.decode_call(VALID_BATCH + extra)


def test_non_canonical_offsets_rejected() -> None:
    # Point _sig's offset 32 bytes further and insert a gap word: eth-abi alone accepts this.
    body = bytearray(VALID[4:])
    sig_offset = int.from_bytes(body[32:64], "big")
    moved = body[:32] + word(sig_offset + 32) + body[64:sig_offset] + bytes(32) + body[sig_offset:]
    with pytest.raises(CalldataError, match="non-canonical offset"):
        abi.decode_call(VALID[:4] + bytes(moved))


def test_aliased_batch_pointers_rejected() -> None:
    # Make the second ticket's offset point at the first ticket (aliasing).
    body = bytearray(VALID_BATCH[4:])
    body[0xA0:0xC0] = word(0x40)
    with pytest.raises(CalldataError):
        abi.decode_call(VALID_BATCH[:4] + bytes(body))


def test_dirty_padding_rejected() -> None:
    data = bytearray(VALID)
    data[-1] = 1  # the zero padding after the 65 signature bytes
    with pytest.raises(CalldataError):
        abi.decode_call(bytes(data))
    data = bytearray(VALID)
    data[4 + 0x60] = 1  # upper (zero) bytes of the recipient address word
    with pytest.raises(CalldataError):
        abi.decode_call(bytes(data))


def test_unrepresentable_tickets_rejected() -> None:
    raw = bytearray(VALID)
    nonce_at = 4 + 0x60 + 4 * 32
    raw[nonce_at : nonce_at + 32] = word(2**32)
    with pytest.raises(CalldataError, match="uint32"):
        abi.decode_call(bytes(raw))
    # 64 zero bytes of auxData would hash differently from pm's empty auxData
    zero_aux = Ticket(TICKET.recipient, TICKET.sender, 1, 2, 3, bytes(32), 1, bytes(32))
    raw = bytearray(abi.encode_redeem_winning_ticket(zero_aux, SIG, 1))
    aux_at = 4 + 0x60 + 8 * 32
    raw[aux_at : aux_at + 32] = word(0)
    with pytest.raises(CalldataError, match="64 zero bytes"):
        abi.decode_call(bytes(raw))


def test_batch_arrays_of_different_lengths() -> None:
    data = abi.encode_call("batchRedeemWinningTickets", [TICKET, TICKET], [SIG], [1, 2])
    call = abi.decode_call(data)  # valid ABI ...
    assert len(call.arg("sigs")) == 1
    with pytest.raises(CalldataError, match="differ in length"):
        abi.decode_batch_redeem_winning_tickets(data)  # ... but not a set of redemptions


def test_typed_decoders_check_the_function() -> None:
    with pytest.raises(UnknownSelector):
        abi.decode_redeem_winning_ticket(VALID_BATCH)
    with pytest.raises(UnknownSelector):
        abi.decode_batch_redeem_winning_tickets(VALID)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([f.selector for f in abi.FUNCTIONS]),
    st.binary(max_size=600),
)
def test_random_bodies_never_crash(selector: bytes, body: bytes) -> None:
    try:
        call = abi.decode_call(selector + body)
    except PMError:
        return
    # anything accepted is canonical: it re-encodes to the same bytes
    assert abi.encode_call(call.name, *call.args) == selector + body


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_calldata_never_crashes(data: st.DataObject) -> None:
    base = bytearray(data.draw(st.sampled_from([VALID, VALID_BATCH])))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        i = data.draw(st.integers(min_value=0, max_value=len(base) - 1))
        base[i] = data.draw(st.integers(min_value=0, max_value=255))
    try:
        call = abi.decode_call(bytes(base))
    except PMError:
        return
    assert abi.encode_call(call.name, *call.args) == bytes(base)


# -- a real mainnet redemption (livepeer/explorer #108) ------------------------------------


def test_matches_real_mainnet_redemption_prefix() -> None:
    vector = json.loads((DATA / "mainnet_redeem_prefix.json").read_text())
    f = vector["fields"]
    rand = int(f["recipient_rand"], 16)
    rand_hash = bytes.fromhex(f["recipient_rand_hash"][2:])
    # the on-chain commitment of spec/protocol.md §4 holds for the real ticket
    assert keccak256(word(rand)) == rand_hash
    ticket = Ticket(
        recipient=bytes.fromhex(f["recipient"][2:]),
        sender=bytes.fromhex(f["sender"][2:]),
        face_value=int(f["face_value"], 16),
        win_prob=int(f["win_prob"], 16),
        sender_nonce=f["sender_nonce"],
        recipient_rand_hash=rand_hash,
        creation_round=2500,  # auxData and sig are past the quoted prefix: any 64 / 65 bytes
        creation_round_block_hash=b"\x01" * 32,
    )
    prefix = vector["calldata_prefix"]
    ours = "0x" + abi.encode_redeem_winning_ticket(ticket, b"\x02" * 65, rand).hex()
    assert len(prefix) > 2 + 8 + 9 * 64
    assert ours.startswith(prefix)


@pytest.mark.parametrize("data", [None, -1, 5, [300] * 5, "0xec8b3cb6"])
def test_decoders_reject_non_bytes(data: Any) -> None:
    for decode in (
        abi.decode_call,
        abi.decode_redeem_winning_ticket,
        abi.decode_batch_redeem_winning_tickets,
    ):
        with pytest.raises(InvalidType):
            decode(data)
    with pytest.raises(InvalidType):
        abi.decode_result("getSenderInfo", data)


@pytest.mark.parametrize(
    "value",
    [
        None,
        [1, 2],
        [b"", None, None, None, None, None, None],
        [b"\x01" * 20, b"\x02" * 20, 1, 1, 1, None, b""],
        [b"\x01" * 20, b"\x02" * 20, 1, 1, 1, 5, b""],
        ["0xnothex", b"\x02" * 20, 1, 1, 1, bytes(32), b""],
    ],
)
def test_ticket_from_abi_rejects_wrong_shapes(value: Any) -> None:
    with pytest.raises(PMError):
        abi.ticket_from_abi(value)
