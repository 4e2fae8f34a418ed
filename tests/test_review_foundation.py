"""Review of the foundation (ticket.py, pricing.py, crypto.py, _bindings.py, csrc) against
spec/protocol.md §0-§3 and DESIGN.md: one regression test per bug found in review.

Each test failed before its fix; the fix is the commit that follows the test.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from pm.crypto import PrivateKeySigner
from pm.errors import InvalidType, PMError
from pm.pricing import format_rat
from pm.ticket import ExpirationParams, Ticket, TicketBatch, TicketParams, validate_batch

KEY = bytes(range(1, 33))
SIGNER = PrivateKeySigner(KEY)
RECIPIENT = b"\x73" * 20
PARAMS = TicketParams(RECIPIENT, 1000, 2**255, b"\x05" * 32, 7, 100, Fraction(1))
TEMPLATE = Ticket(RECIPIENT, SIGNER.address, 1000, 2**255, 0, b"\x05" * 32)


# -- TicketBatch.sig(i) with a negative index must see the irregular signatures ----------------


def test_negative_index_returns_the_irregular_signature() -> None:
    """sig(-1) looked the raw index up in irregular_sigs (keyed 0..n-1) before normalizing it,
    so for an irregular last signature it returned the 65 zero bytes that stand in for it in
    the flat buffer: a ticket that was never signed that way (and signed(-1, …) with it)."""
    good = SIGNER.sign(TEMPLATE.with_nonce(1).hash())
    batch = TicketBatch.from_signatures(
        PARAMS, SIGNER.address, ExpirationParams(), [1, 2], [good, b"\x01\x02\x03"]
    )
    assert batch.sig(1) == b"\x01\x02\x03"
    assert batch.sig(-1) == batch.sig(1)
    assert batch.sig(-2) == batch.sig(0) == good
    assert batch.signed(-1, 5).sig == b"\x01\x02\x03"
    with pytest.raises(IndexError):
        batch.sig(2)
    with pytest.raises(IndexError):
        batch.sig(-3)


# -- format_rat follows Go's FloatString for every precision, never with floats ---------------


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (Fraction(7, 2), 0, "4"),
        (Fraction(7, 2), -1, "4"),  # Go: prec <= 0 rounds to an integer, no point
        (Fraction(-7, 2), -3, "-4"),
        (Fraction(1, 3), -2, "0"),
        (7, -1, "7"),
    ],
)
def test_format_rat_non_positive_precision_rounds_to_an_integer(
    value: Fraction | int, decimals: int, expected: str
) -> None:
    assert format_rat(value, decimals) == expected


@pytest.mark.parametrize("decimals", [1.5, "2", True, None])
def test_format_rat_rejects_a_non_int_precision(decimals: Any) -> None:
    with pytest.raises(InvalidType):
        format_rat(Fraction(7, 2), decimals)


# -- bad input raises a PMError, never a bare Python exception ----------------------------------


@pytest.mark.parametrize("template", ["x", None, 5])
def test_sign_tickets_rejects_a_non_ticket_template(template: Any) -> None:
    with pytest.raises(PMError):
        SIGNER.sign_tickets(template, [1])


@pytest.mark.parametrize("msgs", [5, None])
def test_sign_batch_rejects_a_non_sequence(msgs: Any) -> None:
    with pytest.raises(PMError):
        SIGNER.sign_batch(msgs)


@pytest.mark.parametrize("irregular", [5, [b"x"], "ab"])
def test_validate_batch_rejects_non_mapping_irregular_sigs(irregular: Any) -> None:
    sig = SIGNER.sign(TEMPLATE.with_nonce(1).hash())
    with pytest.raises(PMError):
        validate_batch(TEMPLATE, [1], [sig], None, irregular_sigs=irregular)


# -- TicketBatch keeps only non-65-byte signatures in irregular_sigs ---------------------------


def test_batch_refuses_a_65_byte_signature_in_irregular_sigs() -> None:
    """irregular_sigs stands for signatures that are NOT 65 bytes (validate marks every entry
    BAD_LENGTH while sig(i) returns it). A 65-byte entry made the two disagree: sig(0) gave a
    valid signature that validate() reported as 'invalid signature length', so a recipient
    rejected a correctly signed ticket. The constructor refuses such an entry."""
    good = SIGNER.sign(TEMPLATE.with_nonce(1).hash())
    with pytest.raises(PMError):
        TicketBatch(PARAMS, SIGNER.address, ExpirationParams(), [1], bytes(65), {0: good})
    ok = TicketBatch(PARAMS, SIGNER.address, ExpirationParams(), [1], bytes(65), {0: good[:64]})
    assert ok.sig(0) == good[:64]
