"""Adversarial review of the wire work (issue 6): regressions for bugs found in review.

Each test pins one bug: it failed before the fix committed with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from pm import wire
from pm.cli import main
from pm.errors import InvalidType


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ticket_params": 5},
        {"price_info": "x"},
        {"auth_token": 1},
        {"capabilities_prices": 5},
        {"capabilities_prices": [wire.PriceInfo(1, 1)]},
        {"capabilities_prices": ("x",)},
    ],
)
def test_orchestrator_info_rejects_wrong_field_types(kwargs: dict[str, Any]) -> None:
    # Before the fix these were accepted and encode_orchestrator_info then crashed with
    # AttributeError/TypeError instead of a PMError.
    with pytest.raises(InvalidType):
        wire.OrchestratorInfo(**kwargs)


# -- pm decode text output: wire strings are attacker-controlled ---------------------------

HOSTILE_CONSTRAINT = "mod\u00e8le\x1b[31m\n  signature_valid: yes"
HOSTILE_HEADER = wire.encode_payment_header(
    wire.Payment(expected_price=wire.PriceInfo(1, 1, 0, HOSTILE_CONSTRAINT))
)


def test_decode_text_does_not_let_a_header_forge_lines(capsys: pytest.CaptureFixture[str]) -> None:
    # Before the fix the PriceInfo constraint was printed raw: its newline started a forged
    # "signature_valid: yes" line and its ESC byte reached the terminal.
    assert main(["decode", HOSTILE_HEADER]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert not any(line.strip().startswith("signature_valid") for line in out.splitlines())
    (line,) = [ln for ln in out.splitlines() if "constraint" in ln]
    assert "signature_valid" in line  # still shown, escaped on its own line


def test_decode_text_on_an_ascii_terminal_has_no_traceback() -> None:
    # Before the fix a non-ASCII constraint made print() raise UnicodeEncodeError (exit 1,
    # traceback) when stdout could not encode it.
    proc = subprocess.run(
        [sys.executable, "-m", "pm", "decode", HOSTILE_HEADER],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "constraint:" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("mid", b"sig", None, b""),
        (b"mid", "sig", None, b""),
        (b"mid", b"sig", 5, b""),
        (b"mid", b"sig", None, "caps"),
    ],
)
def test_segment_credentials_reject_wrong_types(args: tuple[Any, ...]) -> None:
    # Before the fix: protobuf's TypeError or an AttributeError, not a PMError.
    with pytest.raises(InvalidType):
        wire.encode_segment_credentials(*args)


def test_decode_free_payment_with_sender_params(capsys: pytest.CaptureFixture[str]) -> None:
    # A Payment without ticket params is free (§5.6 step 3) whatever else it carries; before
    # the fix pm decode exited 2 with "ValueError: zip() argument 2 is longer than argument 1"
    # when such a (valid) header also had ticket_sender_params.
    header = wire.encode_payment_header(
        wire.Payment(
            sender=bytes(range(20)),
            nonces=(1, 2),
            sigs=(b"\x01" * 65, b""),
            expected_price=wire.PriceInfo(1, 1),
        )
    )
    assert main(["decode", header, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["function"] == "Payment"
    assert report["tickets"] == []
    assert "free payment" in report["note"]
