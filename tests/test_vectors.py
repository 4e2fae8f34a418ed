"""Known-answer vectors of spec/protocol.md §10.1.1–§10.1.4, driven from tests/data/*.json."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from conftest import load_vectors

from pm import ExpirationParams, Ticket, is_winning
from pm.crypto import (
    PrivateKeySigner,
    address_from_hex,
    keccak256,
    recover_address,
    to_checksum_address,
)
from pm.pricing import MAX_WIN_PROB, expected_value, format_rat, win_prob_for, win_prob_rat

M = MAX_WIN_PROB
HASHES = load_vectors("hash_vectors.json")["cases"]
AUX = load_vectors("aux_data_vectors.json")
EV = load_vectors("ev_vectors.json")
VALIDATOR = load_vectors("validator_vectors.json")
SIGS = load_vectors("signature_vectors.json")


def _num(text: str) -> int:
    return {"M": M, "M/2": M // 2, "M/4": M // 4}.get(text) or int(text)


def _ticket(case: dict[str, Any]) -> Ticket:
    return Ticket(
        recipient=address_from_hex(case.get("recipient", "0x" + "00" * 20)),
        sender=bytes(20),
        face_value=int(case.get("face_value", "0")),
        win_prob=int(case.get("win_prob", "0")),
        sender_nonce=case.get("sender_nonce", 0),
        recipient_rand_hash=bytes.fromhex(case.get("recipient_rand_hash", "00" * 32)),
        creation_round=case.get("creation_round", 0),
        creation_round_block_hash=bytes.fromhex(case.get("creation_round_block_hash", "00" * 32)),
    )


@pytest.mark.parametrize("case", HASHES, ids=[c["name"] for c in HASHES])
def test_ticket_hash(case: dict[str, Any]) -> None:
    ticket = _ticket(case)
    assert ticket.hash().hex() == case["hash"]
    assert keccak256(ticket.flat()).hex() == case["hash"]
    assert len(ticket.flat()) == (232 if ticket.aux_data else 168)


@pytest.mark.parametrize("case", AUX["cases"])
def test_aux_data(case: dict[str, Any]) -> None:
    block_hash = bytes.fromhex(AUX["block_hash"]) if case["use_hash"] else bytes(32)
    params = ExpirationParams(case["round"], block_hash)
    assert params.aux_data.hex() == case["aux"]
    ticket = Ticket(bytes(20), bytes(20), 0, 0, 0, bytes(32), case["round"], block_hash)
    assert ticket.aux_data == params.aux_data
    assert ticket.expiration_params == params


@pytest.mark.parametrize("case", EV["ev"])
def test_expected_value(case: dict[str, str]) -> None:
    ev = expected_value(int(case["face_value"]), _num(case["win_prob"]))
    assert isinstance(ev, Fraction)
    assert format_rat(ev, case["decimals"]) == case["ev"]


@pytest.mark.parametrize("case", EV["win_prob_rat"])
def test_win_prob_rat(case: dict[str, Any]) -> None:
    assert format_rat(win_prob_rat(_num(case["win_prob"])), case["decimals"]) == case["rat"]


@pytest.mark.parametrize("case", EV["win_prob_for"], ids=[c["source"] for c in EV["win_prob_for"]])
def test_win_prob_for(case: dict[str, str]) -> None:
    face_value, ev = int(case["face_value"]), int(case["ev"])
    win_prob = win_prob_for(face_value, ev)
    assert win_prob == _num(case["win_prob"])
    if face_value:
        assert expected_value(face_value, win_prob) >= ev  # rounding up keeps EV at the target


def test_validator_fixture() -> None:
    rand = VALIDATOR["recipient_rand"]
    assert keccak256(rand.to_bytes(32, "big")).hex() == VALIDATOR["recipient_rand_hash"]
    sig = VALIDATOR["sig_ascii"].encode()
    assert keccak256(sig + rand.to_bytes(32, "big")).hex() == VALIDATOR["win_hash"]
    for case in VALIDATOR["wins"]:
        assert is_winning(sig, rand, _num(case["win_prob"])) is case["won"]
    win_value = int(VALIDATOR["win_hash"], 16)
    # The comparison is strict: exactly the win hash does not win, one more does.
    assert not is_winning(sig, rand, win_value)
    assert is_winning(sig, rand, win_value + 1)
    recipient = address_from_hex(VALIDATOR["recipient"])
    assert to_checksum_address(recipient) == VALIDATOR["recipient"]
    assert to_checksum_address(address_from_hex(VALIDATOR["sender"])) == VALIDATOR["sender"]


@pytest.mark.parametrize("case", SIGS["keys"])
def test_known_key_addresses(case: dict[str, str]) -> None:
    signer = PrivateKeySigner(bytes.fromhex(case["private_key"]))
    assert to_checksum_address(signer.address) == case["address"]
    msg = keccak256(b"pm known-key vector")
    assert recover_address(msg, signer.sign(msg)) == signer.address
