"""Per-call timings of the primitives for pm, the pure-Python reference and eth-account.

Run: ``python -m pytest benchmarks/test_bench_primitives.py --benchmark-group-by=group``.
Compare within one run only: absolute times on shared machines move by tens of percent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from pm import Ticket, _reference
from pm.crypto import PrivateKeySigner, keccak256, recover_address

KEY = (0xBEEF).to_bytes(32, "big")
SIGNER = PrivateKeySigner(KEY)
TICKET = Ticket(
    b"\x11" * 20, SIGNER.address, 10**15, 2**250, 7, keccak256(b"r"), 42, keccak256(b"b")
)
FLAT = TICKET.flat()  # 232 bytes, the common case
MSG = TICKET.hash()
SIG = SIGNER.sign(MSG)

Bench = Callable[..., Any]


@pytest.mark.benchmark(group="keccak")
@pytest.mark.parametrize("impl", ["pm", "reference"])
def test_keccak_232(benchmark: Bench, impl: str) -> None:
    fn = keccak256 if impl == "pm" else _reference.keccak256
    assert benchmark(fn, FLAT) == _reference.keccak256(FLAT)


@pytest.mark.benchmark(group="ticket-hash")
@pytest.mark.parametrize("impl", ["pm", "reference"])
def test_ticket_hash(benchmark: Bench, impl: str) -> None:
    if impl == "pm":
        result = benchmark(TICKET.hash)
    else:
        result = benchmark(
            lambda: _reference.keccak256(
                _reference.ticket_flat(
                    TICKET.recipient,
                    TICKET.sender,
                    TICKET.face_value,
                    TICKET.win_prob,
                    TICKET.sender_nonce,
                    TICKET.recipient_rand_hash,
                    TICKET.creation_round,
                    TICKET.creation_round_block_hash,
                )
            )
        )
    assert result == MSG


@pytest.mark.benchmark(group="sign")
@pytest.mark.parametrize("impl", ["pm", "reference", "eth-account"])
def test_sign(benchmark: Bench, impl: str) -> None:
    if impl == "pm":
        result = benchmark(SIGNER.sign, MSG)
    elif impl == "reference":
        result = benchmark(_reference.sign_msg32, KEY, MSG)
    else:
        message = encode_defunct(primitive=MSG)
        result = bytes(benchmark(Account.sign_message, message, private_key=KEY).signature)
    assert result == SIG


@pytest.mark.benchmark(group="recover")
@pytest.mark.parametrize("impl", ["pm", "reference", "eth-account"])
def test_recover(benchmark: Bench, impl: str) -> None:
    if impl == "pm":
        assert benchmark(recover_address, MSG, SIG) == SIGNER.address
    elif impl == "reference":
        assert benchmark(_reference.recover_msg32, MSG, SIG) == (0, SIGNER.address)
    else:
        message = encode_defunct(primitive=MSG)
        result = benchmark(Account.recover_message, message, signature=SIG)
        assert result.lower() == "0x" + SIGNER.address.hex()
