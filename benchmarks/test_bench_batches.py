"""Batch timings: win check, create and validate batches (one thread and threaded), calldata.

Run: ``python -m pytest benchmarks/ --benchmark-group-by=group`` (add
``--benchmark-json=out.json`` to keep the numbers). Every variant of a group does the same work
on the same N tickets, and its result is checked against pm's, so the group's table compares
like with like; compare within one run only. ``pm bench`` makes the same measurements with the
libsecp256k1 floors and checks the targets.
"""

from __future__ import annotations

from array import array
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_hash.auto import keccak as eth_keccak

from pm import Ticket, _reference, abi, parallel
from pm.bench import eth_create, eth_validate
from pm.crypto import PrivateKeySigner, keccak256, to_checksum_address
from pm.ticket import BatchCheck, is_winning, validate_batch

Bench = Any  # pytest-benchmark's fixture: callable, with .pedantic

N = 500  # tickets per batch: enough to amortise a call, small enough for eth-account rounds
KEY = keccak256(b"benchmarks signer")
SIGNER = PrivateKeySigner(KEY)
RAND = int.from_bytes(keccak256(b"benchmarks rand"), "big")
RAND32 = RAND.to_bytes(32, "big")
TEMPLATE = Ticket(
    b"\x33" * 20,
    SIGNER.address,
    10**15,
    2**255,  # win probability 1/2
    0,
    keccak256(RAND32),
    4321,
    keccak256(b"benchmarks block"),
)
FLAT = TEMPLATE.flat()
NONCES = array("I", range(1, N + 1))
NONCE_LIST = list(NONCES)
SIGS = SIGNER.sign_tickets(TEMPLATE, NONCES)
SIG_LIST = [SIGS[65 * i : 65 * i + 65] for i in range(N)]
CHECK = validate_batch(TEMPLATE, NONCES, SIGS, RAND)
EXPECTED = [(True, bool(w)) for w in CHECK.won_flags]
ETH = (Account, encode_defunct)
SENDER = to_checksum_address(SIGNER.address)


@pytest.mark.benchmark(group="win-check")
@pytest.mark.parametrize("impl", ["pm", "reference", "eth-account"])
def test_win_check(benchmark: Bench, impl: str) -> None:
    sig, wp = SIG_LIST[0], TEMPLATE.win_prob
    if impl == "pm":
        result = benchmark(is_winning, sig, RAND, wp)
    elif impl == "reference":
        result = benchmark(_reference.is_winning, sig, RAND, wp)
    else:  # what an eth-account user writes: eth-hash Keccak and an int comparison
        result = benchmark(lambda: int.from_bytes(eth_keccak(sig + RAND32), "big") < wp)
    assert result == bool(CHECK.won_flags[0])


@pytest.mark.benchmark(group="create-batch")
@pytest.mark.parametrize("impl", ["pm", "pm-2-threads", "reference", "eth-account"])
def test_create_batch(benchmark: Bench, impl: str) -> None:
    if impl == "pm":
        result = benchmark(SIGNER.sign_tickets, TEMPLATE, NONCES)
    elif impl == "pm-2-threads":
        result = benchmark(parallel.sign_tickets_threaded, SIGNER, TEMPLATE, NONCES, 2)
    elif impl == "reference":
        result = b"".join(benchmark(_reference.create_tickets, KEY, FLAT, NONCE_LIST))
    else:
        result = benchmark.pedantic(eth_create, args=(ETH, KEY, FLAT, NONCE_LIST), rounds=3)
    assert result == SIGS


@pytest.mark.benchmark(group="validate-batch")
@pytest.mark.parametrize("impl", ["pm", "pm-2-threads", "reference", "eth-account"])
def test_validate_batch(benchmark: Bench, impl: str) -> None:
    if impl == "pm":
        got = _pairs(benchmark(validate_batch, TEMPLATE, NONCES, SIGS, RAND))
    elif impl == "pm-2-threads":
        got = _pairs(benchmark(parallel.validate_batch_threaded, TEMPLATE, NONCES, SIGS, RAND, 2))
    elif impl == "reference":
        ref = benchmark(
            _reference.validate_tickets, FLAT, NONCE_LIST, SIG_LIST, SIGNER.address, RAND
        )
        got = [(s == 0, w) for s, w in ref]
    else:
        got = benchmark.pedantic(
            eth_validate, args=(ETH, FLAT, NONCE_LIST, SIG_LIST, SENDER, RAND32), rounds=3
        )
    assert got == EXPECTED


def _pairs(check: BatchCheck) -> list[tuple[bool, bool]]:
    """(valid, won) per ticket, the shape every variant's result is compared in."""
    return [(s == 0, bool(w)) for s, w in zip(check.status_codes, check.won_flags, strict=True)]


# --------------------------------------------------------------------------------- calldata

REDEEM_TYPES = [
    "(address,address,uint256,uint256,uint256,bytes32,bytes)",
    "bytes",
    "uint256",
]
REDEEM_SELECTOR = eth_keccak(
    b"redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)"
)[:4]
BATCH_TYPES = [
    "(address,address,uint256,uint256,uint256,bytes32,bytes)[]",
    "bytes[]",
    "uint256[]",
]
BATCH_SELECTOR = eth_keccak(
    b"batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[],"
    b"bytes[],uint256[])"
)[:4]
WINNERS = CHECK.winners()[:20]


def _abi_ticket(t: Ticket) -> tuple[object, ...]:
    # spec/ticketbroker.md §7: (recipient, sender, faceValue, winProb, senderNonce,
    # recipientRandHash, auxData)
    return (
        "0x" + t.recipient.hex(),
        "0x" + t.sender.hex(),
        t.face_value,
        t.win_prob,
        t.sender_nonce,
        t.recipient_rand_hash,
        t.aux_data,
    )


@pytest.mark.benchmark(group="calldata")
@pytest.mark.parametrize("impl", ["pm", "eth-abi"])
def test_calldata_redeem(benchmark: Bench, impl: str) -> None:
    i = WINNERS[0]
    ticket, sig = TEMPLATE.with_nonce(NONCES[i]), SIG_LIST[i]
    want = abi.encode_redeem_winning_ticket(ticket, sig, RAND)
    if impl == "pm":
        got = benchmark(abi.encode_redeem_winning_ticket, ticket, sig, RAND)
    else:
        got = benchmark(
            lambda: REDEEM_SELECTOR + abi_encode(REDEEM_TYPES, [_abi_ticket(ticket), sig, RAND])
        )
    assert got == want and got[:4] == REDEEM_SELECTOR


@pytest.mark.benchmark(group="calldata")
@pytest.mark.parametrize("impl", ["pm", "eth-abi"])
def test_calldata_batch_redeem(benchmark: Bench, impl: str) -> None:
    items = [abi.Redemption(TEMPLATE.with_nonce(NONCES[i]), SIG_LIST[i], RAND) for i in WINNERS]
    want = abi.encode_batch_redeem_winning_tickets(items)
    if impl == "pm":
        got = benchmark(abi.encode_batch_redeem_winning_tickets, items)
    else:
        got = benchmark(
            lambda: (
                BATCH_SELECTOR
                + abi_encode(
                    BATCH_TYPES,
                    [
                        [_abi_ticket(r.ticket) for r in items],
                        [r.sig for r in items],
                        [r.recipient_rand for r in items],
                    ],
                )
            )
        )
    assert got == want and got[:4] == BATCH_SELECTOR
