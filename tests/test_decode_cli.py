"""``pm decode``: calldata and Livepeer-Payment headers, JSON and text, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pm import abi, wire
from pm.cli import main
from pm.commands.decode import decode_value
from pm.crypto import PrivateKeySigner, keccak256, to_checksum_address
from pm.errors import PMError
from pm.pricing import MAX_WIN_PROB
from pm.ticket import ExpirationParams, Ticket, TicketBatch, TicketParams

SIGNER = PrivateKeySigner(bytes(31) + b"\x11")
RECIPIENT = bytes.fromhex("73AEd7b5dEb30222fa896f399d46cC99c7BEe57F")
RAND = 0xC0FFEE
WINNER = Ticket(
    recipient=RECIPIENT,
    sender=SIGNER.address,
    face_value=5 * 10**17,
    win_prob=MAX_WIN_PROB,  # wins unless keccak(sig || rand) is exactly 2**256 - 1
    sender_nonce=9,
    recipient_rand_hash=keccak256(RAND.to_bytes(32, "big")),
    creation_round=3100,
    creation_round_block_hash=bytes(range(32)),
)
WINNER_SIG = SIGNER.sign(WINNER.hash())


def run_json(value: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["decode", value, "--json"]) == 0
    out = capsys.readouterr().out
    report: dict[str, Any] = json.loads(out)
    return report


def test_winning_redemption_is_valid_and_won(capsys: pytest.CaptureFixture[str]) -> None:
    data = abi.encode_redeem_winning_ticket(WINNER, WINNER_SIG, RAND)
    report = run_json("0x" + data.hex(), capsys)
    assert report["function"] == "redeemWinningTicket"
    assert report["selector"] == "0xec8b3cb6"
    (t,) = report["tickets"]
    assert t == {
        "recipient": to_checksum_address(RECIPIENT),
        "sender": to_checksum_address(SIGNER.address),
        "face_value": "500000000000000000",
        "win_prob": str(MAX_WIN_PROB),
        "sender_nonce": 9,
        "recipient_rand_hash": "0x" + WINNER.recipient_rand_hash.hex(),
        "creation_round": 3100,
        "creation_round_block_hash": "0x" + bytes(range(32)).hex(),
        "ticket_hash": "0x" + WINNER.hash().hex(),
        "signature": "0x" + WINNER_SIG.hex(),
        "signer": to_checksum_address(SIGNER.address),
        "signature_valid": True,
        "won": True,
        "recipient_rand": str(RAND),
        "recipient_rand_matches": True,
    }


@pytest.mark.parametrize("index", [0, 31, 40, 63, 64])
def test_flipped_signature_byte_is_invalid(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(abi.encode_redeem_winning_ticket(WINNER, WINNER_SIG, RAND))
    sig_at = 4 + int.from_bytes(data[4 + 32 : 4 + 64], "big") + 32
    assert bytes(data[sig_at : sig_at + 65]) == WINNER_SIG
    data[sig_at + index] ^= 0x01
    (t,) = run_json("0x" + data.hex(), capsys)["tickets"]
    assert t["signature_valid"] is False
    assert t["signer"] != to_checksum_address(SIGNER.address)
    assert t["signature"] != "0x" + WINNER_SIG.hex()


def test_losing_ticket_and_wrong_rand(capsys: pytest.CaptureFixture[str]) -> None:
    loser = Ticket(RECIPIENT, SIGNER.address, 1, 0, 1, WINNER.recipient_rand_hash, 5, bytes(32))
    sig = SIGNER.sign(loser.hash())
    (t,) = run_json("0x" + abi.encode_redeem_winning_ticket(loser, sig, RAND + 1).hex(), capsys)[
        "tickets"
    ]
    assert t["signature_valid"] is True
    assert t["won"] is False  # win_prob 0 never wins
    assert t["recipient_rand_matches"] is False


def test_batch_redemption(capsys: pytest.CaptureFixture[str]) -> None:
    second = WINNER.with_nonce(10)
    data = abi.encode_batch_redeem_winning_tickets(
        [
            abi.Redemption(WINNER, WINNER_SIG, RAND),
            abi.Redemption(second, SIGNER.sign(WINNER.hash()), RAND),  # signature of another ticket
        ]
    )
    report = run_json("0x" + data.hex(), capsys)
    assert report["function"] == "batchRedeemWinningTickets"
    assert [t["sender_nonce"] for t in report["tickets"]] == [9, 10]
    assert [t["signature_valid"] for t in report["tickets"]] == [True, False]
    assert report["tickets"][1]["ticket_hash"] == "0x" + second.hash().hex()


def test_large_integers_are_strings(capsys: pytest.CaptureFixture[str]) -> None:
    t = Ticket(RECIPIENT, SIGNER.address, 2**60, 1, 1, bytes(32), 2**53 + 1, b"\x01" * 32)
    report = run_json("0x" + abi.encode_call("getTicketHash", t).hex(), capsys)
    (ticket,) = report["tickets"]
    assert ticket["creation_round"] == str(2**53 + 1)
    assert ticket["face_value"] == str(2**60)
    assert ticket["signature"] is None and ticket["won"] is None
    assert ticket["signature_valid"] is False


def test_other_functions_show_args(capsys: pytest.CaptureFixture[str]) -> None:
    data = abi.encode_call("fundDepositAndReserveFor", SIGNER.address, 10**18, 2 * 10**18)
    report = run_json("0x" + data.hex(), capsys)
    assert report["function"] == "fundDepositAndReserveFor"
    assert report["tickets"] == []
    assert report["args"] == {
        "addr": to_checksum_address(SIGNER.address),
        "depositAmount": str(10**18),
        "reserveAmount": str(2 * 10**18),
    }


def payment_header() -> tuple[str, TicketBatch]:
    params = TicketParams(
        RECIPIENT, 10**15, 2**250, bytes(32), 12345, 500, Fraction(3, 2), None
    )
    exp = ExpirationParams(3100, bytes(range(32)))
    nonces = [1, 2]
    sigs = SIGNER.sign_tickets(params.ticket(SIGNER.address, 0, exp), nonces)
    batch = TicketBatch(params, SIGNER.address, exp, nonces, sigs)  # type: ignore[arg-type]
    return wire.encode_payment_header(wire.Payment.from_batch(batch)), batch


def test_payment_header(capsys: pytest.CaptureFixture[str]) -> None:
    header, batch = payment_header()
    report = run_json(header, capsys)
    assert report["kind"] == "payment"
    assert report["function"] == "Payment"
    assert report["expected_price"]["price_per_unit"] == 3
    assert report["ticket_params"]["seed"] == "12345"
    assert [t["ticket_hash"] for t in report["tickets"]] == [
        "0x" + t.hash().hex() for t in batch.tickets()
    ]
    assert all(t["signature_valid"] for t in report["tickets"])
    assert all(t["won"] is None for t in report["tickets"])  # recipientRand unknown
    assert all("recipient_rand" not in t for t in report["tickets"])


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    data = abi.encode_redeem_winning_ticket(WINNER, WINNER_SIG, RAND)
    assert main(["decode", "0x" + data.hex()]) == 0
    out = capsys.readouterr().out
    assert out.startswith("function: redeemWinningTicket(")
    assert "  signature_valid: yes" in out
    assert "  won: yes" in out
    header, _ = payment_header()
    assert main(["decode", header]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Livepeer-Payment")
    assert "tickets: 2" in out


VALID = "0x" + abi.encode_redeem_winning_ticket(WINNER, WINNER_SIG, RAND).hex()


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("0xzz", "not valid hex"),
        ("0x12", "too short"),
        ("0xdeadbeef", "unknown TicketBroker selector"),
        (VALID[:-2], "truncated"),
        (VALID + "00" * 32, "trailing"),
        ("%%%", "base64 decode error"),
        ("AAA", "base64 decode error"),
        ("Cv8=", "protobuf unmarshal error"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    value: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["decode", value, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pm decode: error: ")
    assert needle in lines[0]


def test_console_entry_point_has_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pm", "decode", "0xec8b3cb6" + "00" * 40],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    ok = subprocess.run(
        [sys.executable, "-m", "pm", "decode", VALID, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["tickets"][0]["won"] is True


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.builds(
            lambda sel, body: "0x" + (sel + body).hex(),
            st.sampled_from([f.selector for f in abi.FUNCTIONS]),
            st.binary(max_size=400),
        ),
    )
)
def test_decode_value_never_crashes(value: str) -> None:
    try:
        report = decode_value(value)
    except PMError:
        return
    json.dumps(report)  # whatever decodes is reportable
    assert "function" in report and "tickets" in report
